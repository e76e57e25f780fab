"""Which files are entries (CONTRACT 1.2): every *.md under knowledge/ except README.md."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KNOWLEDGE_DIR = "knowledge"


@dataclass(frozen=True)
class Found:
    path: str  # relative to the KB root, "/"-separated
    absolute: Path
    escapes: bool  # a symbolic link that leads outside the knowledge base


def discover(root: Path) -> list[Found]:
    base = root / KNOWLEDGE_DIR
    if not base.is_dir():
        return []
    root_real = root.resolve()
    if base.is_symlink() and _outside(base, root_real):
        # os.walk would read the whole outside folder as if it were part of the KB.
        return [Found(KNOWLEDGE_DIR, base, True)]
    found: list[Found] = []
    for folder, dirnames, filenames in os.walk(base):
        dirnames.sort()
        here = Path(folder)
        for name in dirnames:
            link = here / name
            if link.is_symlink() and _outside(link, root_real):
                found.append(Found(_rel(link, root), link, True))
        for name in sorted(filenames):
            if not name.endswith(".md") or name == "README.md":
                continue
            file = here / name
            escapes = file.is_symlink() and _outside(file, root_real)
            found.append(Found(_rel(file, root), file, escapes))
    found.sort(key=lambda f: f.path)
    return found


def _outside(path: Path, root_real: Path) -> bool:
    """A link whose target lies outside the KB. A link loop does not lead anywhere: reading it
    fails with its own clear reason ("Too many levels of symbolic links")."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return False
    return not target.is_relative_to(root_real)


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
