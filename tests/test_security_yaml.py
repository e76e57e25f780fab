"""Hostile YAML and hostile scripts, through the real command line in a child process (a hang
fails on the timeout, a crash on its exit code): every YAML read is guarded the same way and
answers in kbctl's own words, with file and line; spoken-script checks stay linear."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, Result, entry_text, run_cli, write_kb

AS_OF = "2026-11-22"
TIMEOUT = 20  # generous: each case takes well under a second; a hang takes forever


def bomb(levels: int = 9, indent: str = "") -> str:
    """Billion laughs: nine values, each level nine aliases of the one before."""
    names = "abcdefghi"[:levels]
    lines = [f'{indent}a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for before, name in itertools.pairwise(names):
        lines.append(f"{indent}{name}: &{name} [{', '.join([f'*{before}'] * 9)}]")
    return "\n".join(lines) + "\n"


def cli(*args: str, cwd: Path | None = None) -> tuple[Result, float]:
    started = time.perf_counter()
    result = run_cli(*args, cwd=cwd, timeout=TIMEOUT)
    return result, time.perf_counter() - started


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if line.startswith(start))


# -- kbctl.yaml ----------------------------------------------------------------------------------
CONFIG_BOMB = BASE_CONFIG + "lol:\n" + bomb(indent="  ")
# a = 10 values, b = 91, c = 820, d = 7,381, e = 66,430, f = 597,871: `f` passes 100,000.
CONFIG_BOMB_LINE = line_of(CONFIG_BOMB, "  f:")


@pytest.mark.parametrize("command", [
    ("validate", "--as-of", AS_OF),
    ("build", "--as-of", AS_OF, "--out", "dist"),
    ("health", "--as-of", AS_OF),
])
def test_alias_bomb_in_kbctl_yaml_is_a_usage_error_not_a_hang(tmp_path, command):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a")}, CONFIG_BOMB)
    result, _ = cli("--root", str(kb), *command)
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == (f"kbctl: error: kbctl.yaml:{CONFIG_BOMB_LINE}: YAML error: "
                             "its aliases (*name) expand to more than 100,000 values\n")
    assert not (kb / "dist").exists()


def test_a_few_aliases_in_kbctl_yaml_are_ordinary_yaml(tmp_path):
    config = BASE_CONFIG.replace("  intervals: {policy: 90d}\n", "  intervals: &often {policy: 90d}\n")
    config += "x-unused: *often\n"
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a")}, config)
    result, _ = cli("--root", str(kb), "validate", "--as-of", AS_OF)
    # Read as YAML, aliases and all: the schema, not the guard, refuses the unknown key.
    assert result.stderr == f"kbctl: error: kbctl.yaml:{line_of(config, 'x-unused')}: (top level): unknown key 'x-unused'\n"


def test_deep_nesting_in_kbctl_yaml_names_the_line_in_kbctls_words(tmp_path):
    config = BASE_CONFIG + "x: " + "[" * 50_000 + "]" * 50_000 + "\n"
    kb = write_kb(tmp_path / "kb", {}, config)
    result, _ = cli("--root", str(kb), "validate")
    assert (result.code, result.stderr) == (
        2, f"kbctl: error: kbctl.yaml:{line_of(config, 'x:')}: YAML error: nested deeper than 64 levels\n")


# -- entries: validate and fmt -------------------------------------------------------------------
ENTRY_BOMB = "---\nid: lol\n" + bomb() + "---\n"
ENTRY_BOMB_LINE = line_of(ENTRY_BOMB, "e:")  # e = 66,430 values: past 10,000
DEEP_ENTRY = "---\nid: deep\nx: " + "[" * 50_000 + "]" * 50_000 + "\n---\n"
HOSTILE_ENTRIES = {
    "bomb": (ENTRY_BOMB, ENTRY_BOMB_LINE, "its aliases (*name) expand to more than 10,000 values"),
    "deep": (DEEP_ENTRY, 3, "nested deeper than 20 levels"),
    "deep-block": ("---\nid: deep\nx:\n" + "".join("  " * n + "- \n" for n in range(1, 40)) + "---\n",
                   23, "nested deeper than 20 levels"),  # the 21st collection: 3 + 20
}


@pytest.fixture(params=list(HOSTILE_ENTRIES), ids=list(HOSTILE_ENTRIES))
def hostile(request, tmp_path):
    text, line, problem = HOSTILE_ENTRIES[request.param]
    kb = write_kb(tmp_path / "kb", {"bad.md": text, "good.md": entry_text(id="good", last_reviewed="2026-9-1")})
    return kb, line, problem


def test_validate_reports_hostile_front_matter_on_its_line(hostile):
    kb, line, problem = hostile
    result, _ = cli("--root", str(kb), "validate", "--format", "json", "--as-of", AS_OF)
    assert result.code == 1 and "Traceback" not in result.stderr
    found = [(d["rule"], d["path"], d["line"], d["message"]) for d in result.json()["diagnostics"]
             if d["path"] == "knowledge/bad.md"]
    assert found == [("front-matter-syntax", "knowledge/bad.md", line, f"YAML error: {problem}")]


@pytest.mark.parametrize("check", [True, False], ids=["fmt-check", "fmt"])
def test_fmt_refuses_hostile_front_matter_like_validate(hostile, check):
    kb, line, problem = hostile
    before = (kb / "knowledge/bad.md").read_bytes()
    result, _ = cli("fmt", *(["--check"] if check else []), cwd=kb)
    assert result.code == 1, result.stderr  # a file it could not format, never 3 or a hang
    assert "Traceback" not in result.stderr
    assert f"knowledge/bad.md: YAML error (line {line}): {problem} (left as it is)" in result.stdout
    assert "knowledge/good.md" in result.stdout  # the other files are still formatted
    assert (kb / "knowledge/bad.md").read_bytes() == before


# -- the library's words never reach users ---------------------------------------------------------
@pytest.mark.parametrize("front, line, problem", [
    ("id: a\n\ttitle: A\n", 3, "a tab character: YAML is indented with spaces"),
    ("id: a\ntitle: A: B\n", 3, "a ': ' inside a value that is not quoted (put the value in quotes)"),
    ("id: a\ntitle: 'A\nsummary: B\n", 3, "a quoted value is never closed"),  # where it opens
    ("id: a\ntags: [a, b\n", 3, "a list opened with '[' is not closed by ']' (or holds a ': ')"),
    ("id: a\ntitle: @A\n", 3, "'@' cannot start a value that is not quoted (put the value in quotes)"),
    ("id: a\ntitle: *nowhere\n", 3, "the alias *nowhere names no anchor &nowhere above it"),
])
def test_yaml_syntax_errors_in_kbctls_words(tmp_path, front, line, problem):
    kb = write_kb(tmp_path / "kb", {"x.md": f"---\n{front}---\n"})
    result, _ = cli("--root", str(kb), "validate", "--format", "json")
    [diag] = result.json()["diagnostics"]
    assert (diag["rule"], diag["line"], diag["message"]) == ("front-matter-syntax", line, f"YAML error: {problem}")


@pytest.mark.parametrize("extra, message", [
    ("id: Bad_Id\n", "id: 'Bad_Id' does not match '^[a-z0-9][a-z0-9-]*$'"),
    ("tags: [a, a]\n", "tags: 'a' is listed twice"),
    ("tags: [1]\n", "tags/0: 1 is not a string"),
    ("type: essay\n", ("type: 'essay' is not one of 'faq', 'howto', 'policy', 'troubleshooting', "
                       "'case', 'reference'")),
])
def test_schema_findings_in_kbctls_words(tmp_path, extra, message):
    key = extra.split(":")[0]
    fields = {"id": "a", "title": "A", "type": "faq", "status": "published", "owner": "billing-team"}
    text = "---\n" + "".join(f"{k}: {v}\n" for k, v in fields.items() if k != key) + extra + "---\n"
    kb = write_kb(tmp_path / "kb", {"x.md": text})
    result, _ = cli("--root", str(kb), "validate", "--format", "json")
    found = [(d["rule"], d["line"], d["message"]) for d in result.json()["diagnostics"]]
    assert ("schema", line_of(text, key), message) in found


def test_missing_required_keys_are_each_named(tmp_path):
    kb = write_kb(tmp_path / "kb", {"x.md": "---\nid: a\ntitle: A\ntype: faq\n---\n"})
    result, _ = cli("--root", str(kb), "validate", "--format", "json")
    assert [d["message"] for d in result.json()["diagnostics"]] == [
        "missing required key 'owner'", "missing required key 'status'"]


# -- spoken scripts: no regular expression backtracks ---------------------------------------------
HOSTILE_SCRIPTS = [
    "a." * 20_000,          # the domain pattern tried from every start
    "a." * 200_000,         # 400 KB: near the largest entry kbctl reads (512 KiB)
    "a.c" * 130_000,        # 390 KB, and `.c` makes the domain pattern run
]
HOSTILE_IDS = ["domain-40k", "domain-400k", "domain-run"]


@pytest.mark.parametrize("script", HOSTILE_SCRIPTS, ids=HOSTILE_IDS)
def test_hostile_ivr_scripts_are_checked_in_linear_time(tmp_path, script):
    text = entry_text(f"正文。\n\n::: ivr\n{script}\n:::\n", id="a", channels=["hotline"])
    kb = write_kb(tmp_path / "kb", {"a.md": text})
    started = time.perf_counter()
    result = run_cli("--root", str(kb), "validate", "--format", "json", "--as-of", AS_OF, timeout=TIMEOUT)
    elapsed = time.perf_counter() - started
    found = {d["rule"] for d in json.loads(result.stdout)["diagnostics"]}
    assert result.code == 1 and "Traceback" not in result.stderr
    assert found <= {"ivr-too-long", "ivr-unspeakable", "ivr-missing-script"}, found
    print(f"{len(script):,} characters checked in {elapsed:.2f} s")


# Short ids: pytest puts the test's id in PYTEST_CURRENT_TEST, and an environment holding a
# 1 MB string cannot start the child process.
@pytest.mark.parametrize("script", [
    *HOSTILE_SCRIPTS,
    "a." * 500_000,         # 1 MB
    "<a" * 500_000,         # a tag never closed
    "[a" * 500_000,         # a link never closed
    "[](" * 350_000,        # link texts whose targets never close
], ids=[*HOSTILE_IDS, "domain-1mb", "tag-1mb", "link-1mb", "targets-1mb"])
def test_the_unspeakable_check_is_linear_on_any_script(tmp_path, script):
    # The check itself, in a child process: the body of an entry holding `[a` half a million
    # times is slow to read for Markdown's own reasons (kbctl/load/body.py), not the check's.
    (tmp_path / "script.txt").write_text(script, encoding="utf-8")
    code = ("import pathlib, sys, time; from kbctl.checks.ivr import find_unspeakable; "
            "text = pathlib.Path(sys.argv[1]).read_text(encoding='utf-8'); started = time.perf_counter(); "
            "found = find_unspeakable(text); print(found, f'{time.perf_counter() - started:.2f} s')")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "script.txt")],
                          capture_output=True, text=True, timeout=TIMEOUT, check=True)
    print(f"{len(script):,} characters: {done.stdout.strip()}")


def test_a_url_far_into_a_long_script_is_still_found(tmp_path):
    script = "请按一号键。\n" * 2_000 + "详见 pay.example.com 。\n"
    text = entry_text(f"正文。\n\n::: ivr\n{script}:::\n", id="a", channels=["hotline"])
    kb = write_kb(tmp_path / "kb", {"a.md": text})
    result = run_cli("--root", str(kb), "validate", "--format", "json", "--as-of", AS_OF, timeout=TIMEOUT)
    found = [(d["rule"], d["line"], d["message"]) for d in result.json()["diagnostics"]
             if d["rule"] == "ivr-unspeakable"]
    assert found == [("ivr-unspeakable", line_of(text, "详见"), "the ::: ivr script holds a URL")]


def test_a_long_line_of_blanks_in_front_matter_is_read_in_linear_time(tmp_path):
    # A double-quoted title may go on at column 0; the top-level key scan met it with a lazy
    # run that backtracked quadratically (about an hour at this size).
    text = '---\nid: a\ntitle: "A\nB' + " " * 200_000 + 'C"\ntype: faq\nstatus: published\nowner: billing-team\n---\n'
    kb = write_kb(tmp_path / "kb", {"a.md": text})
    result = run_cli("--root", str(kb), "validate", "--format", "json", "--as-of", AS_OF, timeout=TIMEOUT)
    assert (result.code, result.json()["diagnostics"]) == (0, [])
