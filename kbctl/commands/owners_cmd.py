"""`kbctl owners [--codeowners [FILE]] [--check]`: owners and their entries; CODEOWNERS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command(name="owners")(owners)


def owners(
    # FILE is a positional argument: typer's parser has no option with an optional value,
    # and `kbctl owners --codeowners [FILE]` reads the same either way.
    file: Annotated[Path | None, typer.Argument(metavar="FILE", help="With --codeowners: the file to write (default: .github/CODEOWNERS at the git repository root).")] = None,
    codeowners: Annotated[bool, typer.Option("--codeowners", help="Write a CODEOWNERS file routing each entry's review to its owner.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the CODEOWNERS file is out of date (for CI).")] = False,
) -> int:
    """Owners with their entry counts; with --codeowners, a CODEOWNERS file from them."""
    from kbctl.cli import STATE
    from kbctl.errors import UsageError
    from kbctl.load import load_kb
    from kbctl.session import open_config

    if file is not None and not (codeowners or check):
        raise UsageError(f"{file}: a FILE goes with --codeowners or --check")
    root, config = open_config(STATE.root)
    kb = load_kb(root, config)
    if not (codeowners or check):
        _print_table(kb)
        return 0
    return _codeowners(kb, (Path.cwd() / file) if file else None, check)


def _print_table(kb) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from kbctl.authoring.codeowners import owner_rows
    from kbctl.report.text import visible

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("owner", "name", "github"):
        table.add_column(column)
    table.add_column("published/total", justify="right")
    for row in owner_rows(kb):
        name = row.name if row.configured else "(not in kbctl.yaml)"
        # Text, not str: a name from kbctl.yaml is shown as written, never read as markup
        cells = [Text(visible(value)) for value in (row.key, name, row.github or "-")]
        table.add_row(*cells, f"{row.published}/{row.total}")
    Console(highlight=False, soft_wrap=True).print(table)


def _codeowners(kb, file: Path | None, check: bool) -> int:
    from kbctl.authoring.codeowners import codeowners_text, default_path
    from kbctl.authoring.files import atomic_write, shown

    target = file or default_path(kb.root)
    text = codeowners_text(kb)
    try:
        current = target.read_text(encoding="utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError):
        current = None
    if current == text:
        print(f"{shown(target)} is up to date")
        return 0
    if check:
        state = "missing" if current is None else "out of date"
        print(f"{shown(target)} is {state}: run kbctl owners --codeowners")
        return 1
    atomic_write(target, text.encode("utf-8"))
    print(f"wrote {shown(target)} ({text.count(chr(10))} lines)")
    return 0
