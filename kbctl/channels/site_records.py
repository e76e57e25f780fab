"""The search records of a site's pages, kept between builds beside the pages.

A page kept as it is keeps its search record, made from the same inputs, so its locale's
index can be updated rather than weighed again (kbctl/channels/site.py). A record is kept as
its JSON text inside the cache (`.kbctl/search-records-<channel>.json`, sealed data like every
cache: kbctl/cache.py): the cache of 10,000 pages then decodes as 10,000 strings, and only the
records an index update needs are decoded into weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kbctl import cache
from kbctl.channels.site_search import Prepared

CACHE_PREFIX = "search-records-"


@dataclass
class SearchRecords:
    """Search records by page (its relpath): the digest of the inputs each was made from, and
    the record as JSON text."""

    texts: dict[str, tuple[str, str]] = field(default_factory=dict)

    def digest(self, relpath: str) -> str | None:
        found = self.texts.get(relpath)
        return found[0] if found else None

    def text(self, relpath: str) -> str:
        return self.texts[relpath][1]

    def record(self, relpath: str) -> Prepared:
        weights, doc, category = json.loads(self.text(relpath))
        return weights, doc, category

    def put(self, relpath: str, digest: str, record: Prepared) -> None:
        self.texts[relpath] = (digest, record_text(record))

    def keep(self, relpath: str, last: SearchRecords) -> None:
        self.texts[relpath] = last.texts[relpath]


def record_text(record: Prepared) -> str:
    """A record as JSON text: the same record always gives the same text."""
    return json.dumps(list(record), ensure_ascii=False, separators=(",", ":"))


def load_records(root: Path, channel: str) -> SearchRecords:
    """The last build's records of `channel` (none when the cache is missing or not kbctl's)."""
    out = SearchRecords()
    for relpath, value in cache.load(root, CACHE_PREFIX + channel, _key()).items():
        if isinstance(value, list) and len(value) == 2 and all(isinstance(part, str) for part in value):
            out.texts[relpath] = (value[0], value[1])
    return out


def save_records(root: Path, channel: str, records: SearchRecords, order: list[str]) -> None:
    """Keep the records of the pages `order` lists (written by the forked writer)."""
    cache.save_later(root, CACHE_PREFIX + channel, _key(),
                     {relpath: list(records.texts[relpath]) for relpath in order})


def _key() -> str:
    return cache.cache_key("search-records")
