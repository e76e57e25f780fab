"""Markdown: fit for a job summary or a tracking issue."""

from __future__ import annotations

from itertools import groupby

_ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(diagnostics) -> list[str]:
    rows = ["| | rule | where | message |", "|---|---|---|---|"]
    for d in diagnostics:
        where = f"{d.path}:{d.line}" if d.line else (d.path or "(knowledge base)")
        # A `|` in a file name would end the cell too; GFM unescapes `\|` inside code spans.
        rows.append(f"| {_ICON[d.severity.value]} | `{d.rule}` | `{cell(where)}` | {cell(d.message)} |")
    return rows


def write(diagnostics, summary, out, title: str = "") -> None:
    lines = [f"## {title or 'kbctl'}", ""]
    lines.append(
        f"**{summary.entries}** entries · **{summary.errors}** errors · "
        f"**{summary.warnings}** warnings · **{summary.infos}** notes"
    )
    lines.append("")
    ordered = sorted(diagnostics, key=lambda d: (-d.severity.rank, d.rule, d.sort_key()))
    for rule_name, group in groupby(ordered, key=lambda d: d.rule):
        found = list(group)
        lines += [f"### `{rule_name}` ({len(found)})", "", *table(found), ""]
    if not diagnostics:
        lines.append("No findings. ✅")
    out.write("\n".join(lines).rstrip() + "\n")
