"""`kbctl serve`: build one site channel, serve it on localhost, rebuild when a file is saved.

Saves under knowledge/ are reported by the operating system's file events (watchfiles), so a
rebuild starts as soon as the editor has written the file, and nothing is read while nothing
changes; kbctl.yaml and the theme's files, a handful, are looked at every half second. Where
events cannot be had (no watchfiles, a file system without them, the watch limit reached),
every watched file is polled instead. A build with errors leaves the last good output in
place, so the browser keeps working while the editor fixes the entry.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import itertools
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kbctl import cachetrust
from kbctl.config import CONFIG_NAME, Channel, Config, load_config
from kbctl.errors import BuildRefused, KbctlError, UsageError
from kbctl.load.discover import KNOWLEDGE_DIR, discover
from kbctl.theme import theme_of, theme_paths

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
    """Static files from the channel folder; quiet; a clear page while no build succeeded.

    Only requests naming this machine in their Host header are answered. A page on any web
    site can make the browser send requests here, and by DNS rebinding (its own name made to
    resolve to 127.0.0.1) read the answers as its own: the agents' portal with --internal.
    Such requests carry the site's name, so any other Host gets 421 and nothing else."""

    def __init__(self, *args, bound_host: str = "", **kwargs):
        self.bound_host = bound_host  # before super(): it handles the request at once
        super().__init__(*args, **kwargs)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if not host_allowed(self.headers.get("Host"), self.bound_host):
            self.send_response(421, "Misdirected Request")
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return False
        return True

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
        self.out = out or _preview_folder(root)
        self.poll_interval = poll_interval
        self.log = log
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._snapshot: Snapshot = {}
        # The build environment stays in memory between saves: no reading it back each time.
        from kbctl.build import BuildMemory

        self.memory = BuildMemory()

    @property
    def folder(self) -> Path:
        return self.out / self.channel.name

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() first"
        host, port = self._httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host  # typeshed allows bytes
        return f"http://{host}:{port}/"

    def start(self) -> None:
        """Listen (first: a busy port fails at once), build once, then serve in a thread."""
        handler = functools.partial(_Handler, directory=str(self.folder),
                                    bound_host=_named_host(self._host))
        try:
            self._httpd = ThreadingHTTPServer((self._host, self._port), handler)
        except OSError as exc:
            raise UsageError(f"cannot listen on {self._host}:{self._port}: {exc.strerror or exc}"
                             " (try another --port)") from None
        self._httpd.daemon_threads = True
        self._snapshot = self._snapshot_now()
        self.rebuild()
        threading.Thread(target=self._httpd.serve_forever, name="kbctl-serve", daemon=True).start()

    def _snapshot_now(self, knowledge: bool = True) -> Snapshot:
        """The watched files' stats: the KB's (without `knowledge`, only kbctl.yaml), and the
        files the channel's theme reads (as kbctl.yaml names them now, so a new logo path is
        watched from the save naming it)."""
        try:
            channel = load_config(self.root).channels.get(self.channel.name, self.channel)
        except KbctlError:
            channel = self.channel  # a half-typed kbctl.yaml: its own stat triggers the rebuild
        return snapshot(self.root, tuple(theme_paths(self.root, theme_of(channel.options))), knowledge)

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def watch(self, stop: threading.Event | None = None) -> None:
        """Rebuild after each save until `stop` is set (or forever; Ctrl-C ends it)."""
        stop = stop or threading.Event()
        saves = file_events(self.root / KNOWLEDGE_DIR, stop, self.poll_interval)
        if saves is None:
            while not stop.wait(self.poll_interval):
                self.rebuild_if_changed()
            return
        self.rebuild_if_changed()  # what was saved before the watch began (the first build's time)
        others = self._snapshot_now(knowledge=False)
        for saved in saves:  # an empty set every poll_interval without a save under knowledge/
            now = self._snapshot_now(knowledge=False)
            if saved or now != others:
                others = now
                self.rebuild()  # a save during the build is in the next set

    def rebuild_if_changed(self) -> bool:
        """Rebuild when a watched file was added, removed or saved; True if it was rebuilt."""
        current = self._snapshot_now()
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
            result = build(self.root, config, self.as_of or dt.date.today(), self.out, [channel.name],
                           memory=self.memory)
        except BuildRefused as refused:
            self._report(refused.diagnostics)
            return False
        report = result.channels.get(channel.name)
        if report is not None and report.fresh:
            self.log(f"built {channel.name}: {report.files} files")
        elif report is not None and (report.made or report.removed):
            self.log(f"updated {channel.name}: {report.made} files made again, {report.removed} removed")
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


def _preview_folder(root: Path) -> Path:
    """Where the preview is built: the KB's cache folder, unless that is a link a commit may
    have planted (kbctl never writes through it), then a fresh temporary folder."""
    if cachetrust.linked(root):
        return Path(tempfile.mkdtemp(prefix="kbctl-serve-"))
    return root / SERVE_DIR


def host_allowed(header: str | None, bound_host: str = "") -> bool:
    """A Host header naming the loopback interface (`localhost`, 127.x.x.x, `[::1]`) or the
    address the server was told to listen on, with any port or none."""
    if not header:
        return False  # HTTP/1.1 requires one; a browser always sends it
    host = header.strip().lower()
    if host.startswith("["):
        host, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not _is_port(rest)):
            return False
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
        if not _is_port(":" + port):
            return False
    if host == "localhost" or (bound_host and host == bound_host):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_port(text: str) -> bool:
    return text.startswith(":") and text[1:].isascii() and text[1:].isdigit()


def _named_host(host: str) -> str:
    """The listening address as a Host header would name it; "" for every-interface
    addresses (0.0.0.0, ::), which no request names."""
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    try:
        if ipaddress.ip_address(name).is_unspecified:
            return ""
    except ValueError:
        pass  # a host name, such as the machine's own
    return name


def snapshot(root: Path, also: tuple[Path, ...] = (), knowledge: bool = True) -> Snapshot:
    """Modification time and size of kbctl.yaml, every file under knowledge/ that
    `watched_file` names (with `knowledge`) and `also`."""
    found: Snapshot = {}
    watched = _watched(root) if knowledge else (root / CONFIG_NAME,)
    for path in (*watched, *also):
        try:
            stat = path.stat()
        except OSError:
            continue  # deleted between listing and stat: the next poll sees it gone
        found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


def _watched(root: Path):
    yield root / CONFIG_NAME
    base = root / KNOWLEDGE_DIR
    for folder, _, filenames in os.walk(base):
        folders = Path(folder).relative_to(base).parts
        for name in filenames:
            if watched_file(folders, name):
                yield Path(folder) / name


def watched_file(folders: Sequence[str], name: str) -> bool:
    """Is a file under knowledge/ (in `folders` below it, named `name`) one a save of which
    can change the build? Every `*.md`, wherever discovery finds it (CONTRACT: any depth, so
    hidden folders too), and the files entries link to; not hidden files, files in hidden
    folders, or editors' backups (`.x.swp`, `x~`), which editors write on every keystroke."""
    if name.endswith(".md"):
        return True
    return not name.startswith(".") and not name.endswith("~") and not any(f.startswith(".") for f in folders)


def _holds_watched(path: str, folders: list[str]) -> bool:
    """Does the folder at `path` (`folders` below knowledge/) hold a file `watched_file` names?"""
    for folder, _, names in os.walk(path):
        below = [*folders, *Path(folder).relative_to(path).parts]
        if any(watched_file(below, name) for name in names):
            return True
    return False


# How long the events of one save are waited for after its last one, before the rebuild
# (editors write a temporary file and rename it, in one burst).
EVENT_GRACE_MS = 30


def file_events(folder: Path, stop: threading.Event, interval: float) -> Iterator[set[str]] | None:
    """The files under `folder` saved, added or removed (as `snapshot` watches them), a set
    each time the operating system reports some, and an empty set every `interval` seconds
    without any. None where file events cannot be had there: then polling does the job."""
    try:
        import watchfiles
    except ImportError:
        return None

    bases = (str(folder), os.path.realpath(folder))  # as given, and as the events may name it

    def watched(change, path: str) -> bool:
        for base in bases:
            if path.startswith(base + os.sep):
                *folders, name = path[len(base) + 1:].split(os.sep)
                if change == watchfiles.Change.added and os.path.isdir(path):
                    # A new folder: a file written in it before its watch began has no event.
                    return _holds_watched(path, [*folders, name])
                return watched_file(folders, name)
        return True  # named some other way: rebuild rather than miss a save

    events = watchfiles.watch(folder, watch_filter=watched, stop_event=stop, step=EVENT_GRACE_MS,
                              rust_timeout=max(1, round(interval * 1000)), yield_on_timeout=True)
    try:
        first = next(events)  # the watcher starts here: a folder it cannot watch fails now
    except StopIteration:  # stopped already
        return iter(())
    except Exception:  # noqa: BLE001 - no such folder, no inotify, the watch limit: poll instead
        return None
    return ({path for _, path in changes} for changes in itertools.chain([first], events))
