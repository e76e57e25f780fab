"""`kbctl serve`: build one site channel, serve it on localhost, rebuild when a file is saved.

Watching is polling (file times and sizes every half second): no dependency, and the same on
every platform and file system. A build with errors leaves the last good output in place, so
the browser keeps working while the editor fixes the entry.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kbctl.config import CONFIG_NAME, Channel, Config, load_config
from kbctl.errors import BuildRefused, KbctlError, UsageError
from kbctl.load.discover import KNOWLEDGE_DIR, discover

SERVE_DIR = Path(".kbctl") / "serve"  # under the KB root: a cache, safe to delete
Snapshot = dict[str, tuple[int, int]]


def choose_channel(config: Config, name: str | None, internal: bool) -> Channel:
    """--channel NAME, or with --internal the first internal site channel, else the first
    public one (kbctl.yaml order), else the first site channel."""
    sites = [config.channels[n] for n in config.raw["channels"] if config.channels[n].kind == "site"]
    if name is not None:
        if internal:
            raise UsageError("give --channel or --internal, not both")
        if name not in config.channels or config.channels[name].kind != "site":
            choices = ", ".join(c.name for c in sites) or "none configured"
            raise UsageError(f"--channel {name!r} is not a site channel (site channels: {choices})")
        return config.channels[name]
    wanted = "internal" if internal else "public"
    for channel in sites:
        if channel.audience == wanted:
            return channel
    if internal:
        raise UsageError("--internal: no site channel has audience internal in kbctl.yaml")
    if not sites:
        raise UsageError("no site channel in kbctl.yaml to serve")
    return sites[0]


class _Handler(SimpleHTTPRequestHandler):
    """Static files from the channel folder; quiet; a clear page while no build succeeded."""

    def do_GET(self) -> None:
        if not os.path.isdir(self.directory):
            self.send_error(503, "No successful build yet: fix the errors kbctl serve printed")
            return
        super().do_GET()

    def log_message(self, format: str, *args) -> None:
        return None  # the terminal is for build messages, not one line per request


class Server:
    """The preview server. `start()`, then `watch()` (or call `rebuild_if_changed()`), `stop()`."""

    def __init__(self, root: Path, channel: Channel, *, host: str = "127.0.0.1", port: int = 8000,
                 as_of: dt.date | None = None, out: Path | None = None,
                 poll_interval: float = 0.5, log: Callable[[str], None] = print):
        self.root = root
        self.channel = channel
        self.as_of = as_of
        self.out = out or root / SERVE_DIR
        self.poll_interval = poll_interval
        self.log = log
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._snapshot: Snapshot = {}

    @property
    def folder(self) -> Path:
        return self.out / self.channel.name

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        """Listen (first: a busy port fails at once), build once, then serve in a thread."""
        handler = functools.partial(_Handler, directory=str(self.folder))
        try:
            self._httpd = ThreadingHTTPServer((self._host, self._port), handler)
        except OSError as exc:
            raise UsageError(f"cannot listen on {self._host}:{self._port}: {exc.strerror or exc}"
                             " (try another --port)") from None
        self._httpd.daemon_threads = True
        self._snapshot = snapshot(self.root)
        self.rebuild()
        threading.Thread(target=self._httpd.serve_forever, name="kbctl-serve", daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def watch(self, stop: threading.Event | None = None) -> None:
        """Poll until `stop` is set (or forever; Ctrl-C ends it)."""
        stop = stop or threading.Event()
        while not stop.wait(self.poll_interval):
            self.rebuild_if_changed()

    def rebuild_if_changed(self) -> bool:
        """Rebuild when a watched file was added, removed or saved; True if it was rebuilt."""
        current = snapshot(self.root)
        if current == self._snapshot:
            return False
        # Taken before building: a save during the build is seen by the next poll.
        self._snapshot = current
        return self.rebuild()

    def rebuild(self) -> bool:
        """Build the channel; on errors, report them and keep the last good output."""
        try:
            return self._build()
        except KbctlError as exc:
            self.log(f"kbctl: error: {exc} (still serving the last good build)")
        except Exception as exc:  # noqa: BLE001 - a renderer bug must not end the preview
            self.log(f"kbctl: internal error while building ({type(exc).__name__}: {exc}); "
                     "still serving the last good build")
        return False

    def _build(self) -> bool:
        # The same pipeline as `kbctl build` (validation, git dates, caches), one channel.
        from kbctl.build import build

        config = load_config(self.root)
        channel = config.channels.get(self.channel.name)
        if channel is None or channel.kind != "site":
            raise UsageError(f"channel {self.channel.name!r} is no longer a site channel in {CONFIG_NAME}")
        try:
            result = build(self.root, config, self.as_of or dt.date.today(), self.out, [channel.name])
        except BuildRefused as refused:
            self._report(refused.diagnostics)
            return False
        count = result.written.get(channel.name)
        if count is not None:
            self.log(f"built {channel.name}: {count} files")
        elif channel.name in result.patched:
            self.log(f"updated {channel.name}: {result.patched[channel.name]} files, in place")
        else:
            self.log(f"{channel.name} is up to date")
        return True

    def _report(self, errors) -> None:
        import io

        from kbctl.report import emit

        text = io.StringIO()
        emit(errors, "text", len(discover(self.root)), text)
        self.log(text.getvalue().rstrip("\n"))
        self.log("the build has errors: still serving the last good build")


def snapshot(root: Path) -> Snapshot:
    """Modification time and size of kbctl.yaml and every file under knowledge/.

    Hidden files and editor backups (`.x.swp`, `x~`) are skipped: editors write them on
    every keystroke, and they are no part of the knowledge base.
    """
    found: Snapshot = {}
    for path in _watched(root):
        try:
            stat = path.stat()
        except OSError:
            continue  # deleted between listing and stat: the next poll sees it gone
        found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


def _watched(root: Path):
    yield root / CONFIG_NAME
    for folder, dirnames, filenames in os.walk(root / KNOWLEDGE_DIR):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and not name.endswith("~"):
                yield Path(folder) / name
