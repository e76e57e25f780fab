"""Site pages: each a function of what it shows plus the precomputed maps, rendered by jinja2.

Every link is relative (`root` is the way back to the channel folder from the page), so the
site works from disk and from any host at any path prefix; folder links end in `index.html`
because file:// does not serve a folder's index. Templates autoescape everything; the only
markup passed through is the answer HTML from kbctl.render (raw HTML already dropped) and the
JSON-LD, escaped for a script element by `json_for_script`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache

from markupsafe import Markup

from kbctl.channels.base import entry_page_path
from kbctl.channels.site_context import EntryValues, Feedback, context_values
from kbctl.channels.site_maps import (
    Card,
    SiteMaps,
    absolute_url,
    category_path,
    home_path,
    href,
    last_reviewed,
    page_root,
    search_path,
    tag_path,
)
from kbctl.channels.site_search import json_for_script
from kbctl.channels.site_strings import (
    format_date,
    language_in,
    language_name,
    portal_badge,
    strings,
    type_label,
    visibility_badge,
)
from kbctl.channels.site_templates import Templates
from kbctl.channels.site_theme import SiteTheme
from kbctl.model import Entry
from kbctl.render import Rendered
from kbctl.resources import data_dir


@cache
def builtin_templates() -> Templates:
    """kbctl's own templates alone, compiled once per process (a theme without overrides).
    Compiled code is never kept on disk: jinja's bytecode cache would load marshalled code
    from wherever it is kept (CONTRACT 4: a cache never runs code)."""
    return Templates(data_dir("templates") / "site")


@dataclass(frozen=True)
class SiteInfo:
    """What every page of the channel shares."""

    name: str
    audience: str
    base_url: str | None
    maps: SiteMaps
    llms: bool = False  # entry pages have a Markdown copy beside them (kbctl/channels/site_llms.py)
    theme: SiteTheme = field(default_factory=SiteTheme)
    templates: Templates | None = None  # the theme's overrides and kbctl's own; None: kbctl's
    feedback: Feedback | None = None  # entry pages ask "was this helpful?"; pages send events

    def render(self, template: str, values: dict) -> str:
        """The page: `values` held to the template's record (kbctl/channels/site_context.py),
        rendered in the sandbox."""
        templates = self.templates or builtin_templates()
        return templates.render(template, context_values(template, values))

    @property
    def public(self) -> bool:
        return self.audience == "public"


class Page:
    """Renders one page at `relpath`: knows its way back to the root and builds links."""

    def __init__(self, site: SiteInfo, relpath: str, locale: str):
        self.site = site
        self.relpath = relpath
        self.locale = locale
        self.root = page_root(relpath)

    def url(self, relpath: str) -> str:
        return href(self.root, relpath)

    def common(self, title: str | None, switch: dict[str, str], description: str = "",
               equivalents: dict[str, str] | None = None) -> dict:
        """Values every template uses. `switch`: the page each locale's switch link opens;
        `equivalents`: the same page in other locales (hreflang), by default `switch`."""
        site, locale = self.site, self.locale
        base = site.base_url
        return {
            "lang": locale,
            "t": strings(locale),
            "site_name": site.name,
            "title": title,
            "description": description,
            "noindex": not site.public,
            "canonical": absolute_url(base, self.relpath),
            "alternates": [{"lang": loc, "href": absolute_url(base, path)}
                           for loc, path in sorted((switch if equivalents is None else equivalents).items())
                           if base],
            "portal": portal_badge(locale, site.audience),
            "root": self.root,
            "home_href": self.url(home_path(locale)),
            "search_href": self.url(search_path(locale)),
            "switch": [{"lang": loc, "label": language_name(loc), "href": self.url(path)}
                       for loc, path in switch.items() if loc != locale],
            "crumbs": None,
            "audience": site.audience,
            "theme": site.theme.values(self.root, locale),
            "feedback": site.feedback,
        }

    def source(self, template: str, **values) -> PageSource:
        return PageSource(template, values)


@dataclass(frozen=True)
class PageSource:
    """A navigation page before it is rendered: its template and every value that template
    reads. The page is a function of these (and of the channel's world: kbctl/build.py), so
    one whose values are those it was made from need not be rendered again."""

    template: str
    values: dict

    def inputs(self) -> dict[str, str]:
        return {"page values": digest_of((self.template, self.values))}

    def render(self, site: SiteInfo) -> str:
        return site.render(self.template, self.values)


def digest_of(value) -> str:
    """A short digest of what a page shows; objects without a stable repr never compare equal
    (the page is made again)."""
    shown = repr(value)
    if " at 0x" in shown:
        shown += repr(object())
    return hashlib.sha256(shown.encode("utf-8")).hexdigest()[:20]


def other_homes(maps: SiteMaps) -> dict[str, str]:
    return {loc: home_path(loc) for loc in maps.locales}


# -- entry page ------------------------------------------------------------------------------------
def render_entry_page(site: SiteInfo, values: dict) -> str:
    return site.render("entry.html", values)


def entry_page_values(site: SiteInfo, entry: Entry, rendered: Rendered) -> dict:
    """Everything the entry template reads: the page is a function of these alone."""
    return {**entry_page_frame(site, entry), **answer_values(site.base_url, entry, rendered)}


# What the entry template reads that depends on the answer's rendering; the rest is the frame.
ANSWER_KEYS = ("entry", "description", "answer", "jsonld")


def entry_page_frame(site: SiteInfo, entry: Entry) -> dict:
    """The page around the answer: navigation and lists, from the entry's interface and the maps."""
    maps = site.maps
    locale = entry.locale
    page = Page(site, entry_page_path(entry), locale)
    translations = maps.translations.get(entry.id, [])
    same = {locale: page.relpath, **{c.locale: c.path for c in translations}}
    switch = {**other_homes(maps), **same}
    reviewed = last_reviewed(entry)
    values = page.common(entry.title, switch, "", same)
    values.update(
        type_label=type_label(locale, entry.type),
        badge=visibility_badge(locale, entry.visibility) if entry.visibility != "public" else None,
        crumbs=_crumbs(page, maps, locale, entry.category),
        current=entry.title,
        reviewed=format_date(locale, reviewed) if reviewed else None,
        reviewed_iso=reviewed.isoformat() if reviewed else None,
        tags=[{"label": t, "href": page.url(tag_path(locale, maps.tag_slugs[(locale, t)]))}
              for t in entry.tags],
        markdown_copy="index.md" if site.llms else None,
        **cross_references(page, maps, entry.id),
    )
    return values


def cross_references(page: Page, maps: SiteMaps, entry_id: str) -> dict:
    """The part of an entry page's frame that shows other entries' cards."""
    locale = page.locale
    return {
        "related": _cards(page, maps.related.get(entry_id, [])),
        "backlinks": _cards(page, maps.backlinks.get(entry_id, [])),
        "translations": [{"href": page.url(c.path), "lang": c.locale,
                          "text": strings(locale)["translation"].format(lang=language_in(locale, c.locale)),
                          "title": c.title} for c in maps.translations.get(entry_id, [])],
    }


def answer_values(base_url: str | None, entry: Entry, rendered: Rendered) -> dict:
    return {
        "entry": EntryValues.of(entry),
        "description": entry.summary or _first_words(rendered.text),
        "answer": Markup(rendered.html),
        "jsonld": _faq_jsonld(entry, rendered, base_url) if entry.type == "faq" else None,
    }


def _first_words(text: str, limit: int = 150) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def _faq_jsonld(entry: Entry, rendered: Rendered, base_url: str | None) -> Markup:
    answer = "\n\n".join(p for p in (entry.summary, rendered.text) if p)
    data = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "inLanguage": entry.locale,
        "mainEntity": [{
            "@type": "Question",
            "name": entry.title,
            "acceptedAnswer": {"@type": "Answer", "text": answer},
        }],
    }
    url = absolute_url(base_url, entry_page_path(entry))
    if url:
        data["url"] = url
    return Markup(json_for_script(data))


def _cards(page: Page, cards: list[Card]) -> list[dict]:
    return [{"title": c.title, "href": page.url(c.path), "summary": c.summary,
             "type": type_label(c.locale, c.type)} for c in cards]


def _crumbs(page: Page, maps: SiteMaps, locale: str, category: str | None) -> list[dict]:
    crumbs = [{"title": strings(locale)["home"], "href": page.url(home_path(locale))}]
    if not category:
        return crumbs
    parts = category.split("/")
    for depth in range(1, len(parts) + 1):
        node_path = "/".join(parts[:depth])
        node = maps.nodes.get(node_path)
        if node is not None:
            crumbs.append({"title": maps.node_title(node, locale),
                           "href": page.url(category_path(locale, node_path))})
    return crumbs


# -- navigation pages ------------------------------------------------------------------------------
def _map_nodes(page: Page, maps: SiteMaps, locale: str, nodes) -> list[dict]:
    """The visible part of a taxonomy level: nodes with carried entries below them, in order."""
    return [{
        "title": maps.node_title(node, locale),
        "href": page.url(category_path(locale, node.path)),
        "count": maps.counts[(locale, node.path)],
        "children": _map_nodes(page, maps, locale, node.children),
        "id": node.id,
    } for node in nodes if maps.visible(locale, node)]


def home_page(site: SiteInfo, locale: str) -> PageSource:
    maps = site.maps
    page = Page(site, home_path(locale), locale)
    t = strings(locale)
    tags = sorted(maps.tags.get(locale, {}).values(), key=lambda tag: (-len(tag.cards), tag.label))
    values = page.common(None, other_homes(maps), t["hero_sub"])
    values.update(
        categories=_map_nodes(page, maps, locale, maps.taxonomy),
        others=_cards(page, maps.uncategorized.get(locale, [])),
        top=_cards(page, _top_questions(maps, locale)),
        total=sum(1 for c in maps.cards.values() if c.locale == locale),
        tags=[{"label": tag.label, "href": page.url(tag_path(locale, tag.slug)), "count": len(tag.cards)}
              for tag in tags[:30]],
    )
    return page.source("home.html", **values)


def _top_questions(maps: SiteMaps, locale: str, limit: int = 8) -> list[Card]:
    """FAQ entries other answers point to most: the centre of the knowledge, not guesswork."""
    faqs = [c for c in maps.cards.values() if c.locale == locale and c.type == "faq"]
    faqs.sort(key=lambda c: (-len(maps.backlinks.get(c.id, ())), c.title.casefold(), c.id))
    return faqs[:limit]


def category_page(site: SiteInfo, locale: str, node) -> PageSource:
    maps = site.maps
    page = Page(site, category_path(locale, node.path), locale)
    same = {loc: category_path(loc, node.path) for loc in maps.locales if maps.visible(loc, node)}
    switch = {**other_homes(maps), **same}
    title = maps.node_title(node, locale)
    values = page.common(title, switch, "", same)
    values.update(
        node_title=title,
        crumbs=_crumbs(page, maps, locale, node.path)[:-1],
        current=title,
        count=maps.counts[(locale, node.path)],
        children=_map_nodes(page, maps, locale, node.children),
        entries=_cards(page, maps.direct.get((locale, node.path), [])),
    )
    return page.source("category.html", **values)


def tag_page(site: SiteInfo, locale: str, tag) -> PageSource:
    page = Page(site, tag_path(locale, tag.slug), locale)
    t = strings(locale)
    values = page.common(t["tag_title"].format(tag=tag.label), other_homes(site.maps), "", {})
    values.update(tag=tag.label, entries=_cards(page, tag.cards), current=values["title"],
                  crumbs=[{"title": t["home"], "href": page.url(home_path(locale))}])
    return page.source("tag.html", **values)


def search_page(site: SiteInfo, locale: str) -> PageSource:
    maps = site.maps
    page = Page(site, search_path(locale), locale)
    values = page.common(strings(locale)["search_title"],
                         {loc: search_path(loc) for loc in maps.locales}, "", {})
    values["canonical"] = None  # a results page is not a page to index
    values.update(index_script=f"assets/search-index.{locale}.js", current=values["title"],
                  crumbs=[{"title": strings(locale)["home"], "href": page.url(home_path(locale))}])
    return page.source("search.html", **values)


def root_page(site: SiteInfo) -> PageSource:
    """The channel's front door: sends readers to the default locale, offers the others."""
    maps = site.maps
    locale = maps.default_locale
    page = Page(site, "index.html", locale)
    values = page.common(None, other_homes(maps), "", {})
    values["canonical"] = absolute_url(site.base_url, home_path(locale))
    values.update(target=page.url(home_path(locale)),
                  choices=[{"lang": loc, "label": language_name(loc), "href": page.url(home_path(loc)),
                            "prompt": strings(loc)["choose_language"]} for loc in maps.locales])
    return page.source("root.html", **values)


def not_found_page(site: SiteInfo) -> PageSource:
    """404.html is served at any missing path, so its links resolve against base_url when known."""
    maps = site.maps
    page = Page(site, "404.html", maps.default_locale)
    values = page.common(strings(maps.default_locale)["not_found_title"], other_homes(maps), "", {})
    values["canonical"] = None
    values.update(base_href=f"{site.base_url}/" if site.base_url else None,
                  others=[{"t": strings(loc), "home": page.url(home_path(loc)), "search": page.url(search_path(loc)),
                           "lang": loc} for loc in maps.locales])
    return page.source("404.html", **values)


def alias_page(site: SiteInfo, alias: str, card: Card) -> PageSource:
    """An old id's page: a redirect to where the entry lives now."""
    page = Page(site, f"{card.locale}/{alias}/index.html", card.locale)
    values = page.common(card.title, other_homes(site.maps), "", {})
    values["canonical"] = absolute_url(site.base_url, card.path)
    values.update(target=page.url(card.path))
    return page.source("redirect.html", **values)
