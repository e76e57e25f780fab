"""GitHub Actions workflow commands: each finding annotates the pull request at its line."""

from __future__ import annotations

from kbctl.report.text import visible

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    """A command's message, escaped as the runner unescapes it: a line break in it stays in
    the annotation and never starts a line of the log (where `::` would be a command). The
    other controls are shown as escapes, as in the text format: the log renders colours."""
    return visible(str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(diag) -> str:
    props = []
    if diag.path:
        props.append(f"file={_property(diag.path)}")
        if diag.line:
            props.append(f"line={diag.line}")
    props.append(f"title={_property(diag.rule)}")
    return f"::{_LEVEL[diag.severity.value]} {','.join(props)}::{_data(diag.message)}"


def write(diagnostics, summary, out) -> None:
    for diag in diagnostics:
        out.write(command(diag) + "\n")
    out.write(
        f"kbctl: {summary.entries} entries, {summary.errors} errors, "
        f"{summary.warnings} warnings\n"
    )
