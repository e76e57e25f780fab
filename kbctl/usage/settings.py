"""`usage:` in kbctl.yaml (CONTRACT 7) as a record; the schema has checked the types already."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

DEFAULT_WINDOW = "90d"


@dataclass(frozen=True)
class UsagePath:
    pattern: str  # a file or a glob, relative to the KB root
    line: int | None  # of the item in kbctl.yaml


@dataclass(frozen=True)
class UsageSettings:
    paths: tuple[UsagePath, ...] = ()
    window: dt.timedelta = dt.timedelta(days=90)
    min_votes: int = 5
    helpful_below: float = 0.5
    gap_min: int = 3
    line: int | None = None  # of `usage:` in kbctl.yaml; content-gap findings point here


def usage_settings(data: Mapping[str, Any] | None, lines: Mapping[str, int],
                   parse_interval: Callable[[str], dt.timedelta]) -> UsageSettings:
    data = data or {}
    paths = tuple(UsagePath(p, lines.get(f"usage/paths/{i}"))
                  for i, p in enumerate(data.get("paths") or []))
    return UsageSettings(
        paths=paths,
        window=parse_interval(data.get("window", DEFAULT_WINDOW)),
        min_votes=int(data.get("min_votes", 5)),
        helpful_below=float(data.get("helpful_below", 0.5)),
        gap_min=int(data.get("gap_min", 3)),
        line=lines.get("usage"),
    )


def escapes_root(pattern: str) -> bool:
    """An absolute path, a drive, or a `..` part: it could name files outside the KB root,
    which kbctl.yaml (content a pull request may change) must not make kbctl read."""
    posix, windows = PurePosixPath(pattern), PureWindowsPath(pattern)
    return (posix.is_absolute() or windows.is_absolute() or bool(windows.drive)
            or pattern.startswith("~") or ".." in posix.parts or ".." in windows.parts)
