"""`.kbctl/seeds.sqlite`: what each channel's last full build left for patching (kbctl/patch.py).

Rows of pickled bytes by (channel, name): one per entry (its page's seed, its links' answers)
and one per shared piece (a locale's search index, FAQ records). A patch reads and writes
only the rows of the entries it remakes and of the pieces they touch, where one pickle per
channel made every edit load and save 36 MB. A channel's rows are written by one transaction
and belong to one `key` (kbctl's code, the templates); rows of another key are never read.

Every value is sealed for its (channel, name) as it is stored and verified as it is read
(kbctl/cachetrust.py): a row a commit planted, or moved from another place, is never handed
on to be unpickled (the patch takes the full build). A store git tracks is neither read nor
written.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from kbctl import cache, cachetrust
from kbctl.cache import CACHE_DIR
from kbctl.channels.replay import NotReplayable

try:
    import fcntl
except ImportError:  # Windows: no fork either, rows are written in the build's process
    fcntl = None  # type: ignore[assignment]

FILE_NAME = "seeds.sqlite"


def dump(value) -> bytes:
    """A row's value."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class SeedStore:
    def __init__(self, root: Path):
        self.root = root
        if not cachetrust.usable(root):  # nothing is read or written there: an empty store
            self.db = _open(":memory:")
            return
        folder = root / CACHE_DIR
        folder.mkdir(exist_ok=True)
        path = folder / FILE_NAME
        try:
            self.db = _open(path)
        except sqlite3.DatabaseError:  # not a database (truncated, overwritten): start again
            self.db = _open(_removed(path))

    def reader(self, channel: str, key: str) -> SeedReader | None:
        """The channel's rows, if its last full build left them under `key` (and the cache
        may be read at all)."""
        if not cachetrust.usable(self.root):
            return None
        if cachetrust.unseal(_role(channel, "key"), self._row(channel, "key")) != key.encode():
            return None
        return SeedReader(self, channel)

    def get(self, channel: str, name: str) -> bytes | None:
        """The row's value, verified; None when there is no such row. A row whose seal fails
        (planted, or moved from another place) is never handed on: the patch gives way to a
        full build."""
        stored = self._row(channel, name)
        if stored is None:
            return None
        value = cachetrust.unseal(_role(channel, name), stored)
        if value is None:
            raise NotReplayable(f"{channel}: seeds not as kbctl wrote them ({name})")
        return value

    def _row(self, channel: str, name: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM seeds WHERE channel = ? AND name = ?",
                              (channel, name)).fetchone()
        if row is None:
            return None
        return row[0] if isinstance(row[0], bytes) else b""  # not bytes: never sealed

    def replace_channel(self, channel: str, key: str, rows: Iterable[tuple[str, bytes]]) -> None:
        with self._transaction():
            self.db.execute("DELETE FROM seeds WHERE channel = ?", (channel,))
            self.db.executemany("INSERT INTO seeds VALUES (?, ?, ?)",
                                ((channel, name, _sealed(channel, name, value)) for name, value in rows))
            self.db.execute("INSERT INTO seeds VALUES (?, 'key', ?)",
                            (channel, _sealed(channel, "key", key.encode())))

    def update(self, channel: str, rows: dict[str, object]) -> None:
        """Replace these rows (values not yet bytes are pickled here)."""
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO seeds VALUES (?, ?, ?)",
                                ((channel, name, _sealed(channel, name, value if isinstance(value, bytes) else dump(value)))
                                 for name, value in rows.items()))

    def _transaction(self):
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()


def _role(channel: str, name: str) -> str:
    return f"seeds/{len(channel)}:{channel}/{name}"


def _sealed(channel: str, name: str, value: bytes) -> bytes:
    return cachetrust.seal(_role(channel, name), value)


def update_later(root: Path, channel: str, rows: dict[str, object]) -> None:
    """Write a patch's rows of one channel from a forked child (kbctl/cache.py
    `write_pending`), so that the build goes on without waiting for them (pickling and storing
    a search index and the maps: 0.1 s per site at 10,000 entries). Rows that never arrive (the
    child killed), or arrive for a patch whose output never got committed, leave the channel's
    `content` row other than the build state's: the next build is a full one."""
    _queue(root, channel, lambda store: store.update(channel, rows))
    cache.write_pending()


def replace_later(root: Path, channel: str, key: str, rows: Callable[[], Iterable[tuple[str, bytes]]]) -> None:
    """Queue the channel's rows of a full build for the build's forked writer (kbctl/cache.py
    `write_pending`). Rows that never arrive leave no `content` row of the build state's: the
    next edit takes the full build."""
    _queue(root, channel, lambda store: store.replace_channel(channel, key, rows()))


def _queue(root: Path, channel: str, write: Callable[[SeedStore], None]) -> None:
    """Queue a write of the channel's rows under its lock: the writer keeps the lock until it
    is done, and the next build waits for it before it reads (`wait_for_writer`)."""
    if not cachetrust.usable(root):
        return
    lock = _lock_file(root, channel)
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_EX)  # an earlier writer of this channel finishes first
    cache.later(lambda: _with_store(root, write), holding=lock)


def _with_store(root: Path, write: Callable[[SeedStore], None]) -> None:
    """Write through a store of this process's own; a store damaged inside is started again,
    once; one that cannot be written is left (the next edit takes the full build)."""
    for _attempt in range(2):
        try:
            store = SeedStore(root)
            try:
                write(store)
                return
            finally:
                store.close()
        except sqlite3.DatabaseError:
            discard(root)
        except (OSError, sqlite3.Error):
            return


def wait_for_writer(root: Path, channels) -> None:
    """Return once no patch's child is writing these channels' rows."""
    for channel in channels:
        lock = _lock_file(root, channel)
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_SH)
            lock.close()


def _lock_file(root: Path, channel: str):
    if fcntl is None or not cachetrust.usable(root):
        return None
    name = hashlib.sha256(channel.encode("utf-8")).hexdigest()[:16]  # any channel name, a safe file name
    try:
        return open(root / CACHE_DIR / f"{FILE_NAME}.{name}.lock", "a+b")
    except OSError:
        return None


def _removed(path: Path) -> Path:
    for leftover in (path, path.with_name(FILE_NAME + "-wal"), path.with_name(FILE_NAME + "-shm")):
        leftover.unlink(missing_ok=True)
    return path


def discard(root: Path) -> None:
    """Delete the store (damaged beyond what opening it detects)."""
    _removed(root / CACHE_DIR / FILE_NAME)


def _open(path: Path | str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # A cache: no sync on each commit (WAL keeps it consistent if kbctl is killed; after a
        # power loss a damaged file is detected and started again).
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS seeds "
                   "(channel TEXT, name TEXT, value BLOB, PRIMARY KEY (channel, name))")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


class SeedReader:
    def __init__(self, store: SeedStore, channel: str):
        self.store = store
        self.channel = channel

    def get(self, name: str) -> bytes | None:
        return self.store.get(self.channel, name)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN")

    def __exit__(self, kind, *_):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
