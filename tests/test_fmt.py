"""`kbctl fmt`: key order, dates; comments, unknown keys, line endings and the body kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import entry_text, run_cli, write_kb

from kbctl.authoring.fmt import Unformattable, format_text

BODY = "## 正文  \n\n- 不要动我   \n\t缩进\n\n::: internal\n提示\n:::\n"

MESSY = """\
---
# Entry written by hand.

title: "Why: a question?"   # the question
# whose entry
owner: billing-team
last_reviewed: 2026-9-1 # checked
id: e1
x-note: keep me
tags:
  - 缴费   # first tag
  - 话费
valid_to: "2026/12/31"
valid_from: 2026-02-30
status: published
type: faq
# closing remark
---
""" + BODY

TIDY = """\
---
# Entry written by hand.

id: e1
title: "Why: a question?"   # the question
type: faq
status: published
# whose entry
owner: billing-team
tags:
  - 缴费   # first tag
  - 话费
last_reviewed: 2026-09-01 # checked
valid_from: 2026-02-30
valid_to: 2026-12-31
x-note: keep me
# closing remark
---
""" + BODY


def test_format_text_orders_keys_fixes_dates_and_keeps_comments() -> None:
    result = format_text(MESSY)
    assert result.text == TIDY
    assert result.changes == ["key order", "last_reviewed 2026-9-1 → 2026-09-01",
                              'valid_to "2026/12/31" → 2026-12-31']
    again = format_text(result.text)  # idempotent
    assert again.text == TIDY and not again.changed


def test_crlf_and_bom_are_kept() -> None:
    crlf = "\ufeff" + MESSY.replace("\n", "\r\n")
    result = format_text(crlf)
    assert result.text == "\ufeff" + TIDY.replace("\n", "\r\n")
    assert not format_text(result.text).changed


@pytest.mark.parametrize("text, problem", [
    ("no front matter\n", "no front matter"),
    ("---\nid: e1\n", "never closed"),
    ("---\nid: e1\nid: e2\n---\n", "YAML error"),
    ("---\n- a\n- b\n---\n", "not a mapping"),
    ("---\nid: [unclosed\n---\n", "YAML error"),
])
def test_unparseable_front_matter_is_reported(text: str, problem: str) -> None:
    with pytest.raises(Unformattable, match=problem):
        format_text(text)


def test_block_scalars_and_flow_values_move_whole() -> None:
    text = "---\nsummary: |\n  第一行\n\n  # 不是注释\ntags: [a,\n  b]\nid: e1\n---\nbody\n"
    result = format_text(text)
    assert result.text == "---\nid: e1\ntags: [a,\n  b]\nsummary: |\n  第一行\n\n  # 不是注释\n---\nbody\n"


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_kb(tmp_path / "kb", {
        "billing/messy.md": MESSY,
        "billing/tidy.md": entry_text(id="tidy", category="billing"),
        "bad.md": "---\nid: [oops\n---\nbody\n",
        "README.md": "# not an entry\n",
    })


def test_check_lists_and_writes_nothing(kb: Path) -> None:
    before = {p: p.read_bytes() for p in kb.rglob("*.md")}
    result = run_cli("fmt", "--check", cwd=kb)
    assert result.code == 1
    assert "would reformat knowledge/billing/messy.md: key order" in result.stdout
    assert "knowledge/bad.md: YAML error" in result.stdout
    assert "tidy.md" not in result.stdout and "README" not in result.stdout
    assert {p: p.read_bytes() for p in kb.rglob("*.md")} == before


def test_fmt_rewrites_only_changed_files(kb: Path) -> None:
    bad = (kb / "knowledge/bad.md").read_bytes()
    tidy = kb / "knowledge/billing/tidy.md"
    tidy_mtime = tidy.stat().st_mtime_ns
    result = run_cli("fmt", cwd=kb)
    assert result.code == 1  # bad.md could not be formatted
    assert "formatted knowledge/billing/messy.md" in result.stdout
    assert (kb / "knowledge/billing/messy.md").read_text(encoding="utf-8") == TIDY
    assert (kb / "knowledge/bad.md").read_bytes() == bad
    assert tidy.stat().st_mtime_ns == tidy_mtime
    assert not list(kb.rglob("*.tmp"))
    # Idempotent, and the formatted entry passes --check on its own.
    assert run_cli("fmt", "--check", "knowledge/billing", cwd=kb).code == 0


def test_fmt_keeps_crlf_files_crlf(kb: Path) -> None:
    path = kb / "knowledge/billing/messy.md"
    path.write_bytes(MESSY.replace("\n", "\r\n").encode("utf-8"))
    assert run_cli("fmt", "knowledge/billing/messy.md", cwd=kb).code == 0
    assert path.read_bytes() == TIDY.replace("\n", "\r\n").encode("utf-8")
