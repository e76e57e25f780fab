"""`kbctl validate [PATH...]`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kbctl.commands.options import AsOf, Fmt, Format


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        paths: Annotated[list[Path] | None, typer.Argument(help="Only report findings in these files or folders.")] = None,
        as_of: AsOf = None,
        fmt: Format = Fmt.text,
    ) -> int:
        """Check structure and cross-entry references; exit 1 on any error."""
        from kbctl.cli import STATE
        from kbctl.commands.validate import validate as run
        from kbctl.model import Severity
        from kbctl.report import emit
        from kbctl.session import limit_to_paths, open_config, parse_as_of

        root, config = open_config(STATE.root)
        kb, diagnostics = run(root, config, parse_as_of(as_of))
        diagnostics = limit_to_paths(diagnostics, root, paths or [])
        emit(diagnostics, fmt.value, len(kb.entries), sys.stdout)
        return 1 if any(d.severity is Severity.ERROR for d in diagnostics) else 0
