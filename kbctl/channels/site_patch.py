"""Making a site's pages again after an edit that keeps entries' structure, without the
knowledge base.

A full build leaves, per entry, a *seed*: the page's frame (navigation, lists, dates: what
`entry_page_frame` computed from the maps), the answers its link resolver gave, and its
category label; the maps themselves, the sitemap, and the search indexes as patchable pieces
(kbctl/patch.py decides when a patch applies).

- An edit of an answer's text: the page is its frame plus the new answer, and the indexes
  change in that one document.
- An edit of a restated field (title, summary, questions, tags, related, review dates, links
  to entries and the web): kbctl/channels/site_restate.py brings the maps up to it and says
  which pages show the change. They are made again: the entry's own (its frame anew, its new
  links resolved from the maps), those listing it (their frames' lists recomputed, their
  answers rendered again from their files), and the navigation pages; tag pages no entry uses
  any more go, and the sitemap follows.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field

from kbctl.channels import entry_page_path
from kbctl.channels.replay import NotReplayable, RecordingResolver, ReplayResolver
from kbctl.channels.site_maps import (
    SAFE_SCHEMES,
    Sitemap,
    SiteMaps,
    href,
)
from kbctl.channels.site_pages import (
    Page,
    SiteInfo,
    answer_values,
    cross_references,
    entry_page_frame,
    render_entry_page,
)
from kbctl.channels.site_restate import Restatement
from kbctl.channels.site_search import IndexPieces, prepare_entry
from kbctl.channels.site_strings import block_labels, strings
from kbctl.model import Entry
from kbctl.render import render_entry
from kbctl.seedstore import dump


def search_index_path(locale: str) -> str:
    return f"assets/search-index.{locale}.js"


def page_seed(frame: dict, seen: dict, category: str | None, weights: dict[str, int]) -> bytes:
    """Pickled once here, unpickled only for an edited entry: a build loads 10,000 seeds as
    plain bytes. The locale's strings table is left out (every page shares it); the search
    weights are kept, to take the document's old terms out of the index."""
    kept = {key: value for key, value in frame.items() if key != "t"}
    return pickle.dumps((kept, seen, category, weights), protocol=pickle.HIGHEST_PROTOCOL)


def stored_maps(maps: SiteMaps) -> SiteMaps:
    """The maps as seeds keep them: the taxonomy comes from the configuration again."""
    return dataclasses.replace(maps, taxonomy=(), nodes={})


@dataclass
class SiteSeeds:
    """What a full build leaves: rows of kbctl/seedstore.py."""

    audience_rank: int
    base_url: str | None
    maps: SiteMaps | None = None
    pages: dict[str, bytes] = field(default_factory=dict)  # entry id -> seed
    docs: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # id -> (locale, doc, path)
    search: dict[str, IndexPieces] = field(default_factory=dict)  # locale -> index
    sitemap: dict = field(default_factory=dict)  # kbctl/channels/site_maps.py Sitemap.urls

    def add(self, entry: Entry, seed: bytes, doc: int) -> None:
        self.pages[entry.id] = seed
        self.docs[entry.id] = (entry.locale, doc, entry.path)

    def rows(self) -> Iterator[tuple[str, bytes]]:
        yield "site", dump((self.audience_rank, self.base_url, self.docs))
        if self.maps is not None:
            yield "maps", dump(stored_maps(self.maps))
        for entry_id, seed in self.pages.items():
            yield f"page/{entry_id}", seed
        for locale, pieces in self.search.items():
            yield f"search/{locale}", dump(pieces)
        yield "sitemap", dump(self.sitemap)


class SitePatch:
    """One patch of one site channel: the files it makes, those it removes (tag pages no
    entry uses any more), and the seed rows it changes."""

    def __init__(self, job):
        self.job = job
        self.audience_rank, self.base_url, self.docs = pickle.loads(job.rows.get("site"))
        self.files: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.changed: dict[str, object] = {}  # seed rows: bytes, or values to pickle
        self.search: dict[str, IndexPieces] = {}
        self._site_info: SiteInfo | None = None
        self.sitemap: Sitemap | None = None

    def run(self) -> tuple[dict[str, bytes], dict[str, object], set[str]]:
        edited = [e for e in self.job.entries if e.id in self.docs]  # the others are not on this site
        restated = [e for e in edited if e.id in self.job.restated]
        listing: set[str] = set()  # entries whose pages list a restated one
        if restated:
            restatement = Restatement(self.site, self.job.names, self.job.channel.audience_rank, self._sitemap)
            for entry in restated:
                shown = pickle.loads(self.job.rows.get(f"page/{entry.id}"))[0].get("reviewed_iso")
                restatement.apply(entry, shown)
            for relpath, (make, *args) in sorted(restatement.navigation.items()):
                self._write(relpath, make(self.site, *args))
            listing, self.removed = restatement.listing, restatement.removed
            self.changed["maps"] = stored_maps(self.site.maps)  # pickled by kbctl/seedstore.py
            if self.sitemap is not None:
                self._write("sitemap.xml", self.sitemap.text())
                self.changed["sitemap"] = self.sitemap.urls
        for entry in edited:
            self._entry_page(entry, entry.id in self.job.restated, entry.id in listing)
        for entry_id in sorted(listing - {e.id for e in edited}):
            self._listing_page(entry_id)
        for locale, pieces in sorted(self.search.items()):
            self.files[search_index_path(locale)] = pieces.script().encode("utf-8")
            self.changed[f"search/{locale}"] = pieces
        return self.files, self.changed, self.removed

    def _sitemap(self) -> Sitemap | None:
        """The sitemap, loaded when an edit first changes it (None: the site has none)."""
        if self.sitemap is None and self.base_url:
            self.sitemap = Sitemap(self.base_url)
            self.sitemap.urls = pickle.loads(self.job.rows.get("sitemap"))
        return self.sitemap

    @property
    def site(self) -> SiteInfo:
        """The site's maps as the last build left them: read once, only by a patch that
        restates an entry (others never list anything anew)."""
        if self._site_info is None:
            self._site_info = self._site()
        return self._site_info

    def _site(self) -> SiteInfo:
        config = self.job.config
        maps: SiteMaps = pickle.loads(self.job.rows.get("maps"))
        maps.taxonomy, maps.nodes = config.taxonomy, config.nodes
        return SiteInfo(config.name, self.job.channel.audience, self.base_url, maps)

    def _entry_page(self, entry: Entry, retitled: bool, listing: bool) -> None:
        frame, seen, category, weights = pickle.loads(self.job.rows.get(f"page/{entry.id}"))
        if retitled:
            frame = {key: value for key, value in entry_page_frame(self.site, entry).items() if key != "t"}
        elif listing:
            frame.update(cross_references(Page(self.site, entry_page_path(entry), entry.locale),
                                          self.site.maps, entry.id))
        resolver = ReplayResolver(seen, self._fresh_links(entry) if retitled else None)
        recorder = RecordingResolver(resolver)  # a restated entry's links may be new
        rendered = self._page(entry, frame, recorder)
        seen = recorder.seen
        prepared = prepare_entry(entry, rendered.text, category)
        locale, doc, _ = self.docs[entry.id]
        if locale not in self.search:
            self.search[locale] = pickle.loads(self.job.rows.get(f"search/{locale}"))
        self.search[locale].replace(doc, weights, prepared)
        self.changed[f"page/{entry.id}"] = page_seed(frame, seen, category, prepared[0])

    def _listing_page(self, entry_id: str) -> None:
        """A page listing a retitled entry: its lists anew, its answer as it was."""
        frame, seen, category, weights = pickle.loads(self.job.rows.get(f"page/{entry_id}"))
        entry = self.job.entry(self.docs[entry_id][2])
        page = Page(self.site, entry_page_path(entry), entry.locale)
        frame.update(cross_references(page, self.site.maps, entry_id))
        self._page(entry, frame, ReplayResolver(seen))
        self.changed[f"page/{entry_id}"] = page_seed(frame, seen, category, weights)

    def _fresh_links(self, entry: Entry):
        """Where a link the last build did not see goes, as kbctl/channels/site.py `Resolver`
        sends it: to the page of an entry this site carries, to a heading, to the web."""
        maps, names = self.site.maps, self.job.names

        def resolve(link) -> str | None:
            if link.kind in ("entry", "entry-path"):
                card = maps.cards.get(names.link_target(link))
                if card is None:
                    return None
                return href("../../", card.path) + (f"#{href('', link.anchor)}" if link.anchor else "")
            if link.kind == "anchor":
                return f"#{href('', link.anchor)}" if link.anchor else None
            if link.kind == "external":
                return link.target if link.target.lower().startswith(SAFE_SCHEMES) else None
            raise NotReplayable(f"{entry.path}: a new link to a file")  # files are structural

        return resolve

    def _page(self, entry: Entry, frame: dict, resolver):
        rendered = render_entry(entry, self.audience_rank, resolver, {"block_labels": block_labels(entry.locale)})
        values = {**frame, "t": strings(entry.locale), **answer_values(self.base_url, entry, rendered)}
        self._write(entry_page_path(entry), render_entry_page(values))
        return rendered

    def _write(self, relpath: str, text: str) -> None:
        self.files[relpath] = text.encode("utf-8")


def patch(job) -> tuple[dict[str, bytes], dict[str, object], set[str]]:
    """The files that change with the edited entries, the seed rows that change with them, and
    the files that go."""
    return SitePatch(job).run()
