"""The search records of a site's pages, kept between builds beside the pages.

A page kept as it is keeps its search record, made from the same inputs, so its locale's
index can be updated rather than weighed again (kbctl/channels/site.py). A record is kept as
its JSON text, and only the records an index update needs are decoded into weights.

The cache (`.kbctl/search-records-<channel>.tsv`, sealed data like every cache: kbctl/cache.py)
is lines of text: its key, then a line per page, `relpath TAB digest TAB record`. A record's
JSON text holds no tab or line break (JSON writes them escaped), and a relpath that does is
simply not kept. Reading 10,000 records is then splitting lines, not decoding 24 MB of JSON
strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kbctl import cache
from kbctl.channels.site_search import Prepared

CACHE_PREFIX = "search-records-"
SUFFIX = ".tsv"


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
    lines = cache.load_lines(root, _name(channel), _key())
    for line in lines:
        relpath, tab, rest = line.partition("\t")
        digest, tab2, text = rest.partition("\t")
        if tab and tab2:
            out.texts[relpath] = (digest, text)
    return out


def save_records(root: Path, channel: str, records: SearchRecords, order: list[str]) -> None:
    """Keep the records of the pages `order` lists (written by the forked writer)."""
    texts = records.texts
    cache.save_lines_later(root, _name(channel), _key(),
                           [f"{relpath}\t{texts[relpath][0]}\t{texts[relpath][1]}" for relpath in order
                            if not _breaks_lines(relpath)])


def _breaks_lines(relpath: str) -> bool:
    return "\t" in relpath or "\n" in relpath or "\r" in relpath


def _name(channel: str) -> str:
    return f"{CACHE_PREFIX}{channel}{SUFFIX}"


def _key() -> str:
    return cache.cache_key("search-records")
