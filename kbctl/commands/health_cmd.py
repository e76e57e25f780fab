"""`kbctl health [PATH...]`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from kbctl.commands.options import AsOf, FmtHealth


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
        fmt: Annotated[FmtHealth, typer.Option("--format", "-f", help="Output format (html: one self-contained page).")] = FmtHealth.text,
        output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of standard output.")] = None,
        owner: Annotated[list[str] | None, typer.Option("--owner", metavar="NAME", help="Only findings on entries of this owner (repeatable).")] = None,
        fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 on findings of this severity or worse.")] = FailOn.error,
        usage: Annotated[list[str] | None, typer.Option("--usage", metavar="PATH", help="Usage events: a .jsonl, .csv or .parquet file or a glob (repeatable; adds to usage.paths).")] = None,
    ) -> int:
        """Lifecycle checks: stale, expiring, expired, orphan, … grouped by owner."""
        from kbctl.cli import STATE
        from kbctl.commands.health import exit_code
        from kbctl.commands.health import health as run
        from kbctl.report import emit
        from kbctl.report import health as health_report
        from kbctl.session import open_config, parse_as_of

        root, config = open_config(STATE.root)
        report = run(root, config, parse_as_of(as_of), owners=owner or [], paths=paths or [],
                     usage_paths=usage or [])
        with report_stream(output) as out:
            if fmt is FmtHealth.text:
                health_report.write_text(report, out)
            elif fmt is FmtHealth.markdown:
                health_report.write_markdown(report, out)
            elif fmt is FmtHealth.html:
                from kbctl.report.health_html import write_html

                write_html(report, out)
            elif fmt is FmtHealth.json and report.usage is not None:
                health_report.write_json(report, out)
            else:
                emit(report.diagnostics, fmt.value, report.entries, out)
        return exit_code(report, fail_on.value)


@contextmanager
def report_stream(output: Path | None) -> Iterator[TextIO]:
    """Standard output, or FILE written whole once the report is made (a failed run leaves
    an earlier report as it was)."""
    import sys

    if output is None:
        yield sys.stdout
        return
    from kbctl.errors import UsageError

    buffer = io.StringIO()
    yield buffer
    try:
        output.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
