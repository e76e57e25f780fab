"""Why kbctl can trust what it reads back from `.kbctl/`: every blob there carries a seal.

The cache folder sits inside the knowledge base, so a commit can put files there (`git add -f
.kbctl`, a tarball of a commit, a pull request checked out in CI). The caches are JSON data,
never pickles or compiled code, but a planted one could still change what is published. So
each blob kbctl writes there is sealed with an HMAC-SHA256 under a key that no commit can
write, 32 random bytes in the user's own cache folder outside the KB
(`$XDG_CACHE_HOME/kbctl/cache-key`, by default `~/.cache/kbctl/cache-key`), and a blob is
verified before it is decoded: one that fails is a cache miss. The MAC
also covers the blob's role (which cache, which row), so a sealed blob of one kind cannot be
passed off as another.

And a cache that git tracks is not read at all (nor written: kbctl would be rewriting
committed files), nor is a cache folder that is a symbolic link (or not a folder): a commit can
hold one pointing anywhere, and writing through it would put kbctl's files outside the KB.
Loading says so with one `cache-ignored` note (`ignored_note`).

Without a key (none can be created or read) caching is simply off: never an error.
"""

from __future__ import annotations

import functools
import hmac
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kbctl.model import Diagnostic

KEY_BYTES = 32
MAC_BYTES = 32  # SHA-256
CACHE_FOLDER = ".kbctl"  # kbctl/cache.py CACHE_DIR (imported from here, not the other way)


def seal(role: str, data: bytes) -> bytes:
    """`data` with its MAC in front; only called once `usable` said yes (a key exists)."""
    key = _key()
    if key is None:
        raise RuntimeError("seal() without a cache key: check cachetrust.usable() first")
    return _mac(key, role, data) + data


def unseal(role: str, blob: bytes | None) -> bytes | None:
    """The data `seal(role, data)` sealed, or None (no key, not sealed, sealed for another
    role, altered): a miss, never an error."""
    key = _key()
    if key is None or blob is None or len(blob) < MAC_BYTES:
        return None
    data = blob[MAC_BYTES:]
    if not hmac.compare_digest(blob[:MAC_BYTES], _mac(key, role, data)):
        return None
    return data


def read_sealed(root: Path, name: str, role: str) -> bytes | None:
    """The data of `.kbctl/<name>` if the cache may be read and the file's seal verifies."""
    if not usable(root):
        return None
    try:
        blob = (root / CACHE_FOLDER / name).read_bytes()
    except OSError:
        return None
    return unseal(role, blob)


def write_sealed(root: Path, name: str, role: str, data: bytes) -> None:
    """Write `.kbctl/<name>` sealed, atomically (the folder made git-ignored); a cache that
    cannot be written is not an error."""
    if not usable(root):
        return
    folder = root / CACHE_FOLDER
    try:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# kbctl's cache: safe to delete\n*\n", encoding="utf-8")
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(seal(role, data))
        os.replace(temp, folder / name)
    except OSError:
        pass


def usable(root: Path) -> bool:
    """Whether this run may read and write the KB's cache: a key, a cache folder that is a
    plain folder (or none yet), and git tracks nothing in it."""
    return _key() is not None and not linked(root) and not tracked(root)


def ignored_note(root: Path) -> list[Diagnostic]:
    """The `cache-ignored` note, when the KB's cache folder is a link or git tracks it (at
    most one)."""
    if linked(root):
        why = f"{CACHE_FOLDER} is a symbolic link or not a folder, so kbctl neither read nor wrote its cache there"
    elif tracked(root):
        why = (f"git tracks files in {CACHE_FOLDER}/, so kbctl's cache was not read (a committed "
               f"cache is never trusted; git rm -r --cached {CACHE_FOLDER} stops tracking it)")
    else:
        return []
    from kbctl.rules import rule  # here: a no-change build never loads the model

    return [rule("cache-ignored").diag(CACHE_FOLDER, None, why)]


@functools.cache
def linked(root: Path) -> bool:
    """The KB's cache folder exists as something other than a plain folder (a symlink above
    all). Asked once per run."""
    try:
        mode = os.lstat(root / CACHE_FOLDER).st_mode
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return not stat.S_ISDIR(mode)


@functools.cache
def tracked(root: Path) -> bool:
    """git tracks (or has staged) a file under the KB's cache folder. Asked once per run."""
    from kbctl.gitdates import tracks

    return tracks(root, CACHE_FOLDER)


def _mac(key: bytes, role: str, data: bytes) -> bytes:
    # The role's length comes first, so that no (role, data) pair reads as another. Fed in
    # two parts: joining them would copy a cache of tens of megabytes once more.
    label = role.encode("utf-8")
    mac = hmac.new(key, b"%d:%s" % (len(label), label), "sha256")
    mac.update(data)
    return mac.digest()


@functools.cache
def _key() -> bytes | None:
    """The user's cache key, created on first use; None if it can be neither read nor made."""
    path = key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        return _create_key(path)
    except OSError:
        return None


def key_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or ""
    folder = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return folder / "kbctl" / "cache-key"


def _read_key(path: Path) -> bytes | None:
    data = path.read_bytes()
    return data if len(data) == KEY_BYTES else None


def _create_key(path: Path) -> bytes | None:
    """Write a new key under a temporary name (mkstemp: mode 0600) and link it into place:
    of two processes racing, one key wins and both use it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".cache-key.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temp)
    return _read_key(path)
