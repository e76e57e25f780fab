"""The command line itself (CONTRACT 3): version, help, rules, PATH arguments, --as-of, finding
kbctl.yaml from a subfolder, `python -m kbctl`, and the exit codes 0/1/2/3."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import re
import subprocess
import sys

import pytest
from conftest import REPO, Result, entry_text, run_cli, write_kb

from kbctl import __version__
from kbctl.cli import app, main

CONTRACT_COMMANDS = ("validate", "health", "build", "review", "new", "init")
CONTRACT_RULES = (
    "encoding", "unreadable", "front-matter-syntax", "schema", "block-syntax", "duplicate-id",
    "unknown-owner", "unknown-category", "unknown-channel", "unknown-locale", "broken-reference",
    "broken-link", "cross-visibility-link", "raw-html", "duplicate-question", "ivr-missing-script",
    "ivr-too-long", "ivr-unspeakable", "ivr-menu", "stale", "expiring", "expired", "orphan", "git-dates",
)
WITH_REPO = {"PYTHONPATH": str(REPO)}  # for runs whose cwd is not the repository


def kbctl(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def kb(tmp_path):
    return write_kb(tmp_path / "kb", {
        "good.md": entry_text(id="good", title="Good"),
        "sub/bad.md": entry_text("[x](kb:nope)\n", id="bad", title="Bad"),
        "sub/warn.md": entry_text("<b>x</b>\n", id="warn", title="Warn"),
    })


def findings(result: Result) -> list[tuple]:
    return [(d["rule"], d["path"]) for d in json.loads(result.stdout)["diagnostics"]]


# -- version, help, rules ----------------------------------------------------------------------
def test_version():
    result = kbctl("--version")
    assert (result.code, result.stdout, result.stderr) == (0, f"kbctl {__version__}\n", "")


def test_help_lists_every_registered_command():
    result = kbctl("--help")
    assert result.code == 0
    registered = [c.name or c.callback.__name__ for c in app.registered_commands]
    listed = re.findall(r"^  ([a-z][a-z-]*)\s", result.stdout, re.MULTILINE)
    assert registered and set(registered) <= set(listed)


@pytest.mark.parametrize("command", CONTRACT_COMMANDS)
def test_contract_commands_exist(command):
    result = kbctl(command, "--help")
    if result.code == 2 and "No such command" in result.stderr:
        pytest.xfail(f"`kbctl {command}` is not registered yet")
    assert result.code == 0 and result.stdout.startswith(f"Usage: kbctl {command}")


def test_no_arguments_shows_help_and_exits_2():
    result = kbctl()
    assert result.code == 2
    assert "Usage: kbctl" in result.stdout + result.stderr
    assert "kbctl: internal error" not in result.stderr


def test_rules_lists_every_contract_rule():
    result = run_cli("rules", env={"COLUMNS": "250"})
    assert result.code == 0
    listed = set(re.findall(r"\b(KB\d{3})\s*│\s*([a-z-]+)", result.stdout))
    names = {name for _, name in listed}
    assert set(CONTRACT_RULES) <= names
    assert len({code for code, _ in listed}) == len(listed)  # codes are unique


def test_rules_explains_one_rule():
    result = kbctl("rules", "broken-link")
    assert result.code == 0
    assert result.stdout.splitlines()[0] == "broken-link (KB012) — validate, default error"
    assert "What it does" in result.stdout and "Why" in result.stdout
    assert kbctl("rules", "kb012").stdout == result.stdout


def test_rules_unknown_name():
    result = kbctl("rules", "no-such-rule")
    assert (result.code, result.stderr) == (2, "kbctl: error: no rule 'no-such-rule'; `kbctl rules` lists them\n")


# -- exit codes ------------------------------------------------------------------------------
def test_exit_0_with_only_warnings(tmp_path):
    root = write_kb(tmp_path / "kb", {"w.md": entry_text("<i>x</i>\n", id="w")})
    result = kbctl("--root", str(root), "validate", "--as-of", "2026-11-22")
    assert result.code == 0
    assert result.stdout.splitlines()[-1] == "! 1 entry: 0 errors, 1 warning, 0 notes"


def test_exit_1_on_errors(kb):
    assert kbctl("--root", str(kb), "validate", "--as-of", "2026-11-22").code == 1


@pytest.mark.parametrize("args, message", [
    (("validate", "--as-of", "2026-02-30"), "kbctl: error: --as-of '2026-02-30': expected a real date as YYYY-MM-DD\n"),
    (("validate", "--as-of", "22/11/2026"), "kbctl: error: --as-of '22/11/2026': expected a real date as YYYY-MM-DD\n"),
    (("validate", "--as-of", "2026-1-5"), "kbctl: error: --as-of '2026-1-5': expected a real date as YYYY-MM-DD\n"),
    (("validate", "knowledge/missing.md"), "kbctl: error: knowledge/missing.md: no such file or folder\n"),
])
def test_usage_errors_exit_2(kb, monkeypatch, args, message):
    monkeypatch.chdir(kb)
    result = kbctl(*args)
    assert (result.code, result.stderr) == (2, message)


@pytest.mark.parametrize("args", [("validate", "--format", "xml"), ("validate", "--bogus"), ("no-such-command",)])
def test_bad_options_exit_2_without_internal_error(kb, args):
    result = kbctl("--root", str(kb), *args)
    assert result.code == 2
    assert "kbctl: internal error" not in result.stderr and "Traceback" not in result.stderr


def test_path_outside_the_kb_exits_2(kb, tmp_path):
    result = kbctl("--root", str(kb), "validate", str(tmp_path))
    assert (result.code, result.stderr) == (2, f"kbctl: error: {tmp_path}: outside the knowledge base at {kb}\n")


def test_internal_error_is_one_line_and_exit_3(kb, monkeypatch):
    def explode(*_args, **_kwargs):
        raise ZeroDivisionError("boom\nsecond line")

    monkeypatch.setattr("kbctl.commands.validate.run_validate", explode)
    result = kbctl("--root", str(kb), "validate")
    assert result.code == 3
    assert result.stderr == ("kbctl: internal error (ZeroDivisionError: boom); this is a bug — "
                             "run with --debug for details\n")


def test_internal_error_with_debug_shows_the_traceback(kb, monkeypatch):
    monkeypatch.setattr("kbctl.commands.validate.run_validate", lambda *a: 1 / 0)
    result = kbctl("--debug", "--root", str(kb), "validate")
    assert result.code == 3
    assert "Traceback" in result.stderr and "ZeroDivisionError" in result.stderr


# -- PATH arguments and where kbctl runs -------------------------------------------------------
def test_path_arguments_limit_reporting(kb, monkeypatch):
    monkeypatch.chdir(kb)
    base = ("validate", "--format", "json", "--as-of", "2026-11-22")
    assert findings(kbctl(*base, "knowledge/sub/bad.md")) == [("broken-link", "knowledge/sub/bad.md")]
    assert findings(kbctl(*base, "knowledge/sub")) == [
        ("broken-link", "knowledge/sub/bad.md"), ("raw-html", "knowledge/sub/warn.md")]
    only_warning = kbctl(*base, "knowledge/sub/warn.md")
    assert (only_warning.code, findings(only_warning)) == (0, [("raw-html", "knowledge/sub/warn.md")])
    assert (kbctl(*base, "knowledge/good.md").code, findings(kbctl(*base, "knowledge/good.md"))) == (0, [])
    assert json.loads(kbctl(*base, "knowledge/good.md").stdout)["summary"]["entries"] == 3


def test_runs_from_a_subfolder_and_paths_are_relative_to_it(kb):
    result = run_cli("validate", "bad.md", "--format", "json", "--as-of", "2026-11-22",
                     cwd=kb / "knowledge" / "sub", env=WITH_REPO)
    assert result.code == 1
    assert findings(result) == [("broken-link", "knowledge/sub/bad.md")]


def test_python_dash_m_kbctl_runs_the_real_cli(kb):
    result = run_cli("--root", str(kb), "validate", "--format", "github", "--as-of", "2026-11-22")
    assert result.code == 1
    assert result.stdout.splitlines() == [
        "::error file=knowledge/sub/bad.md,line=8,title=broken-link::kb:nope: no entry with id 'nope'",
        "::warning file=knowledge/sub/warn.md,line=8,title=raw-html::raw HTML is never published; use Markdown",
        "kbctl: 3 entries, 1 errors, 1 warnings",
    ]
    assert result.stderr == ""


def test_kbctl_never_imports_click_itself():
    # typer >= 0.26 vendors click and no longer installs it; older typer brings click along.
    # Either way kbctl's own code must not import it (kbctl/cli.py finds click's exceptions
    # wherever typer keeps them).
    imports = re.compile(r"^\s*(?:import click|from click\b)", re.MULTILINE)
    offenders = [str(path) for path in (REPO / "kbctl").rglob("*.py") if imports.search(path.read_text("utf-8"))]
    assert offenders == []


@pytest.mark.skipif("click" in " ".join(importlib.metadata.requires("typer") or []),
                    reason="this typer release imports click itself")
def test_cli_starts_without_the_click_package():
    code = "import sys; sys.modules['click'] = None; from kbctl.cli import main; main(['--version'])"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                          check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"kbctl {__version__}\n", "")
