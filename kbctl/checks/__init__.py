"""The validate checks: one module per family, one table here.

A check is `check(kb, as_of) -> Iterable[Diagnostic]`; it reads the loaded knowledge base
and never prints. Loading itself reports the per-file rules (encoding … block-syntax).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from kbctl.checks import ivr, links, questions, references, theme
from kbctl.model import Diagnostic, KnowledgeBase

Check = Callable[[KnowledgeBase, dt.date], Iterable[Diagnostic]]

VALIDATE_CHECKS: tuple[Check, ...] = (
    references.duplicate_ids,
    references.unknown_names,
    references.broken_references,
    links.broken_links,
    links.cross_visibility_links,
    links.raw_html,
    questions.duplicate_questions,
    ivr.scripts,
    ivr.menus,
    theme.theme_contrast,
    theme.theme_facts,
)


def run_validate(kb: KnowledgeBase, as_of: dt.date) -> list[Diagnostic]:
    found = list(kb.diagnostics)
    for check in VALIDATE_CHECKS:
        found.extend(check(kb, as_of))
    return sorted(set(found), key=Diagnostic.sort_key)
