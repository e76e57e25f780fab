"""`kbctl build [--channel NAME]... [--out DIR]`."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from kbctl.commands.options import AsOf


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        channel: Annotated[list[str] | None, typer.Option("--channel", "-c", help="Build only this channel (repeatable).")] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: dist at the KB root).")] = None,
        as_of: AsOf = None,
        explain: Annotated[bool, typer.Option("--explain", help="Say, for each output file made again or removed, why.")] = False,
    ) -> int:
        """Compile the channel bundles; refuse (exit 1, output untouched) on content errors."""
        from rich.console import Console

        from kbctl.build import build as run_build
        from kbctl.build import select_channels
        from kbctl.cli import STATE
        from kbctl.errors import BuildRefused
        from kbctl.model import Severity
        from kbctl.output import check_output_folder
        from kbctl.report import emit
        from kbctl.session import open_config, parse_as_of

        root, config = open_config(STATE.root)
        date = parse_as_of(as_of)
        target = (Path.cwd() / out) if out else root / "dist"
        check_output_folder(root, target, select_channels(config, channel))
        console = Console(stderr=True, highlight=False)
        try:
            result = run_build(root, config, date, target, channel, progress=_progress(console))
        except BuildRefused as refused:
            if refused.diagnostics or refused.entries:  # a failing template has no findings to list
                emit(refused.diagnostics, "text", refused.entries, sys.stdout)
            raise
        warnings = sum(d.severity is Severity.WARNING for d in result.diagnostics)
        for name in result.unchanged:
            console.print(_done(name, f"up to date → {_shown(target / name)}"))
        for name, report in result.channels.items():
            console.print(_done(name, f"{_summary(report)} → {_shown(target / name)}"))
        if explain:
            _explain(result)
        if warnings:
            console.print(f"[yellow]![/] {warnings} warnings (kbctl validate shows them)")
        for note in (d for d in result.diagnostics if d.rule == "cache-ignored"):
            console.print(f"{note.path}: {note.message} [{note.rule}]", markup=False)
        return 0


def _done(name: str, what: str):
    """A channel's line: plain text after the mark, so a `[` in a folder name is no markup."""
    from rich.text import Text

    from kbctl.report.text import visible

    return Text.assemble(("✔", "green"), f" {visible(name)}: {visible(what)}")


def _summary(report) -> str:
    if report.fresh:
        return f"{report.files} files"
    if not report.made and not report.removed:
        return "up to date"
    removed = f", {report.removed} removed" if report.removed else ""
    return f"{report.made} of {report.files} files made again{removed}"


def _explain(result) -> None:
    """One line per file made again or removed, on standard output: `[channel] file: why`."""
    from kbctl.report.text import visible

    for name, report in result.channels.items():
        for reason in report.reasons:
            print(f"[{visible(name)}] {visible(reason)}")
    for name in result.unchanged:
        print(f"[{visible(name)}] up to date: no input changed")


def _progress(console):
    @contextmanager
    def show(channel):
        if console.is_terminal:
            with console.status(f"building {channel.name} ({channel.kind})…"):
                yield
        else:
            yield

    return show


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
