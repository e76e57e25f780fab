"""Health reports for people, grouped by owner (who must act), oldest due date first.

`text` is for a terminal; `markdown` is for a tracking issue or a CI job summary. JSON and
GitHub annotations are the plain diagnostic formats of kbctl.report.emit.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import TextIO

from rich.console import Console
from rich.text import Text

from kbctl.report import Summary, json_format
from kbctl.report.markdown import cell, code
from kbctl.report.text import STYLE, summary_line, visible

_MARK = {"error": "✖", "warning": "!", "info": "·"}
_ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}
KB_GROUP = "(knowledge base)"


def groups(report) -> list[tuple[str | None, list]]:
    """(owner, findings) pairs: owners alphabetically, knowledge-base-wide findings last."""
    by_owner: dict[str | None, list] = {}
    for finding in report.findings:
        by_owner.setdefault(finding.owner, []).append(finding)
    order = sorted(by_owner, key=lambda owner: (owner is None, owner or ""))
    return [(owner, sorted(by_owner[owner], key=_urgency)) for owner in order]


def _urgency(finding) -> tuple:
    """Never reviewed first, then by due date, then the findings that have no date."""
    bucket = 0 if finding.never_reviewed else 1 if finding.due else 2
    diag = finding.diagnostic
    return (bucket, finding.due or dt.date.min, -diag.severity.rank, diag.rule, diag.sort_key())


def rule_counts(findings: Iterable) -> str:
    counts = Counter(f.diagnostic.rule for f in findings)
    return " · ".join(f"{n} {name}" for name, n in sorted(counts.items(), key=_by_count))


def _by_count(item: tuple[str, int]) -> tuple:
    return (-item[1], item[0])


def owner_label(report, owner: str | None) -> str:
    if owner is None:
        return KB_GROUP
    known = report.config.owners.get(owner)
    if known is None:
        return f"{owner} (not in kbctl.yaml owners)"
    handle = f" ({known.github})" if known.github else ""
    return f"{owner} — {known.name}{handle}"


def when(finding) -> str:
    """The due date in words: how late, or how soon."""
    if finding.never_reviewed:
        return "never reviewed"
    if finding.overdue is None:
        return ""
    if finding.overdue > 0:
        return f"{finding.overdue} days overdue" if finding.overdue != 1 else "1 day overdue"
    if finding.overdue == 0:
        return "due today"
    ahead = -finding.overdue
    return f"due in {ahead} days" if ahead != 1 else "due in 1 day"


def _where(diag) -> str:
    path = diag.path or "-"
    return f"{path}:{diag.line}" if diag.line else path


def _summary(report) -> Summary:
    return Summary.of(report.diagnostics, report.entries)


# -- text ----------------------------------------------------------------------------------
def write_text(report, out: TextIO) -> None:
    console = Console(file=out, highlight=False, soft_wrap=True)
    console.print(Text(f"Knowledge health of {visible(report.config.name)}, as of {report.as_of}",
                       style="bold"))
    console.print()
    for owner, findings in groups(report):
        header = Text(visible(owner_label(report, owner)), style="bold underline")
        header.append(f"   {rule_counts(findings)}", style="dim")
        console.print(header)
        for finding in findings:
            console.print(_text_row(finding))
        console.print()
    console.print(summary_line(_summary(report)))
    if report.findings:
        console.print(Text(f"  {rule_counts(report.findings)}", style="dim"))


def _text_row(finding) -> Text:
    diag = finding.diagnostic
    style = STYLE[diag.severity.value]
    row = Text(f"  {_MARK[diag.severity.value]} ", style=style)
    row.append(f"{diag.rule:<21}", style=style)
    # The message already says the due date and how late; the row says which entry.
    row.append(f"{visible(diag.entry or '')}  ", style="magenta")
    row.append(visible(_where(diag)), style="dim")
    row.append(f"\n      {visible(diag.message)}")
    return row


# -- markdown ------------------------------------------------------------------------------
def write_markdown(report, out: TextIO) -> None:
    summary = _summary(report)
    lines = [f"## Knowledge health: {cell(report.config.name)}, as of {report.as_of}", ""]
    headline = f"**{summary.entries}** entries"
    if report.findings:
        headline += " · " + " · ".join(
            f"**{n}** {name}" for name, n in _counted(report.findings))
    lines += [headline, "",
              f"{summary.errors} errors · {summary.warnings} warnings · {summary.infos} notes", ""]
    for owner, findings in groups(report):
        lines += [f"### {_owner_heading(report, owner)}", "", rule_counts(findings), ""]
        lines += _table(findings)
        lines.append("")
    if not report.findings:
        lines.append("No findings: every entry is healthy. ✅")
    out.write("\n".join(lines).rstrip() + "\n")


def _owner_heading(report, owner: str | None) -> str:
    """The owner group's heading: text, but for the owner's GitHub handle from kbctl.yaml,
    which stays a mention so that the tracking issue notifies whoever must act."""
    known = report.config.owners.get(owner) if owner is not None else None
    if known is None or not known.github:
        return cell(owner_label(report, owner))
    return f"{cell(f'{owner} — {known.name}')} (@{cell(known.github.removeprefix('@'))})"


def _counted(findings) -> list[tuple[str, int]]:
    return sorted(Counter(f.diagnostic.rule for f in findings).items(), key=_by_count)


def _table(findings) -> list[str]:
    rows = ["| entry | path | rule | due date | days overdue | finding |",
            "|---|---|---|---|---|---|"]
    for finding in findings:
        diag = finding.diagnostic
        entry = f"{code(diag.entry)} {cell(finding.title)}" if diag.entry else ""
        overdue = str(finding.overdue) if finding.overdue is not None else ""
        if finding.never_reviewed:
            overdue = "never reviewed"
        elif finding.overdue is not None and finding.overdue <= 0:
            overdue = when(finding)
        rows.append(
            f"| {entry.strip()} | {code(_where(diag))} | {_ICON[diag.severity.value]} "
            f"{code(diag.rule)} | {finding.due or ''} | {overdue} | {cell(diag.message)} |")
    return rows



# -- json ----------------------------------------------------------------------------------
def write_json(report, out: TextIO) -> None:
    """CONTRACT 3.1's diagnostics and summary, and with usage data its counts (CONTRACT 7)."""
    data = json_format.payload(report.diagnostics, _summary(report))
    if report.usage is not None:
        data["usage"] = usage_json(report.usage)
    json_format.dump(data, out)


def usage_json(usage) -> dict:
    return {
        "events": usage.events,
        "entries": {entry_id: {"views": counts.views, "helpful": counts.helpful,
                               "unhelpful": counts.unhelpful, "serves": counts.serves}
                    for entry_id, counts in sorted(usage.entries.items())},
    }
