"""For people: grouped by file, coloured by severity, one summary line."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.text import Text

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}

# Characters that move the cursor, colour or reorder a terminal line, or end it: C0 and C1
# controls and DEL, the Unicode line and paragraph separators, and the bidirectional marks,
# embeddings, overrides and isolates. A file name or link in a knowledge base may hold any of
# them; echoed raw they would forge lines (`::add-mask::` in a CI log) or hide what follows.
INVISIBLE = (*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F,
              0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_SHORT = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_VISIBLE = {point: _SHORT.get(point) or (f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}")
            for point in INVISIBLE}


def visible(text) -> str:
    """`text` with each control or bidi character written as its escape (`\\n`, `\\x1b`,
    `\\u202e`): what kbctl echoes of content stays one line and shows what is there."""
    return str(text).translate(_VISIBLE)


def write(diagnostics, summary, out) -> None:
    console = Console(file=out, highlight=False, soft_wrap=True)
    for path, group in groupby(diagnostics, key=lambda d: d.path or "(knowledge base)"):
        console.print(Text(visible(path), style="bold underline"))
        for diag in group:
            line = Text("  ")
            line.append(f"{diag.line or '-':>5}  ", style="dim")
            line.append(f"{diag.severity.value:<8}", style=STYLE[diag.severity.value])
            line.append(f"{diag.rule:<22}", style="magenta")
            line.append(visible(diag.message))
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
