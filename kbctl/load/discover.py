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
    found: list[Found] = []
    for folder, dirnames, filenames in os.walk(base):
        dirnames.sort()
        here = Path(folder)
        for name in dirnames:
            link = here / name
            if link.is_symlink() and not _inside(link, root_real):
                found.append(Found(_rel(link, root), link, True))
        for name in sorted(filenames):
            if not name.endswith(".md") or name == "README.md":
                continue
            file = here / name
            escapes = file.is_symlink() and not _inside(file, root_real)
            found.append(Found(_rel(file, root), file, escapes))
    found.sort(key=lambda f: f.path)
    return found


def _inside(path: Path, root_real: Path) -> bool:
    try:
        path.resolve().relative_to(root_real)
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
