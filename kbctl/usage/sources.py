"""Which files hold usage events: paths and globs from kbctl.yaml and `--usage`, each with its
format. Every problem here is a usage error (exit 2): a path that matches no file, a file that
cannot be read, a format kbctl does not read, or a kbctl.yaml path leading outside the KB."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from kbctl.config_model import CONFIG_NAME
from kbctl.errors import UsageError
from kbctl.usage.settings import UsagePath

_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class Source:
    path: Path
    format: str  # jsonl, csv or parquet
    shown: str  # the name messages use: as given on the command line or in kbctl.yaml


def usage_sources(root: Path, configured: tuple[UsagePath, ...], given: list[str]) -> list[Source]:
    """kbctl.yaml's paths (relative to the KB root, which they must not leave), then the
    command line's (relative to the current folder, anywhere); each file once."""
    found: dict[Path, Source] = {}
    for item in configured:
        for source in _matches(root, item.pattern, where=(CONFIG_NAME, item.line), inside=root):
            found.setdefault(source.path.resolve(), source)
    for pattern in given:
        for source in _matches(Path.cwd(), pattern, where=None):
            found.setdefault(source.path.resolve(), source)
    return list(found.values())


def _matches(base: Path, pattern: str, where: tuple[str, int | None] | None,
             inside: Path | None = None) -> list[Source]:
    names = sorted(glob.glob(pattern, root_dir=base, recursive=True)) if glob.has_magic(pattern) else [pattern]
    files = [name for name in names if not (base / name).is_dir()]
    if not files or not (base / files[0]).exists():
        _fail(f"usage path {pattern!r} matches no file", where)
    if inside is not None:
        # Before opening anything: a committed symbolic link could point anywhere.
        for name in files:
            if not (base / name).resolve().is_relative_to(inside.resolve()):
                _fail(f"usage path {pattern!r} leads outside the knowledge base", where)
    # Messages name a file as given, or as the glob found it.
    return [_source(base / name, name, where) for name in files]


def _source(path: Path, shown: str, where) -> Source:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        _fail(f"usage file {shown!r}: not .jsonl, .csv or .parquet", where)
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        _fail(f"usage file {shown!r} cannot be read: {exc.strerror or exc}", where)
    return Source(path, fmt, shown)


def _fail(message: str, where: tuple[str, int | None] | None) -> NoReturn:
    if where is None:
        raise UsageError(f"--usage: {message}")
    raise UsageError(message, path=where[0], line=where[1])
