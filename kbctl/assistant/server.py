"""`kbctl mcp`: a channel served to AI agents over the Model Context Protocol (CONTRACT 9).

The official SDK's `MCPServer` runs the protocol (stdio, or streamable HTTP); kbctl gives it
three tools over a `ChannelView` (kbctl/assistant/view.py). The view is made from the KB as a
build would publish it, and made again when a file of the KB changes: tool calls look at the
files' stats at most once a second, so an edit is served within a second or two of the save,
without a restart. A KB that no longer loads (a syntax error mid-edit, a refused build) keeps
the last good view, and says why on stderr once.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings

from kbctl.assistant.view import DEFAULT_LIMIT, Categories, ChannelView, EntryView, SearchResults
from kbctl.authoring.serve import Snapshot, snapshot
from kbctl.build import channel_context, load_checked
from kbctl.config import Channel, load_config
from kbctl.errors import KbctlError, UsageError

SERVED_KINDS = ("site", "faq", "rag")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
RECHECK_SECONDS = 1.0


def not_found(entry_id: str) -> str:
    """The same words for an id the channel does not carry, whether or not the KB has it."""
    return f"not found: this channel has no entry {entry_id!r}"


def served_channel(root: Path, name: str) -> Channel:
    """Channel `name` of the KB, if `kbctl mcp` can serve it (UsageError, exit 2, if not)."""
    config = load_config(root)
    channel = config.channels.get(name)
    if channel is None:
        raise UsageError(f"--channel {name!r}: not configured (have: {', '.join(config.channels)})")
    if channel.kind not in SERVED_KINDS:
        raise UsageError(f"--channel {name!r} is of kind {channel.kind}; kbctl mcp serves "
                         f"{', '.join(SERVED_KINDS)} channels")
    return channel


class LiveView:
    """The channel's view, kept in step with the KB's files."""

    def __init__(self, root: Path, name: str, as_of: dt.date | None,
                 log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)):
        self.root, self.name, self.as_of, self.log = root, name, as_of, log
        self._lock = threading.Lock()  # the SDK runs synchronous tools in worker threads
        self._seen: Snapshot = snapshot(root)
        self._checked = time.monotonic()
        self._view = self._make()
        self._failure: str | None = None

    def _make(self) -> ChannelView:
        channel = served_channel(self.root, self.name)
        date = self.as_of or dt.date.today()
        kb = load_checked(self.root, load_config(self.root), date)
        return ChannelView(channel_context(kb, channel, date))

    def current(self) -> ChannelView:
        with self._lock:
            if time.monotonic() - self._checked >= RECHECK_SECONDS:
                self._checked = time.monotonic()
                seen = snapshot(self.root)
                if seen != self._seen:
                    self._seen = seen
                    self._reload()
            return self._view

    def _reload(self) -> None:
        try:
            self._view = self._make()
        except KbctlError as exc:
            message = f"kbctl mcp: still serving the last good state: {exc}".splitlines()[0]
            if message != self._failure:
                self.log(message)
            self._failure = message
        else:
            if self._failure is not None:
                self.log("kbctl mcp: the knowledge base loads again; serving it")
            self._failure = None


def make_server(live: LiveView) -> MCPServer:
    server: MCPServer = MCPServer(
        name=f"kbctl-{live.name}",
        log_level="WARNING",  # stderr is the user's terminal; a failed lookup is no news
        instructions=(f"The knowledge base's channel {live.name!r}: search it, read an entry as "
                      "Markdown, or list its categories. Answer from what these tools return."),
    )

    @server.tool(description="Search the channel's entries (Chinese and English), ranked as the "
                             "help center's search ranks them.")
    def search(query: str, locale: str | None = None, limit: int = DEFAULT_LIMIT) -> SearchResults:
        view = live.current()
        _check_locale(view, locale)
        return view.search(query, locale, limit)

    @server.tool(description="One entry as the channel carries it, as Markdown.")
    def get_entry(id: str) -> EntryView:
        found = live.current().entry(id)
        if found is None:
            raise ToolError(not_found(id))
        return found

    @server.tool(description="The categories holding the channel's entries, with their titles "
                             "and how many entries each holds, itself and below.")
    def list_categories(locale: str | None = None) -> Categories:
        view = live.current()
        _check_locale(view, locale)
        return view.categories(locale)

    return server


def _check_locale(view: ChannelView, locale: str | None) -> None:
    if locale is not None and locale not in view.locales:
        raise ToolError(f"unknown locale {locale!r} (have: {', '.join(view.locales)})")


def parse_address(address: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1); `[::1]:PORT` for IPv6."""
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = "", address
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) <= 65535:
        raise UsageError(f"--http {address!r}: give HOST:PORT with a port of 1-65535")
    return host, int(port)


def transport_security(host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding protection for any address: the SDK turns it on itself for localhost
    (None), kbctl for any other host, allowing that host only."""
    if host in LOCAL_HOSTS:
        return None
    named = f"[{host}]" if ":" in host else host
    return TransportSecuritySettings(allowed_hosts=[f"{named}:*"],
                                     allowed_origins=[f"http://{named}:*", f"https://{named}:*"])


def run(root: Path, name: str, as_of: dt.date | None, http: str | None) -> None:
    served_channel(root, name)  # a usage error before anything is loaded
    live = LiveView(root, name, as_of)
    server = make_server(live)
    if http is None:
        server.run("stdio")
        return
    host, port = parse_address(http)
    print(f"kbctl mcp: serving {name} at http://{host}:{port}/mcp", file=sys.stderr, flush=True)
    server.run("streamable-http", host=host, port=port, transport_security=transport_security(host))
