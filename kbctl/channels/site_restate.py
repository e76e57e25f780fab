"""A site's maps brought up to entries whose restated fields changed (kbctl/patch.py).

A title, summary, tag, related or link edit keeps the entry's structure, so it moves no entry
into or out of the site, a category or a menu; but lists show its card, sorted by title, tag
pages list it (and come and go with their entries), and its related entries and links decide
others' backlinks and the homes' top questions. `Restatement` makes exactly the changes
kbctl/channels/site_maps.py `build_maps` would make, and says what must be made again:
navigation pages, the entries whose pages list a changed card, and the tag pages that go.
"""

from __future__ import annotations

from collections.abc import Callable

from kbctl.channels import entry_page_path
from kbctl.channels.replay import NotReplayable
from kbctl.channels.site_maps import (
    Card,
    Sitemap,
    Tag,
    _card,
    _card_order,
    category_path,
    home_path,
    last_reviewed,
    tag_path,
    tag_slug,
)
from kbctl.channels.site_pages import SiteInfo, alias_page, category_page, home_page, tag_page
from kbctl.model import Entry


class Restatement:
    """The changes to one site's maps, entry by entry, and what they make again."""

    def __init__(self, site: SiteInfo, names, audience_rank: int, sitemap: Callable[[], Sitemap | None]):
        self.maps = site.maps
        self.names = names  # kbctl/load/names.py, as the last full build found them
        self.audience_rank = audience_rank
        self.sitemap = sitemap  # the site's sitemap, loaded when first needed (None: it has none)
        self.navigation: dict[str, tuple] = {}  # relpath -> (how to make the page, its arguments)
        self.listing: set[str] = set()  # entries whose pages list a changed card or backlink
        self.removed: set[str] = set()  # tag pages no entry uses any more

    def apply(self, entry: Entry, shown_reviewed: str | None) -> None:
        """Bring the maps up to the entry's restated fields (`shown_reviewed`: the review
        date its page showed)."""
        maps, locale, navigation = self.maps, entry.locale, self.navigation
        new = _card(entry)
        recarded = maps.cards[entry.id] != new
        if recarded:
            maps.cards[entry.id] = new
            self.listing |= self._recard(entry, new)
        self._retag(entry, new, recarded)
        for other in self._relink(entry):  # their backlinks changed, and so may the top questions
            self.listing.add(other)
            navigation[home_path(maps.cards[other].locale)] = (home_page, maps.cards[other].locale)
        reviewed = last_reviewed(entry)
        if shown_reviewed != (reviewed.isoformat() if reviewed else None) and (sitemap := self.sitemap()):
            sitemap.relastmod(entry_page_path(entry), reviewed)
        navigation[home_path(locale)] = (home_page, locale)  # its lists and its tag cloud

    def _recard(self, entry: Entry, new: Card) -> set[str]:
        """The entry's new card wherever lists show it (but tag pages: `_retag`); the entries
        whose pages list it."""
        maps, locale, navigation = self.maps, entry.locale, self.navigation
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
        maps, names, card = self.maps, self.names, self.maps.cards[entry.id]
        related: dict[str, Card] = {}
        for name in entry.related:
            target = (names.resolve(name) or (None,))[0]
            if target in maps.cards and target != entry.id:
                related.setdefault(target, maps.cards[target])
        maps.related[entry.id] = list(related.values())
        audience = self.audience_rank
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

    def _retag(self, entry: Entry, new: Card, recarded: bool) -> None:
        """Move the entry's card between tag pages: a tag page no entry uses any more goes,
        a new tag's page comes. A tag written two ways (one slug for "5G" and "5g": its page
        shows the way of the first entry by id) is left to the full build."""
        maps, locale, navigation = self.maps, entry.locale, self.navigation
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
            tag = by_slug.get(slug)  # there for every slug in `before`
            if slug in before and slug in after:  # still tagged: the card as it is now
                if not recarded:
                    continue
                _swap(by_slug[slug].cards, new, resort=True)
            elif slug in before:  # the entry leaves the tag
                tag = by_slug[slug]
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
                if sitemap := self.sitemap():
                    sitemap.add(tag_path(locale, slug), None, {})
            navigation[tag_path(locale, slug)] = (tag_page, locale, tag)

    def _remove(self, relpath: str) -> None:
        self.removed.add(relpath)
        if sitemap := self.sitemap():
            sitemap.remove(relpath)


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
