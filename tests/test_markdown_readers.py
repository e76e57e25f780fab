"""Checks read bodies with markdown-it.rs where it is installed, and with markdown-it-py
otherwise; pages are always rendered by markdown-it-py. Both readings must find the same links
(with their lines and block levels), heading anchors and raw HTML — and the anchors must be the
ids the rendered page gives its headings."""

from __future__ import annotations

import re

import pytest

from kbctl.load import body
from kbctl.markdown import fast_tree, parser

CASES = {
    "headings": "# Title *a* _b_ `c`\n\n## Same\n\n## Same\n\n## 缴费方式（线上）\n\n"
                "## A &amp; B \\* ![alt](x.png) [link](kb:x)\n\nSetext\n------\n",
    "links": "Text [a](kb:one) and [b](kb:two#章节) ![img](files/a.png)\n"
             "second line [c](../other.md#x) <https://example.com> [ref][r]\n\n[r]: kb:refd\n",
    "code": "    [indented](kb:no)\n\n```\n[fenced](kb:no)\n```\n\n`[inline](kb:no)`\n",
    "html": "<div>\nraw\n</div>\n\nText <span>x</span> and <a\nhref=\"y\">z</a> [after](kb:after)\n",
    "table": "| a | b |\n|---|---|\n| [in](kb:t) | c |\n",
    "lists": "- item [x](kb:x)\n  - nested [y](kb:y)\n\n1. one\n2. two [z](kb:z)\n\n> quote [q](kb:q)\n> ## Quoted heading\n",
    "blocks": "::: internal\nhidden [i](kb:i)\n:::\n\n::: ivr\nsay [v](kb:v)\n:::\n",
    "entities": "[&amp;](kb:amp) [x](kb:a%20b) [y](<kb:with space>)\n",
}


def read(source: str, walker) -> body.BodyInfo:
    """What `walker` reads in `source`; a source with `:::` is read as `analyse` reads it, by
    the pages' parser with its blocks (kbctl.markdown `block_reader`), whatever the walker."""
    if ":::" in source:
        return body._analyse_with_blocks("knowledge/e.md", "e", source, 5)
    info = body.BodyInfo()
    walker("knowledge/e.md", source, [0] * (source.count("\n") + 1), 5, info)
    return info


@pytest.mark.parametrize("name", sorted(CASES))
def test_both_readings_agree(name):
    if fast_tree is None:
        pytest.skip("markdown-it-pyrs is not installed: only one reading exists")
    fast, slow = read(CASES[name], body._walk_tree), read(CASES[name], body._walk_markdown_it)
    assert fast.links == slow.links
    assert fast.headings == slow.headings
    assert fast.anchors == slow.anchors
    assert fast.raw_html_lines == slow.raw_html_lines


@pytest.mark.parametrize("walker", ["_walk_tree", "_walk_markdown_it"])
def test_anchors_are_the_rendered_heading_ids(walker):
    if walker == "_walk_tree" and fast_tree is None:
        pytest.skip("markdown-it-pyrs is not installed")
    source = CASES["headings"]
    html = parser(html=True).render(source)
    rendered_ids = re.findall(r'<h\d id="([^"]*)"', html)
    assert [a for _, _, a in read(source, getattr(body, walker)).headings] == rendered_ids
    assert "title-a-b-c" in rendered_ids and "same-1" in rendered_ids and "setext" in rendered_ids


def test_lines_and_levels_are_right():
    info = read(CASES["links"] + "\n" + CASES["blocks"], body._walk_markdown_it)
    found = sorted((link.kind, link.target, link.line, link.level) for link in info.links)
    assert found == [
        ("entry", "i", 11, 3), ("entry", "one", 5, 0), ("entry", "refd", 6, 0),
        ("entry", "two", 5, 0), ("entry", "v", 15, 4), ("entry-path", "other.md", 6, 0),
        ("external", "https://example.com", 6, 0), ("file", "knowledge/files/a.png", 5, 0),
    ]


@pytest.mark.parametrize("source", [
    *(text for name, text in sorted(CASES.items()) if name != "blocks"),
    "", "\n", "no final newline [x](kb:x)", "text\n\n\n", "```\n:: not a marker\n```\n",
])
def test_a_body_without_markers_reads_as_through_the_block_reader(source):
    """`analyse` reads a body without `:::` with the fastest reader; the block reader must
    find the same there."""
    assert ":::" not in source
    plain = body._analyse_plain("knowledge/e.md", source, 5)
    scanned = body._analyse_with_blocks("knowledge/e.md", "e", source, 5)
    assert plain == scanned


def test_line_counter_takes_offsets_in_any_order():
    counter = body._LineCounter(b"a\nb\nc\n")
    assert [counter.before(o) for o in (0, 2, 5, 1, 6, 4)] == [0, 1, 2, 0, 3, 2]
