"""`kbctl health`: load → date from git → lifecycle checks → findings attributed to owners.

Validate findings are not repeated here (health runs on content that may not validate yet),
except `unknown-owner`: an entry nobody owns is a health problem too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kbctl.checks.lifecycle import due_date, run_health
from kbctl.checks.usage import run_usage
from kbctl.config import Config
from kbctl.errors import UsageError
from kbctl.gitcache import git_dates, git_head
from kbctl.gitdates import GitDates
from kbctl.load import load_kb
from kbctl.model import Diagnostic, KnowledgeBase
from kbctl.rules import rule
from kbctl.session import limit_to_paths
from kbctl.usage.load import read_usage
from kbctl.usage.model import UsageSummary

REVIEW_RULES = ("stale", "expiring")
NOTES = ("git-dates", "cache-ignored", "usage-skipped")  # what every finding rests on


@dataclass(frozen=True)
class Finding:
    """A diagnostic with what people need to act on it: who, and by when."""

    diagnostic: Diagnostic
    owner: str | None  # the entry's owner; None for knowledge-base-wide findings
    title: str  # the entry's title, "" when not about an entry
    due: dt.date | None  # review due date (stale, expiring) or valid_to (expired)
    overdue: int | None  # days past `due`; negative when still ahead

    @property
    def never_reviewed(self) -> bool:
        return self.diagnostic.rule == "stale" and self.due is None


@dataclass(frozen=True)
class HealthReport:
    config: Config
    as_of: dt.date
    entries: int
    findings: list[Finding]
    usage: UsageSummary | None = None  # set when usage data was given (CONTRACT 7)
    categories: Mapping[str, str | None] = field(default_factory=dict)  # entry id -> its category

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [f.diagnostic for f in self.findings]


def health(root: Path, config: Config, as_of: dt.date, *,
           owners: list[str] | None = None, paths: list[Path] | None = None,
           usage_paths: list[str] | None = None) -> HealthReport:
    kb = load_kb(root, config)
    _check_owner_names(kb, owners or [])
    usage = read_usage(root, kb, as_of, usage_paths or [])
    git = git_dates(root, git_head(root))
    diagnostics = run_health(_dated(kb, git), as_of)
    if usage is not None:
        diagnostics += run_usage(kb, usage, git)
    diagnostics[:0] = [d for d in kb.diagnostics if d.rule == "cache-ignored"]
    if not git.usable:
        diagnostics.insert(0, rule("git-dates").diag(
            None, None, f"git dates are not used: {git.reason}; review dates rest on "
                        "last_reviewed and review_by alone"))
    diagnostics = _limit(diagnostics, root, paths or [])
    findings = [_attribute(kb, d, as_of) for d in diagnostics]
    if owners:
        # The git and cache notes stay: they say what every finding rests on.
        findings = [f for f in findings if f.owner in owners or f.diagnostic.rule in NOTES]
    return HealthReport(config, as_of, len(kb.entries), findings, usage,
                        {entry.id: entry.category for entry in kb.entries})


def _dated(kb: KnowledgeBase, git: GitDates) -> KnowledgeBase:
    if git.usable:
        for entry in kb.entries:
            entry.git_date = git.get(entry.path)
    return kb


def _check_owner_names(kb: KnowledgeBase, owners: list[str]) -> None:
    known = set(kb.config.owners) | {entry.owner for entry in kb.valid_entries}
    for name in owners:
        if name not in known:
            choices = ", ".join(sorted(kb.config.owners)) or "none configured"
            raise UsageError(f"--owner {name!r}: no such owner (owners: {choices})")


def _limit(diagnostics: list[Diagnostic], root: Path, paths: list[Path]) -> list[Diagnostic]:
    """PATH arguments limit findings to those files; notes about the whole KB stay."""
    if not paths:
        return diagnostics
    placed = limit_to_paths([d for d in diagnostics if d.path is not None], root, paths)
    return [d for d in diagnostics if d.path is None] + placed


def _attribute(kb: KnowledgeBase, diag: Diagnostic, as_of: dt.date) -> Finding:
    entry = kb.by_path.get(diag.path or "")
    if entry is None:
        return Finding(diag, None, "", None, None)
    due = None
    if diag.rule in REVIEW_RULES:
        due = due_date(entry, kb.config)
    elif diag.rule == "expired":
        due = entry.date("valid_to")
    overdue = (as_of - due).days if due is not None else None
    return Finding(diag, entry.owner or None, entry.title, due, overdue)


def exit_code(report: HealthReport, fail_on: str) -> int:
    """1 when a finding is at or above the `--fail-on` severity (`never`: always 0)."""
    if fail_on == "never":
        return 0
    threshold = {"error": 2, "warning": 1, "info": 0}[fail_on]
    return 1 if any(d.severity.rank >= threshold for d in report.diagnostics) else 0
