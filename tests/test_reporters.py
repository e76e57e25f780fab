"""Report formats: JSON exactly as CONTRACT 3.1, GitHub workflow commands with their escaping,
text grouped by file with a summary line, Markdown tables that survive `|`. Also: the fast
YAML parsers are the ones in use (PERF-NOTES "Traps")."""

from __future__ import annotations

import contextlib
import io
import json

from conftest import Result, entry_text, write_kb

from kbctl.cli import main
from kbctl.model import Diagnostic, Severity
from kbctl.report import emit
from kbctl.report.github import command

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


def kbctl(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    return Result(code, out.getvalue(), err.getvalue())


def render(diagnostics, fmt: str, entries: int = 2) -> str:
    out = io.StringIO()
    emit(diagnostics, fmt, entries, out)
    return out.getvalue()


def diag(path, line, rule, severity, message, entry=None, code=None) -> Diagnostic:
    return Diagnostic(path=path, line=line, rule=rule, severity=severity, message=message, entry=entry, code=code)


SAMPLE = [
    diag("knowledge/a.md", 3, "broken-link", E, "kb:x: no entry with id 'x'", "a", "KB012"),
    diag("knowledge/a.md", 9, "raw-html", W, "raw HTML is never published; use Markdown", "a", "KB014"),
    diag("knowledge/b.md", None, "unreadable", E, "cannot read the file: Permission denied", None, "KB002"),
    diag(None, None, "git-dates", I, "not a git repository: git dates are not used", None, "KB105"),
]


# -- JSON (CONTRACT 3.1) ---------------------------------------------------------------------
def test_json_shape_from_the_real_cli(tmp_path):
    kb = write_kb(tmp_path / "kb", {
        "a.md": entry_text("[x](kb:nope)\n\n<b>bold</b>\n", id="a", title="A"),
        "b.md": entry_text(id="b", title="B"),
    })
    result = kbctl("--root", str(kb), "validate", "--format", "json", "--as-of", "2026-11-22")
    assert result.code == 1
    payload = json.loads(result.stdout)
    assert list(payload) == ["version", "diagnostics", "summary"]
    assert payload["version"] == 1 and type(payload["version"]) is int
    assert payload["diagnostics"] == [
        {"rule": "broken-link", "severity": "error", "path": "knowledge/a.md", "line": 8, "entry": "a",
         "message": "kb:nope: no entry with id 'nope'", "code": "KB012"},
        {"rule": "raw-html", "severity": "warning", "path": "knowledge/a.md", "line": 10, "entry": "a",
         "message": "raw HTML is never published; use Markdown", "code": "KB014"},
    ]
    # entries/errors/warnings are the contract; infos is kbctl's extension (health has info findings)
    assert payload["summary"] == {"entries": 2, "errors": 1, "warnings": 1, "infos": 0}


def test_json_types_and_nulls():
    payload = json.loads(render(SAMPLE, "json", entries=7))
    for item in payload["diagnostics"]:
        assert set(item) <= {"rule", "severity", "path", "line", "entry", "message", "code"}
        assert {"rule", "severity", "path", "line", "entry", "message"} <= set(item)
        assert item["severity"] in ("error", "warning", "info")
        assert item["path"] is None or (isinstance(item["path"], str) and "\\" not in item["path"])
        assert item["line"] is None or (type(item["line"]) is int and item["line"] >= 1)
        assert item["entry"] is None or isinstance(item["entry"], str)
    assert payload["diagnostics"][3] == {"rule": "git-dates", "severity": "info", "path": None, "line": None,
                                         "entry": None, "message": "not a git repository: git dates are not used",
                                         "code": "KB105"}
    assert payload["summary"] == {"entries": 7, "errors": 2, "warnings": 1, "infos": 1}


def test_json_keeps_non_ascii_readable():
    out = render([diag("knowledge/缴费.md", 1, "schema", E, "标题缺失", "x")], "json")
    assert "knowledge/缴费.md" in out and "标题缺失" in out
    assert json.loads(out)["diagnostics"][0]["path"] == "knowledge/缴费.md"


def test_json_with_no_findings():
    assert json.loads(render([], "json", entries=0)) == {
        "version": 1, "diagnostics": [], "summary": {"entries": 0, "errors": 0, "warnings": 0, "infos": 0}}


# -- GitHub workflow commands ----------------------------------------------------------------
def test_github_levels_and_layout():
    assert render(SAMPLE, "github").splitlines() == [
        "::error file=knowledge/a.md,line=3,title=broken-link::kb:x: no entry with id 'x'",
        "::warning file=knowledge/a.md,line=9,title=raw-html::raw HTML is never published; use Markdown",
        "::error file=knowledge/b.md,title=unreadable::cannot read the file: Permission denied",
        "::notice title=git-dates::not a git repository: git dates are not used",
        "kbctl: 2 entries, 2 errors, 1 warnings",
    ]


def test_github_escapes_properties_and_data():
    found = diag("knowledge/a,b:c%d.md", 4, "schema", E, "100% wrong\r\nsecond: line, still", "a")
    assert command(found) == (
        "::error file=knowledge/a%2Cb%3Ac%25d.md,line=4,title=schema::100%25 wrong%0D%0Asecond: line, still")


# -- text ------------------------------------------------------------------------------------
def test_text_is_grouped_by_file_with_a_summary_line():
    lines = render(SAMPLE, "text").splitlines()
    assert lines[0] == "knowledge/a.md"
    assert lines[1].split() == ["3", "error", "broken-link", "kb:x:", "no", "entry", "with", "id", "'x'"]
    assert lines[2].split()[:3] == ["9", "warning", "raw-html"]
    assert lines[3] == ""
    assert lines[4] == "knowledge/b.md"
    assert lines[5].split()[:3] == ["-", "error", "unreadable"]
    assert "(knowledge base)" in lines
    assert lines[-1] == "✖ 2 entries: 2 errors, 1 warning, 1 note"


def test_text_summary_when_clean():
    assert render([], "text", entries=5) == "✔ 5 entries: 0 errors, 0 warnings, 0 notes\n"


# -- markdown --------------------------------------------------------------------------------
def test_markdown_table_escapes_pipes():
    out = render([diag("knowledge/a|b.md", 2, "schema", E, "tags: 'a|b' is not of type 'array'\nmore", "a")],
                 "markdown")
    rows = [line for line in out.splitlines() if line.startswith("| 🔴")]
    assert rows == ["| 🔴 | `schema` | `knowledge/a\\|b.md:2` | tags: 'a\\|b' is not of type 'array' more |"]
    assert "**2** entries · **1** errors · **0** warnings · **0** notes" in out


def test_markdown_without_findings():
    assert render([], "markdown").endswith("No findings. ✅\n")


# -- the fast YAML parsers (PERF-NOTES "Traps") -----------------------------------------------
def test_front_matter_uses_libyaml():
    import yaml

    from kbctl import yamlutil

    assert yamlutil.FAST_YAML is True
    assert issubclass(yamlutil.FrontMatterLoader, yaml.CSafeLoader)


def test_ruamel_c_extension_is_installed():
    import _ruamel_yaml  # ruamel.yaml.clib: without it ruamel's safe loader runs 4x slower
    from ruamel.yaml import CParser

    assert CParser.__module__ in ("_ruamel_yaml", "ruamel.yaml.clib._ruamel_yaml")
    assert _ruamel_yaml.CParser is CParser
