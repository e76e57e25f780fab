"""Link answers recorded during a full build, replayed when only an answer's text changes.

A channel's resolver decides where each link of an entry goes (a page URL, or None for plain
text) from the link and the rest of the knowledge base. When an edit leaves the entry's
interface as it was (kbctl/load/interface.py), its links and everything they point to are
unchanged, so the recorded answers still hold, and the knowledge base need not be loaded.
"""

from __future__ import annotations

from kbctl.model import Link


class NotReplayable(Exception):
    """A link the full build never resolved: the channel must be built in full."""


def link_key(link: Link) -> tuple[str, str, str | None]:
    """What a resolver's answer depends on (the rest is fixed by the entry and the channel)."""
    return (link.kind, link.target, link.anchor)


class RecordingResolver:
    """Wraps a resolver and keeps every answer it gives."""

    def __init__(self, resolve):
        self.resolve = resolve
        self.seen: dict[tuple, str | None] = {}

    def __call__(self, link: Link) -> str | None:
        url = self.resolve(link)
        self.seen[link_key(link)] = url
        return url


class ReplayResolver:
    """The recorded answers; a link the last build did not resolve goes to `fresh` (a link
    added by an edit), or makes the channel build in full."""

    def __init__(self, seen: dict[tuple, str | None], fresh=None):
        self.seen = seen
        self.fresh = fresh

    def __call__(self, link: Link) -> str | None:
        try:
            return self.seen[link_key(link)]
        except KeyError:
            if self.fresh is not None:
                return self.fresh(link)
            raise NotReplayable(f"link {link.raw!r} was not resolved by the last build") from None
