"""Diagnostics out: one small emitter per format behind `emit`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from kbctl.model import Diagnostic, Severity
from kbctl.report import github, json_format, markdown, text

FORMATS = ("text", "json", "github", "markdown")


@dataclass(frozen=True)
class Summary:
    entries: int
    errors: int
    warnings: int
    infos: int

    @classmethod
    def of(cls, diagnostics: Sequence[Diagnostic], entries: int) -> Summary:
        count = {s: 0 for s in Severity}
        for diag in diagnostics:
            count[diag.severity] += 1
        return cls(entries, count[Severity.ERROR], count[Severity.WARNING], count[Severity.INFO])


def emit(diagnostics: Sequence[Diagnostic], fmt: str, entries: int, out: TextIO, title: str = "") -> None:
    summary = Summary.of(diagnostics, entries)
    if fmt == "json":
        json_format.write(diagnostics, summary, out)
    elif fmt == "github":
        github.write(diagnostics, summary, out)
    elif fmt == "markdown":
        markdown.write(diagnostics, summary, out, title=title)
    else:
        text.write(diagnostics, summary, out)
