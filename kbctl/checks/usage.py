"""The usage rules (CONTRACT 7): unused, unhelpful, content-gap and the usage-skipped note.

They read a UsageSummary (kbctl/usage) and, for `unused`, when each entry was first committed
(kbctl/gitdates), so they never read events or run git themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from kbctl.config import CONFIG_NAME
from kbctl.gitdates import GitDates
from kbctl.model import Diagnostic, Entry, KnowledgeBase
from kbctl.rules import rule
from kbctl.usage.model import UsageSummary
from kbctl.usage.settings import UsageSettings


def run_usage(kb: KnowledgeBase, usage: UsageSummary, git: GitDates) -> list[Diagnostic]:
    settings = kb.config.usage
    return [*_skipped(usage), *_unused(kb, usage, git), *_unhelpful(kb, usage, settings),
            *_gaps(usage, settings)]


def _span(usage: UsageSummary) -> str:
    return f"from {usage.window_start} to {usage.window_end}"


def _skipped(usage: UsageSummary) -> Iterator[Diagnostic]:
    if not usage.skipped:
        return
    parts = [(usage.unreadable, "unreadable line", "unreadable lines"),
             (usage.unknown_entries, "for an unknown entry", "for unknown entries"),
             (usage.unknown_channels, "for an unknown channel", "for unknown channels")]
    detail = ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in parts if n)
    yield rule("usage-skipped").diag(
        None, None, f"{usage.skipped} usage events skipped ({detail}); {usage.events} counted")


def available_since(entry: Entry, git: GitDates) -> dt.date | None:
    """Since when readers could have used the entry: the later of its first commit and its
    `valid_from`. None when it is not committed yet (a new entry is not unused)."""
    first = git.first_committed(entry.path) if git.usable else None
    if git.usable and first is None:
        return None
    dates = [d for d in (first, entry.date("valid_from")) if d is not None]
    # Without git dates only `valid_from` can tell; without it, the entry is taken as old.
    return max(dates) if dates else dt.date.min


def _unused(kb: KnowledgeBase, usage: UsageSummary, git: GitDates) -> Iterator[Diagnostic]:
    warn = rule("unused")
    for entry in kb.valid_entries:
        if not entry.is_published:
            continue
        since = available_since(entry, git)
        if since is None or since >= usage.window_start:
            continue
        counts = usage.entry(entry.id)
        if counts.views or counts.serves:
            continue
        yield warn.diag(entry.path, entry.line_of("id"),
                        f"no view or serve in any channel {_span(usage)}", entry.id)


def _unhelpful(kb: KnowledgeBase, usage: UsageSummary, settings: UsageSettings) -> Iterator[Diagnostic]:
    warn = rule("unhelpful")
    for entry in kb.valid_entries:
        counts = usage.entry(entry.id)
        if counts.votes < settings.min_votes or counts.votes == 0:
            continue
        share = counts.helpful / counts.votes
        if share >= settings.helpful_below:
            continue
        yield warn.diag(
            entry.path, entry.line_of("id"),
            f"{counts.helpful} of {counts.votes} votes helpful ({share:.0%}, below "
            f"{settings.helpful_below:.0%}) {_span(usage)}", entry.id)


def _gaps(usage: UsageSummary, settings: UsageSettings) -> Iterator[Diagnostic]:
    note = rule("content-gap")
    for gap in usage.gaps:
        if gap.count < settings.gap_min:
            continue
        times = "once" if gap.count == 1 else f"{gap.count} times"
        yield note.diag(CONFIG_NAME, settings.line,
                        f"{gap.text or gap.query!r} searched {times} with no result {_span(usage)}")
