"""`kbctl health [PATH...]`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from kbctl.commands.options import AsOf, FmtMd, FormatWithMarkdown


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


def register(app: typer.Typer) -> None:
    @app.command()
    def health(
        paths: Annotated[list[Path] | None, typer.Argument(help="Only report findings in these files or folders.")] = None,
        as_of: AsOf = None,
        fmt: FormatWithMarkdown = FmtMd.text,
        owner: Annotated[list[str] | None, typer.Option("--owner", metavar="NAME", help="Only findings on entries of this owner (repeatable).")] = None,
        fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 on findings of this severity or worse.")] = FailOn.error,
        usage: Annotated[list[str] | None, typer.Option("--usage", metavar="PATH", help="Usage events: a .jsonl, .csv or .parquet file or a glob (repeatable; adds to usage.paths).")] = None,
    ) -> int:
        """Lifecycle checks: stale, expiring, expired, orphan, … grouped by owner."""
        import sys

        from kbctl.cli import STATE
        from kbctl.commands.health import exit_code
        from kbctl.commands.health import health as run
        from kbctl.report import emit
        from kbctl.report import health as health_report
        from kbctl.session import open_config, parse_as_of

        root, config = open_config(STATE.root)
        report = run(root, config, parse_as_of(as_of), owners=owner or [], paths=paths or [],
                     usage_paths=usage or [])
        if fmt is FmtMd.text:
            health_report.write_text(report, sys.stdout)
        elif fmt is FmtMd.markdown:
            health_report.write_markdown(report, sys.stdout)
        elif fmt is FmtMd.json and report.usage is not None:
            health_report.write_json(report, sys.stdout)
        else:
            emit(report.diagnostics, fmt.value, report.entries, sys.stdout)
        return exit_code(report, fail_on.value)
