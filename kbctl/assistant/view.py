"""What `kbctl mcp` serves of one channel (CONTRACT 9): its search, its entries as Markdown, its
categories. Built from the channel's context (kbctl/channels/base.py), so it holds exactly the
entries a build of the channel carries, each as the channel carries it: nothing above the
channel's audience, no draft or expired entry, no `::: ivr` script.

The three answers are typed records; the MCP server (kbctl/assistant/server.py) hands them to
the SDK as structured output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kbctl.channels import faq, rag, site_llms
from kbctl.channels.base import ChannelContext, entry_url, last_verified
from kbctl.channels.markdown_copy import entry_markdown
from kbctl.channels.site import render_for_site
from kbctl.channels.site_query import Searcher
from kbctl.channels.site_search import SearchIndex, prepare_entry
from kbctl.model import Entry

DEFAULT_LIMIT = 5
MAX_LIMIT = 50  # the site's own search shows at most this many


@dataclass(frozen=True)
class SearchResult:
    id: str
    title: str
    summary: str
    url: str | None
    score: float


@dataclass(frozen=True)
class SearchResults:
    results: list[SearchResult]


@dataclass(frozen=True)
class EntryView:
    id: str
    title: str
    locale: str
    url: str | None
    updated: str | None
    markdown: str


@dataclass(frozen=True)
class Category:
    path: str
    title: str
    entries: int  # carried entries in it and below it


@dataclass(frozen=True)
class Categories:
    categories: list[Category]


class ChannelView:
    """One channel's carried entries, indexed per locale as the site's search indexes them."""

    def __init__(self, ctx: ChannelContext):
        self.ctx = ctx
        self.by_id = {entry.id: entry for entry in ctx.entries}
        self._links = addresses(ctx)
        self._indexes: dict[str, tuple[Searcher, list[Entry]]] = {}
        for locale, entries in ctx.by_locale().items():
            index = SearchIndex(locale)
            for entry in entries:
                # The category label only shows under a result on the site; it weighs nothing.
                index.add_prepared(prepare_entry(entry, render_for_site(ctx, entry).text, None))
            self._indexes[locale] = (Searcher(index), entries)

    @property
    def locales(self) -> list[str]:
        return list(self._indexes)

    def search(self, query: str, locale: str | None = None, limit: int = DEFAULT_LIMIT) -> SearchResults:
        """The best `limit` entries for `query` in `locale` (every locale when None: each
        locale's hits by score, then in the locales' order)."""
        hits: list[tuple[float, int, int, Entry]] = []
        for rank, name in enumerate(self.locales):
            if locale is not None and name != locale:
                continue
            searcher, entries = self._indexes[name]
            hits += [(hit.score, rank, hit.doc, entries[hit.doc]) for hit in searcher.search(query)]
        hits.sort(key=lambda hit: (-hit[0], hit[1], hit[2]))
        count = max(1, min(limit, MAX_LIMIT))
        return SearchResults([SearchResult(entry.id, entry.title, entry.summary or "",
                                           self._links.url(entry), round(score, 6))
                              for score, _, _, entry in hits[:count]])

    def entry(self, entry_id: str) -> EntryView | None:
        """The entry as the channel carries it, or None when the channel does not carry it."""
        entry = self.by_id.get(entry_id)
        if entry is None:
            return None
        return EntryView(entry.id, entry.title, entry.locale, self._links.url(entry),
                         last_verified(entry), self._links.markdown(entry))

    def categories(self, locale: str | None = None) -> Categories:
        """Every taxonomy node holding a carried entry in `locale` (every locale when None),
        with the number of such entries in it and below it, in taxonomy order."""
        config = self.ctx.config
        counts: dict[str, int] = {}
        for entry in self.ctx.entries:
            if entry.category and (locale is None or entry.locale == locale):
                parts = entry.category.split("/")
                for depth in range(1, len(parts) + 1):
                    path = "/".join(parts[:depth])
                    counts[path] = counts.get(path, 0) + 1
        title_locale = locale or config.default_locale
        return Categories([Category(path, node.title(title_locale, config.default_locale), counts[path])
                           for path, node in config.nodes.items() if path in counts])


class Addresses(Protocol):
    """Where an entry is, as a channel names it, and its Markdown copy linking that way."""

    def url(self, entry: Entry) -> str | None: ...

    def markdown(self, entry: Entry) -> str: ...


class OwnPages:
    """A site channel: its own pages (absolute with its base_url) and Markdown copies."""

    def __init__(self, ctx: ChannelContext):
        self.ctx = ctx
        self.base_url = ctx.config.channel_base_url(ctx.channel)
        self.links = site_llms.channel_links(self.base_url)

    def url(self, entry: Entry) -> str | None:
        return entry_url(self.base_url, entry)

    def markdown(self, entry: Entry) -> str:
        return site_llms.copy_text(self.ctx, entry, self.links, self.base_url)


class SitePages(Protocol):
    def url(self, entry: Entry) -> str | None: ...


class OtherSite:
    """A FAQ or RAG channel: the pages of the site channel its records and chunks link to."""

    def __init__(self, ctx: ChannelContext, site: SitePages):
        self.ctx = ctx
        self.site = site

    def url(self, entry: Entry) -> str | None:
        return self.site.url(entry)

    def markdown(self, entry: Entry) -> str:
        return entry_markdown(self.ctx, entry, link_url=self.site.url, url=self.site.url(entry))


def addresses(ctx: ChannelContext) -> Addresses:
    if ctx.channel.kind == "site":
        return OwnPages(ctx)
    return OtherSite(ctx, faq.SitePages(ctx) if ctx.channel.kind == "faq" else rag.Site(ctx))
