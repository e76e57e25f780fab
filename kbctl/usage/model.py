"""Typed records of usage aggregated over a window: what the health rules and reports read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class EntryUsage:
    """Counts of one entry's events within the window, over every channel."""

    views: int = 0
    helpful: int = 0
    unhelpful: int = 0
    serves: int = 0

    @property
    def votes(self) -> int:
        return self.helpful + self.unhelpful


@dataclass(frozen=True)
class ContentGap:
    query: str  # normalized as questions are
    count: int  # zero-result searches for it within the window
    text: str = ""  # the spelling searched most often, for messages


@dataclass(frozen=True)
class UsageSummary:
    events: int  # events counted within the window
    skipped: int  # unreadable lines, unknown entries or channels
    window_start: date  # first UTC date inside the window
    window_end: date  # last UTC date inside the window (the as-of date)
    entries: Mapping[str, EntryUsage]
    gaps: tuple[ContentGap, ...]
    unreadable: int = 0  # of `skipped`: lines that could not be read
    unknown_entries: int = 0  # of `skipped`: events naming no entry of the KB
    unknown_channels: int = 0  # of `skipped`: events naming no configured channel
    sources: tuple[str, ...] = field(default=())  # the files read, as given

    def entry(self, entry_id: str) -> EntryUsage:
        return self.entries.get(entry_id, EntryUsage())
