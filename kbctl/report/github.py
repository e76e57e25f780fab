"""GitHub Actions workflow commands: each finding annotates the pull request at its line."""

from __future__ import annotations

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


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
