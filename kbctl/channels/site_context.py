"""What each site template receives: one dataclass per template, each field documented.

These records are the template interface a theme's overrides program against (CONTRACT 10):
`Page.render` builds the template's record from the values the page computed, so a value
added or dropped without its field here fails every build, and docs/templates.md, the
reference page, is made from these classes (`reference()`; `python -m kbctl.channels.site_context
> docs/templates.md` regenerates it, tests/test_docs.py compares). Lists of links and cards are
plain mappings, read in templates as `item.key`; their keys are listed in each field's text.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any


def doc(text: str) -> Any:
    """A field of a template record, with its text for the reference page."""
    return field(metadata={"doc": text})


@dataclass(frozen=True)
class ThemeLinkValues:
    """A header link of the theme."""

    title: str = doc("The link's title in the page's locale, facts filled in.")
    url: str = doc("Its URL (http, https, mailto or tel).")


@dataclass(frozen=True)
class ThemeValues:
    """The channel's theme as one page sees it (`theme` in every template)."""

    logo: str | None = doc("The logo's URL relative to the page, or None (kbctl's own mark is shown).")
    favicon: str = doc("The favicon's URL relative to the page (kbctl's own without a theme).")
    favicon_type: str = doc("Its media type, for `<link rel=\"icon\" type=…>`.")
    stylesheets: tuple[str, ...] = doc("Stylesheets after kbctl's own: the colours derived from "
                                       "`primary_color` and the theme's `css`, relative URLs.")
    footer: str | None = doc("The footer text in the page's locale, facts filled in, or None.")
    links: tuple[ThemeLinkValues, ...] = doc("The header links, in order.")


@dataclass(frozen=True)
class EntryValues:
    """What a template sees of the entry a page shows: its public face only. Never the Entry
    itself, whose source holds the blocks above the channel's audience and the IVR script."""

    id: str = doc("The entry's id.")
    title: str = doc("Its title, facts filled in.")
    summary: str | None = doc("Its summary (the short answer), or None.")
    questions: tuple[str, ...] = doc("The other ways readers ask the question.")
    type: str = doc("faq, howto, policy, troubleshooting, case or reference.")
    visibility: str = doc("public, customer, partner or internal.")
    locale: str = doc("The entry's locale.")
    tags: tuple[str, ...] = doc("Its tags.")
    category: str | None = doc("Its taxonomy path, e.g. `billing/payments`, or None.")

    @classmethod
    def of(cls, entry: Any) -> EntryValues:
        return cls(entry.id, entry.title, entry.summary, tuple(entry.questions), entry.type,
                   entry.visibility, entry.locale, tuple(entry.tags), entry.category)


@dataclass(frozen=True)
class Feedback:
    """Where the channel's pages send usage events (CONTRACT 7), and the channel they name."""

    endpoint: str
    channel: str


@dataclass(frozen=True)
class Common:
    """Every page's values (base.html reads these)."""

    lang: str = doc("The page's locale, e.g. `zh-CN`.")
    t: dict = doc("kbctl's interface strings in the page's locale (kbctl/channels/site_strings.py).")
    site_name: str = doc("`name` from kbctl.yaml.")
    title: str | None = doc("The page title, None on home pages.")
    description: str = doc("The meta description (may be empty).")
    noindex: bool = doc("True when the channel is not public: the page asks search engines not to index it.")
    canonical: str | None = doc("The page's absolute URL when the channel has a base_url.")
    alternates: list = doc("The same page in other locales: `lang`, `href` (absolute).")
    portal: str | None = doc("The badge of a non-public portal, e.g. 'Internal portal', or None.")
    root: str = doc("The way back to the channel folder from the page, e.g. `../../` (every link is relative).")
    home_href: str = doc("The locale's home page, relative.")
    search_href: str = doc("The locale's search page, relative.")
    switch: list = doc("The language switch: `lang`, `label`, `href` of each other locale's page.")
    crumbs: list | None = doc("The breadcrumb trail: `title`, `href` of each step, or None.")
    audience: str = doc("The channel's audience (public, customer, partner, internal).")
    theme: ThemeValues = doc("The channel's theme (ThemeValues).")
    feedback: Feedback | None = doc("Where pages send usage events (`endpoint`, `channel`), or None: no control, no events.")


@dataclass(frozen=True)
class EntryContext(Common):
    """entry.html: an entry's page."""

    type_label: str = doc("The entry type as readers call it (FAQ, How-to…).")
    badge: str | None = doc("The visibility badge of a non-public entry, or None.")
    current: str = doc("The last breadcrumb: the entry's title.")
    reviewed: str | None = doc("The last verification date, formatted for the locale, or None.")
    reviewed_iso: str | None = doc("The same date as YYYY-MM-DD, or None.")
    tags: list = doc("The entry's tags: `label`, `href`.")
    markdown_copy: str | None = doc("`index.md` when the page has a Markdown copy beside it, else None.")
    related: list = doc("Related entries' cards: `title`, `href`, `summary`, `type`.")
    backlinks: list = doc("Cards of the entries linking here: `title`, `href`, `summary`, `type`.")
    translations: list = doc("The entry in other locales: `href`, `lang`, `text`, `title`.")
    entry: EntryValues = doc("The entry's public face (EntryValues).")
    answer: str = doc("The answer as HTML, rendered for the channel's audience (inserted as it is).")
    jsonld: str | None = doc("FAQPage JSON-LD for a `faq` entry, escaped for a script element, or None.")


@dataclass(frozen=True)
class HomeContext(Common):
    """home.html: a locale's home page."""

    categories: list = doc("The knowledge map: `title`, `href`, `count`, `id`, `children` (the same keys).")
    others: list = doc("Cards of entries without a category: `title`, `href`, `summary`, `type`.")
    top: list = doc("The most linked-to FAQ entries' cards.")
    total: int = doc("How many entries the locale has on the channel.")
    tags: list = doc("The most used tags: `label`, `href`, `count`.")


@dataclass(frozen=True)
class CategoryContext(Common):
    """category.html: a taxonomy node's page."""

    node_title: str = doc("The node's title in the locale.")
    current: str = doc("The last breadcrumb: the node's title.")
    count: int = doc("Entries under the node, children included.")
    children: list = doc("Child nodes: `title`, `href`, `count`, `id`, `children`.")
    entries: list = doc("Cards of the entries directly in the node.")


@dataclass(frozen=True)
class TagContext(Common):
    """tag.html: the entries with one tag."""

    tag: str = doc("The tag.")
    entries: list = doc("Cards of the entries with the tag.")
    current: str = doc("The last breadcrumb.")


@dataclass(frozen=True)
class SearchContext(Common):
    """search.html: the search page (results are made in the browser)."""

    index_script: str = doc("The locale's search index script, relative to `root`.")
    current: str = doc("The last breadcrumb.")


@dataclass(frozen=True)
class RootContext(Common):
    """root.html: the channel's front door, sending readers to the default locale."""

    target: str = doc("The default locale's home, relative.")
    choices: list = doc("Each locale's home: `lang`, `label`, `href`, `prompt`.")


@dataclass(frozen=True)
class NotFoundContext(Common):
    """404.html: served at any missing path."""

    base_href: str | None = doc("`base_url` with a final slash (for `<base>`), or None.")
    others: list = doc("Per locale: `lang`, `t` (its strings), `home`, `search` links.")


@dataclass(frozen=True)
class RedirectContext(Common):
    """redirect.html: an old id's page, sending readers to the entry's page."""

    target: str = doc("The entry's page, relative.")


CONTEXTS: dict[str, type[Common]] = {
    "entry.html": EntryContext,
    "home.html": HomeContext,
    "category.html": CategoryContext,
    "tag.html": TagContext,
    "search.html": SearchContext,
    "root.html": RootContext,
    "404.html": NotFoundContext,
    "redirect.html": RedirectContext,
}


def context_values(template: str, values: dict) -> dict:
    """The values for `template`, held to its record: a missing or unknown key is a bug here
    (TypeError), not a surprise for an override."""
    record = CONTEXTS[template](**values)
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def reference() -> str:
    """docs/templates.md: every template's values, from the records above."""
    out = ["# Site templates: what each receives", "",
           ("Generated from kbctl/channels/site_context.py by "
            "`python -m kbctl.channels.site_context > docs/templates.md`; do not edit."), "",
           ("A theme's `templates` folder overrides kbctl's templates (templates/site/) by file name. "
            "Templates render in Jinja's immutable sandbox with undefined names as errors; values "
            "are escaped unless noted. `base.html` is the frame every page extends; "
            "`_macros.html` holds `entry_list(items)` and `category_cards(nodes, t)`."), ""]
    out += _section("Every template", Common, ())
    inherited = {f.name for f in dataclasses.fields(Common)}
    for name, record in CONTEXTS.items():
        out += _section(name, record, inherited)
    out += _section("entry (EntryValues, entry.html)", EntryValues, ())
    out += _section("theme (ThemeValues)", ThemeValues, ())
    out += _section("theme.links items (ThemeLinkValues)", ThemeLinkValues, ())
    return "\n".join(out).rstrip("\n") + "\n"


def _section(title: str, record: type, skip) -> list[str]:
    lines = [f"## {title}", "", (record.__doc__ or "").strip(), ""]
    if skip:
        lines += ["Besides the values of every template:", ""]
    lines += ["| name | type | value |", "| --- | --- | --- |"]
    for f in dataclasses.fields(record):
        if f.name not in skip:
            shown = str(f.type).replace("|", "\\|")
            lines.append(f"| `{f.name}` | `{shown}` | {f.metadata['doc']} |")
    return [*lines, ""]


if __name__ == "__main__":
    sys.stdout.write(reference())
