"""Making a site's pages again after an edit that keeps entries' structure, without the
knowledge base.

A full build leaves, per entry, a *seed*: the page's frame (navigation, lists, dates: what
`entry_page_frame` computed from the maps), the answers its link resolver gave, and its
category label; the maps themselves; and the search indexes as patchable pieces
(kbctl/patch.py decides when a patch applies).

- An edit of an answer's text: the page is its frame plus the new answer, and the indexes
  change in that one document.
- An edit of a title, summary or questions (the entry's structure kept): the entry's card
  changes in the maps, wherever it is listed, and lists sorted by title are sorted again.
  Then the pages that show the card are made again: the entry's own, those listing it
  (related, backlinks, translations: their frames' lists are recomputed, their answers
  rendered again from their files), its category's, its tags', its locale's home and the
  redirects of its former ids.
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
    Card,
    Sitemap,
    SiteMaps,
    Tag,
    _card,
    _card_order,
    category_path,
    home_path,
    href,
    last_reviewed,
    tag_path,
    tag_slug,
)
from kbctl.channels.site_pages import (
    Page,
    SiteInfo,
    alias_page,
    answer_values,
    category_page,
    cross_references,
    entry_page_frame,
    home_page,
    render_entry_page,
    tag_page,
)
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
        self.site: SiteInfo | None = None
        self.sitemap: Sitemap | None = None

    def run(self) -> tuple[dict[str, bytes], dict[str, object], set[str]]:
        edited = [e for e in self.job.entries if e.id in self.docs]  # the others are not on this site
        restated = [e for e in edited if e.id in self.job.restated]
        listing: set[str] = set()  # entries whose pages list a restated one
        if restated:
            self.site = self._site()
            navigation: dict[str, tuple] = {}
            for entry in restated:
                listing |= self._restate(entry, navigation)
            for relpath, (make, *args) in sorted(navigation.items()):
                self._write(relpath, make(self.site, *args))
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

    def _site(self) -> SiteInfo:
        config = self.job.config
        maps: SiteMaps = pickle.loads(self.job.rows.get("maps"))
        maps.taxonomy, maps.nodes = config.taxonomy, config.nodes
        return SiteInfo(config.name, self.job.channel.audience, self.base_url, maps)

    def _restate(self, entry: Entry, navigation: dict[str, tuple]) -> set[str]:
        """Bring the maps up to the entry's restated fields; note the navigation pages that
        show them (relpath -> how to make it); return the entries whose pages list it."""
        maps, locale = self.site.maps, entry.locale
        new = _card(entry)
        recarded = maps.cards[entry.id] != new
        listing = set()
        if recarded:
            maps.cards[entry.id] = new
            listing = self._recard(entry, new, navigation)
        self._retag(entry, new, recarded, navigation)
        for other in self._relink(entry):  # their backlinks changed, and so may the top questions
            listing.add(other)
            navigation[home_path(maps.cards[other].locale)] = (home_page, maps.cards[other].locale)
        reviewed = last_reviewed(entry)
        shown = pickle.loads(self.job.rows.get(f"page/{entry.id}"))[0].get("reviewed_iso")
        if shown != (reviewed.isoformat() if reviewed else None) and (sitemap := self._sitemap()):
            sitemap.relastmod(entry_page_path(entry), reviewed)
        navigation[home_path(locale)] = (home_page, locale)  # its lists and its tag cloud
        return listing

    def _recard(self, entry: Entry, new: Card, navigation: dict[str, tuple]) -> set[str]:
        """The entry's new card wherever lists show it (but tag pages: `_retag`)."""
        maps, locale = self.site.maps, entry.locale
        listing = {other for other, cards in maps.related.items() if _swap(cards, new)}
        listing |= {other for other, cards in maps.backlinks.items() if _swap(cards, new, resort=True)}
        listing |= {other for other, cards in maps.translations.items() if _swap(cards, new)}
        if entry.category:
            _swap(maps.direct[(locale, entry.category)], new, resort=True)
            navigation[category_path(locale, entry.category)] = (
                category_page, locale, maps.nodes[entry.category])
        else:
            _swap(maps.uncategorized[locale], new, resort=True)
        for alias, card in maps.aliases.items():
            if card.id == entry.id:
                maps.aliases[alias] = new
                navigation[f"{locale}/{alias}/index.html"] = (alias_page, alias, new)
        return listing

    def _relink(self, entry: Entry) -> set[str]:
        """The entry's related list and its place in others' backlinks, as kbctl/channels/
        site_maps.py works them out; return the entries whose backlinks changed."""
        maps, names, card = self.site.maps, self.job.names, self.site.maps.cards[entry.id]
        related: dict[str, Card] = {}
        for name in entry.related:
            target = (names.resolve(name) or (None,))[0]
            if target in maps.cards and target != entry.id:
                related.setdefault(target, maps.cards[target])
        maps.related[entry.id] = list(related.values())
        audience = self.job.channel.audience_rank
        targets = {names.link_target(link) for link in entry.links if link.level <= audience}
        targets = {target for target in targets | related.keys() if target in maps.cards and target != entry.id}
        before = {target for target, cards in maps.backlinks.items() if any(c.id == entry.id for c in cards)}
        for target in before - targets:
            maps.backlinks[target] = [c for c in maps.backlinks[target] if c.id != entry.id]
            if not maps.backlinks[target]:
                del maps.backlinks[target]
        for target in targets - before:
            maps.backlinks[target] = sorted([*maps.backlinks.get(target, []), card], key=_card_order)
        return before ^ targets

    def _retag(self, entry: Entry, new: Card, recarded: bool, navigation: dict[str, tuple]) -> None:
        """Move the entry's card between tag pages: a tag page no entry uses any more goes,
        a new tag's page comes. A tag written two ways (one slug for "5G" and "5g": its page
        shows the way of the first entry by id) is left to the full build."""
        maps, locale = self.site.maps, entry.locale
        by_slug = maps.tags.setdefault(locale, {})
        labels: dict[str, set[str]] = {}
        for (where, label), slug in maps.tag_slugs.items():
            if where == locale:
                labels.setdefault(slug, set()).add(label)
        before = {slug for slug, tag in by_slug.items() if any(c.id == entry.id for c in tag.cards)}
        after = {tag_slug(label): label for label in entry.tags}
        if len(after) != len(set(entry.tags)):
            raise NotReplayable(f"{entry.path}: two tags with one slug")
        for slug in before | after.keys():
            if len(labels.get(slug, ())) > 1 or (slug in after and labels.get(slug, {after[slug]}) != {after[slug]}):
                raise NotReplayable(f"{entry.path}: tag {slug!r} is written more than one way")
        for slug in sorted(before | after.keys()):
            tag = by_slug.get(slug)
            if slug in before and slug in after:  # still tagged: the card as it is now
                if not recarded:
                    continue
                _swap(tag.cards, new, resort=True)
            elif slug in before:  # the entry leaves the tag
                tag.cards = [card for card in tag.cards if card.id != entry.id]
                if not tag.cards:
                    del by_slug[slug], maps.tag_slugs[(locale, tag.label)]
                    self._remove(tag_path(locale, slug))
                    navigation.pop(tag_path(locale, slug), None)  # another edit may have noted it
                    continue
            elif tag is not None:  # the entry joins the tag
                tag.cards = sorted([*tag.cards, new], key=_card_order)
            else:  # a tag new to the site
                tag = by_slug[slug] = Tag(slug, after[slug], [new])
                maps.tag_slugs[(locale, after[slug])] = slug
                self.removed.discard(tag_path(locale, slug))  # another edit may have emptied it
                maps.tags[locale] = by_slug = dict(sorted(by_slug.items()))
                if sitemap := self._sitemap():
                    sitemap.add(tag_path(locale, slug), None, {})
            navigation[tag_path(locale, slug)] = (tag_page, locale, tag)

    def _remove(self, relpath: str) -> None:
        self.removed.add(relpath)
        if sitemap := self._sitemap():
            sitemap.remove(relpath)

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


def _swap(cards: list[Card], new: Card, resort: bool = False) -> bool:
    """Replace the card of `new`'s entry in a list (sorted again by title if asked)."""
    found = False
    for at, card in enumerate(cards):
        if card.id == new.id:
            cards[at] = new
            found = True
    if found and resort:
        cards.sort(key=_card_order)
    return found


def patch(job) -> tuple[dict[str, bytes], dict[str, object], set[str]]:
    """The files that change with the edited entries, the seed rows that change with them, and
    the files that go."""
    return SitePatch(job).run()
