"""Making a site's pages again when only answers' text changed, without the knowledge base.

A full build leaves, per entry, a *seed*: the page's frame (navigation, lists, dates: what
`entry_page_frame` computed from the maps), the answers its link resolver gave, and its
category label; and the search indexes as patchable pieces. When an edit leaves the entry's
interface as it was, its page is its frame plus the new answer, and the indexes change in
that one document (kbctl/patch.py decides when this applies).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field

from kbctl.channels import entry_page_path
from kbctl.channels.replay import ReplayResolver
from kbctl.channels.site_pages import answer_values, render_entry_page
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



@dataclass
class SiteSeeds:
    """What a full build leaves: rows of kbctl/seedstore.py."""

    audience_rank: int
    base_url: str | None
    pages: dict[str, bytes] = field(default_factory=dict)  # entry id -> seed
    docs: dict[str, tuple[str, int]] = field(default_factory=dict)  # entry id -> (locale, doc)
    search: dict[str, IndexPieces] = field(default_factory=dict)  # locale -> index

    def add(self, entry_id: str, seed: bytes, locale: str, doc: int) -> None:
        self.pages[entry_id] = seed
        self.docs[entry_id] = (locale, doc)

    def rows(self) -> Iterator[tuple[str, bytes]]:
        yield "site", dump((self.audience_rank, self.base_url, self.docs))
        for entry_id, seed in self.pages.items():
            yield f"page/{entry_id}", seed
        for locale, pieces in self.search.items():
            yield f"search/{locale}", dump(pieces)


def patch(rows, entries: list[Entry], _folder=None) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The files that change when `entries` (same interfaces) have new bodies, and the rows
    that change with them."""
    audience_rank, base_url, docs = pickle.loads(rows.get("site"))
    files: dict[str, bytes] = {}
    changed: dict[str, bytes] = {}
    search: dict[str, IndexPieces] = {}
    for entry in entries:
        seed = rows.get(f"page/{entry.id}")
        if seed is None:
            continue  # not on this site
        frame, seen, category, weights = pickle.loads(seed)
        rendered = render_entry(entry, audience_rank, ReplayResolver(seen),
                                {"block_labels": block_labels(entry.locale)})
        values = {**frame, "t": strings(entry.locale), **answer_values(base_url, entry, rendered)}
        files[entry_page_path(entry)] = render_entry_page(values).encode("utf-8")
        prepared = prepare_entry(entry, rendered.text, category)
        locale, doc = docs[entry.id]
        if locale not in search:
            search[locale] = pickle.loads(rows.get(f"search/{locale}"))
        search[locale].replace(doc, weights, prepared)
        changed[f"page/{entry.id}"] = page_seed(frame, seen, category, prepared[0])
    for locale, pieces in sorted(search.items()):
        files[search_index_path(locale)] = pieces.script().encode("utf-8")
        changed[f"search/{locale}"] = dump(pieces)
    return files, changed
