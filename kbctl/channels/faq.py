"""The faq channel kind: `faq.<locale>.json` per configured locale, for chatbots (CONTRACT 4).

The shape is `schemas/faq.schema.json`. What a reader of the channel's audience may not see
never gets here: entries are the carried ones, the answer is rendered for the channel's
audience (higher blocks and ivr scripts cut from the source), `related` keeps carried ids only.

Where URLs point ("the site"): the site channel named by the channel's `site` option, else the
first (by channel name) site channel whose audience is public, else none. An entry's `url` is
its page there when that site carries it and has a base_url; otherwise null. `answer_html`
links follow the same rule: a link to an entry this channel carries points to that entry's
page on the site (with its anchor); any other link to an entry, and links to files (the FAQ
data ships no files), become plain text. External links keep their URL if it is http(s),
mailto or tel.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from urllib.parse import quote

from kbctl.channels.base import entry_url, last_verified
from kbctl.channels.faq_formats import FORMAT_PATHS, azure_tsv, dialogflow_csv
from kbctl.checks.links import link_target
from kbctl.checks.references import resolve as resolve_id
from kbctl.config import Channel
from kbctl.model import Entry, Link
from kbctl.output import ChannelWriter
from kbctl.parallel import fork_map
from kbctl.publish import eligible
from kbctl.render import LinkResolver, Rendered, remember, render_entry, take_renderings

_SAFE_SCHEME = re.compile(r"^(?:https?:|mailto:|tel:)", re.IGNORECASE)


def render(ctx, writer: ChannelWriter) -> None:
    pages = SitePages(ctx)
    take_renderings()  # start the workers with nothing pending from other channels
    formats = ctx.channel.formats
    for locale, entries in ctx.by_locale().items():
        relpath = faq_path(locale)
        inputs = {entry.path: record_inputs(ctx, pages, entry) for entry in entries}
        write_formats(ctx, pages, writer, locale, entries, inputs)
        if "json" not in formats:
            continue

        def make(entries=entries, locale=locale, inputs=inputs, relpath=relpath) -> bytes:
            kept = last_records(writer, relpath)
            todo = [e for e in entries if kept.get(e.path, ("", b""))[0] != inputs[e.path]]
            results = fork_map(lambda chunk: [(record_text(ctx, pages, e), take_renderings()) for e in chunk],
                               todo)
            made = {}
            for entry, (text, renderings) in zip(todo, results):
                remember(renderings)
                made[entry.path] = text.encode("utf-8")
            return faq_file(locale, [made[e.path] if e.path in made else kept[e.path][1] for e in entries])

        writer.output(relpath, inputs, make)
        # One file serves every entry of the locale; the manifest maps each of them to it.
        for entry in entries:
            writer.entries[entry.id].append(relpath)


def write_formats(ctx, pages: SitePages, writer: ChannelWriter, locale: str, entries: list[Entry],
                  inputs: dict[str, str]) -> None:
    """The locale's files for chatbot platforms (kbctl/channels/faq_formats.py), from the same
    inputs as its JSON file."""
    for name in ctx.channel.formats:
        if name not in FORMAT_PATHS:
            continue
        relpath = FORMAT_PATHS[name].format(locale=locale)
        if name == "dialogflow-csv":
            def make() -> str:
                return dialogflow_csv(ctx, entries, lambda shown: link_resolver(ctx, pages, shown), pages.url)
        else:
            def make() -> str:
                return azure_tsv(ctx, entries, pages.url)
        writer.output(relpath, inputs, make)
        for entry in entries:
            writer.entries[entry.id].append(relpath)


def last_records(writer: ChannelWriter, relpath: str) -> dict[str, tuple[str, bytes]]:
    """The records of the file as the last build made it, by entry path: (the digest of what
    each was made from, its UTF-8 text). Only from an output exactly as that build left it
    (the writer works in place), whose records are those its inputs list, in their order. As
    bytes: decoding the whole file and encoding it again was most of the cost of keeping them."""
    old = writer.previous.get(relpath) if writer.in_place else None
    if old is None:
        return {}
    try:
        blob = (writer.folder / relpath).read_bytes()
    except OSError:
        return {}
    records = split_records(blob)
    if records is None or len(records) != len(old.inputs):
        return {}
    return {path: (digest, record) for (path, digest), record in zip(old.inputs.items(), records)}


_ENTRIES_START, _ENTRIES_END = b'  "entries": [\n', b"\n  ]\n}\n"


def split_records(blob: bytes) -> list[bytes] | None:
    """The records' texts of a file `faq_file` wrote, or None. Records sit four spaces deep
    and JSON strings hold no newline, so a line that is exactly four spaces and `{` starts a
    record and nothing else."""
    start, end = blob.find(_ENTRIES_START), blob.rfind(_ENTRIES_END)
    if start < 0 or end < 0:
        return None
    body = blob[start + len(_ENTRIES_START):end]
    if not body:
        return None
    pieces = body.split(b",\n    {\n")
    return [pieces[0], *(b"    {\n" + piece for piece in pieces[1:])]


def record_inputs(ctx, pages: SitePages, entry: Entry) -> str:
    """What the entry's record is made from, as one digest: its bytes, where its links go,
    the related entries carried, its page's URL, its date and its category's title."""
    resolve = link_resolver(ctx, pages, entry)
    material = (entry.content_hash or entry.body, [resolve(link) for link in entry.links],
                related_ids(ctx, entry), pages.url(entry), last_verified(entry), category_title(ctx.config, entry))
    return hashlib.sha256(repr(material).encode("utf-8")).hexdigest()[:20]


def faq_path(locale: str) -> str:
    return f"faq.{locale}.json"


def faq_file(locale: str, records: list[bytes]) -> bytes:
    """`{"locale": …, "entries": [records]}` as json.dumps(indent=2) writes it, in UTF-8, from
    records serialized one by one (`record_json`), so that one can change without the others."""
    if not records:
        return (json.dumps({"locale": locale, "entries": []}, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return _head(locale).encode("utf-8") + b",\n".join(records) + _ENTRIES_END


def _head(locale: str) -> str:
    """The file's text before its first record."""
    return json.dumps({"locale": locale}, ensure_ascii=False, indent=2)[:-2] + ',\n  "entries": [\n'


def record_json(record: dict) -> str:
    """One record as it sits in the file: two levels deep (JSON strings hold no newline)."""
    return textwrap.indent(json.dumps(record, ensure_ascii=False, indent=2), "    ")


def record_text(ctx, pages: SitePages, entry: Entry) -> str:
    """The entry's record as JSON, as it sits in the file."""
    return record_json(faq_record(ctx, pages, entry))


class SitePages:
    """Absolute page URLs on the site the FAQ data points readers to."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.site = target_site(ctx.config, ctx.channel)
        self.base_url = ctx.config.channel_base_url(self.site) if self.site else None

    def url(self, entry: Entry | None) -> str | None:
        if entry is None or self.site is None or not self.base_url:
            return None
        if not eligible(entry, self.site, self.ctx.as_of):
            return None  # the site has no page for it: no dead link
        return entry_url(self.base_url, entry)


def target_site(config, channel: Channel) -> Channel | None:
    named = channel.options.get("site")
    if named:
        return config.channels.get(named)  # config loading checked it is a site channel
    public = [c for c in config.channels.values() if c.kind == "site" and c.audience == "public"]
    return public[0] if public else None


def faq_record(ctx, pages: SitePages, entry: Entry, resolver: LinkResolver | None = None) -> dict:
    rendered = render_entry(entry, ctx.channel.audience_rank, resolver or link_resolver(ctx, pages, entry))
    return {
        "id": entry.id,
        "type": entry.type,
        **words_fields(entry),
        **answer_fields(rendered),
        "category": entry.category,
        "category_title": category_title(ctx.config, entry),
        "tags": entry.tags,
        "related": related_ids(ctx, entry),
        "updated": last_verified(entry),
        "url": pages.url(entry),
    }


def words_fields(entry: Entry) -> dict:
    """The fields of a record its entry's title, questions and summary decide."""
    return {"question": entry.title, "questions": entry.questions, "summary": entry.summary or None}


def answer_fields(rendered: Rendered) -> dict:
    """The only fields of a record that its entry's body decides."""
    return {"answer": rendered.text, "answer_html": rendered.html}


def link_resolver(ctx, pages: SitePages, entry: Entry) -> LinkResolver:
    def resolve(link: Link) -> str | None:
        if link.kind == "external":
            return link.target if _SAFE_SCHEME.match(link.target) else None
        if link.kind == "anchor":
            return _with_anchor(pages.url(entry), link.anchor)
        if link.kind in ("entry", "entry-path"):
            target = link_target(ctx.kb, link)
            return _with_anchor(pages.url(target), link.anchor) if ctx.carries(target) else None
        return None  # a file of the KB: not part of the FAQ data

    return resolve


def _with_anchor(url: str | None, anchor: str | None) -> str | None:
    if url is None or not anchor:
        return url
    return f"{url}#{quote(anchor, safe='')}"


def related_ids(ctx, entry: Entry) -> list[str]:
    """Canonical ids of the related entries this channel carries (aliases followed)."""
    out: list[str] = []
    for ref in entry.related:
        target = resolve_id(ctx.kb, ref)
        if ctx.carries(target) and target.id not in out and target.id != entry.id:
            out.append(target.id)
    return out


def category_title(config, entry: Entry) -> str | None:
    node = config.nodes.get(entry.category) if entry.category else None
    return node.title(entry.locale, config.default_locale) if node else None
