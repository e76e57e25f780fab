"""For people: grouped by file, coloured by severity, one summary line."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.text import Text

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def write(diagnostics, summary, out) -> None:
    console = Console(file=out, highlight=False, soft_wrap=True)
    for path, group in groupby(diagnostics, key=lambda d: d.path or "(knowledge base)"):
        console.print(Text(path, style="bold underline"))
        for diag in group:
            line = Text("  ")
            line.append(f"{diag.line or '-':>5}  ", style="dim")
            line.append(f"{diag.severity.value:<8}", style=STYLE[diag.severity.value])
            line.append(f"{diag.rule:<22}", style="magenta")
            line.append(diag.message)
            console.print(line)
        console.print()
    console.print(summary_line(summary))


def summary_line(summary) -> Text:
    if summary.errors:
        style, mark = "bold red", "✖"
    elif summary.warnings:
        style, mark = "yellow", "!"
    else:
        style, mark = "bold green", "✔"
    text = Text(f"{mark} ", style=style)
    text.append(
        f"{counted(summary.entries, 'entry', 'entries')}: {counted(summary.errors, 'error')}, "
        f"{counted(summary.warnings, 'warning')}, {counted(summary.infos, 'note')}", style=style,
    )
    return text


def counted(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"
