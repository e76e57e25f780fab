"""Reusing unchanged entry pages from the channel's current output.

A page is a function of its template values (`entry_page_values`), the templates and kbctl's
code; its search record, of the same values plus the answer's plain text. Their fingerprint is
kept per page in `.kbctl/`; when it is unchanged and the output folder is exactly as the last
build left it, the page is hard-linked from there (microseconds) instead of rendered and
written again (a millisecond), and its search record is taken from the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from kbctl import cache
from kbctl.model import Entry

CACHE_PREFIX = "pages-"
Prepared = tuple  # site_search.Prepared


def fingerprint(values: dict, entry: Entry, text: str, category: str | None) -> str | None:
    """The page's inputs as one digest, or None when they cannot be written down reliably."""
    shown = repr([(key, value) for key, value in values.items() if key != "entry"])
    if " at 0x" in shown:  # an object without a stable repr: never reuse such a page
        return None
    material = f"{shown}\0{entry.content_hash}\0{entry.path}\0{entry.git_date}\0{text}\0{category}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass
class PreviousPages:
    """The last build's entry pages: relpath -> (fingerprint, sha256, search record)."""

    folder: Path | None
    pages: dict[str, tuple[str, str, Prepared]] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)  # relpath -> sha256, per the manifest

    def reuse(self, relpath: str, digest: str | None, staging: Path) -> tuple[str, Prepared] | None:
        """(sha256, search record) of the page hard-linked into `staging`, or None."""
        old = self.pages.get(relpath)
        if self.folder is None or old is None or digest is None or old[0] != digest:
            return None
        if self.current.get(relpath) != old[1]:  # replaced since (kbctl/patch.py): not that page
            return None
        target = staging / relpath
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(self.folder / relpath, target)
        except OSError:  # another file system, or the file is gone: render it instead
            return None
        return old[1], old[2]


def _key(ctx) -> str:
    from kbctl.build import assets_digest

    return cache.cache_key("pages", ctx.channel.name, assets_digest())


def load_previous(ctx) -> PreviousPages:
    if ctx.reusable_output is None:
        return PreviousPages(None)
    try:
        current = json.loads((ctx.reusable_output / "manifest.json").read_bytes())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return PreviousPages(None)
    return PreviousPages(ctx.reusable_output, cache.load(ctx.kb.root, CACHE_PREFIX + ctx.channel.name, _key(ctx)),
                         current)


def save(ctx, pages: dict[str, tuple[str, str, Prepared]]) -> None:
    cache.save_later(ctx.kb.root, CACHE_PREFIX + ctx.channel.name, _key(ctx), pages)
