"""Who gets what (CONTRACT 1.3 and 2): eligibility of entries and blocks for a channel."""

from __future__ import annotations

import datetime as dt

from kbctl.config import Channel
from kbctl.model import VISIBILITY_RANK, Entry, KnowledgeBase


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
    return publishable(entry, as_of) and reaches(entry, channel)


def publishable(entry: Entry, as_of: dt.date) -> bool:
    """What eligibility asks of the entry alone: parsed, published and valid on the date."""
    return entry.ok and entry.is_published and in_validity(entry, as_of)


def reaches(entry: Entry, channel: Channel) -> bool:
    """What eligibility asks of the entry and the channel: its audience, its selection."""
    return VISIBILITY_RANK[entry.visibility] <= channel.audience_rank and selects(entry, channel)


def carried_paths(kb: KnowledgeBase, channel: Channel, as_of: dt.date) -> frozenset[str]:
    """The paths of the entries `channel` carries on `as_of`. Worked out once per knowledge
    base, for every configured channel at once: validate's checks and the build each ask it of
    every entry, for several channels."""
    key = _carriage_key(channel, as_of)
    if key not in kb.carried:
        channels = {_carriage_key(c, as_of): c for c in (*kb.config.channels.values(), channel)}
        kb.carried.update(_carried_by(kb.entries, channels, as_of))
    return kb.carried[key]


def _carriage_key(channel: Channel, as_of: dt.date) -> tuple:
    """What eligibility reads of a channel, and the date."""
    return (channel.name, channel.audience, channel.select, as_of)


def _carried_by(entries, channels: dict[tuple, Channel], as_of: dt.date) -> dict[tuple, frozenset[str]]:
    """`eligible` for each entry and channel in one pass: `publishable` once per entry, then
    `reaches` per channel."""
    found: dict[tuple, list[str]] = {key: [] for key in channels}
    for entry in entries:
        if publishable(entry, as_of):
            for key, channel in channels.items():
                if reaches(entry, channel):
                    found[key].append(entry.path)
    return {key: frozenset(paths) for key, paths in found.items()}


def carried(kb: KnowledgeBase, channel: Channel, as_of: dt.date) -> list[Entry]:
    """The entries `channel` carries on `as_of`, in the knowledge base's order."""
    paths = carried_paths(kb, channel, as_of)
    return [entry for entry in kb.entries if entry.path in paths]
