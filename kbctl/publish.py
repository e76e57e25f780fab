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
    return (
        entry.ok
        and entry.is_published
        and VISIBILITY_RANK[entry.visibility] <= channel.audience_rank
        and selects(entry, channel)
        and in_validity(entry, as_of)
    )


def carried_paths(kb: KnowledgeBase, channel: Channel, as_of: dt.date) -> frozenset[str]:
    """The paths of the entries `channel` carries on `as_of`, worked out once per knowledge
    base: validate's checks and the build each ask it of every entry, for several channels.
    Keyed on what eligibility reads of the channel."""
    key = (channel.name, channel.audience, channel.select, as_of)
    found = kb.carried.get(key)
    if found is None:
        found = kb.carried[key] = frozenset(entry.path for entry in kb.entries if eligible(entry, channel, as_of))
    return found


def carried(kb: KnowledgeBase, channel: Channel, as_of: dt.date) -> list[Entry]:
    """The entries `channel` carries on `as_of`, in the knowledge base's order."""
    paths = carried_paths(kb, channel, as_of)
    return [entry for entry in kb.entries if entry.path in paths]
