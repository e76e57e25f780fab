"""Every `kbctl validate` rule of CONTRACT 3.2: it fires where it should (rule, severity, path,
line, entry, exit code) and its clean twin does not.

KBs are written in-process (write_kb) and checked through the real entry point,
`kbctl.cli.main`, run in-process for speed; a few tests run the real process (run_cli).
Line numbers are literal: `entry_text` writes `---`, id, title, type, status, owner, then the
extra fields in order, then `---`, so the body starts on line 8 + number of extra fields.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, REPO, Result, entry_text, run_cli, write_kb

from kbctl.cli import main

AS_OF = "2026-11-22"
E, W = "error", "warning"


def kbctl(*args: str) -> Result:
    """The real CLI entry point, in-process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    return Result(code, out.getvalue(), err.getvalue())


def check(kb: Path, *extra: str, as_of: str = AS_OF) -> tuple[int, list[tuple]]:
    """Exit code and the findings as (rule, severity, path, line, entry), in report order."""
    result = kbctl("--root", str(kb), "validate", "--format", "json", "--as-of", as_of, *extra)
    assert "Traceback" not in result.stderr
    assert result.stderr == ""
    payload = json.loads(result.stdout)
    found = [(d["rule"], d["severity"], d["path"], d["line"], d["entry"]) for d in payload["diagnostics"]]
    errors = any(d["severity"] == "error" for d in payload["diagnostics"])
    assert result.code == (1 if errors else 0)
    return result.code, found


def messages(kb: Path, rule: str, as_of: str = AS_OF) -> list[str]:
    result = kbctl("--root", str(kb), "validate", "--format", "json", "--as-of", as_of)
    return [d["message"] for d in json.loads(result.stdout)["diagnostics"] if d["rule"] == rule]


def entry(entry_id: str, body: str = "正文。\n", **fields) -> str:
    """A valid entry with a title of its own (so titles never collide)."""
    fields.setdefault("title", f"Title of {entry_id}")
    return entry_text(body, id=entry_id, **fields)


def kb_of(tmp_path: Path, entries: dict[str, str], config: str = BASE_CONFIG) -> Path:
    kb = write_kb(tmp_path / "kb", entries, config)
    (kb / "knowledge").mkdir(exist_ok=True)
    return kb


FM = "---\nid: a\ntitle: A\ntype: faq\nstatus: published\nowner: billing-team\n"  # lines 1-6


# -- a clean KB ------------------------------------------------------------------------------
def test_clean_kb_has_no_finding(tmp_path):
    kb = kb_of(tmp_path, {
        "billing/pay.md": entry("pay", "# 在线缴费\n\n见 [账单](kb:bill#账单周期)。\n\n::: internal\n内部提示\n:::\n",
                                category="billing/payments", related=["bill"]),
        "billing/bill.md": entry("bill", "# 账单\n\n## 账单周期\n\n[缴费](pay.md)\n", category="billing"),
        "network/slow.en.md": entry("slow-en", "Restart the router.\n", locale="en-US", category="network",
                                    translation_of="slow"),
        "network/slow.md": entry("slow", "重启路由器。\n", category="network"),
    })
    assert check(kb) == (0, [])


def test_sample_kb_at_repo_root_validates_clean():
    result = run_cli("validate", "--format", "json", cwd=REPO)
    assert "Traceback" not in result.stderr
    found = [(d["rule"], d["path"], d["line"]) for d in result.json()["diagnostics"]
             if d["severity"] in ("error", "warning")]
    assert (result.code, found) == (0, [])


# -- encoding --------------------------------------------------------------------------------
def test_encoding_names_the_line_of_the_bad_byte(tmp_path):
    kb = kb_of(tmp_path, {})
    (kb / "knowledge" / "latin1.md").write_bytes(FM.encode() + "summary: caf\xe9\n---\nx\n".encode("latin-1"))
    assert check(kb) == (1, [("encoding", E, "knowledge/latin1.md", 7, None)])
    assert messages(kb, "encoding") == ["not UTF-8: byte 0xe9 at line 7"]


def test_encoding_accepts_utf8(tmp_path):
    kb = kb_of(tmp_path, {})
    (kb / "knowledge" / "utf8.md").write_bytes((FM + "summary: café\n---\nx\n").encode())
    assert check(kb) == (0, [])


# -- unreadable ------------------------------------------------------------------------------
def test_unreadable_symlinks_leading_outside(tmp_path):
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.md").write_text(entry("secret"), encoding="utf-8")
    (outside / "folder" / "more.md").write_text(entry("more"), encoding="utf-8")
    kb = kb_of(tmp_path, {"a.md": entry("a")})
    os.symlink(outside / "secret.md", kb / "knowledge" / "link.md")
    os.symlink(outside / "folder", kb / "knowledge" / "linked-folder")
    assert check(kb) == (1, [
        ("unreadable", E, "knowledge/link.md", None, None),
        ("unreadable", E, "knowledge/linked-folder", None, None),
    ])
    assert messages(kb, "unreadable") == ["a symbolic link leading outside the knowledge base"] * 2


def test_unreadable_knowledge_folder_itself_linked_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.md").write_text(entry("x"), encoding="utf-8")
    kb = kb_of(tmp_path, {})
    (kb / "knowledge").rmdir()
    os.symlink(outside, kb / "knowledge")
    assert check(kb) == (1, [("unreadable", E, "knowledge", None, None)])


def test_symlink_inside_the_kb_is_read(tmp_path):
    kb = kb_of(tmp_path, {})
    shared = kb / "shared"
    shared.mkdir()
    (shared / "common.md").write_text(entry("common"), encoding="utf-8")
    os.symlink(shared / "common.md", kb / "knowledge" / "common.md")
    assert check(kb) == (0, [])


# -- front-matter-syntax ---------------------------------------------------------------------
@pytest.mark.parametrize("text, line, entry_id", [
    pytest.param("# Just a heading\n", 1, None, id="missing"),
    pytest.param("---\nid: a\ntitle: A\n", 1, None, id="unterminated"),
    pytest.param("---\nid: a\ntitle: [A\ntype: faq\n---\n", 3, None, id="yaml-syntax"),  # where `[` opens
    pytest.param(FM + "title: B\n---\n", 7, "a", id="duplicate-key-second-line"),
    pytest.param("", 1, None, id="empty-file"),
    pytest.param("---\n- id\n- a\n---\n", 2, None, id="list"),
    pytest.param("---\njust text\n---\n", 2, None, id="scalar"),
    pytest.param("---\n---\nbody\n", 1, None, id="empty-front-matter"),
    pytest.param("---\n# only a comment\n---\nbody\n", 1, None, id="comment-only"),
])
def test_front_matter_syntax(tmp_path, text, line, entry_id):
    kb = kb_of(tmp_path, {"x.md": text})
    assert check(kb) == (1, [("front-matter-syntax", E, "knowledge/x.md", line, entry_id)])


def test_front_matter_syntax_messages(tmp_path):
    kb = kb_of(tmp_path, {
        "dup.md": FM + "title: B\n---\n",
        "open.md": "---\nid: a\n",
        "none.md": "text\n",
    })
    assert messages(kb, "front-matter-syntax") == [
        "duplicate key 'title'",
        "no front matter: the file must start with a line '---'",
        "the front matter is never closed by a line '---'",
    ]


def test_front_matter_syntax_clean_twin(tmp_path):
    kb = kb_of(tmp_path, {"x.md": FM + "---\nbody\n"})
    assert check(kb) == (0, [])


# -- schema ----------------------------------------------------------------------------------
@pytest.mark.parametrize("extra, line, fragment", [
    pytest.param("colour: red\n", 7, "unknown key 'colour'", id="unknown-key"),
    pytest.param("tags: 缴费\n", 7, "tags: '缴费' is not a list", id="wrong-type"),
    pytest.param("visibility: secret\n", 7, "visibility: 'secret' is not one of", id="bad-enum"),
    pytest.param("last_reviewed: 2026-02-30\n", 7, "'2026-02-30' is not a real date", id="impossible-date"),
    pytest.param("review_by: 2026/09/01\n", 7, "'2026/09/01' is not a date in the form YYYY-MM-DD",
                 id="slashed-date"),
    pytest.param("valid_from: 2026-10-01\nvalid_to: 2026-09-01\n", 7,
                 "valid_from 2026-10-01 is after valid_to 2026-09-01", id="from-after-to"),
    pytest.param("summary: ''\n", 7, "summary: must not be empty", id="empty-text"),
])
def test_schema(tmp_path, extra, line, fragment):
    kb = kb_of(tmp_path, {"x.md": FM + extra + "---\nbody\n"})
    assert check(kb) == (1, [("schema", E, "knowledge/x.md", line, "a")])
    [message] = messages(kb, "schema")
    assert fragment in message


def test_schema_missing_required_key(tmp_path):
    kb = kb_of(tmp_path, {"x.md": "---\nid: a\ntitle: A\ntype: faq\nstatus: published\n---\n"})
    assert check(kb) == (1, [("schema", E, "knowledge/x.md", 1, "a")])
    assert messages(kb, "schema") == ["missing required key 'owner'"]


def test_schema_reports_every_violation(tmp_path):
    text = ("---\nid: Bad_Id\ntitle: A\ntype: faqq\nstatus: published\nowner: billing-team\n"
            "last_reviewed: 2026-02-30\nreview_by: 2026/09/01\ncolour: red\ntags: x\n---\n")
    kb = kb_of(tmp_path, {"x.md": text})
    code, found = check(kb)
    assert code == 1
    assert [(r, line) for r, _, _, line, _ in found] == [
        ("schema", 2), ("schema", 4), ("schema", 7), ("schema", 8), ("schema", 9), ("schema", 10)]
    assert {e for *_, e in found} == {"Bad_Id"}


def test_schema_valid_dates_and_fields_pass(tmp_path):
    kb = kb_of(tmp_path, {"x.md": FM + "last_reviewed: 2026-09-01\nreview_by: '2027-01-31'\n"
                          "valid_from: 2026-01-01\nvalid_to: 2026-12-31\nvisibility: customer\n"
                          "tags: [a, b]\n---\nbody\n"})
    assert check(kb) == (0, [])


# -- block-syntax ----------------------------------------------------------------------------
def test_block_syntax(tmp_path):
    body = ("para\n"             # 8
            "\n"
            "::: secret\n"       # 10 unknown name
            "x\n"
            ":::\n"
            "\n"
            ":::\n"              # 14 stray closing
            "\n"
            "::: internal\n"     # 16
            "::: customer\n"     # 17 nested
            "y\n"
            ":::\n"              # closes the nested one
            ":::\n"              # closes internal
            "\n"
            "::: partner\n"      # 22 never closed
            "z\n")
    kb = kb_of(tmp_path, {"x.md": entry("x", body)})
    assert check(kb) == (1, [
        ("block-syntax", E, "knowledge/x.md", 10, "x"),
        ("block-syntax", E, "knowledge/x.md", 14, "x"),
        ("block-syntax", E, "knowledge/x.md", 17, "x"),
        ("block-syntax", E, "knowledge/x.md", 22, "x"),
    ])
    assert [m.split(" (")[0] for m in messages(kb, "block-syntax")] == [
        "unknown block '::: secret'",
        "closing ':::' without an opening block",
        "block '::: customer' inside '::: internal': blocks cannot nest",
        "block '::: partner' is never closed",
    ]


def test_block_marker_inside_fenced_code_is_not_a_block(tmp_path):
    body = "```text\n:::\n::: secret\n```\n\n~~~~\n::: internal\n~~~~\n\n::: customer\nok\n:::\n"
    kb = kb_of(tmp_path, {"x.md": entry("x", body)})
    assert check(kb) == (0, [])


def test_block_with_text_after_its_name(tmp_path):
    kb = kb_of(tmp_path, {"x.md": entry("x", "::: internal note\nx\n:::\n")})
    assert check(kb) == (1, [("block-syntax", E, "knowledge/x.md", 8, "x")])


# -- duplicate-id, unknown-* -----------------------------------------------------------------
def test_duplicate_id_reports_both(tmp_path):
    kb = kb_of(tmp_path, {"a.md": entry("same", title="One"), "b/b.md": entry("same", title="Two")})
    assert check(kb) == (1, [
        ("duplicate-id", E, "knowledge/a.md", 2, "same"),
        ("duplicate-id", E, "knowledge/b/b.md", 2, "same"),
    ])


def test_distinct_ids_are_fine(tmp_path):
    kb = kb_of(tmp_path, {"a.md": entry("one"), "b/b.md": entry("two")})
    assert check(kb) == (0, [])


def test_unknown_names(tmp_path):
    kb = kb_of(tmp_path, {
        "o.md": entry("o", owner="nobody-team"),
        "c.md": entry("c", category="billing/nowhere"),
        "h.md": entry("h", channels=["help-center", "fax"]),
        "l.md": entry("l", locale="fr-FR"),
    })
    assert check(kb) == (1, [
        ("unknown-category", E, "knowledge/c.md", 7, "c"),
        ("unknown-channel", E, "knowledge/h.md", 7, "h"),
        ("unknown-locale", E, "knowledge/l.md", 7, "l"),
        ("unknown-owner", E, "knowledge/o.md", 6, "o"),
    ])


def test_known_names(tmp_path):
    kb = kb_of(tmp_path, {
        "o.md": entry("o", owner="network-team"),
        "c.md": entry("c", category="billing"),  # an inner node is a category too
        "c2.md": entry("c2", category="billing/payments"),
        "h.md": entry("h", channels=["help-center", "faq-bot"]),
        "l.md": entry("l", locale="en-US"),
    })
    assert check(kb) == (0, [])


# -- broken-reference ------------------------------------------------------------------------
def test_broken_references(tmp_path):
    kb = kb_of(tmp_path, {
        "r.md": entry("r", related=["ghost"]),
        "t.md": entry("t", locale="en-US", translation_of="nobody"),
        "s.md": entry("s", translation_of="r"),  # both zh-CN
    })
    assert check(kb) == (1, [
        ("broken-reference", E, "knowledge/r.md", 7, "r"),
        ("broken-reference", E, "knowledge/s.md", 7, "s"),
        ("broken-reference", E, "knowledge/t.md", 8, "t"),
    ])


def test_references_resolve_including_aliases(tmp_path):
    kb = kb_of(tmp_path, {
        "new.md": entry("new-name", aliases=["old-name"]),
        "r.md": entry("r", "见 [旧链接](kb:old-name)。\n", related=["old-name", "new-name"]),
        "t.md": entry("t", locale="en-US", translation_of="old-name"),
    })
    assert check(kb) == (0, [])


# -- broken-link -----------------------------------------------------------------------------
LINKS_BODY = """\
# 中文标题

## Setup & Use

## x

## x

[a](kb:b#中文标题) [b](kb:b#%E4%B8%AD%E6%96%87%E6%A0%87%E9%A2%98) [c](kb:b#x-1) [d](kb:b)
[e](b.md) [f](sub/c.md#深入) [g](files/guide.pdf) ![h](files/logo.png)
[i](#中文标题) [j](#setup--use) [k](#x) [l](#x-1) [m](#) [n](https://example.com/does-not-exist)
[o](mailto:help@example.com) [p](tel:10000)
"""


def test_broken_link_negative_every_form_resolves(tmp_path):
    kb = kb_of(tmp_path, {
        "a.md": entry("a", LINKS_BODY),
        "b.md": entry("b", "# 中文标题\n\n## x\n\n## x\n"),
        "sub/c.md": entry("c", "## 深入\n"),
    })
    (kb / "knowledge" / "files").mkdir()
    (kb / "knowledge" / "files" / "guide.pdf").write_bytes(b"%PDF-1.4")
    (kb / "knowledge" / "files" / "logo.png").write_bytes(b"\x89PNG")
    assert check(kb) == (0, [])


def test_broken_links(tmp_path):
    body = ("[a](kb:missing)\n"               # 8
            "[b](kb:b#no-such-heading)\n"     # 9
            "[c](kb:b#不存在)\n"              # 10
            "[d](gone.md)\n"                  # 11
            "[e](b.md#x-2)\n"                 # 12 only x and x-1 exist
            "[f](files/missing.pdf)\n"        # 13
            "![g](missing.png)\n"             # 14
            "[h](../../outside.md)\n"         # 15
            "[i](#nowhere)\n"                 # 16
            "[j](http://nowhere.invalid/x)\n")  # 17 external: never checked
    kb = kb_of(tmp_path, {"a.md": entry("a", body), "b.md": entry("b", "## x\n\n## x\n")})
    assert check(kb) == (1, [("broken-link", E, "knowledge/a.md", line, "a") for line in range(8, 17)])
    assert messages(kb, "broken-link") == [
        "kb:missing: no entry with id 'missing'",
        "kb:b#no-such-heading: entry 'b' has no heading '#no-such-heading'",
        "kb:b#不存在: entry 'b' has no heading '#不存在'",
        "gone.md: no file knowledge/gone.md",
        "b.md#x-2: entry 'b' has no heading '#x-2'",
        "files/missing.pdf: no file knowledge/files/missing.pdf",
        "missing.png: no file knowledge/missing.png",
        "../../outside.md: points outside the knowledge base",
        "#nowhere: no heading '#nowhere' in this entry",
    ]


def test_broken_link_line_in_a_multi_line_paragraph(tmp_path):
    kb = kb_of(tmp_path, {"a.md": entry("a", "first line\nsecond line\nthird [x](kb:nope) line\n")})
    assert check(kb) == (1, [("broken-link", E, "knowledge/a.md", 10, "a")])


# -- cross-visibility-link -------------------------------------------------------------------
def test_cross_visibility_links(tmp_path):
    body = ("[内部](kb:int)\n"      # 9: public page -> internal entry
            "\n"
            "::: internal\n"
            "[内部](kb:int)\n"      # 12: inside an internal block: agents only, fine
            "::: \n"
            "\n"
            "[草稿](kb:draft) [过期](kb:old)\n")  # 15
    kb = kb_of(tmp_path, {
        "a.md": entry("a", body, related=["draft"]),  # related: line 7
        "int.md": entry("int", visibility="internal"),
        "draft.md": entry("draft", "[内部](kb:int)\n", status="draft"),  # from a draft: none
        "old.md": entry("old", valid_to="2026-11-01"),
    })
    assert check(kb) == (0, [
        ("cross-visibility-link", W, "knowledge/a.md", 7, "a"),
        ("cross-visibility-link", W, "knowledge/a.md", 9, "a"),
        ("cross-visibility-link", W, "knowledge/a.md", 15, "a"),
        ("cross-visibility-link", W, "knowledge/a.md", 15, "a"),
    ])
    assert messages(kb, "cross-visibility-link") == [
        "links to 'draft', which agent-portal, faq-bot, help-center do not carry (status draft)",
        "links to 'int', which faq-bot, help-center do not carry (visibility internal)",
        "links to 'draft', which agent-portal, faq-bot, help-center do not carry (status draft)",
        ("links to 'old', which agent-portal, faq-bot, help-center do not carry "
         "(valid_to 2026-11-01 has passed)"),
    ]


def test_cross_visibility_expiry_depends_on_as_of(tmp_path):
    kb = kb_of(tmp_path, {"a.md": entry("a", "[x](kb:old)\n"), "old.md": entry("old", valid_to="2026-11-01")})
    assert check(kb, as_of="2026-11-01") == (0, [])
    assert check(kb, as_of="2026-11-02") == (0, [("cross-visibility-link", W, "knowledge/a.md", 8, "a")])


def test_cross_visibility_clean_twin(tmp_path):
    kb = kb_of(tmp_path, {
        "a.md": entry("a", "::: internal\n[x](kb:int)\n:::\n\n[y](kb:pub)\n", related=["pub"]),
        "int.md": entry("int", visibility="internal"),
        "pub.md": entry("pub"),
        "internal-source.md": entry("src", "[x](kb:int)\n", visibility="internal"),
    })
    assert check(kb) == (0, [])


# -- raw-html --------------------------------------------------------------------------------
def test_raw_html_block_and_inline(tmp_path):
    body = ("<div class=\"x\">\n"  # 8: block
            "hi\n"
            "</div>\n"
            "\n"
            "text <b>bold</b>\n"   # 12: inline
            "more <br> text\n")    # 13: inline on the second line of a paragraph
    kb = kb_of(tmp_path, {"a.md": entry("a", body)})
    assert check(kb) == (0, [
        ("raw-html", W, "knowledge/a.md", 8, "a"),
        ("raw-html", W, "knowledge/a.md", 12, "a"),
        ("raw-html", W, "knowledge/a.md", 13, "a"),
    ])


def test_raw_html_tag_spanning_lines_keeps_later_lines_right(tmp_path):
    kb = kb_of(tmp_path, {"a.md": entry("a", "text <span\nclass=\"x\">y</span>\nand [z](kb:nope)\n")})
    assert check(kb) == (1, [
        ("raw-html", W, "knowledge/a.md", 8, "a"),     # `<span` … `>` spans lines 8-9
        ("raw-html", W, "knowledge/a.md", 9, "a"),     # `</span>`
        ("broken-link", E, "knowledge/a.md", 10, "a"),
    ])


def test_no_raw_html_in_markdown_or_code(tmp_path):
    body = "**bold** and `<b>code</b>`\n\n```html\n<div>x</div>\n```\n\na < b > c\n"
    kb = kb_of(tmp_path, {"a.md": entry("a", body)})
    assert check(kb) == (0, [])


# -- duplicate-question ----------------------------------------------------------------------
def test_duplicate_question_title_vs_alternate_normalized(tmp_path):
    kb = kb_of(tmp_path, {
        "a.md": entry("a", title="How do I pay my bill?", locale="en-US"),
        "b.md": entry("b", title="Paying", locale="en-US", questions=["ＨＯＷ do i  PAY my bill"]),
        "c.md": entry("c", title="怎么交话费？"),
        "d.md": entry("d", title="交费", questions=["怎么交话费"]),
    })
    assert check(kb) == (0, [
        ("duplicate-question", W, "knowledge/a.md", 3, "a"),
        ("duplicate-question", W, "knowledge/b.md", 8, "b"),
        ("duplicate-question", W, "knowledge/c.md", 3, "c"),
        ("duplicate-question", W, "knowledge/d.md", 7, "d"),
    ])


def test_same_question_in_different_locales_is_fine(tmp_path):
    kb = kb_of(tmp_path, {
        "a.md": entry("a", title="How do I pay?", locale="en-US"),
        "b.md": entry("b", title="How do I pay?"),
    })
    assert check(kb) == (0, [])


# -- ivr-missing-script, ivr-too-long, ivr-unspeakable -----------------------------------------
H = ["hotline"]  # opt-in, max_prompt_seconds: 30


def ivr(text: str) -> str:
    return f"正文。\n\n::: ivr\n{text}\n:::\n"


def test_ivr_missing_script(tmp_path):
    kb = kb_of(tmp_path, {
        "a.md": entry("a", channels=H),
        "b.md": entry("b", channels=H, summary="请拨打一零零八六。"),
        "c.md": entry("c", ivr("请按一号键。"), channels=H),
        "d.md": entry("d"),  # not carried by the opt-in hotline
    })
    assert check(kb) == (1, [("ivr-missing-script", E, "knowledge/a.md", 7, "a")])


def test_ivr_empty_block_and_no_summary(tmp_path):
    kb = kb_of(tmp_path, {"a.md": entry("a", "正文。\n\n::: ivr\n\n:::\n", channels=H)})
    assert check(kb) == (1, [("ivr-missing-script", E, "knowledge/a.md", 11, "a")])
    assert messages(kb, "ivr-missing-script") == [
        "hotline carries this entry but it has an empty '::: ivr' block and no summary"]


def test_ivr_too_long_boundaries(tmp_path):
    kb = kb_of(tmp_path, {
        "zh-ok.md": entry("zh-ok", ivr("话" * 120), channels=H),        # 120 / 4 = 30 s
        "zh-long.md": entry("zh-long", ivr("话" * 121), channels=H),    # 30.25 s
        "en-ok.md": entry("en-ok", ivr("word, " * 75), channels=H, locale="en-US"),   # 75 / 150 min
        "en-long.md": entry("en-long", ivr("word " * 76), channels=H, locale="en-US"),
    })
    assert check(kb) == (1, [
        ("ivr-too-long", E, "knowledge/en-long.md", 12, "en-long"),  # the `::: ivr` line
        ("ivr-too-long", E, "knowledge/zh-long.md", 11, "zh-long"),
    ])
    assert messages(kb, "ivr-too-long") == [
        "the script takes 30.4 s to say; hotline allows 30 s",
        "the script takes 30.2 s to say; hotline allows 30 s",
    ]


def test_ivr_too_long_uses_the_summary_when_there_is_no_block(tmp_path):
    kb = kb_of(tmp_path, {"a.md": entry("a", channels=H, summary="话" * 121)})
    assert check(kb) == (1, [("ivr-too-long", E, "knowledge/a.md", 8, "a")])


@pytest.mark.parametrize("speech, chars, too_long", [
    ("", 121, True),                                             # 121 / 4 = 30.25 s
    ("speech:\n  zh-CN: {chars_per_second: 5}\n", 121, False),  # 24.2 s
    ("speech:\n  zh: {chars_per_second: 5}\n", 121, False),     # a language tag covers zh-CN
    ("speech:\n  zh-CN: {chars_per_second: 3}\n", 110, True),   # 36.7 s
    ("speech:\n  zh-CN: {chars_per_second: 3}\n", 90, False),   # exactly 30 s
    ("speech:\n  en-US: {words_per_minute: 300}\n", 121, True),  # another locale's rate
])
def test_speech_rates_from_config_change_the_verdict(tmp_path, speech, chars, too_long):
    kb = kb_of(tmp_path, {"a.md": entry("a", ivr("话" * chars), channels=H)}, BASE_CONFIG + speech)
    expected = [("ivr-too-long", E, "knowledge/a.md", 11, "a")] if too_long else []
    assert check(kb)[1] == expected


@pytest.mark.parametrize("script, what", [
    ("请访问 https://example.com/pay", "a URL"),
    ("请访问 www.example.com", "a URL"),
    ("见[这里](kb:x)", "a link"),
    ("看图 ![图](logo.png)", "an image"),
    ("| 键 | 业务 |\n|---|---|\n| 1 | 缴费 |", "a table"),
    ("输入 `*123#`", "code"),
    ("按 <b>1</b> 键", "raw HTML"),
])
def test_ivr_unspeakable(tmp_path, script, what):
    kb = kb_of(tmp_path, {"a.md": entry("a", "正文。\n\n::: ivr\n请听：\n" + script + "\n:::\n")})
    # The finding points at the offending line: body line 8, `::: ivr` on 10, script from 11.
    found = [f for f in check(kb)[1] if f[0] == "ivr-unspeakable"]
    assert found == [("ivr-unspeakable", E, "knowledge/a.md", 12, "a")]
    assert messages(kb, "ivr-unspeakable") == [f"the ::: ivr script holds {what}"]


def test_ivr_unspeakable_summary_serving_as_script(tmp_path):
    kb = kb_of(tmp_path, {
        "a.md": entry("a", channels=H, summary="登录 https://pay.example.com 缴费"),
        "b.md": entry("b", summary="登录 https://pay.example.com 缴费"),  # not spoken: fine
    })
    assert check(kb) == (1, [("ivr-unspeakable", E, "knowledge/a.md", 8, "a")])
    assert messages(kb, "ivr-unspeakable") == ["the summary, spoken by hotline, holds a URL"]


def test_speakable_script_is_clean(tmp_path):
    kb = kb_of(tmp_path, {"a.md": entry("a", ivr("您好，请按一号键缴费，按零号键转人工。"), channels=H)})
    assert check(kb) == (0, [])


# -- ivr-menu --------------------------------------------------------------------------------
def test_ivr_menu_sibling_dtmf_clash_on_kbctl_yaml(tmp_path):
    config = BASE_CONFIG.replace("  - id: network\n    title: {zh-CN: 网络, en-US: Network}\n",
                                 "  - id: network\n    title: {zh-CN: 网络, en-US: Network}\n    dtmf: \"1\"\n")
    kb = kb_of(tmp_path, {}, config)
    assert check(kb) == (1, [("ivr-menu", E, "kbctl.yaml", 17, None)])
    assert messages(kb, "ivr-menu") == ["dtmf '1' of 'network' is also used by 'billing' at the top level"]


def _menu_entries(count: int, category: str | None) -> dict[str, str]:
    extra = {"category": category} if category else {}
    return {f"m{i}.md": entry(f"m{i}", ivr("好的。"), channels=H, **extra) for i in range(count)}


def test_ivr_menu_category_with_ten_options(tmp_path):
    kb = kb_of(tmp_path, _menu_entries(10, "billing/payments"))
    assert check(kb) == (1, [("ivr-menu", E, "kbctl.yaml", 13, None)])
    assert messages(kb, "ivr-menu") == [
        "hotline (zh-CN): menu 'billing/payments' has 10 options; a keypad offers 9"]


def test_ivr_menu_nine_options_fit(tmp_path):
    kb = kb_of(tmp_path, _menu_entries(9, "billing/payments"))
    assert check(kb) == (0, [])


def test_ivr_menu_main_menu_counts_uncategorized_entries(tmp_path):
    entries = _menu_entries(8, None)
    entries["b.md"] = entry("b", ivr("好的。"), channels=H, category="billing")
    entries["n.md"] = entry("n", ivr("好的。"), channels=H, category="network")
    kb = kb_of(tmp_path, entries)
    # 2 categories + 8 entries; reported on the hotline channel's line of kbctl.yaml
    assert check(kb) == (1, [("ivr-menu", E, "kbctl.yaml", 25, None)])
    del entries["m0.md"]
    (kb / "knowledge" / "m0.md").unlink()
    assert check(kb) == (0, [])


# -- PATH arguments limit what is reported ---------------------------------------------------
def test_paths_limit_reporting(tmp_path, monkeypatch):
    kb = kb_of(tmp_path, {"a.md": entry("a", "[x](kb:nope)\n"), "sub/b.md": entry("b", owner="nobody")})
    monkeypatch.chdir(kb / "knowledge")
    assert check(kb, "sub")[1] == [("unknown-owner", E, "knowledge/sub/b.md", 6, "b")]
    assert check(kb, "a.md")[1] == [("broken-link", E, "knowledge/a.md", 8, "a")]
    assert check(kb, "a.md", "sub/b.md")[0] == 1
    assert len(check(kb, ".")[1]) == 2
