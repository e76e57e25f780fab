"""The `rag` channel kind: knowledge as chunks for retrieval-augmented generation (CONTRACT 8).

    chunks.<locale>.jsonl                 one chunk a line (schemas/chunk.schema.json)
    bedrock/<id>.md, <id>.md.metadata.json   with `formats: [..., bedrock]`: Amazon Bedrock
                                          Knowledge Bases' layout (a document and its sidecar)

Chunk texts are the answer as the channel carries it (kbctl/channels/markdown_copy.py: blocks
above the audience and ivr scripts cut, links to entries not carried as plain text). Links to
carried entries, and chunk `url`s, point to the pages of the site channel named by `site`
(absolute, with its base_url; where that site does not carry an entry, or there is no site or
base_url, there is no URL).

Chunking: the answer is read into units, each never cut: a paragraph, a heading, a table, a
code block, a quote, a rule, and each top-level item of a list. A heading starts a new chunk;
inside a section, units are packed in order while the chunk's text stays within
`max_chunk_chars` (a single longer unit is a chunk of its own). Chunk 0 starts with the title
and summary. A kept restricted block keeps its `::: name` markers around its units in every
chunk it reaches, and the chunk's `visibility` is the most restricted level of what it holds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import quote

from kbctl.channels.base import ChannelContext, entry_url, last_verified
from kbctl.channels.faq import category_title
from kbctl.channels.markdown_copy import (
    Part,
    answer_parts,
    answer_resolver,
    head_markdown,
)
from kbctl.checks.lifecycle import due_date
from kbctl.config import Channel
from kbctl.env import Inputs
from kbctl.leakguard import refuse
from kbctl.markdown import parser, slugify
from kbctl.model import VISIBILITY_LEVELS, Entry
from kbctl.output import ChannelWriter
from kbctl.publish import eligible

CHUNK_FIELDS = ("id", "entry", "locale", "title", "headings", "text", "url", "type", "category",
                "category_titles", "tags", "visibility", "updated", "review_due", "valid_to", "owner")


def render(ctx: ChannelContext, writer: ChannelWriter) -> None:
    site = Site(ctx)
    formats = ctx.channel.formats
    for locale, entries in ctx.by_locale().items():
        inputs = {entry.path: entry_inputs(ctx, site, entry) for entry in entries}
        if "jsonl" in formats:
            relpath = chunks_path(locale)

            def make(entries=entries, inputs=inputs, relpath=relpath) -> str:
                kept = _last_lines(writer, relpath, inputs, entries)
                return "".join(kept.get(e.path) or chunk_lines(ctx, site, e) for e in entries)

            writer.output(relpath, inputs, make)
            for entry in entries:
                writer.entries[entry.id].append(relpath)
        if "bedrock" in formats:
            for entry in entries:
                write_bedrock(ctx, site, entry, {entry.path: inputs[entry.path]}, writer)


def chunks_path(locale: str) -> str:
    return f"chunks.{locale}.jsonl"


class Site:
    """The site channel (`site:`) chunks link to: absolute page URLs, or none."""

    def __init__(self, ctx: ChannelContext):
        self.ctx = ctx
        named = ctx.channel.options.get("site")
        self.channel: Channel | None = ctx.config.channels.get(named) if named else None
        self.base_url = ctx.config.channel_base_url(self.channel) if self.channel else None

    def url(self, entry: Entry) -> str | None:
        if self.channel is None or not self.base_url or not eligible(entry, self.channel, self.ctx.as_of):
            return None
        return entry_url(self.base_url, entry)


# -- the chunks ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """A piece of the answer that is never cut."""

    text: str
    part: int  # index of the answer part (kbctl.channels.markdown_copy.Part) it is in; -1: the head
    block: str | None  # the part's restricted block, if any
    level: int
    tight: bool = False  # an item following another of the same tight list: joined by one newline


@dataclass(frozen=True)
class Section:
    """The units under one heading path (`anchor`: the last heading's, None before any)."""

    headings: tuple[str, ...]
    anchor: str | None
    units: list[Unit]


@dataclass(frozen=True)
class Chunk:
    headings: tuple[str, ...]
    anchor: str | None
    text: str
    level: int


def chunks(ctx: ChannelContext, site: Site, entry: Entry) -> list[Chunk]:
    """The entry's chunks, in order."""
    resolve = answer_resolver(ctx, entry, link_url=site.url)
    parts = answer_parts(ctx, entry, resolve)
    limit = ctx.channel.max_chunk_chars
    out: list[Chunk] = []
    for section in sections(parts, Unit(head_markdown(entry).rstrip("\n"), -1, None, 0)):
        out.extend(pack(section, limit))
    for chunk in out:
        if chunk.level > ctx.channel.audience_rank:  # the cut failed: refuse, never publish
            refuse(entry, ctx.channel.audience_rank, f"a chunk of level {chunk.level}")
    return out


def sections(parts: list[Part], head: Unit) -> list[Section]:
    """The answer's units by heading: the head (title, summary) leads the first section."""
    found = [Section((), None, [head])]
    path: list[tuple[int, str]] = []
    seen: dict[str, int] = {}  # heading slugs, numbered on repeats as the pages number them
    for index, part in enumerate(parts):
        for kind, depth, title, text, tight in _units(part.text):
            unit = Unit(text, index, part.block, part.level, tight)
            if kind == "heading":
                while path and path[-1][0] >= depth:
                    path.pop()
                path.append((depth, title))
                base = slugify(title)
                count = seen.get(base, 0)
                seen[base] = count + 1
                anchor = base if count == 0 else f"{base}-{count}"
                found.append(Section(tuple(t for _, t in path), anchor, [unit]))
            else:
                found[-1].units.append(unit)
    return [section for section in found if section.units]


_WHOLE = {"paragraph_open": "paragraph", "table_open": "table", "blockquote_open": "quote",
          "hr": "rule", "fence": "code", "code_block": "code", "html_block": "html"}


def _units(text: str) -> list[tuple[str, int, str, str, bool]]:
    """(kind, heading depth, heading text, Markdown, tight) of each unit of a part's text, from
    the top-level tokens' lines; a list gives one unit per top-level item."""
    lines = text.split("\n")
    tokens = parser(html=True).parse(text)
    out: list[tuple[str, int, str, str, bool]] = []
    for index, token in enumerate(tokens):
        if token.level != 0 or token.nesting == -1 or not token.map:
            continue
        start, end = token.map
        if token.type == "heading_open":
            inline = tokens[index + 1]
            title = "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
            out.append(("heading", int(token.tag[1]), title, _lines(lines, start, end), False))
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            items = [t for t in tokens[index + 1:] if t.level == 1 and t.type == "list_item_open"
                     and t.map and start <= t.map[0] < end]
            tight = not any(t.hidden is False for t in tokens[index + 1:]
                            if t.type == "paragraph_open" and t.map and start <= t.map[0] < end
                            and t.level == 2)
            for number, item in enumerate(items):
                assert item.map is not None
                item_end = items[number + 1].map[0] if number + 1 < len(items) else end  # type: ignore[index]
                out.append(("item", 0, "", _lines(lines, item.map[0], item_end), tight and number > 0))
        elif token.type in _WHOLE:
            out.append((_WHOLE[token.type], 0, "", _lines(lines, start, end), False))
    return [unit for unit in out if unit[3].strip()]


def _lines(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start:end]).strip("\n")


def pack(section: Section, limit: int) -> list[Chunk]:
    """The section's units in chunks of at most `limit` characters (a longer unit alone)."""
    out: list[Chunk] = []
    current: list[Unit] = []
    for unit in section.units:
        if current and len(join(current + [unit])) > limit:
            out.append(_chunk(section, current))
            current = [unit]
        else:
            current.append(unit)
    if current:
        out.append(_chunk(section, current))
    return out


def _chunk(section: Section, units: list[Unit]) -> Chunk:
    return Chunk(section.headings, section.anchor, join(units), max(unit.level for unit in units))


def join(units: list[Unit]) -> str:
    """The units' Markdown: a blank line between units (one newline between the items of a
    tight list), each run of one restricted block inside its markers."""
    pieces: list[str] = []
    for index, unit in enumerate(units):
        previous = units[index - 1] if index else None
        same_part = previous is not None and previous.part == unit.part
        if previous is not None:
            if previous.block is not None and not same_part:
                pieces.append("\n:::")
            pieces.append("\n" if unit.tight and same_part else "\n\n")
        if unit.block is not None and not same_part:
            pieces.append(f"::: {unit.block}\n")
        pieces.append(unit.text)
    if units and units[-1].block is not None:
        pieces.append("\n:::")
    return "".join(pieces)


def chunk_records(ctx: ChannelContext, site: Site, entry: Entry) -> list[dict]:
    """The entry's chunks as CONTRACT 8 records (fields in CHUNK_FIELDS order)."""
    url = site.url(entry)
    due = due_date(entry, ctx.config)
    valid_to = entry.date("valid_to")
    common = {"type": entry.type, "category": entry.category,
              "category_titles": category_titles(ctx, entry), "tags": entry.tags}
    records = []
    for number, chunk in enumerate(chunks(ctx, site, entry)):
        anchor = f"#{quote(chunk.anchor, safe='')}" if chunk.anchor and url else ""
        records.append({
            "id": f"{entry.id}#{number}", "entry": entry.id, "locale": entry.locale, "title": entry.title,
            "headings": list(chunk.headings), "text": chunk.text, "url": url + anchor if url else None,
            **common,
            "visibility": VISIBILITY_LEVELS[max(chunk.level, entry.visibility_rank)],
            "updated": last_verified(entry), "review_due": due.isoformat() if due else None,
            "valid_to": valid_to.isoformat() if valid_to else None, "owner": entry.owner,
        })
    return records


def chunk_lines(ctx: ChannelContext, site: Site, entry: Entry) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in chunk_records(ctx, site, entry))


def category_titles(ctx: ChannelContext, entry: Entry) -> list[str]:
    """The titles from the top category down to the entry's, in the entry's locale."""
    if not entry.category:
        return []
    parts = entry.category.split("/")
    titles = []
    for depth in range(1, len(parts) + 1):
        node = ctx.config.nodes.get("/".join(parts[:depth]))
        if node is not None:
            titles.append(node.title(entry.locale, ctx.config.default_locale))
    return titles


def entry_inputs(ctx: ChannelContext, site: Site, entry: Entry) -> str:
    """What the entry's chunks and Bedrock files are made from, as one digest: its bytes, its
    git date, where its links go, its URL, its category's titles (and kbctl.yaml: the world)."""
    resolve = answer_resolver(ctx, entry, link_url=site.url)
    material = (entry.content_hash or entry.body, str(entry.git_date), [resolve(link) for link in entry.links],
                site.url(entry), category_title(ctx.config, entry))
    return hashlib.sha256(repr(material).encode("utf-8")).hexdigest()[:20]


def _last_lines(writer: ChannelWriter, relpath: str, inputs: Inputs, entries: list[Entry]) -> dict[str, str]:
    """The lines of each entry whose inputs are unchanged, from the file as the last build left
    it: every entry has a chunk 0, so its lines are the run of lines with its id, in the order
    of the recorded inputs."""
    old = writer.previous.get(relpath) if writer.in_place else None
    if old is None:
        return {}
    try:
        text = (writer.folder / relpath).read_text(encoding="utf-8")
        runs: list[tuple[str, list[str]]] = []
        for line in text.splitlines(keepends=True):
            entry_id = json.loads(line)["entry"]
            if not runs or runs[-1][0] != entry_id:
                runs.append((entry_id, []))
            runs[-1][1].append(line)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return {}
    if len(runs) != len(old.inputs):
        return {}
    ids = {entry.path: entry.id for entry in entries}
    return {path: "".join(lines) for (path, digest), (entry_id, lines) in zip(old.inputs.items(), runs)
            if inputs.get(path) == digest and ids.get(path) == entry_id}


# -- Amazon Bedrock Knowledge Bases ---------------------------------------------------------------
def bedrock_paths(entry: Entry) -> tuple[str, str]:
    return f"bedrock/{entry.id}.md", f"bedrock/{entry.id}.md.metadata.json"


def write_bedrock(ctx: ChannelContext, site: Site, entry: Entry, inputs: Inputs, writer: ChannelWriter) -> None:
    document, sidecar = bedrock_paths(entry)
    writer.output(document, inputs, lambda: bedrock_document(ctx, site, entry), entry.id)
    writer.output(sidecar, inputs, lambda: bedrock_metadata(ctx, site, entry), entry.id)


def bedrock_document(ctx: ChannelContext, site: Site, entry: Entry) -> str:
    """The entry as one Markdown document (Bedrock chunks it itself): its chunks' texts."""
    return "\n\n".join(chunk.text for chunk in chunks(ctx, site, entry)) + "\n"


def bedrock_metadata(ctx: ChannelContext, site: Site, entry: Entry) -> str:
    """`{"metadataAttributes": {...}}`: flat values, keys without a value left out."""
    valid_to = entry.date("valid_to")
    levels = [entry.visibility_rank, *(chunk.level for chunk in chunks(ctx, site, entry))]
    values: dict[str, object] = {
        "id": entry.id, "locale": entry.locale, "category": entry.category, "tags": entry.tags,
        "type": entry.type, "visibility": VISIBILITY_LEVELS[max(levels)],
        "updated": last_verified(entry), "valid_to": valid_to.isoformat() if valid_to else None,
        "url": site.url(entry),
    }
    attributes = {key: value for key, value in values.items() if value not in (None, "", [])}
    return json.dumps({"metadataAttributes": attributes}, ensure_ascii=False, indent=2) + "\n"
