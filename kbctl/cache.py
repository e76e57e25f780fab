"""The content-hash cache in `.kbctl/` at the KB root (git-ignored; deleting it is always safe).

An entry whose bytes are unchanged is not parsed again: its parsed record and load findings
come from here. The cache is keyed on everything else parsing depends on (kbctl's version,
the entry schema, the default locale), so a stale cache is simply not used.

Every file is sealed (kbctl/cachetrust.py): a commit can plant files in `.kbctl/`, and one
whose seal does not verify is never unpickled. A cache git tracks is neither read nor written.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kbctl import __version__, cachetrust
from kbctl.resources import data_dir

CACHE_DIR = cachetrust.CACHE_FOLDER


def cache_key(*parts: str) -> str:
    digest = hashlib.sha256(_code_fingerprint().encode())
    for part in (__version__, *parts):
        digest.update(part.encode())
    return digest.hexdigest()


@functools.cache
def _code_fingerprint() -> str:
    """kbctl's own code and schemas: a fixed parser must not meet findings cached by the old one."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    sources = sorted(package.rglob("*.py")) + sorted(data_dir("schemas").glob("*.json"))
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load(root: Path, name: str, key: str) -> dict[str, Any]:
    if not cachetrust.usable(root):
        return {}
    try:
        blob = (root / CACHE_DIR / f"{name}.pickle").read_bytes()
    except OSError:
        return {}
    data = cachetrust.unseal(_role(name), blob)  # verified before anything is unpickled
    if data is None:
        return {}
    try:
        stored = pickle.loads(data)
    except (EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return {}  # written by another version of kbctl's classes
    if not isinstance(stored, dict) or stored.get("key") != key:
        return {}
    return stored.get("items", {})


def save(root: Path, name: str, key: str, items: dict[str, Any]) -> None:
    """Write atomically; a cache that cannot be written is not an error."""
    if not cachetrust.usable(root):
        return
    folder = root / CACHE_DIR
    try:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# kbctl's cache: safe to delete\n*\n", encoding="utf-8")
        data = pickle.dumps({"key": key, "items": items}, protocol=pickle.HIGHEST_PROTOCOL)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(cachetrust.seal(_role(name), data))
        os.replace(temp, folder / f"{name}.pickle")
    except OSError:
        pass


def _role(name: str) -> str:
    return f"cache/{name}"


# Where compiled templates are kept (the KB's cache folder), once a build has said so: see
# kbctl/channels/site_pages.py `environment`.
COMPILED_TEMPLATES: list[Path] = []


_PENDING: list[Callable[[], None]] = []
_HELD: list = []  # lock files the writing child keeps until it is done (kbctl/seedstore.py)


def save_later(root: Path, name: str, key: str, items: dict[str, Any]) -> None:
    """Queue a save for `write_pending`. Only for caches whose every item is checked when
    used (renderings by content, pages by fingerprint and manifest digest): one written late,
    or by an older build after a newer one, is a cache miss, never a wrong output."""
    _PENDING.append(functools.partial(save, root, name, key, items))


def later(work: Callable[[], None], holding=None) -> None:
    """Queue other writing for `write_pending` (a channel's seeds), with the lock file the
    writer holds until it is done, if any."""
    _PENDING.append(work)
    if holding is not None:
        _HELD.append(holding)


def write_pending() -> None:
    """Do the queued writing from a forked child, so that the build returns without waiting
    for it (pickling 0.5 s of caches and 0.3 s of seeds at 10,000 entries). Where fork is
    unavailable, or with KBCTL_SYNC_CACHE set, do it here."""
    pending, held = list(_PENDING), list(_HELD)
    _PENDING.clear()
    _HELD.clear()
    _reap()
    if pending and (not hasattr(os, "fork") or os.environ.get("KBCTL_SYNC_CACHE")):
        for work in pending:
            work()
    elif pending and os.fork() == 0:  # the child: write, then leave without the parent's exit code
        try:
            for work in pending:
                work()
        finally:
            os._exit(0)
    for lock in held:  # the child's copies keep the locks until it exits
        lock.close()


def _reap() -> None:
    """Collect children of earlier builds in this process (`kbctl serve` builds many)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
