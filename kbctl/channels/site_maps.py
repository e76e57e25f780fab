"""What every site page needs to know about the others, computed once before any page is written.

All maps hold only carried entries: they are the site's whole view of the knowledge base, so a
page built from them cannot name an entry the channel does not carry. Backlinks come from the
entries' parsed links (those in blocks the audience may see) and `related` lists, in one pass,
so each entry still renders exactly once, when its page is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from kbctl.channels.base import entry_page_path
from kbctl.checks.links import link_target
from kbctl.checks.references import resolve
from kbctl.config import TaxonomyNode
from kbctl.markdown import slugify
from kbctl.model import Entry

# -- where pages live (paths relative to the channel folder) ---------------------------------------
# Entry pages are `<locale>/<id>/index.html`; every other page sits where no entry id can reach:
# ids cannot contain a dot, and a category or tag page is one level below a fixed folder.
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")  # the only link schemes a site emits


def home_path(locale: str) -> str:
    return f"{locale}/index.html"


def category_path(locale: str, node_path: str) -> str:
    return f"{locale}/category/{node_path}/index.html"


def tag_path(locale: str, slug: str) -> str:
    return f"{locale}/tag/{slug}/index.html"


def search_path(locale: str) -> str:
    return f"{locale}/search.html"


def file_path(kb_path: str) -> str:
    return f"files/{kb_path}"


def page_root(relpath: str) -> str:
    """The relative prefix from a page back to the channel folder ("", "../", "../../", …)."""
    return "../" * relpath.count("/")


def href(root: str, relpath: str) -> str:
    return root + _quoted(relpath)


@lru_cache(maxsize=65536)
def _quoted(relpath: str) -> str:
    return quote(relpath, safe="/#")


@lru_cache(maxsize=65536)
def quoted_path(relpath: str) -> str:
    """A path in a URL (each page's path is quoted for several files at every build)."""
    return quote(relpath, safe="/")


def absolute_url(base_url: str | None, relpath: str) -> str | None:
    """A page's public URL: folders end in `/`, never in `index.html`."""
    if not base_url:
        return None
    relpath = relpath.removesuffix("index.html")
    return f"{base_url}/{quoted_path(relpath)}"


def last_reviewed(entry: Entry) -> dt.date | None:
    """The last verification: the later of `last_reviewed` and the git date, where known."""
    dates = [d for d in (entry.date("last_reviewed"), entry.git_date) if d is not None]
    return max(dates) if dates else None


@dataclass(frozen=True)
class Card:
    """How lists show an entry: enough for a link with a title and a summary."""

    id: str
    title: str
    locale: str
    path: str
    summary: str
    type: str
    category: str | None


@dataclass
class Tag:
    slug: str
    label: str
    cards: list[Card] = field(default_factory=list)


@dataclass
class SiteMaps:
    """Navigation and cross-references of one site channel, carried entries only."""

    locales: tuple[str, ...]
    default_locale: str
    taxonomy: tuple[TaxonomyNode, ...]
    nodes: dict[str, TaxonomyNode]  # path -> node
    cards: dict[str, Card]
    direct: dict[tuple[str, str], list[Card]]  # (locale, node path) -> entries filed there
    counts: dict[tuple[str, str], int]  # (locale, node path) -> entries at or below
    uncategorized: dict[str, list[Card]]
    tags: dict[str, dict[str, Tag]]  # locale -> slug -> tag
    tag_slugs: dict[tuple[str, str], str]  # (locale, tag as written) -> slug
    related: dict[str, list[Card]]
    backlinks: dict[str, list[Card]]
    translations: dict[str, list[Card]]  # id -> carried translations, one per other locale
    translation_groups: dict[str, tuple[str, ...]]  # id -> paths of its group's entries, itself too
    aliases: dict[str, Card]  # former id -> the carried entry that now has it

    def node_title(self, node: TaxonomyNode, locale: str) -> str:
        return node.title(locale, self.default_locale)

    def visible(self, locale: str, node: TaxonomyNode) -> bool:
        return self.counts.get((locale, node.path), 0) > 0


def build_maps(ctx) -> SiteMaps:
    entries: list[Entry] = ctx.entries
    cards = {e.id: _card(e) for e in entries}
    ordered = sorted(cards.values(), key=_card_order)
    direct, counts, uncategorized = _categories(ordered, ctx.config.locales)
    tags, tag_slugs = _tags(entries, cards)
    translations, groups = _translations(ctx, cards)
    return SiteMaps(
        locales=tuple(ctx.config.locales),
        default_locale=ctx.config.default_locale,
        taxonomy=ctx.config.taxonomy,
        nodes=ctx.config.nodes,
        cards=cards,
        direct=direct,
        counts=counts,
        uncategorized=uncategorized,
        tags=tags,
        tag_slugs=tag_slugs,
        related=_related(ctx, cards),
        backlinks=_backlinks(ctx, cards),
        translations=translations,
        translation_groups=groups,
        aliases=_aliases(ctx, cards),
    )


def _card(entry: Entry) -> Card:
    return Card(entry.id, entry.title, entry.locale, entry_page_path(entry),
                entry.summary or "", entry.type, entry.category)


def _card_order(card: Card) -> tuple:
    return (card.title.casefold(), card.id)


def _categories(ordered: list[Card], locales):
    direct: dict[tuple[str, str], list[Card]] = defaultdict(list)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    uncategorized: dict[str, list[Card]] = {locale: [] for locale in locales}
    for card in ordered:
        if not card.category:
            uncategorized.setdefault(card.locale, []).append(card)
            continue
        direct[(card.locale, card.category)].append(card)
        parts = card.category.split("/")
        for depth in range(1, len(parts) + 1):
            counts[(card.locale, "/".join(parts[:depth]))] += 1
    return dict(direct), dict(counts), uncategorized


def _tags(entries: list[Entry], cards: dict[str, Card]):
    tags: dict[str, dict[str, Tag]] = defaultdict(dict)
    tag_slugs: dict[tuple[str, str], str] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        for label in entry.tags:
            slug = tag_slug(label)
            tag = tags[entry.locale].setdefault(slug, Tag(slug, label))
            tag.cards.append(cards[entry.id])
            tag_slugs[(entry.locale, label)] = slug
    for by_slug in tags.values():
        for tag in by_slug.values():
            tag.cards.sort(key=_card_order)
    return {k: dict(sorted(v.items())) for k, v in tags.items()}, tag_slugs


def tag_slug(label: str) -> str:
    return slugify(label) or "t-" + hashlib.sha1(label.encode("utf-8")).hexdigest()[:10]


def _carried(ctx, entry: Entry | None) -> Entry | None:
    return entry if ctx.carries(entry) else None


def _related(ctx, cards: dict[str, Card]) -> dict[str, list[Card]]:
    out: dict[str, list[Card]] = {}
    for entry in ctx.entries:
        found: dict[str, Card] = {}
        for rid in entry.related:
            target = _carried(ctx, resolve(ctx.kb, rid))
            if target is not None and target.id != entry.id:
                found.setdefault(target.id, cards[target.id])
        out[entry.id] = list(found.values())
    return out


def _backlinks(ctx, cards: dict[str, Card]) -> dict[str, list[Card]]:
    """Entries whose page (as this channel shows it) links to each entry: one pass over links."""
    audience = ctx.channel.audience_rank
    sources: dict[str, set[str]] = defaultdict(set)
    for entry in ctx.entries:
        targets = [link_target(ctx.kb, link) for link in entry.links if link.level <= audience]
        targets += [resolve(ctx.kb, rid) for rid in entry.related]
        for target in targets:
            if ctx.carries(target) and target.id != entry.id:
                sources[target.id].add(entry.id)
    return {tid: sorted((cards[s] for s in ids), key=_card_order) for tid, ids in sources.items()}


def _translations(ctx, cards: dict[str, Card]) -> tuple[dict[str, list[Card]], dict[str, tuple[str, ...]]]:
    """`translation_of` in either direction: entries sharing a source translate each other.
    Also each entry's whole group (its entries' paths), which the shown ones are picked from."""
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entry in ctx.entries:
        source = resolve(ctx.kb, entry.translation_of) if entry.translation_of else None
        groups[source.id if source is not None else entry.id].append(entry)
    out: dict[str, list[Card]] = {}
    paths: dict[str, tuple[str, ...]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        group = tuple(member.path for member in members)
        for entry in members:
            paths[entry.id] = group
            per_locale: dict[str, Card] = {}
            for other in sorted(members, key=lambda e: e.id):
                if other.locale != entry.locale:
                    per_locale.setdefault(other.locale, cards[other.id])
            out[entry.id] = [per_locale[loc] for loc in sorted(per_locale)]
    return out, paths


def _aliases(ctx, cards: dict[str, Card]) -> dict[str, Card]:
    """Former ids of carried entries that no carried entry uses now: their old pages redirect."""
    out: dict[str, Card] = {}
    for entry in ctx.entries:
        for alias in entry.aliases:
            if alias not in cards and alias not in out:
                out[alias] = cards[entry.id]
    return dict(sorted(out.items()))


class Sitemap:
    """sitemap.xml: absolute URLs of the pages to index (entries, categories, tags, homes).

    Made again only when a URL, its date or its alternates changed (`inputs`)."""

    def __init__(self, base_url: str | None):
        self.base_url = base_url
        self.urls: dict[str, tuple[str | None, dict[str, str]]] = {}  # relpath -> (lastmod, alternates)

    def add(self, relpath: str, lastmod, alternates: dict[str, str]) -> None:
        if self.base_url:
            self.urls[relpath] = (lastmod.isoformat() if lastmod else None, alternates)

    def url(self, relpath: str) -> str:
        return absolute_url(self.base_url, relpath) or ""

    def write(self, writer) -> None:
        if self.base_url:  # absolute URLs need base_url; without it there is no sitemap
            writer.output("sitemap.xml", self.inputs(), self.text)

    def inputs(self) -> dict[str, str]:
        listed = repr((self.base_url, sorted((path, day, sorted(alternates.items()))
                                             for path, (day, alternates) in self.urls.items())))
        return {"pages": hashlib.sha256(listed.encode("utf-8")).hexdigest()[:20]}

    def text(self) -> str:
        urlset = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                  'xmlns:xhtml="http://www.w3.org/1999/xhtml">')
        elements = [self._element(relpath, *self.urls[relpath]) for relpath in sorted(self.urls)]
        return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>', urlset, *elements, "</urlset>"]) + "\n"

    def _element(self, relpath: str, lastmod: str | None, alternates: dict[str, str]) -> str:
        lines = [f"  <url><loc>{escape(_url_chars(self.url(relpath)))}</loc>"]
        if lastmod:
            lines.append(f"    <lastmod>{lastmod}</lastmod>")
        if len(alternates) > 1:  # hreflang alternates: the page itself and its translations
            for locale, path in sorted(alternates.items()):
                lines.append(f'    <xhtml:link rel="alternate" hreflang={quoteattr(locale)} '
                             f'href={quoteattr(_url_chars(self.url(path)))}/>')
        lines.append("  </url>")
        return "\n".join(lines)


# A URL holds no controls or spaces: percent-encoded, as a browser sends them (base_url comes
# from kbctl.yaml, which may hold any character; XML could not hold most controls at all).
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f]")


def _url_chars(url: str) -> str:
    return _NOT_IN_URL.sub(lambda found: quote(found.group()), url)
