"""Bad input of any kind: the right rule (or exit 2), a one-line message naming file and line,
and never a traceback or a crash (CONTRACT 3). Inputs that once crashed the process (deep
YAML nesting: a segmentation fault inside libyaml's composer) run in a child process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path

import pytest
from conftest import Result, entry_text, run_cli, write_kb

from kbctl.cli import main

AS_OF = "2026-11-22"
FM = "---\nid: a\ntitle: A\ntype: faq\nstatus: published\nowner: billing-team\n---\n"  # body: line 8


def kbctl(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    return Result(code, out.getvalue(), err.getvalue())


def validate(kb: Path, in_process: bool = True) -> tuple[int, list[tuple], list[str]]:
    args = ("--root", str(kb), "validate", "--format", "json", "--as-of", AS_OF)
    result = kbctl(*args) if in_process else run_cli(*args)
    assert "Traceback" not in result.stderr and result.stderr == ""
    diags = json.loads(result.stdout)["diagnostics"]
    for d in diags:  # one line, naming a file
        assert "\n" not in d["message"] and d["path"]
    found = [(d["rule"], d["path"], d["line"]) for d in diags]
    return result.code, found, [d["message"] for d in diags]


def kb_with(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    kb = write_kb(tmp_path / "kb", {})
    (kb / "knowledge").mkdir()
    for rel, content in files.items():
        path = kb / "knowledge" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
    return kb


# -- encodings and line endings --------------------------------------------------------------
def test_invalid_utf8_in_the_body_names_its_line(tmp_path):
    kb = kb_with(tmp_path, {"x.md": FM.encode() + b"fine\nalso fine\nbad \xc3\x28 byte\n"})
    assert validate(kb) == (1, [("encoding", "knowledge/x.md", 10)], ["not UTF-8: byte 0xc3 at line 10"])


def test_binary_file_named_md(tmp_path):
    kb = kb_with(tmp_path, {"logo.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))})
    code, found, _ = validate(kb)
    assert (code, found) == (1, [("encoding", "knowledge/logo.md", 1)])


def test_utf8_bom_is_accepted(tmp_path):
    kb = kb_with(tmp_path, {"x.md": "\ufeff" + FM + "[x](kb:nope)\n"})
    assert validate(kb)[:2] == (1, [("broken-link", "knowledge/x.md", 8)])


def test_crlf_is_accepted_with_correct_lines(tmp_path):
    text = (FM + "line one\n\n[x](kb:nope)\n\n<b>html</b>\n").replace("\n", "\r\n")
    kb = kb_with(tmp_path, {"x.md": text})
    assert validate(kb)[:2] == (1, [("broken-link", "knowledge/x.md", 10), ("raw-html", "knowledge/x.md", 12)])


def test_crlf_front_matter_keys_keep_their_lines(tmp_path):
    text = (FM.replace("owner: billing-team\n", "owner: nobody\n")).replace("\n", "\r\n")
    kb = kb_with(tmp_path, {"x.md": text})
    assert validate(kb)[:2] == (1, [("unknown-owner", "knowledge/x.md", 6)])


def test_nul_in_front_matter(tmp_path):
    kb = kb_with(tmp_path, {"x.md": "---\nid: a\ntitle: A\x00B\n---\n"})
    assert validate(kb) == (1, [("front-matter-syntax", "knowledge/x.md", 3)],
                            ["YAML error: control character #x0000 is not allowed"])


# -- broken front matter ---------------------------------------------------------------------
@pytest.mark.parametrize("text, line, message", [
    ("", 1, "the file is empty"),
    ("  \n\n", 1, "the file is empty"),
    ("---", 1, "the front matter is never closed by a line '---'"),
    ("---\n", 1, "the front matter is never closed by a line '---'"),
    ("---\nid: a\ntitle: A\n\nbody without a closing line\n", 1,
     "the front matter is never closed by a line '---'"),
    ("---\n- id: a\n- title: A\n---\n", 2, "the front matter is not a mapping of keys"),
    ("---\n42\n---\n", 2, "the front matter is not a mapping of keys"),
    ("---\n'just a string'\n---\n", 2, "the front matter is not a mapping of keys"),
    ("---\nid: a\n\ttitle: A\n---\n", 3, "YAML error: a tab character: YAML is indented with spaces"),
    (FM.replace("owner: billing-team\n", "owner: billing-team\nid: b\n"), 7, "duplicate key 'id'"),
])
def test_broken_front_matter(tmp_path, text, line, message):
    kb = kb_with(tmp_path, {"x.md": text})
    code, found, messages = validate(kb)
    assert code == 1
    assert found[0] == ("front-matter-syntax", "knowledge/x.md", line)
    assert messages[0] == message


def test_quoted_duplicate_key_is_found(tmp_path):
    kb = kb_with(tmp_path, {"x.md": FM.replace("owner: billing-team\n", "owner: billing-team\n\"title\": B\n")})
    assert validate(kb) == (1, [("front-matter-syntax", "knowledge/x.md", 7)], ["duplicate key 'title'"])


def test_opening_line_with_trailing_blanks(tmp_path):
    kb = kb_with(tmp_path, {"x.md": "---  \n" + FM[4:] + "[x](kb:nope)\n"})
    assert validate(kb)[:2] == (1, [("broken-link", "knowledge/x.md", 8)])


def test_tabs_in_the_body_are_fine(tmp_path):
    kb = kb_with(tmp_path, {"x.md": FM + "\tindented code\n\ntext\twith\ttabs\n"})
    assert validate(kb) == (0, [], [])


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "2025-02-29", "'2026-00-10'"])
def test_impossible_dates(tmp_path, value):
    kb = kb_with(tmp_path, {"x.md": FM.replace("owner: billing-team\n", f"owner: billing-team\nlast_reviewed: {value}\n")})
    code, found, messages = validate(kb)
    assert (code, found) == (1, [("schema", "knowledge/x.md", 7)])
    assert messages == [f"last_reviewed: {value.strip(chr(39))!r} is not a real date"]


def test_leap_day_is_a_real_date(tmp_path):
    kb = kb_with(tmp_path, {"x.md": FM.replace("owner: billing-team\n", "owner: billing-team\nlast_reviewed: 2024-02-29\n")})
    assert validate(kb) == (0, [], [])


# -- hostile YAML ----------------------------------------------------------------------------
BILLION_LAUGHS = """---
id: lol
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
---
"""


def test_billion_laughs_is_refused_quickly(tmp_path):
    kb = kb_with(tmp_path, {"lol.md": BILLION_LAUGHS})
    started = time.perf_counter()
    code, found, messages = validate(kb)
    assert time.perf_counter() - started < 2
    # Line 7: `e` is the first key whose aliases, expanded, pass 10,000 values (9^5 + …).
    assert (code, found) == (1, [("front-matter-syntax", "knowledge/lol.md", 7)])
    assert messages == ["YAML error: its aliases (*name) expand to more than 10,000 values"]


def test_recursive_alias_is_refused(tmp_path):
    kb = kb_with(tmp_path, {"x.md": "---\nid: a\nloop: &x [*x]\n---\n"})
    code, found, messages = validate(kb)
    assert (code, found) == (1, [("front-matter-syntax", "knowledge/x.md", 3)])
    assert messages == ["YAML error: the alias *x is inside the value it names"]


@pytest.mark.parametrize("levels", [10_000, 50_000])
def test_deeply_nested_flow_sequences(tmp_path, levels):
    # 50,000 levels used to kill the process with SIGSEGV; run it in a child process.
    kb = kb_with(tmp_path, {"x.md": "---\nid: a\nx: " + "[" * levels + "]" * levels + "\n---\n"})
    code, found, messages = validate(kb, in_process=False)
    assert (code, found) == (1, [("front-matter-syntax", "knowledge/x.md", 3)])
    assert messages == ["YAML error: nested deeper than 20 levels"]


@pytest.mark.parametrize("nesting", ["{a: " * 40_000 + "}" * 40_000, "\n  " + "- " * 40_000 + "x"],
                         ids=["flow-mappings", "block-sequences"])
def test_deeply_nested_mappings_and_block_sequences(tmp_path, nesting):
    kb = kb_with(tmp_path, {"x.md": "---\nid: a\nx: " + nesting + "\n---\n"})
    code, found, _ = validate(kb, in_process=False)
    assert code == 1 and found[0][0] == "front-matter-syntax"


def test_modest_nesting_is_ordinary_yaml(tmp_path):
    # More than a thousand brackets (the cheap pre-check's threshold), all shallow: no finding.
    tags = ", ".join(f"'[t{i}]'" for i in range(600))
    kb = kb_with(tmp_path, {"x.md": FM.replace("owner: billing-team\n", f"owner: billing-team\ntags: [{tags}]\n")})
    assert validate(kb) == (0, [], [])


# -- size ------------------------------------------------------------------------------------
def test_a_single_line_body_near_the_size_limit(tmp_path):
    kb = kb_with(tmp_path, {"x.md": FM + "长" * 160_000 + " [x](kb:nope)\n"})  # 480 KB
    started = time.perf_counter()
    assert validate(kb)[:2] == (1, [("broken-link", "knowledge/x.md", 8)])
    assert time.perf_counter() - started < 10


def test_front_matter_over_its_own_limit(tmp_path):
    kb = kb_with(tmp_path, {"x.md": "---\nid: a\nsummary: " + "x" * 300_000 + "\n---\n"})
    assert validate(kb) == (1, [("front-matter-syntax", "knowledge/x.md", 1)],
                            ["front matter is larger than 256 KiB"])


def test_file_over_the_size_limit_is_not_read(tmp_path):
    kb = kb_with(tmp_path, {"big.md": ""})
    with (kb / "knowledge" / "big.md").open("r+b") as handle:
        handle.truncate(513 * 1024)  # sparse: nothing written
    code, found, messages = validate(kb)
    assert (code, found) == (1, [("unreadable", "knowledge/big.md", None)])
    assert messages == ["the file is 513 KiB; entries are limited to 512 KiB"]


# -- the file system -------------------------------------------------------------------------
def test_symlink_loop(tmp_path):
    kb = kb_with(tmp_path, {})
    folder = kb / "knowledge"
    os.symlink(folder / "b.md", folder / "a.md")
    os.symlink(folder / "a.md", folder / "b.md")
    code, found, messages = validate(kb)
    assert (code, found) == (1, [("unreadable", "knowledge/a.md", None), ("unreadable", "knowledge/b.md", None)])
    assert all("Too many levels of symbolic links" in m for m in messages)


def test_dangling_symlink(tmp_path):
    kb = kb_with(tmp_path, {})
    os.symlink(kb / "knowledge" / "gone.md", kb / "knowledge" / "a.md")
    assert validate(kb) == (1, [("unreadable", "knowledge/a.md", None)],
                            ["cannot read the file: No such file or directory"])


def test_directory_named_like_an_entry_is_a_folder(tmp_path):
    kb = kb_with(tmp_path, {"odd.md/inner.md": entry_text(id="inner"), "README.md": "not an entry"})
    result = kbctl("--root", str(kb), "validate", "--format", "json", "--as-of", AS_OF)
    assert result.code == 0
    assert json.loads(result.stdout)["summary"]["entries"] == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_permission_denied(tmp_path):
    kb = kb_with(tmp_path, {"secret.md": entry_text(id="s")})
    (kb / "knowledge" / "secret.md").chmod(0)
    try:
        assert validate(kb) == (1, [("unreadable", "knowledge/secret.md", None)],
                                ["cannot read the file: Permission denied"])
    finally:
        (kb / "knowledge" / "secret.md").chmod(0o644)


def test_text_output_names_file_and_line_on_one_line(tmp_path):
    kb = kb_with(tmp_path, {"x.md": FM.encode() + b"\xff\n"})
    result = kbctl("--root", str(kb), "validate", "--format", "github", "--as-of", AS_OF)
    assert result.code == 1
    assert result.stdout.splitlines()[0] == (
        "::error file=knowledge/x.md,line=8,title=encoding::not UTF-8: byte 0xff at line 8")
