"""The content-hash cache in `.kbctl/` at the KB root (git-ignored; deleting it is always safe).

An entry whose bytes are unchanged is not parsed again: its parsed record and load findings
come from here. The cache is keyed on everything else parsing depends on (kbctl's version,
the entry schema, the default locale), so a stale cache is simply not used.

Each cache is one JSON file, `.kbctl/<name>.json`, decoded as JSON (kbctl/jsondata.py) and nothing else,
or lines of text (`load_lines`) where its items are text already:
a commit can plant files in `.kbctl/`, so nothing there is ever read back as pickle, marshal or
compiled code. What a cache holds must be JSON data (its caller's job: kbctl/load/records.py
for entries). Every file is also sealed (kbctl/cachetrust.py), so that a planted file, however
well formed, cannot change what kbctl publishes: one whose seal does not verify is a miss. A
cache git tracks is neither read nor written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kbctl import __version__, cachetrust, jsondata
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


def file_of(root: Path, name: str) -> Path:
    """Where the cache `name` of the KB at `root` is kept."""
    return root / CACHE_DIR / f"{name}.json"


def load(root: Path, name: str, key: str) -> dict[str, Any]:
    # The seal is verified before the file is decoded at all.
    data = cachetrust.read_sealed(root, file_of(root, name).name, _role(name))
    if data is None:
        return {}
    try:
        stored = jsondata.loads(data)
    except ValueError:  # not JSON: not written by kbctl's `save`
        return {}
    if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("items"), dict):
        return {}
    return stored["items"]


class Encoded(str):
    """An item's value as JSON text, stored as it is: a record encoded once, where it was
    made (kbctl/load/loader.py), is not decoded and encoded again to be saved."""


@dataclass(frozen=True)
class EncodedLater:
    """An item's value as JSON text, made by the writer (a forked child: `write_pending`) so
    that the build does not wait for it; `make` returning None leaves the item out."""

    make: Callable[[], str | None]


def save(root: Path, name: str, key: str, items: dict[str, Any]) -> None:
    """Write atomically; a cache that cannot be written is not an error. `items` must be
    JSON data (a TypeError otherwise: a caller's bug) or `Encoded`."""
    if not cachetrust.usable(root):
        return
    # Strings from YAML escapes may hold lone surrogates ("\ud800"): kept as they are.
    data = _encode(key, items).encode("utf-8", "surrogatepass")
    cachetrust.write_sealed(root, file_of(root, name).name, _role(name), data)


_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def _encode(key: str, items: dict[str, Any]) -> str:
    """`{"key": key, "items": items}` as JSON text, with `Encoded` values as they are."""
    fields = ",".join(f"{_dumps(name)}:{text}" for name, value in items.items()
                      if (text := _item_json(value)) is not None)
    return f'{{"key":{_dumps(key)},"items":{{{fields}}}}}'


def _item_json(value: Any) -> str | None:
    if isinstance(value, Encoded):
        return value
    if isinstance(value, EncodedLater):
        return value.make()
    return _dumps(value)


def load_lines(root: Path, file_name: str, key: str) -> list[str]:
    """The lines of the line cache `.kbctl/<file_name>` after its key line; none when it is
    missing, unsealed or of another key. Split at line feeds only: a line may hold any other
    character that Python's `splitlines` would split at (U+2028, U+0085)."""
    data = cachetrust.read_sealed(root, file_name, _role(file_name))
    if data is None:
        return []
    try:
        text = data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return []
    stored_key, _, rest = text.partition("\n")
    return rest.split("\n") if stored_key == key and rest else []


def save_lines_later(root: Path, file_name: str, key: str, lines: list[str]) -> None:
    """Queue `lines` (none holding a line feed) for `write_pending`, as `save_later` does."""
    def save_lines() -> None:
        if cachetrust.usable(root):
            data = "\n".join([key, *lines]).encode("utf-8", "surrogatepass")
            cachetrust.write_sealed(root, file_name, _role(file_name), data)

    _PENDING.append(save_lines)


def _role(name: str) -> str:
    return f"cache/{name}"


_PENDING: list[Callable[[], None]] = []


def save_later(root: Path, name: str, key: str, items: dict[str, Any]) -> None:
    """Queue a save for `write_pending`. Only for caches whose every item is checked when
    used (renderings by content, pages by fingerprint and manifest digest): one written late,
    or by an older build after a newer one, is a cache miss, never a wrong output."""
    _PENDING.append(functools.partial(save, root, name, key, items))


def write_pending() -> None:
    """Do the queued writing from a forked child, so that the build returns without waiting
    for it (encoding the caches of a large KB). Where fork is unavailable, or with
    KBCTL_SYNC_CACHE set, do it here."""
    pending = list(_PENDING)
    _PENDING.clear()
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


def _reap() -> None:
    """Collect children of earlier builds in this process (`kbctl serve` builds many)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
