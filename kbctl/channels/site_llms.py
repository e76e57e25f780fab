"""What a site channel writes for AI assistants (CONTRACT 8), unless `llms: false`:

    <locale>/<id>/index.md   each entry page's Markdown copy (kbctl/channels/markdown_copy.py)
    llms.txt                 the llmstxt.org index: `# name`, `> summary`, a `## ` list per locale
    llms-full.txt            every entry's Markdown copy, one after another

Links in `index.md` are relative to the page's folder (they work from disk, as the pages'
do); in `llms-full.txt` and `llms.txt` they are absolute where the site has a base_url, else
relative to the channel root. Each file goes through the writer with the inputs it is made
from: an entry edit makes its `index.md` again, and the two channel-wide files (whose other
entries' pieces are read back from the last `llms-full.txt` where unchanged).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from kbctl.assets import file_refusal
from kbctl.channels.base import ChannelContext, entry_url, last_verified
from kbctl.channels.markdown_copy import answer_resolver, entry_markdown, heading_text
from kbctl.channels.site_maps import file_path, quoted_path
from kbctl.channels.site_reads import recorded_inputs
from kbctl.channels.site_strings import language_name
from kbctl.env import Inputs
from kbctl.model import Entry
from kbctl.output import ChannelWriter

LLMS_TXT = "llms.txt"
LLMS_FULL = "llms-full.txt"
PAGE_ROOT = "../../"  # from <locale>/<id>/ back to the channel folder


def markdown_path(entry: Entry) -> str:
    """Where a site channel puts an entry's Markdown copy: beside its index.html."""
    return f"{entry.locale}/{entry.id}/index.md"


@dataclass(frozen=True)
class Links:
    """How one file of the channel names the others: by a prefix (a relative way back to the
    channel folder, or the base_url and `/`)."""

    prefix: str

    def copy(self, entry: Entry) -> str:
        return self.prefix + quoted_path(markdown_path(entry))

    def file(self, ctx: ChannelContext) -> Callable[[str], str | None]:
        def url(kb_path: str) -> str | None:  # the same predicate as the pages' copies
            return None if file_refusal(ctx.kb, kb_path) else self.prefix + quoted_path(file_path(kb_path))

        return url


def channel_links(base_url: str | None) -> Links:
    """How the channel-wide files (llms.txt, llms-full.txt) link: absolute with a base_url."""
    return Links(f"{base_url}/" if base_url else "")


def copy_text(ctx: ChannelContext, entry: Entry, links: Links, base_url: str | None) -> str:
    return entry_markdown(ctx, entry, link_url=links.copy, url=entry_url(base_url, entry),
                          file_url=links.file(ctx))


def copy_inputs(ctx: ChannelContext, entry: Entry, links: Links, base_url: str | None) -> Inputs:
    """What an entry's copy is made from: its bytes, its date, and where each link goes."""
    resolve = answer_resolver(ctx, entry, link_url=links.copy, file_url=links.file(ctx))
    return {**_own_inputs(entry), "links": _digest([resolve(link) for link in entry.links]),
            "url": str(entry_url(base_url, entry))}


def _own_inputs(entry: Entry) -> Inputs:
    """What the copy shows of the entry itself: its bytes (and facts), its date."""
    return {entry.path: entry.content_hash or _digest(entry.body), "updated": str(last_verified(entry))}


def write_llms(ctx: ChannelContext, writer: ChannelWriter, base_url: str | None,
               planned: frozenset[str] | None = None) -> None:
    """Every entry's index.md, then llms.txt and llms-full.txt. An entry not `planned` again
    (kbctl/channels/site_reads.py) has its copy's recorded inputs, where the entry's own are."""
    ordered = [entry for entries in ctx.by_locale().values() for entry in entries]
    page_links = Links(PAGE_ROOT)
    # A piece of llms-full.txt differs from the entry's index.md only in its links' prefix (the
    # same for every link), so the inputs that say when the copy changes say it of the piece.
    inputs: Inputs = {}
    for entry in ordered:
        def make(entry: Entry = entry) -> str:
            return copy_text(ctx, entry, page_links, base_url)

        relpath = markdown_path(entry)
        made_from = recorded_inputs(writer, relpath, entry, planned, _own_inputs(entry)) or \
            copy_inputs(ctx, entry, page_links, base_url)
        writer.output(relpath, made_from, make, entry.id)
        inputs[entry.path] = _digest(sorted(made_from.items()))
    links = channel_links(base_url)
    listed = [(e.id, e.locale, e.title, e.summary) for e in ordered]
    writer.output(LLMS_TXT, {"entries": _digest(listed)}, lambda: llms_txt(ctx, ordered, links))

    def full() -> bytes:
        kept = _last_pieces(writer, inputs)
        return b"\n".join(kept.get(entry.path) or copy_text(ctx, entry, links, base_url).encode("utf-8")
                          for entry in ordered)

    writer.output(LLMS_FULL, inputs, full)


def llms_txt(ctx: ChannelContext, ordered: list[Entry], links: Links) -> str:
    """llmstxt.org: an H1 with the KB's name, a blockquote summary, an H2 list per locale."""
    name = heading_text(ctx.config.name)
    locales = list(dict.fromkeys(entry.locale for entry in ordered))
    summary = (f"> {name}: {len(ordered)} knowledge entries ({', '.join(locales) or 'none'}). "
               "Each link below is an entry's answer as Markdown.")
    lines = [f"# {name}", "", summary, ""]
    for locale in locales:
        lines += [f"## {heading_text(language_name(locale))} ({locale})", ""]
        for entry in ordered:
            if entry.locale == locale:
                item = f"- [{_link_text(entry.title)}]({links.copy(entry)})"
                lines.append(item + (f": {heading_text(entry.summary)}" if entry.summary else ""))
        lines.append("")
    return "\n".join(lines)


def _link_text(text: str) -> str:
    return heading_text(text).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _last_pieces(writer: ChannelWriter, inputs: Inputs) -> dict[str, bytes]:
    """The pieces of the last llms-full.txt whose inputs are unchanged, by entry path. Only from
    an output as the last build left it, whose pieces are those its inputs list, in order: each
    piece starts a line with its front matter, so the file splits at "\\n---\\nid: "; a body
    that holds such a line makes the count differ, and every piece is made again. As bytes:
    decoding the whole file and encoding it again was most of the cost of keeping a piece."""
    old = writer.previous.get(LLMS_FULL) if writer.in_place else None
    if old is None:
        return {}
    try:
        blob = (writer.folder / LLMS_FULL).read_bytes()
    except OSError:
        return {}
    if not blob.startswith(b"---\nid: "):
        return {}
    pieces = blob.split(b"\n---\nid: ")
    pieces = [pieces[0], *(b"---\nid: " + piece for piece in pieces[1:])]
    if len(pieces) != len(old.inputs):
        return {}
    return {path: piece for (path, digest), piece in zip(old.inputs.items(), pieces)
            if inputs.get(path) == digest}


def _digest(value) -> str:
    return hashlib.sha256(repr(value).encode("utf-8")).hexdigest()[:20]
