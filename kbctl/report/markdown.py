"""Markdown: fit for a job summary or a tracking issue."""

from __future__ import annotations

import re
from itertools import groupby

from kbctl.report.text import visible

_ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}

# What Markdown (GitHub's) would read as markup in running text: emphasis, code, links and
# images, raw HTML and entities, table pipes, headings, strikethrough, math. A backslash makes
# each a plain character. `@` cannot be escaped that way (GitHub finds mentions in the text
# as rendered), so a zero-width space after it keeps `@team` from notifying anyone.
_MARKUP = {ord(c): "\\" + c for c in "\\`*_[]<>|#!~&$"} | {ord("@"): "@&#8203;"}
_BACKTICKS = re.compile("`+")


def one_line(text) -> str:
    """`text` on one line: line breaks as spaces, other controls as visible escapes."""
    return visible(" ".join(str(text).splitlines()))


def cell(text) -> str:
    """Content as plain text in a table cell or a line of Markdown: never markup, one line."""
    return one_line(text).translate(_MARKUP)


def code(text) -> str:
    """Content as a code span, safe in a table cell whatever it holds: the fence is longer
    than any run of backticks in it, with a space inside where it starts or ends with one
    (CommonMark strips that space again); `|` is escaped, as GFM tables unescape it first."""
    content = one_line(text).replace("|", "\\|")
    if not content:
        return ""
    fence = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(content)), default=0))
    pad = " " if content[0] in "` " or content[-1] in "` " else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def table(diagnostics) -> list[str]:
    rows = ["| | rule | where | message |", "|---|---|---|---|"]
    for d in diagnostics:
        where = f"{d.path}:{d.line}" if d.line else (d.path or "(knowledge base)")
        rows.append(f"| {_ICON[d.severity.value]} | {code(d.rule)} | {code(where)} | {cell(d.message)} |")
    return rows


def write(diagnostics, summary, out, title: str = "") -> None:
    lines = [f"## {cell(title or 'kbctl')}", ""]
    lines.append(
        f"**{summary.entries}** entries · **{summary.errors}** errors · "
        f"**{summary.warnings}** warnings · **{summary.infos}** notes"
    )
    lines.append("")
    ordered = sorted(diagnostics, key=lambda d: (-d.severity.rank, d.rule, d.sort_key()))
    for rule_name, group in groupby(ordered, key=lambda d: d.rule):
        found = list(group)
        lines += [f"### {code(rule_name)} ({len(found)})", "", *table(found), ""]
    if not diagnostics:
        lines.append("No findings. ✅")
    out.write("\n".join(lines).rstrip() + "\n")
