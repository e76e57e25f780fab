"""Which files are entries (CONTRACT 1.2): every *.md under knowledge/ except README.md."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kbctl.model import Diagnostic
from kbctl.rules import rule

KNOWLEDGE_DIR = "knowledge"


@dataclass(frozen=True)
class Found:
    path: str  # relative to the KB root, "/"-separated
    location: str | Path  # where to read it (a string from listings: 10,000 Paths cost 0.1 s)
    escapes: bool  # a symbolic link that leads outside the knowledge base

    @property
    def absolute(self) -> Path:
        return Path(self.location)


def discover(root: Path) -> list[Found]:
    base = root / KNOWLEDGE_DIR
    if not base.is_dir():
        return []
    root_real = root.resolve()
    if base.is_symlink() and _outside(base, root_real):
        # os.walk would read the whole outside folder as if it were part of the KB.
        return [Found(KNOWLEDGE_DIR, base, True)]
    found: list[Found] = []
    _walk(base, f"{KNOWLEDGE_DIR}/", root_real, found)
    found.sort(key=lambda f: f.path)
    return found


def _walk(folder: Path | str, prefix: str, root_real: Path, found: list[Found]) -> None:
    """scandir, not os.walk + is_symlink: the directory listing already says which names are
    links and folders, so 10,000 entries cost no extra system call each."""
    with os.scandir(folder) as listing:
        items = sorted(listing, key=lambda item: item.name)
    for item in items:
        if item.is_symlink():
            if _outside(Path(item.path), root_real):
                found.append(Found(prefix + item.name, item.path, True))
            elif item.name.endswith(".md") and item.name != "README.md" and not _is_dir(item):
                found.append(Found(prefix + item.name, item.path, False))  # reading says if it dangles
            continue  # a link to a folder inside the KB would list its entries twice
        if item.is_dir(follow_symlinks=False):
            _walk(item.path, f"{prefix}{item.name}/", root_real, found)
        elif item.name.endswith(".md") and item.name != "README.md":
            found.append(Found(prefix + item.name, item.path, False))


def _is_dir(item: os.DirEntry) -> bool:
    try:
        return item.is_dir()
    except OSError:  # a link loop: not a folder; reading it will say why it fails
        return False


def _outside(path: Path, root_real: Path) -> bool:
    """A link whose target lies outside the KB. A link loop does not lead anywhere: reading it
    fails with its own clear reason ("Too many levels of symbolic links")."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return False
    return not target.is_relative_to(root_real)


# Entries larger than this are refused (unreadable), not read into memory. A knowledge entry
# is a few KB; the bound also caps how long markdown-it's parse of a crafted body can take
# (some inputs, like "[a" repeated, cost it tens of microseconds per byte).
MAX_FILE_BYTES = 512 * 1024


def read_entry_file(found: Found) -> bytes | Diagnostic:
    """The file's bytes, or why it cannot be read. Here, not in loader.py: a no-change build
    reads the edited files only, and should not import the parsers for that."""
    unreadable = rule("unreadable")
    if found.escapes:
        return unreadable.diag(found.path, None, "a symbolic link leading outside the knowledge base")
    try:
        # One open, its size from the open file: a stat by path and then read_bytes() cost
        # 0.17 s for 10,000 entries, this 0.11 s.
        with open(found.location, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                return unreadable.diag(found.path, None, f"the file is {size // 1024} KiB; entries are limited to "
                                                         f"{MAX_FILE_BYTES // 1024} KiB")
            return handle.read()
    except OSError as exc:
        return unreadable.diag(found.path, None, f"cannot read the file: {exc.strerror or exc}")
