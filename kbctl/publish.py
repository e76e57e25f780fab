"""Who gets what (CONTRACT 1.3 and 2): eligibility of entries and blocks for a channel."""

from __future__ import annotations

import datetime as dt

from kbctl.config import Channel
from kbctl.model import VISIBILITY_RANK, Entry


def in_validity(entry: Entry, as_of: dt.date) -> bool:
    start, end = entry.validity
    return (start is None or start <= as_of) and (end is None or as_of <= end)


def selects(entry: Entry, channel: Channel) -> bool:
    """The entry's `channels` list restricts, and opts in to, channels."""
    listed = entry.channels
    if listed is None:
        return not channel.opt_in
    return channel.name in listed


def eligible(entry: Entry, channel: Channel, as_of: dt.date) -> bool:
    return (
        entry.ok
        and entry.is_published
        and in_validity(entry, as_of)
        and VISIBILITY_RANK[entry.visibility] <= channel.audience_rank
        and selects(entry, channel)
    )


def carried(entries, channel: Channel, as_of: dt.date) -> list[Entry]:
    return [entry for entry in entries if eligible(entry, channel, as_of)]
