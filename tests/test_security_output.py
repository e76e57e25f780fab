"""What kbctl echoes of content never becomes markup of the place it is shown in: no terminal
control or forged workflow command in text and github output, no Markdown in a review or
health comment, no broken XML in sitemap.xml or VoiceXML, whatever kbctl.yaml and the entries
hold (security findings 8, 9 and 11)."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, REPO, commit_all, entry_text, init_repo, write_kb
from conftest import run_cli as _run_cli
from markdown_it import MarkdownIt

from kbctl.channels import ivr
from kbctl.channels.site_maps import Sitemap
from kbctl.report.markdown import code

AS_OF = "2026-11-22"


def run_cli(*args: str, cwd: Path | None = None):
    """The real CLI, importing this checkout of kbctl whether or not it is installed."""
    return _run_cli(*args, cwd=cwd, env={"PYTHONPATH": str(REPO)})


# -- finding 8: text and github output -----------------------------------------------------
# Link targets are percent-decoded before they are echoed: a newline, then a workflow command;
# a colour escape and a right-to-left override; a line separator; C1's NEL and CSI.
HOSTILE_BODY = """\
[one](kb:no%0A::add-mask::x)

[two](kb:nope%0D%0A::stop-commands::token)

[three](kb:zz%1B[31m%E2%80%AEtxt.exe)

[four](kb:q%E2%80%A8::error::fake%C2%85::warning::fake%C2%9B31m)

[five](kb:a%0A%20%20::notice%20title=x::forged)
"""
TITLE = "How do I pay [bold]online[/bold]?"

# A line the runner reads as a command (it trims leading white space first) must be one that
# kbctl wrote: a level, kbctl's own properties, then `::`.
OWN_COMMAND = re.compile(r"::(error|warning|notice) (file=[^,:\s]+,(line=\d+,)?)?title=[a-z-]+::")
BIDI = {*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u200e", "\u200f", "\u061c"}


def hostile_kb(root: Path) -> Path:
    return write_kb(root, {
        "billing/a.md": entry_text(HOSTILE_BODY, id="a", title=TITLE),
        "billing/b.md": entry_text("正文。\n", id="b", title=TITLE),
    })


def assert_nothing_forged(output: str, commands_allowed: bool) -> None:
    # splitlines breaks at every line boundary the runner, a terminal or a log viewer knows
    for line in output.splitlines():
        if line.lstrip().startswith("::"):
            assert commands_allowed and OWN_COMMAND.match(line), f"forged command line: {line!r}"
    raw = [c for c in output if c != "\n" and (unicodedata.category(c) == "Cc" or c in BIDI)]
    assert not raw, f"raw control characters reach the output: {raw!r}"
    assert "\u2028" not in output and "\u2029" not in output


@pytest.mark.parametrize("fmt", ["text", "github", "json"])
def test_validate_prints_no_forged_command_and_no_raw_control(tmp_path, fmt):
    kb = hostile_kb(tmp_path / "kb")
    result = run_cli("--root", str(kb), "validate", "--as-of", AS_OF, "--format", fmt)
    assert result.code == 1, result.stderr
    assert_nothing_forged(result.stdout + result.stderr, commands_allowed=fmt == "github")
    if fmt == "json":  # JSON escapes them all, and the data stays exactly what was found
        messages = [d["message"] for d in json.loads(result.stdout)["diagnostics"]]
        assert any("\x1b[31m\u202etxt.exe" in m for m in messages)
        assert any("\u2028::error::fake\x85::warning::fake\x9b31m" in m for m in messages)
        return
    # what was there is shown, as escapes, on the finding's own line
    assert "\\x1b[31m" in result.stdout and "\\u202e" in result.stdout and "\\u2028" in result.stdout
    assert ("no\\n::add-mask::x" if fmt == "text" else "no%0A::add-mask::x") in result.stdout
    assert "[bold]online[/bold]" in result.stdout  # a title's brackets are text, not rich markup
    if fmt == "github":
        commands = [line for line in result.stdout.splitlines() if line.startswith("::")]
        assert len(commands) >= 5 and all(OWN_COMMAND.match(line) for line in commands)


def test_refused_build_prints_no_forged_command_and_no_raw_control(tmp_path):
    kb = hostile_kb(tmp_path / "kb")
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF)
    assert result.code == 1, result.stderr
    assert not (kb / "dist").exists()
    assert_nothing_forged(result.stdout + result.stderr, commands_allowed=False)
    assert "\\x1b[31m" in result.stdout and "no\\n::add-mask::x" in result.stdout


def test_owners_table_shows_names_as_written(tmp_path):
    config = BASE_CONFIG.replace("{name: 账务组,", "{name: '[bold]账务组[/bold] [link=https://x.example]y[/link]',")
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text()}, config=config)
    result = run_cli("--root", str(kb), "owners")
    assert result.code == 0, result.stderr
    assert "[bold]账务组[/bold] [link=https://x.example]y[/link]" in result.stdout


# -- finding 9: Markdown comments ----------------------------------------------------------
HOSTILE_TITLE = "<img src=x> @team [link](javascript:alert(1)) | *bold* `tick` ![i](y)"
SHOWN_TITLE = HOSTILE_TITLE.replace("@", "@\u200b")  # a zero-width space: never a mention
WEIRD_PATH = "knowledge/we`ir``d|x.md"


def markdown_parser() -> MarkdownIt:
    # html on: raw HTML that slipped through would come out as HTML, as on GitHub
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def tables(markdown: str) -> list[list[list]]:
    """Every table's body rows, each a list of cells, each the cell's inline children."""
    found, rows, cells = [], None, None
    for token in markdown_parser().parse(markdown):
        if token.type == "tbody_open":
            rows = []
        elif token.type == "tbody_close":
            found.append(rows)
        elif token.type == "tr_open" and rows is not None:
            cells = []
            rows.append(cells)
        elif token.type == "inline" and cells is not None and rows is not None:
            cells.append(token.children)
        elif token.type == "table_close":
            rows = cells = None
    return found


def plain(children) -> str:
    """A cell as a reader sees it; any markup but code spans fails the test."""
    kinds = {child.type for child in children} - {"text", "text_special", "code_inline"}
    assert not kinds, f"markup in a cell: {kinds}"
    return "".join(child.content for child in children)


def codes(children) -> list[str]:
    return [child.content for child in children if child.type == "code_inline"]


def assert_plain_html(markdown: str) -> None:
    html = markdown_parser().render(markdown)
    assert "<img" not in html and "<a " not in html and "<em>" not in html and "<s>" not in html
    assert "@team" not in html


def test_review_markdown_keeps_paths_and_titles_plain(tmp_path):
    root = tmp_path / "kb"
    root.mkdir()
    init_repo(root)
    write_kb(root, {"ok.md": entry_text(id="ok", title="OK", last_reviewed="2026-10-01")})
    base = commit_all(root, "base", "2026-11-01")
    write_kb(root, {
        "we`ir``d|x.md": entry_text("[a](kb:nope%0A|%20@team3%20|)\n", id="weird", title=HOSTILE_TITLE),
        "dup.md": entry_text(id="dup", title=HOSTILE_TITLE, last_reviewed="2026-10-01"),
        "bad.md": entry_text(id="bad", title="B", tags="<img src=y> @team2 ~~x~~"),
    })
    commit_all(root, "head", "2026-11-10")
    result = run_cli("review", "--base", base, "--as-of", AS_OF, "--format", "markdown", cwd=root)
    assert result.code == 1, result.stderr
    assert_plain_html(result.stdout)
    changes, problems, *_ = tables(result.stdout)
    assert [codes(row[1]) for row in changes] == [["knowledge/bad.md"], ["knowledge/dup.md"], [WEIRD_PATH]]
    assert all(len(row) == 7 for row in changes)  # entry, path, status and the four channels
    messages = {(codes(row[2])[0], plain(row[3])) for row in problems}
    assert len(problems) == 4 and all(len(row) == 4 for row in problems)
    broken = [message for where, message in messages if where == f"{WEIRD_PATH}:8"]
    assert len(broken) == 1 and "kb:nope | @\u200bteam3 |" in broken[0]  # the newline: a space
    asked = [message for where, message in messages if f"'{SHOWN_TITLE}'" in message]
    assert len(asked) == 2  # the duplicate-question pair, the title intact as text
    assert any("'<img src=y> @\u200bteam2 ~~x~~'" in message for _, message in messages)


def test_health_markdown_keeps_paths_and_titles_plain(tmp_path):
    config = BASE_CONFIG.replace("{name: 账务组,", "{name: '账务组 <img src=o> @ops *x*',")
    kb = write_kb(tmp_path / "kb", {
        "we`ir``d|x.md": entry_text(id="weird", title=HOSTILE_TITLE, category="billing"),
        "fine.md": entry_text(id="fine", title="Fine", category="billing"),
    }, config=config)
    result = run_cli("--root", str(kb), "health", "--as-of", AS_OF, "--format", "markdown")
    assert_plain_html(result.stdout)
    assert "@ops" not in result.stdout
    # the owner's handle configured in kbctl.yaml is the one mention: the team must act
    assert "### billing-team — 账务组 \\<img src=o\\> @&#8203;ops \\*x\\* (@example/billing)\n" in result.stdout
    billing = tables(result.stdout)[0]
    assert all(len(row) == 6 for row in billing)
    weird = [row for row in billing if codes(row[0]) == ["weird"]]
    assert weird and all(codes(row[1]) == [WEIRD_PATH] for row in weird)
    assert plain(weird[0][0]) == f"weird {SHOWN_TITLE}"


def test_code_span_in_a_cell_holds_any_text():
    samples = ["plain", "a`b", "``x", "x`", "a ``` b ` c", "` `", "a|b", "a\\|b", " lead", "<b>&amp;"]
    rows = tables("| h |\n|---|\n" + "".join(f"| {code(text)} |\n" for text in samples))[0]
    assert len(rows) == len(samples)
    for text, (children,) in zip(samples, rows):
        assert [(child.type, child.content) for child in children] == [("code_inline", text)]


# -- finding 11: XML written from config ---------------------------------------------------
def test_sitemap_escapes_base_url_in_attributes_and_text():
    base_url = 'https://help.example.com/a"b\'c<d>&e\x01f'
    sitemap = Sitemap(base_url)
    pages = {"zh-CN": "zh-CN/e1/index.html", "en-US": "en-US/e1/index.html"}
    sitemap.add("zh-CN/e1/index.html", dt.date(2026, 11, 1), pages)
    root = ET.fromstring(sitemap.text().encode("utf-8"))
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    expected = 'https://help.example.com/a"b\'c<d>&e%01f'
    assert root.find("s:url/s:loc", ns).text == f"{expected}/zh-CN/e1/"
    hrefs = [link.get("href") for link in root.findall("s:url/x:link", ns)]
    assert hrefs == [f"{expected}/en-US/e1/", f"{expected}/zh-CN/e1/"]


def test_vxml_with_control_characters_in_operator_and_script_parses():
    operator = "tel:10000\x1b[31m\x00\x0b\ufffe"
    documents = [ivr.entry_document("zh-CN", "请\x01按\x1f键 <b>&", "main.vxml", operator),
                 ivr.language_document(["zh-CN", "en-US"], "zh-CN", operator)]
    for text in documents:
        root = ET.fromstring(text.encode("utf-8"))
        dests = [t.get("dest") for t in root.iter("{http://www.w3.org/2001/vxml}transfer")]
        assert dests and all(d.startswith("tel:10000") and "\x1b" not in d for d in dests)
    assert "<b>&" in "".join(ET.fromstring(documents[0].encode("utf-8")).itertext())


def test_built_sitemap_and_vxml_parse_with_a_quote_in_base_url(tmp_path):
    config = BASE_CONFIG.replace("base_url: https://help.example.com",
                                 'base_url: \'https://help.example.com/x"y<z>&\'')
    kb = write_kb(tmp_path / "kb", {
        "a.md": entry_text(id="a", title="如何缴费？", summary="在 App 缴费。", channels=["help-center", "hotline"]),
        "b.md": entry_text(id="b", title="How to pay?", locale="en-US", translation_of="a"),
    }, config=config)
    out = tmp_path / "out[bold]"
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))
    assert result.code == 0, result.stderr
    xml_files = [*out.rglob("*.xml"), *out.rglob("*.vxml")]
    assert out / "help-center" / "sitemap.xml" in xml_files and len(xml_files) > 2
    for path in xml_files:
        ET.parse(path)
    sitemap = ET.parse(out / "help-center" / "sitemap.xml").getroot()
    links = [el.get("href") for el in sitemap.iter("{http://www.w3.org/1999/xhtml}link")]
    assert 'https://help.example.com/x"y<z>&/zh-CN/a/' in links
    assert f"{out}/help-center" in result.stderr  # the folder's brackets are text, not rich markup
