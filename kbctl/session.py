"""What every command needs first: the KB root, its config, and the date taken as today."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from kbctl.config import Config, find_root, load_config
from kbctl.errors import UsageError
from kbctl.model import Diagnostic


def locate(root_option: Path | None) -> Path:
    if root_option is None:
        return find_root(Path.cwd())
    root = root_option.resolve()
    if not root.is_dir():
        raise UsageError(f"--root {root_option}: no such folder")
    if not (root / "kbctl.yaml").is_file():
        raise UsageError(f"--root {root_option}: no kbctl.yaml there")
    return root


def open_config(root_option: Path | None) -> tuple[Path, Config]:
    root = locate(root_option)
    return root, load_config(root)


def parse_as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--as-of {value!r}: expected a real date as YYYY-MM-DD") from None


def limit_to_paths(diagnostics: list[Diagnostic], root: Path, paths: list[Path]) -> list[Diagnostic]:
    """Keep the findings under the PATH arguments (relative to the current folder)."""
    if not paths:
        return diagnostics
    prefixes = []
    for path in paths:
        absolute = (Path.cwd() / path).resolve() if not path.is_absolute() else path.resolve()
        if not absolute.exists():
            raise UsageError(f"{path}: no such file or folder")
        try:
            rel = absolute.relative_to(root).as_posix()
        except ValueError:
            raise UsageError(f"{path}: outside the knowledge base at {root}") from None
        prefixes.append("" if rel == "." else rel)
    return [d for d in diagnostics if d.path is not None and any(_under(d.path, p) for p in prefixes)]


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix.rstrip("/") + "/")


def is_terminal() -> bool:
    return os.isatty(1) and os.environ.get("TERM") != "dumb"
