"""Channel kinds: one module per kind, each with `render(ctx, writer)`; a plain table maps them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kbctl.config import Channel, Config
from kbctl.model import Entry, KnowledgeBase
from kbctl.output import ChannelWriter


@dataclass
class ChannelContext:
    """What a channel renderer may see: the KB, its channel, and the entries it carries."""

    kb: KnowledgeBase
    config: Config
    channel: Channel
    as_of: dt.date
    entries: list[Entry]  # carried, ordered by id
    carried_ids: set[str] = field(default_factory=set)
    # The channel's current output, when it is exactly as the last build left it: unchanged
    # pages may be hard-linked from there instead of rendered again. None: render everything.
    reusable_output: Path | None = None

    def __post_init__(self) -> None:
        self.carried_ids = {e.id for e in self.entries}

    def carries(self, entry: Entry | None) -> bool:
        return entry is not None and entry.id in self.carried_ids

    def by_locale(self) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {locale: [] for locale in self.config.locales}
        for entry in self.entries:
            out.setdefault(entry.locale, []).append(entry)
        return out


class ChannelSeeds(Protocol):
    """What a channel's full build leaves for later patches: rows of kbctl/seedstore.py."""

    def rows(self) -> Iterator[tuple[str, bytes]]: ...


class ChannelKind(Protocol):
    """A channel kind's module: it writes the channel's files and returns its seeds."""

    def render(self, ctx: ChannelContext, writer: ChannelWriter) -> ChannelSeeds: ...


def kinds() -> dict[str, ChannelKind]:
    # Imported here so that commands which never build do not pay for the renderers.
    from kbctl.channels import faq, ivr, site

    return {"site": site, "faq": faq, "ivr": ivr}  # type: ignore[dict-item]  # modules as Protocols


# A patch job (kbctl/patch.py PatchJob) -> (files to replace, seed rows to update, files that go).
Patcher = Callable[..., tuple[dict[str, bytes], dict[str, object], set[str]]]


def patchers() -> dict[str, Patcher]:
    """Per kind: the patcher for edits that keep entries' structure. Imports no more than a
    patch needs."""
    from kbctl.channels import faq, ivr, site_patch

    return {"site": site_patch.patch, "faq": faq.patch, "ivr": ivr.patch}


def entry_page_path(entry: Entry) -> str:
    """Where a site channel puts an entry's page (CONTRACT 4 manifest example)."""
    return f"{entry.locale}/{entry.id}/index.html"


def entry_url(base_url: str | None, entry: Entry) -> str | None:
    """The absolute URL of an entry's page on a site with `base_url`."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{entry.locale}/{entry.id}/"
