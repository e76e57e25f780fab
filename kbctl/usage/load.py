"""Usage data for `kbctl health`: find the files, count the window's events, summarize."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kbctl.model import KnowledgeBase
from kbctl.usage.model import UsageSummary
from kbctl.usage.read import count_events
from kbctl.usage.sources import usage_sources
from kbctl.usage.summary import summarize


def read_usage(root: Path, kb: KnowledgeBase, as_of: dt.date, given: list[str]) -> UsageSummary | None:
    """The window's usage from kbctl.yaml's `usage.paths` and `--usage`; None without any."""
    settings = kb.config.usage
    if not settings.paths and not given:
        return None
    sources = usage_sources(root, settings.paths, given)
    # The window holds the dates after as_of - window, up to and with as_of.
    start = as_of - settings.window + dt.timedelta(days=1)
    counts = count_events(sources, start, as_of)
    ids = {entry.id for entry in kb.valid_entries}
    return summarize(counts, ids, kb.config.channels, start, as_of,
                     tuple(source.shown for source in sources))
