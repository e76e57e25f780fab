"""What every channel kind sees and is: its context, its Protocol, and where entries' pages are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from kbctl.config import Channel, Config
from kbctl.model import Entry, KnowledgeBase
from kbctl.output import ChannelWriter

if TYPE_CHECKING:
    from kbctl.channels.site_records import SearchRecords


@dataclass
class ChannelMemory:
    """What a long-running process (kbctl serve) keeps of one channel between its builds,
    instead of reading it back from the cache folder: a site's search records."""

    search_records: SearchRecords | None = None


@dataclass
class ChannelContext:
    """What a channel renderer may see: the KB, its channel, and the entries it carries."""

    kb: KnowledgeBase
    config: Config
    channel: Channel
    as_of: dt.date
    entries: list[Entry]  # carried, ordered by id
    memory: ChannelMemory | None = None  # a serve's, between its builds
    # The entry files (paths, removed ones too) whose content changed since the channel's
    # output was last made, which the writer's records are of; None: not known, or made fresh.
    changed: frozenset[str] | None = None
    carried_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.carried_ids = {e.id for e in self.entries}

    def carries(self, entry: Entry | None) -> bool:
        return entry is not None and entry.id in self.carried_ids

    def by_locale(self) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {locale: [] for locale in self.config.locales}
        for entry in self.entries:
            out.setdefault(entry.locale, []).append(entry)
        return out


class ChannelKind(Protocol):
    """A channel kind's module: it makes the channel's files through the writer, which keeps
    those whose inputs did not change (kbctl/output.py)."""

    def render(self, ctx: ChannelContext, writer: ChannelWriter) -> None: ...


def entry_page_path(entry: Entry) -> str:
    """Where a site channel puts an entry's page (CONTRACT 4 manifest example)."""
    return f"{entry.locale}/{entry.id}/index.html"


def entry_url(base_url: str | None, entry: Entry) -> str | None:
    """The absolute URL of an entry's page on a site with `base_url`."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{entry.locale}/{entry.id}/"


def last_verified(entry: Entry) -> str | None:
    """CONTRACT 3.3: the later of last_reviewed and the git date (when git dates are used), as
    pages, FAQ data, Markdown copies and chunks show it."""
    dates = [d for d in (entry.date("last_reviewed"), entry.git_date) if d is not None]
    return max(dates).isoformat() if dates else None
