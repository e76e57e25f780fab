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

import json
import pickle
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from kbctl.channels import entry_url
from kbctl.channels.replay import RecordingResolver, ReplayResolver
from kbctl.checks.links import link_target
from kbctl.checks.references import resolve as resolve_id
from kbctl.config import Channel
from kbctl.model import Entry, Link
from kbctl.parallel import fork_map
from kbctl.publish import eligible
from kbctl.render import LinkResolver, Rendered, remember, render_entry, take_renderings
from kbctl.seedstore import dump

_SAFE_SCHEME = re.compile(r"^(?:https?:|mailto:|tel:)", re.IGNORECASE)


def render(ctx, writer) -> FaqSeeds:
    pages = SitePages(ctx)
    seeds = FaqSeeds(ctx.channel.audience_rank)
    take_renderings()  # start the workers with nothing pending from other channels
    for locale, entries in ctx.by_locale().items():
        results = fork_map(lambda chunk: [(*record_text(ctx, pages, e), take_renderings()) for e in chunk],
                           entries)
        records: list[str] = []
        for entry, (text, seen, renderings) in zip(entries, results):
            remember(renderings)
            seeds.where[entry.id] = (locale, len(records), seen)
            records.append(text)
        seeds.spans[locale] = record_spans(locale, records)
        relpath = faq_path(locale)
        writer.write(relpath, faq_file(locale, records))
        # One file serves every entry of the locale; the manifest maps each of them to it.
        for entry in entries:
            writer.entries[entry.id].append(relpath)
    return seeds


def faq_path(locale: str) -> str:
    return f"faq.{locale}.json"


def faq_file(locale: str, records: list[str]) -> str:
    """`{"locale": …, "entries": [records]}` as json.dumps(indent=2) writes it, from records
    serialized one by one (`record_json`), so that one can change without the others."""
    if not records:
        return json.dumps({"locale": locale, "entries": []}, ensure_ascii=False, indent=2) + "\n"
    return _head(locale) + ",\n".join(records) + "\n  ]\n}\n"


def _head(locale: str) -> str:
    """The file's text before its first record."""
    return json.dumps({"locale": locale}, ensure_ascii=False, indent=2)[:-2] + ',\n  "entries": [\n'


def record_spans(locale: str, records: list[str]) -> list[tuple[int, int]]:
    """Where each record's bytes lie in `faq_file(locale, records)` encoded."""
    if not records:
        return []
    at = len(_head(locale).encode())
    spans = []
    for text in records:
        size = len(text.encode("utf-8"))
        spans.append((at, at + size))
        at += size + 2  # ",\n"
    return spans


def record_json(record: dict) -> str:
    """One record as it sits in the file: two levels deep (JSON strings hold no newline)."""
    return textwrap.indent(json.dumps(record, ensure_ascii=False, indent=2), "    ")


def record_text(ctx, pages: SitePages, entry: Entry) -> tuple[str, dict]:
    """The entry's record as JSON, and the answers its link resolver gave (to replay)."""
    resolver = RecordingResolver(link_resolver(ctx, pages, entry))
    return record_json(faq_record(ctx, pages, entry, resolver)), resolver.seen


@dataclass
class FaqSeeds:
    """What a full build leaves for patches (rows of kbctl/seedstore.py): where each record
    lies in its file, and the answers its links were given."""

    audience_rank: int
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # locale -> byte spans
    where: dict[str, tuple[str, int, dict]] = field(default_factory=dict)  # id -> (locale, n, seen)

    def rows(self) -> Iterator[tuple[str, bytes]]:
        yield "faq", dump(self.audience_rank)
        for entry_id, where in self.where.items():
            yield f"record/{entry_id}", dump(where)
        for locale, spans in self.spans.items():
            yield f"spans/{locale}", dump(spans)


def patch(job) -> tuple[dict[str, bytes], dict[str, object], set[str]]:
    """The FAQ files that change with the edited entries (same structure), the rows that
    change with them (and no file goes). A record differs only in its answer and restated
    fields, so it is
    replaced where it lies in the current file; the other records are not read again."""
    audience_rank = pickle.loads(job.rows.get("faq"))
    files: dict[str, bytearray] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    rows: dict[str, object] = {}
    for entry in job.entries:
        where = job.rows.get(f"record/{entry.id}")
        if where is None:
            continue  # not carried
        locale, number, seen = pickle.loads(where)
        if locale not in files:
            files[locale] = bytearray((job.folder / faq_path(locale)).read_bytes())
            spans[locale] = pickle.loads(job.rows.get(f"spans/{locale}"))
        data, located = files[locale], spans[locale]
        start, end = located[number]
        record = json.loads(data[start:end])
        record.update(restated_fields(entry), related=_related_ids(job, entry))
        fresh = _fresh_links(job, entry) if entry.id in job.restated else None
        recorder = RecordingResolver(ReplayResolver(seen, fresh))  # a restated entry's links may be new
        record.update(answer_fields(render_entry(entry, audience_rank, recorder)))
        if recorder.seen != seen:
            rows[f"record/{entry.id}"] = (locale, number, recorder.seen)
        new = record_json(record).encode("utf-8")
        data[start:end] = new
        shift = len(new) - (end - start)
        located[number] = (start, start + len(new))
        located[number + 1:] = [(a + shift, b + shift) for a, b in located[number + 1:]]
    rows.update({f"spans/{locale}": located for locale, located in spans.items()})
    return {faq_path(locale): bytes(data) for locale, data in sorted(files.items())}, rows, set()


def _fresh_links(job, entry: Entry):
    """Where a link the last build did not see goes, as `link_resolver` sends it, from the
    names the last full build kept: to the site's page of an entry this channel carries."""
    site = target_site(job.config, job.channel)
    base_url = job.config.channel_base_url(site) if site else None
    names = job.names

    def page(entry_id: str | None) -> str | None:
        found = names.resolve(entry_id) if entry_id else None
        if found is None or site is None or not base_url or site.name not in names.carriers(found[1]):
            return None
        return f"{base_url.rstrip('/')}/{names.locales[found[1]]}/{found[0]}/"

    def resolve(link: Link) -> str | None:
        if link.kind == "external":
            return link.target if _SAFE_SCHEME.match(link.target) else None
        if link.kind == "anchor":
            return _with_anchor(page(entry.id), link.anchor)
        if link.kind in ("entry", "entry-path"):
            target = names.link_target(link)
            if target is None or not job.rows.get(f"record/{target}"):
                return None  # this channel does not carry it
            return _with_anchor(page(target), link.anchor)
        return None  # a file of the KB: not part of the FAQ data

    return resolve


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


def restated_fields(entry: Entry) -> dict:
    """The fields of a record that the entry's RESTATED front matter decides
    (kbctl/load/interface.py); its owner is in none."""
    return {**words_fields(entry), "tags": entry.tags, "updated": last_verified(entry)}


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


def _related_ids(job, entry: Entry) -> list[str]:
    """`related_ids` from the names the last full build kept (kbctl/patch.py): a record row
    exists for each entry the channel carries."""
    out: list[str] = []
    for ref in entry.related:
        target = (job.names.resolve(ref) or (None,))[0]
        if target and target not in out and target != entry.id and job.rows.get(f"record/{target}"):
            out.append(target)
    return out


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


def last_verified(entry: Entry) -> str | None:
    """CONTRACT 3.3: the later of last_reviewed and the git date (when git dates are used)."""
    dates = [d for d in (entry.date("last_reviewed"), entry.git_date) if d is not None]
    return max(dates).isoformat() if dates else None
