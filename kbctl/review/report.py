"""A review out: json (CONTRACT 5), text (rich), github (workflow commands), markdown (a PR
comment)."""

from __future__ import annotations

from itertools import groupby
from typing import TextIO

from kbctl.model import Diagnostic, Severity
from kbctl.report import Summary, json_format
from kbctl.report import github as gh
from kbctl.report import text as text_report
from kbctl.report.markdown import cell, code, table
from kbctl.report.text import visible
from kbctl.review.core import Change, Review

EFFECT_MARK = {"added": "✚", "changed": "✎", "removed": "✖"}
STATUS_STYLE = {"added": "green", "modified": "yellow", "deleted": "red", "renamed": "cyan"}
STATUSES = ("added", "modified", "renamed", "deleted")


def write(result: Review, fmt: str, out: TextIO) -> None:
    writers = {"json": write_json, "github": write_github, "markdown": write_markdown}
    writers.get(fmt, write_text)(result, out)


# -- json ------------------------------------------------------------------------------------
def payload(result: Review) -> dict:
    diagnostics = [_tagged(d, "validate") for d in result.problems]
    diagnostics += [_tagged(d, "health") for d in result.health]
    return {
        "version": 1,
        "base": result.base,
        "head": result.head,
        "as_of": result.as_of.isoformat(),
        **({"merge_base": result.merge_base} if result.merge_base not in ("", result.base) else {}),
        "config_changed": result.config_changed,
        **({"facts_changed": [_fact_json(result, name) for name in result.facts]} if result.facts else {}),
        "changes": [c.to_json() for c in result.changes],
        "diagnostics": diagnostics,
        "summary": summary(result),
    }


def _fact_json(result: Review, name: str) -> dict:
    entries, channels = result.fact_reach(name)
    return {"name": name, "entries": entries, "channels": channels}


def fact_lines(result: Review, shown=visible) -> list[str]:
    """"fact `hotline` changed: 23 entries, 4 channels", one line per changed fact."""
    lines = []
    for name in result.facts:
        entries, channels = result.fact_reach(name)
        lines.append(f"fact {shown(name)} changed: {entries} {'entry' if entries == 1 else 'entries'}, "
                     f"{channels} {'channel' if channels == 1 else 'channels'}")
    return lines


def _tagged(diag: Diagnostic, source: str) -> dict:
    return {**diag.to_json(), "source": source}


def summary(result: Review) -> dict:
    counts = Summary.of(result.problems, result.entries)
    data = {"entries": result.entries, "changes": len(result.changes)}
    data.update({s: sum(c.status == s for c in result.changes) for s in STATUSES})
    data.update(widening=sum(c.widens for c in result.changes), errors=counts.errors,
                warnings=counts.warnings, infos=counts.infos, health=len(result.health))
    return data


def write_json(result: Review, out: TextIO) -> None:
    json_format.dump(payload(result), out)


# -- github ----------------------------------------------------------------------------------
def write_github(result: Review, out: TextIO) -> None:
    for change in result.changes:
        if change.widens:
            out.write(gh.command(_widening_diag(change)) + "\n")
    out.writelines(gh.command(diag) + "\n" for diag in [*result.problems, *result.health])
    out.write(f"kbctl review: {_headline(result)}\n")


def _span(result: Review, shown=visible) -> str:
    """`base → head`, and the merge base where the change is counted from there; `shown`
    writes each commit for the format."""
    span = f"{shown(result.base[:12])} → {shown(result.head[:12])}"
    if result.merge_base not in ("", result.base):
        span += f" (changes counted from their merge base {shown(result.merge_base[:12])})"
    return span


def _widening_diag(change: Change) -> Diagnostic:
    message = f"{change.id or change.path} reaches a wider audience: {'; '.join(change.reasons)}"
    lowered = any(r.startswith("visibility") for r in change.reasons)
    line = change.visibility_line if lowered else None
    return Diagnostic(change.path, line, "widens-audience", Severity.WARNING, message, change.id)


def _headline(result: Review) -> str:
    counts = summary(result)
    parts = [f"{counts['changes']} changed entries"]
    parts += [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
    if result.config_changed:
        parts.append("kbctl.yaml changed")
    parts.append(f"{counts['errors']} errors, {counts['warnings']} warnings")
    if counts["widening"]:
        parts.append(f"{counts['widening']} widen the audience")
    return ", ".join(parts)


# -- text ------------------------------------------------------------------------------------
def write_text(result: Review, out: TextIO) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=True)
    console.print(Text(f"Review {_span(result)} (as of {result.as_of})",
                       style="bold"))
    if result.config_changed:
        console.print(Text("kbctl.yaml changed: every entry's channels were compared",
                           style="yellow"))
    for fact_line in fact_lines(result):
        console.print(Text(fact_line, style="yellow"))
    rows = [_text_row(c) for c in result.changes]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
    for change, row in zip(result.changes, rows):
        line = Text(f"{row[0]:<{widths[0]}}  ", style=STATUS_STYLE[change.status])
        line.append(f"{row[1]:<{widths[1]}}  ", style="bold")
        line.append(f"{row[2]:<{widths[2]}}  ", style="dim")
        line.append(row[3] or "(no channel output changes)")
        if change.widens:
            line.append("  ⚠ widens: " + visible("; ".join(change.reasons)), style="bold red")
        console.print(line)
    if not result.changes:
        console.print("No entries changed.")
    console.print()
    text_report.write(result.problems, Summary.of(result.problems, result.entries), out)
    if result.health:
        console.print()
        console.print(Text("Health of the changed entries (for information):", style="bold"))
        for path, group in groupby(result.health, key=lambda d: d.path or "(knowledge base)"):
            console.print(Text(visible(path), style="bold underline"))
            for diag in group:
                console.print(Text(f"  {diag.line or '-':>5}  {diag.severity.value:<8}"
                                   f"{diag.rule:<22}{visible(diag.message)}"))


def _text_row(change: Change) -> tuple[str, str, str, str]:
    entry = visible(f"{change.old_id} → {change.id}" if change.old_id else (change.id or "?"))
    path = visible(f"{change.old_path} → {change.path}" if change.old_path else change.path)
    channels = ", ".join(f"{EFFECT_MARK[e]} {n}" for n, e in sorted(change.effects.items()))
    status = change.status + (" (kbctl.yaml)" if change.via_config else "")
    return status, entry, path, channels


# -- markdown --------------------------------------------------------------------------------
def write_markdown(result: Review, out: TextIO) -> None:
    lines = [f"## kbctl review: {_md_headline(result)}", "",
             f"{_span(result, code)} · as of {result.as_of}", ""]
    widening = [c for c in result.changes if c.widens]
    if widening:
        lines += ["### ⚠ Widened audience", ""]
        for change in widening:
            lines.append(f"- **{code(change.id or '?')}** {code(change.path)}: "
                         f"{cell('; '.join(change.reasons))}")
        lines.append("")
    lines += _changes_table(result)
    lines += _problems(result)
    out.write("\n".join(lines).rstrip() + "\n")


def _md_headline(result: Review) -> str:
    counts = summary(result)
    parts = [f"{counts['changes']} changed {'entry' if counts['changes'] == 1 else 'entries'}"]
    parts += [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
    parts.append(f"{counts['errors']} {'error' if counts['errors'] == 1 else 'errors'}")
    parts.append(f"{counts['warnings']} {'warning' if counts['warnings'] == 1 else 'warnings'}")
    if counts["widening"]:
        parts.append(f"⚠ {counts['widening']} widened")
    mark = "❌" if counts["errors"] else "✅"
    return f"{mark} " + " · ".join(parts)


def _changes_table(result: Review) -> list[str]:
    lines = ["### Changes", ""]
    if result.config_changed:
        lines += ["`kbctl.yaml` changed: every entry whose output differs is listed.", ""]
    if result.facts:
        lines += [f"- {line}" for line in fact_lines(result, code)] + [""]
    if not result.changes:
        return lines + ["No entries changed.", ""]
    channels = result.channels
    lines.append("| entry | path | status | " + " | ".join(map(cell, channels)) + " |")
    lines.append("|---|---|---|" + "---|" * len(channels))
    for change in result.changes:
        entry = code(change.id or "?") + (f" (was {code(change.old_id)})" if change.old_id else "")
        path = code(change.path) + (f" (was {code(change.old_path)})" if change.old_path else "")
        status = change.status + (" (kbctl.yaml)" if change.via_config else "")
        status += " ⚠" if change.widens else ""
        marks = [EFFECT_MARK.get(change.effects.get(name, ""), "") for name in channels]
        lines.append(f"| {entry} | {path} | {status} | " + " | ".join(marks) + " |")
    lines += ["", "✚ newly carried · ✎ rendered differently · ✖ no longer carried", ""]
    return lines


def _problems(result: Review) -> list[str]:
    lines = ["### Problems", ""]
    if result.problems:
        ordered = sorted(result.problems, key=lambda d: (-d.severity.rank, d.sort_key()))
        lines += [*table(ordered), ""]
    else:
        lines += ["No problems found. ✅", ""]
    if result.health:
        lines += ["### Health of changed entries (for information)", "", *table(result.health), ""]
    return lines
