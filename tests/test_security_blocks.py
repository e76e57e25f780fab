"""Restricted blocks are what markdown-it's parse reads as `:::` containers, for the checks and
for every page alike: Markdown that only looks like it closes a fence, or a block put inside a
quote or a list item, must never carry a block's content to a public channel. And should the
cut ever fail, the build refuses instead of publishing (kbctl/leakguard.py)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import entry_text, run_cli, tree, write_kb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbctl import markdown
from kbctl.cli import main

AS_OF = "2026-11-22"
CANARY = "CANARYSECRET"
PUBLIC_CHANNELS = ("help-center", "faq-bot", "hotline")


def public_leaks(out: Path, canary: str = CANARY) -> list[str]:
    """Files of the public channels (pages, search index, FAQ JSON, manifest) holding `canary`."""
    return sorted(str(path.relative_to(out)) for channel in PUBLIC_CHANNELS
                  for path in (out / channel).rglob("*")
                  if path.is_file() and canary.encode() in path.read_bytes())


def public_entry(body: str) -> str:
    return entry_text(body, id="e1", title="标题", summary="摘要。",
                      channels=["help-center", "agent-portal", "faq-bot", "hotline"])


def file_line(text: str, body_line: int) -> int:
    """The file line of the body's line `body_line` (1-based), the front matter before it."""
    return text.split("\n").index("---", 1) + 1 + body_line


def build_entry(tmp_path: Path, body: str):
    """validate and build, through the CLI, a KB of one public entry with `body`."""
    kb = write_kb(tmp_path / "kb", {"e.md": public_entry(body)})
    validated = run_cli("--root", str(kb), "validate", "--as-of", AS_OF)
    built = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    return validated, built, tmp_path / "out"


def assert_cut_from_public_only(tmp_path: Path, body: str) -> None:
    validated, built, out = build_entry(tmp_path, body)
    assert validated.code == 0, validated.stdout
    assert built.code == 0, built.stdout + built.stderr
    assert public_leaks(out) == []
    assert CANARY in (out / "agent-portal" / "zh-CN" / "e1" / "index.html").read_text(encoding="utf-8")


def assert_refused_at(tmp_path: Path, body: str, body_line: int) -> None:
    validated, built, out = build_entry(tmp_path, body)
    assert validated.code == 1, validated.stdout
    line = file_line(public_entry(body), body_line)
    assert f" {line}  error   block-syntax" in validated.stdout, validated.stdout
    assert built.code == 1 and not out.exists()


# -- the leak forms ---------------------------------------------------------------------------

def test_a_block_inside_a_blockquote_is_refused(tmp_path):
    assert_refused_at(tmp_path, f"公开。\n\n> ::: internal\n> {CANARY}\n> :::\n", 3)


def test_a_block_indented_in_a_list_item_is_refused(tmp_path):
    assert_refused_at(tmp_path, f"1. step\n\n    ::: internal\n    {CANARY}\n    :::\n", 3)


def test_a_block_after_a_line_that_only_looks_like_a_fence_is_cut(tmp_path):
    """```` ``` a`b ```` is no fence (a backtick fence's info string has no backtick)."""
    assert_cut_from_public_only(tmp_path, f"``` a`b\n\n::: internal\n{CANARY}\n:::\n\n公开。\n")


def test_a_block_after_an_html_block_holding_a_fence_is_cut(tmp_path):
    assert_cut_from_public_only(tmp_path, f"<div>\n```\n</div>\n\n::: internal\n{CANARY}\n:::\n\n公开。\n")


def test_a_block_after_a_fence_closed_past_a_false_closing_line_is_cut(tmp_path):
    """```` ``` not-a-close ```` closes nothing (a closing fence has no info string): the next
    ```` ``` ```` closes the fence, and the block after it is a block."""
    assert_cut_from_public_only(
        tmp_path, f"```\ncode\n``` not-a-close\n```\n\n::: internal\n{CANARY}\n:::\n\n公开。\n")


def test_a_block_swallowed_by_a_fence_that_never_closes_is_refused(tmp_path):
    """The editor meant the fence closed at ```` ``` not-a-close ````: the block after it is
    code to markdown-it, published as such. The checks say so."""
    assert_refused_at(tmp_path, f"```\ncode\n``` not-a-close\n\n::: internal\n{CANARY}\n:::\n\n公开。\n", 5)


# -- block-syntax for markers that are not top-level blocks -----------------------------------

@pytest.mark.parametrize("body, line", [
    ("- ::: partner\n  x\n  :::\n", 1),
    ("> 引用\n>\n> ::: customer\n> x\n> :::\n", 3),
    ("- a\n\n  > ::: internal\n  > x\n  > :::\n", 3),
])
def test_markers_that_are_not_top_level_blocks_are_block_syntax_errors(tmp_path, body, line):
    kb = write_kb(tmp_path / "kb", {"e.md": entry_text(body, id="e1")})
    line = file_line(entry_text(body, id="e1"), line)
    result = run_cli("--root", str(kb), "validate", "--as-of", AS_OF, "--format", "json")
    assert result.code == 1
    found = [(d["rule"], d["line"]) for d in result.json()["diagnostics"]]
    assert found == [("block-syntax", line)]
    assert "inside a quote or list item" in result.json()["diagnostics"][0]["message"]


# -- the last line of defence -----------------------------------------------------------------

LEAKY_BODY = f"公开。\n\n::: internal\n{CANARY}\n:::\n\n::: customer\n客户。\n:::\n"


def run_in_process(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


@pytest.fixture(params=["full build", "patched build"])
def built_once(request, tmp_path, capsys):
    """A KB built once, its output's files, and a function building it again after an edit of
    the answer's text: from scratch, or patched (kbctl/patch.py), as the build decides."""
    kb = write_kb(tmp_path / "kb", {"e.md": entry_text(LEAKY_BODY, id="e1")})
    out = tmp_path / "out"

    def build():
        (kb / "knowledge" / "e.md").write_text(entry_text(LEAKY_BODY + "\n改。\n", id="e1"), encoding="utf-8")
        if request.param == "full build":
            shutil.rmtree(kb / ".kbctl")
        return run_in_process(capsys, "--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))

    code, _, err = run_in_process(capsys, "--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))
    assert code == 0, err
    assert public_leaks(out) == []
    return out, tree(out), build


def assert_refused(out: Path, before: dict, result: tuple[int, str, str]) -> None:
    code, stdout, stderr = result
    assert code == 1, stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "knowledge/e.md" in lines[0] and "nothing was written" in lines[0], stderr
    assert "Traceback" not in stdout + stderr
    assert tree(out) == before


def test_a_build_whose_cut_fails_is_refused(built_once, monkeypatch):
    out, before, build = built_once
    monkeypatch.setattr(markdown, "_cut_blocks", lambda state: None)  # no block cut at all
    for made in (markdown.parser, markdown.block_reader, markdown.reader):
        made.cache_clear()
    try:
        assert_refused(out, before, build())
    finally:
        for made in (markdown.parser, markdown.block_reader, markdown.reader):
            made.cache_clear()


def test_a_build_whose_pages_misread_block_levels_is_refused(built_once, monkeypatch):
    """Even if a page took every block for public, the lines the checks found in blocks are
    held against the page's tokens."""
    from kbctl import leakguard

    out, before, build = built_once
    monkeypatch.setattr(markdown, "page_level", lambda token: 0)
    monkeypatch.setattr(leakguard, "page_level", lambda token: 0)
    assert_refused(out, before, build())


def test_a_block_on_the_fast_path_is_refused(built_once, monkeypatch):
    from kbctl import render

    if render._fast_page_html is None:
        pytest.skip("no markdown-it.rs fast path here")
    out, before, build = built_once
    monkeypatch.setattr(render, "_fast_path_fits", lambda source, env: True)
    assert_refused(out, before, build())


# -- fuzz: whatever the Markdown, a restricted block's text is refused or never public --------

CONFIG = """\
name: Fuzz
default_locale: zh-CN
locales: [zh-CN]
base_url: https://help.example.com
owners:
  billing-team: {name: 账务组}
channels:
  help-center:  {kind: site, audience: public}
  agent-portal: {kind: site, audience: internal, base_url: https://agents.example.com}
  faq-bot:      {kind: faq,  audience: public, site: help-center}
"""

_words = st.sampled_from(["公开", "text", "a*b*", "`x`", "[l](kb:e1)", "| c |", "---", "1.", "- x", "<b>", "&amp;",
                          "::", "`", "~", ":::x"])
_fence = st.tuples(st.sampled_from(["```", "~~~", "````", "  ```"]),
                   st.sampled_from(["", "py", " a`b", "~x", " not-a-close", "`"]))


def _restricted(draw, counter: list[int]) -> list[str]:
    counter[0] += 1
    name = draw(st.sampled_from(["internal", "partner", "customer"]))
    opener = draw(st.sampled_from([f"::: {name}", f":::{name}", f"  ::: {name}", f"::: {name} "]))
    inside = draw(st.sampled_from(["", "- ", "> ", "## ", "**"]))
    return [opener, f"{inside}{CANARY}{counter[0]}X {draw(_words)}", draw(st.sampled_from([":::", ":::  ", "::::"]))]


@st.composite
def bodies(draw, depth: int = 0, counter: list[int] | None = None) -> str:
    counter = counter if counter is not None else [0]
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["text", "block", "block", "quote", "list", "fence", "html", "code"]))
        if kind == "text":
            piece = [" ".join(draw(st.lists(_words, min_size=1, max_size=4)))]
        elif kind == "block":
            piece = _restricted(draw, counter)
        elif kind in ("quote", "list") and depth < 2:
            inner = draw(bodies(depth + 1, counter)).split("\n")
            if kind == "quote":
                piece = [draw(st.sampled_from(["> ", ">"])) + line for line in inner]
            else:
                marker = draw(st.sampled_from(["1. ", "- ", "* ", "2) "]))
                pad = " " * draw(st.sampled_from([2, 3, 4, 0]))
                lead = draw(st.sampled_from([[marker + "step", ""], [marker + "step"], []]))
                first = [] if lead else [marker + inner.pop(0)]
                piece = lead + first + [pad + line if line else line for line in inner]
        elif kind == "fence":
            marker, info = draw(_fence)
            closer = draw(st.sampled_from([marker.strip(), marker.strip() + " not-a-close", "", "~~~", "`````"]))
            piece = [marker + info, draw(_words)] + ([closer] if closer else [])
        elif kind == "html":
            piece = draw(st.sampled_from([["<div>", "```", "</div>"], ["<details>"], ["<!--"], ["<div>", "-->"]]))
        else:
            piece = ["    " + draw(_words)]
        lines += piece + draw(st.sampled_from([[""], [], ["", ""]]))
    return "\n".join(lines) + "\n"


FUZZ_ROOT = Path(tempfile.gettempdir())


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=bodies())
def test_fuzz_restricted_text_is_refused_or_never_public(body):
    if CANARY not in body:
        return
    root = Path(tempfile.mkdtemp(prefix="kbctl-fuzz-", dir=FUZZ_ROOT))
    try:
        kb = write_kb(root / "kb", {"e.md": entry_text(body, id="e1", title="标题")}, CONFIG)
        out = root / "out"
        try:
            main(["--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out)])
        except SystemExit as exited:
            code = exited.code
        if code == 1:
            assert not out.exists(), "a refused build wrote output"
            return
        assert code == 0, body
        for channel in ("help-center", "faq-bot"):
            leaked = [str(path) for path in (out / channel).rglob("*")
                      if path.is_file() and CANARY.encode() in path.read_bytes()]
            assert leaked == [], body
    finally:
        shutil.rmtree(root, ignore_errors=True)
