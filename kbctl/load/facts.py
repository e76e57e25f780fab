"""Facts filled into an entry as it is loaded (CONTRACT section 6; the rules in kbctl/facts.py).

Titles, summaries, questions and the body get the written values; code and `::: ivr` scripts
keep `{{ name }}`, for the IVR speaks a fact's spoken form. Every use that cannot be filled is
an `unknown-fact` error at the line of the use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kbctl.facts import Fact, Problem, fill_markdown, fill_plain, fills_spoken, uses_in
from kbctl.markdown import BLOCK_OPEN, block_name, block_reader
from kbctl.model import Diagnostic
from kbctl.rules import rule

TEXT_FIELDS = ("title", "summary")


@dataclass
class EntryFacts:
    body: str
    used: tuple[str, ...] = ()
    unfilled: dict[str, str] = field(default_factory=dict)  # field -> its text as written
    diagnostics: list[Diagnostic] = field(default_factory=list)


def fill_entry(path: str, text: str, meta: dict[str, Any], key_lines: dict[str, int], body: str,
               body_line: int, facts: Mapping[str, Fact]) -> EntryFacts:
    """Fill the facts into `meta`'s text fields (in place) and return the filled body."""
    locale = meta["_locale"]
    entry_id = meta.get("id") if isinstance(meta.get("id"), str) else None
    used: set[str] = set()
    out = EntryFacts(body)

    def report(problem: Problem, line: int) -> None:
        out.diagnostics.append(rule("unknown-fact").diag(path, line, problem.message(facts, locale), entry_id))

    lines = text.split("\n")
    for key in TEXT_FIELDS:
        value = meta.get(key)
        if isinstance(value, str) and "{{" in value:
            filled = fill_plain(value, locale, facts)
            meta[key] = filled.text
            out.unfilled[key] = value
            used |= filled.used
            for problem in filled.problems:
                report(problem, _line_holding(lines, key_lines.get(key), value[problem.offset:]))
    questions = meta.get("questions")
    if isinstance(questions, list) and any(isinstance(q, str) and "{{" in q for q in questions):
        meta["questions"] = [_filled_question(q, locale, facts, used, report, lines, key_lines) for q in questions]
    if "{{" in body:
        kept, scripts = _kept_lines(body)
        filled = fill_markdown(body, locale, facts, kept)
        out.body = filled.text
        used |= filled.used
        for problem in filled.problems:
            report(problem, body_line + body.count("\n", 0, problem.offset))
        for first, script in scripts:
            for problem in fills_spoken(script, locale, facts):
                report(problem, body_line + first + script.count("\n", 0, problem.offset))
            used |= {name for name in _names(script) if name in facts}
    out.used = tuple(sorted(used))
    return out


def _filled_question(question: Any, locale: str, facts: Mapping[str, Fact], used: set[str], report,
                     lines: list[str], key_lines: dict[str, int]) -> Any:
    if not isinstance(question, str) or "{{" not in question:
        return question
    filled = fill_plain(question, locale, facts)
    used |= filled.used
    for problem in filled.problems:
        report(problem, _line_holding(lines, key_lines.get("questions"), question[problem.offset:]))
    return filled.text


def _names(text: str) -> set[str]:
    return {name for name, _ in uses_in(text)}


def _line_holding(lines: list[str], start: int | None, use: str) -> int:
    """The file line, at or after the key's, holding the use (a value may span lines)."""
    first = start or 1
    snippet = use[: use.index("}}") + 2] if "}}" in use else use
    for number in range(first, len(lines) + 1):
        if snippet in lines[number - 1]:
            return number
    return first


def _kept_lines(body: str) -> tuple[list[tuple[int, int]], list[tuple[int, str]]]:
    """Body line ranges (0-based, end exclusive) that keep `{{ name }}` as written: code blocks
    and `::: ivr` blocks; and each ivr block's first content line with its script."""
    kept: list[tuple[int, int]] = []
    scripts: list[tuple[int, str]] = []
    lines = body.split("\n")
    for token in block_reader().parse(body):
        if token.map is None:
            continue
        first, end = token.map
        if token.type in ("fence", "code_block"):
            kept.append((first, end))
        elif token.type == BLOCK_OPEN and block_name(token)[0] == "ivr":
            end = min(end + 1, len(lines))  # and its closing marker
            kept.append((first, end))
            scripts.append((first, "\n".join(lines[first:end])))
    return kept, scripts
