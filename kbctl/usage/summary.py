"""Grouped counts → a UsageSummary: events for unknown entries or channels set aside (counted),
zero-result searches merged by the question normalizer of the duplicate-question check."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import replace

from kbctl.checks.questions import normalize_question
from kbctl.usage.model import ContentGap, EntryUsage, UsageSummary
from kbctl.usage.read import Counts

_FIELD = {"view": "views", "helpful": "helpful", "unhelpful": "unhelpful", "serve": "serves"}


def summarize(counts: Counts, entries: Collection[str], channels: Collection[str],
              start: dt.date, end: dt.date, sources: tuple[str, ...] = ()) -> UsageSummary:
    usage: dict[str, EntryUsage] = {}
    events = unknown_entries = unknown_channels = 0
    for item in counts.events:
        if item.channel not in channels:
            unknown_channels += item.count
        elif item.event != "search" and item.entry not in entries:
            unknown_entries += item.count
        else:
            events += item.count
            if item.entry is not None:
                usage[item.entry] = _add(usage.get(item.entry, EntryUsage()), item.event, item.count)
    return UsageSummary(
        events=events, skipped=counts.unreadable + unknown_entries + unknown_channels,
        window_start=start, window_end=end,
        entries=dict(sorted(usage.items())), gaps=_gaps(counts, channels),
        unreadable=counts.unreadable, unknown_entries=unknown_entries,
        unknown_channels=unknown_channels, sources=sources,
    )


def _add(usage: EntryUsage, event: str, count: int) -> EntryUsage:
    name = _FIELD[event]
    return replace(usage, **{name: getattr(usage, name) + count})


def _gaps(counts: Counts, channels: Collection[str]) -> tuple[ContentGap, ...]:
    totals: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for item in counts.gaps:
        if item.channel not in channels:
            continue
        key = normalize_question(item.query)
        if not key:  # only spaces or punctuation: no question to answer
            continue
        totals[key] += item.count
        spellings.setdefault(key, Counter())[item.query.strip()] += item.count
    gaps = [ContentGap(key, n, _most_searched(spellings[key])) for key, n in totals.items()]
    return tuple(sorted(gaps, key=lambda gap: (-gap.count, gap.query)))


def _most_searched(spellings: Counter[str]) -> str:
    """The spelling people used most (the first in code-point order among equals)."""
    return min(spellings.items(), key=lambda item: (-item[1], item[0]))[0]
