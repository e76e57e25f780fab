"""Pages rendered on the fast path must be, byte for byte, what markdown-it-py renders.

`kbctl.render.render_markdown` makes a page from markdown-it.rs' HTML where `_fast_page` takes
the source (passing `_fast_path_fits`, which no source with a `:::` block does), and renders it
with markdown-it-py otherwise. Here the two are compared (the HTML, the plain text, the linked
entries and every call to the link resolver, in order): on hand-written sources for each
construct of the dialect, on each known disagreement of the two readers (which the fast path
must refuse), on the sample KB and the fixtures, and on random sources.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest

from kbctl import render
from kbctl.load.loader import load_kb
from kbctl.model import VISIBILITY_RANK

REPO = Path(__file__).resolve().parent.parent
ENTRY = "knowledge/billing/payments/pay.md"

needs_fast_path = pytest.mark.skipif(render._fast_page_html is None,
                                     reason="no markdown-it-pyrs (of a validated version): one path only")


def resolver(calls: list):
    """A resolver that records its calls and unlinks some links, by a hash of the link."""

    def resolve(link):
        calls.append(link)
        if zlib.crc32(repr(link).encode()) % 5 == 0:
            return None
        return f"/to/{link.kind}/{link.target}?raw={link.raw}" + (f"#{link.anchor}" if link.anchor else "")

    return resolve


INTERNAL = VISIBILITY_RANK["internal"]  # every restricted block rendered


def markdown_it_py(source: str, env: dict | None = None, audience: int = INTERNAL):
    calls: list = []
    return render._render_markdown_it(source, ENTRY, resolver(calls), env, audience), calls


def render_markdown(source: str, env: dict | None = None, audience: int = INTERNAL):
    calls: list = []
    return render.render_markdown(source, ENTRY, resolver(calls), env, audience), calls


def forced_fast_path(source: str):
    """The fast path's output even where `_fast_path_fits` refuses the source."""
    calls: list = []
    html = render._fast_html(source)
    if html is None:
        return None, calls
    return render._render_fast(source, html, ENTRY, resolver(calls)), calls


# Sources the fast path must take, and render as markdown-it-py does.
FAST = {
    "empty": "",
    "blank": "\n\n  \n",
    "no final newline": "para [x](kb:x)",
    "paragraphs": "one\ntwo  \nthree\n\n四 五\n六\n",
    "headings": "# Title *a* _b_ `c`\n\n## Same\n\n## Same\n\n## 缴费方式（线上）\n\n"
                "### [link](kb:x) **strong** ~~del~~\n\n#\n\n## closing ##\n\n####### seven\n",
    "setext": "Setext *one*\n===\n\nTwo\nlines\n---\n",
    "heading ids from raw text": "# javascript: and [unlinked](kb:gone)\n\n# javascript: and [unlinked](kb:gone)\n",
    "lists": "- a\n- b\n  - c\n    - d\n- e\n\n1. one\n2. two\n3. three\n\n3) x\n4) y\n",
    "loose list": "- a\n\n- b\n\n  para\n- c\n",
    "tight list with blocks": "- a\n  # h\n  b\n- c\n  > q\n- d\n  ```\n  code\n  ```\n- **e**\n  ~~~\n  ~~~\n"
                              "- f\n  ***\n- h\n  - i\n- [j](kb:j)\n  ```\n  ```\n",
    "tight list with a table": "- g\n  | x | y |\n  |---|---|\n  | 1 | 2 |\n- h\n",
    "empty items": "-\n- a\n-\n\n1.\n",
    "lists in quote": "> - a\n>   - b\n> - c\n>\n> 1. x\n",
    "nested quotes": "> a\n> > b\n> > c\n>\n> d\nlazy\n\n>\n",
    "tables": "| 项目 | 说明 |\n|---|---|\n| 费用 | 98 元 |\n| 时效 | 2 天 |\n\n"
              "a | b | c\n:-|:-:|-:\n1 | [x](kb:x) | `y`\n| only |\n| 1 | 2 | 3 | 4 |\n\n"
              "| a |\n|---|\n",
    "table in list": "- item\n\n  | a | b |\n  |---|---|\n  | 1 | 2 |\n",
    "fences": "```py extra\nprint(1)\n```\n\n~~~\n[not](kb:link)\n~~~\n\n````\n```\n````\n\n```\nopen at the end\n",
    "indented code": "    code [x](kb:x)\n    more\n\npara\n",
    "rules": "a\n\n---\n\n***\n\n___\n\n- - -\n",
    "links": "[a](kb:one) [b](kb:two#章节) [c](../other.md#x) [d](https://example.com \"T\")\n"
             "[e](kb:x '') [f](#sec) [g](files/a.pdf) [h](/abs.md) [](kb:empty) [**i**](kb:i)\n"
             "详情参见[相关说明](kb:kb-04300)和[更多问题](kb:kb-04308#办理说明)。\n",
    "links unlinked and kept": "".join(f"[l{i}](kb:target-{i}) " for i in range(20)) + "\n",
    "link titles": "[a](kb:x \"javascript:x\") [b](kb:y (paren)) [c](kb:z 'q \"w\"')\n",
    "script text": "javascript:alert(1) and JavaScript :x and vbscript: too\n\n"
                   "[javascript:](kb:x) `javascript:kept` **javascript**:\n\n"
                   "| javascript: | x |\n|---|---|\n",
    "script across lines": "javascript\n: and vbscript\n:x\n",
    "emphasis": "*a* **b** ***c*** _d_ __e__ *f **g** h* 中*文*字 **“引号”** a*b*c *\n",
    "strikethrough": "~~a~~ ~b~ ~~c~~ d\n\n~~中文~~ ~ ~~\n\n~~~ info ~~~~\n~~~\n",
    "code spans": "`a` ``b`c`` ` d ` `` ` `` `中文` x\n",
    "punctuation": "a & b < c > d \" e ' f | g\n",
    "cjk": "缴费方式：线上（支付宝、微信）、线下营业厅。\n\n## 常见问题\n\n1. 如何缴费？\n2. 缴费后多久到账？\n",
}

# Sources the fast path must refuse: markdown-it.rs (and the fast path) would render them
# differently, or they hold a construct left to markdown-it-py wholesale.
DIFFERENT = {
    "image": "![alt *x*](files/a.png)\n",
    "raw html": "a <span>b</span>\n\n<div>\nc\n</div>\n",
    "autolink host": "<https://例子.com>\n",
    "entity": "&#x3000;段\n",
    "escaped pipe": "| a \\|| b |\n|---|---|\n",
    "tab": "a\tb\n",
    "ideographic space": "段落\u3000\n",
    "no-break space": "a\u00a0\n",
    "nul": "[a](kb:\x00)\n",
    "fence open at the end": "```\ncode",
    "table header without pipe": ":\n-:\n",
    "table delimiter without pipe": "| a\n---\n",
    "item after quote": "> a\n10. x\n",
    "empty item after quote": "> a\n-\n",
    "item in table": "| a |\n|---|\n| b |\n10. x\n",
    "table after quote": "> a\nb | c\n--|--\n",
    "table ends list": "- x\n- a | b\n--|--\n",
    "table or fence": "```a|b\n--|--\n",
    "definition": "[r]:\n10.\n",
    "symbol beside emphasis": "a*￥*b\n",
    "strikethrough in a longer run": "a~~b~~~~\n",
    "international host": "[a](https://例子.测试/)\n",
    "at in host": "[a](HTTP://@.com)\n",
    "brackets in destination": "[a](kb:[x])\n",
    "code span of spaces": "`   `\n",
    "code span across lines": "```a```\n    ```\n  ```e```\n",
    "tildes in text like a fence": "a\n    ~~~ a~~b~~~~\n",
    "panics markdown-it.rs": "[a`b\n",
    "deep quotes": ">" * 21 + " a\n",
    "deep lists": "".join("  " * depth + "- x\n" for depth in range(12)),
}

# Constructs also refused, without a known difference: they would need reading here that
# the tests on the source do not do (escapes, entities, raw HTML, references).
REFUSED = {
    "autolink": "<https://example.com/a>\n",
    "escape": "a \\* b\\\nc\n",
    "entity": "a &copy; &#58; b\n",
    "reference": "[a]: kb:x\n\n[a] [b][a]\n",
    "carriage return": "a\r\nb\n",
    "tab indent": "-\ta\n\n\tcode\n",
    "nested container": "::: internal\n::: partner\nx\n:::\n:::\n",
    "unclosed container": "::: customer\nx\n",
    "pipe in code span": "`a|b`\n",  # code spans are paired per cell-like piece
    "link title and code span": '[a](kb:x "`") `` `\n    `` x ``\n',  # the title's ` is text
    "block and fence": "::: internal\n```\ncode\n```\n:::\n",
    "block without blank line before": "text\n::: internal\nx\n:::\n",
    "block without blank line after": "::: internal\nx\n:::\ntext\n",
    "indented block": "  ::: internal\n  x\n  :::\n",
    "block marker with more": "::: internal note\nx\n:::\n",
    "block closed by more colons": "::: internal\nx\n::::\n",
    "unknown block": "::: ivr\nx\n:::\n",
    "stray closer": "x\n\n:::\n",
    # blocks are read by markdown-it-py's container rule only (the checks' reading)
    "blocks": "## 说明\n\n正文 [x](kb:x)\n\n::: internal\n## 说明\n内部 [y](kb:y)\n\n- a\n- b\n:::\n\n"
              "::: partner\n\n:::\n\n| a |\n|---|\n| 1 |\n\n::: customer\n> 引用\n:::\n",
    "block first and last": "\n::: internal\n# javascript: x\n:::\n",
}

# The brief's tricky sources: whichever path takes them, the output must be markdown-it-py's.
TRICKY = {
    "nested lists": "- a\n  1. b\n     - c\n\n       para\n  2. d\n- e\n",
    "autolinks": "<https://example.com> <a@b.c> <kb:x> www.example.com\n",
    "images": "![a](x.png) [![b](y.png)](kb:z) ![c][r]\n\n[r]: files/c.png\n",
    "reference links": "[a][r] [b] [c][]\n\n[r]: kb:x\n[b]: https://e.com 'T'\n[c]: ../c.md\n",
    "raw html": "<div>\n*x*\n</div>\n\n<!-- c -->\n\ntext <b>bold</b> <a href=\"javascript:x\">y</a>\n",
    "javascript": "[x](javascript:alert(1)) javascript:alert(1) <javascript:x> [y](JAVASCRIPT:x)\n",
    "restricted blocks": "a\n\n::: internal\n内部 [x](kb:x)\n:::\n\n::: partner\n::: customer\nnested\n:::\n:::\n\n::: customer\nunclosed\n",
    "headings": "# A *b*\n\n# A *b*\n\n# 缴费方式\n\n# 缴费方式\n\n## `code` &amp; ![i](x.png)\n",
    "fences": "```js\nlet a = `x`;\n```\n\n~~~ info &amp; more\n~~~\n",
    "entities": "&amp; &lt; &copy; &#35; &#x1F600; &nbsp; &bogus; &#0;\n",
    "hard breaks": "a  \nb\\\nc\n\n- d  \n  e\n",
}


LABELS = {"block_labels": {"internal": "内部 <b>", "partner": "Partner & co"}}


@needs_fast_path
@pytest.mark.parametrize("name", sorted(FAST))
def test_the_fast_path_renders_as_markdown_it_py(name):
    source = FAST[name]
    assert render._fast_page(source, LABELS) is not None, "expected on the fast path"
    assert render_markdown(source, LABELS) == markdown_it_py(source, LABELS)


@needs_fast_path
@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_known_disagreements_are_refused(name):
    source = DIFFERENT[name]
    assert forced_fast_path(source) != markdown_it_py(source), "no longer a disagreement?"
    assert not render._fast_path_fits(source, None)
    assert render_markdown(source) == markdown_it_py(source)


@needs_fast_path
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_constructs_left_to_markdown_it_py_are_refused(name):
    source = REFUSED[name]
    assert render._fast_page(source, LABELS) is None
    assert render_markdown(source, LABELS) == markdown_it_py(source, LABELS)


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_sources_render_as_markdown_it_py(name):
    assert render_markdown(TRICKY[name]) == markdown_it_py(TRICKY[name])


@needs_fast_path
def test_an_env_other_than_labels_is_refused():
    """markdown-it-py reads `references` from the env; block labels alone change nothing here."""
    source = "[a] [b][a]\n"
    labels = {"block_labels": {"internal": "内部"}}
    assert render._fast_path_fits(source, labels)
    assert render_markdown(source, labels) == markdown_it_py(source, labels)
    references = {"references": {"A": {"href": "kb:x", "title": ""}}}
    assert not render._fast_path_fits(source, references)
    assert render_markdown(source, references) == markdown_it_py(source, references)


@needs_fast_path
def test_markdown_it_rs_failures_fall_back():
    """A panic in markdown-it.rs, or a string it cannot take, leaves the page to markdown-it-py."""
    assert render._fast_html("[a`b\n") is None
    assert render._fast_html("lone \udc80 surrogate\n") is None
    source = "lone \udc80 surrogate [x](kb:x)\n"
    assert render._fast_path_fits(source, None)
    assert render_markdown(source) == markdown_it_py(source)


def test_without_markdown_it_rs_markdown_it_py_renders(monkeypatch):
    monkeypatch.setattr(render, "_fast_page_html", None)
    for source in (*FAST.values(), *TRICKY.values()):
        assert render_markdown(source) == markdown_it_py(source)


def test_the_fast_path_is_on_only_for_validated_reader_versions():
    """After an upgrade of a reader, markdown-it-py renders every page (the same bytes) until
    these tests are run with the new versions added to VALIDATED_READERS and any disagreement
    is fixed (or refused in `_fast_path_fits`)."""
    validated = next(iter(render.VALIDATED_READERS))
    assert render.validated_fast_reader(validated) is render.fast_page_html
    assert render.validated_fast_reader(("3.0.0", *validated[1:])) is None
    assert render.validated_fast_reader((*validated[:2], None)) is None
    assert (render._fast_page_html is not None) == (render.READERS in render.VALIDATED_READERS)


def knowledge_bases():
    return [REPO, *sorted((REPO / "tests" / "fixtures").iterdir())]


@needs_fast_path
@pytest.mark.parametrize("root", knowledge_bases(), ids=lambda root: root.name)
def test_every_entry_renders_as_markdown_it_py(root):
    kb = load_kb(root, use_cache=False)
    on_fast_path = 0
    for entry in kb.entries:
        for rank in sorted(set(VISIBILITY_RANK.values())):
            env = {"block_labels": {"internal": "内部", "partner": "Partner"}}
            on_fast_path += render._fast_page(entry.body, env) is not None
            assert render_markdown(entry.body, env, rank) == markdown_it_py(entry.body, env, rank), (entry.path, rank)
    assert on_fast_path, "no entry took the fast path"


# Random sources: pieces of the dialect put together, some within what the fast path takes
# and some across its limits.
WORDS = ["word", "词语", "缴费", "a", "b", "x1", "ä", "😀", "。", "，", "（", "）", "“", "”", "：", "！",
         "javascript:", "JavaScript :", "vbscript:", "http://x.y", "www.x.y", "#", "|", "-", ":",
         "'", '"', "(", ")", "[", "]", "*", "_", "~", "!", "1.", "2)", "& b", "a < b", "→", "～",
         "￥", "Σ", "ß", "$", "%", "=", "+"]
DESTINATIONS = ["kb:x", "kb:two#章节", "../other.md#x", "https://e.com", "#sec", "files/a.pdf",
                "/abs/path.md", "//host/x", "mailto:a@b.c", "kb:a%20b", "javascript:alert(1)",
                "data:image/png;base64,AA", "kb:(p)", "kb:a(b)c", "", "kb:x?y=1", "kb:ä",
                "https://例子.测试/", "kb:[x]"]
TITLES = ["", ' "T"', " 'T'", " (T)", ' ""', ' "多 \'q\'"']


def random_inline(rng: random.Random, depth: int = 0) -> str:
    out = []
    for _ in range(rng.randint(1, 7)):
        roll = rng.random()
        if roll < 0.45:
            out.append(rng.choice(WORDS))
        elif roll < 0.55:
            out.append(rng.choice([" ", " ", "  "]))
        elif roll < 0.7 and depth < 2:
            mark = rng.choice(["*", "**", "_", "__", "~~", "***"])
            out.append(mark + random_inline(rng, depth + 1) + rng.choice([mark, mark, "", "*"]))
        elif roll < 0.8:
            ticks = rng.choice(["`", "``", "`"])
            out.append(ticks + rng.choice(["code", " a ", "a`b", "中", "x  y"]) + rng.choice([ticks, ticks, ""]))
        elif roll < 0.97 and depth < 2:
            label = random_inline(rng, depth + 1) if rng.random() < 0.7 else ""
            out.append(f"[{label}]({rng.choice(DESTINATIONS)}{rng.choice(TITLES)})")
        else:
            out.append(rng.choice(["  \n", "\n", "[x\ny](kb:z)"]))
    return "".join(out)


def random_block(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if roll < 0.3:
        return random_inline(rng)
    if roll < 0.4:
        return "#" * rng.randint(1, 7) + " " + random_inline(rng).replace("\n", " ")
    if roll < 0.45:
        return random_inline(rng) + "\n" + rng.choice(["===", "---", "-", "--:", "|--"])
    if roll < 0.6 and depth < 3:
        marker = rng.choice(["-", "*", "+", "1.", "2.", "1)"])
        items = []
        for number in range(rng.randint(1, 4)):
            item_marker = marker if not marker[0].isdigit() else f"{int(marker[:-1]) + number}{marker[-1]}"
            blocks = [random_block(rng, depth + 1) for _ in range(rng.choice([1, 1, 2, 3]))]
            first, *rest = rng.choice(["\n", "\n", "\n\n"]).join(blocks).split("\n")
            pad = " " * (len(item_marker) + 1) if rng.random() < 0.85 else ""
            items.append(item_marker + " " + "\n".join([first, *(pad + line for line in rest)]))
        return rng.choice(["\n", "\n\n"]).join(items)
    if roll < 0.7 and depth < 3:
        return "\n".join((rng.choice(["> ", ">"]) if rng.random() < 0.9 else "") + line
                         for line in random_block(rng, depth + 1).split("\n"))
    if roll < 0.8:
        columns = rng.randint(1, 3)

        def row(cells):
            return "| " + " | ".join(cells) + " |"

        rows = [row([random_inline(rng, 2).replace("\n", " ") for _ in range(columns)]),
                row([rng.choice(["---", ":--", "--:", ":-:"]) for _ in range(columns)])]
        rows += [row([random_inline(rng, 2).replace("\n", " ") for _ in range(rng.randint(0, columns + 1))])
                 for _ in range(rng.randint(0, 3))]
        return "\n".join(rows)
    if roll < 0.87:
        fence = rng.choice(["```", "~~~"])
        body = "\n".join(random_inline(rng, 2) for _ in range(rng.randint(0, 2)))
        return f"{fence}{rng.choice(['', 'py', ' a b'])}\n{body}\n{fence}"
    if roll < 0.92:
        return "    " + random_inline(rng, 2).replace("\n", " ")
    return rng.choice(["---", "***", "- - -"])


def random_source(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 5)):
        text = random_block(rng) + rng.choice(["\n\n", "\n", "\n\n\n"])
        if rng.random() < 0.15:  # a restricted block, mostly between blank lines
            name = rng.choice(["internal", "partner", "customer"])
            text = rng.choice([f"\n::: {name}\n{text}\n:::\n", f"::: {name}\n{text}:::\n"])
        parts.append(text)
    return "\n".join(parts)


def test_random_sources_render_as_markdown_it_py():
    rng = random.Random(20261122)
    on_fast_path = 0
    for _ in range(600):
        source = random_source(rng)
        on_fast_path += render._fast_page_html is not None and render._fast_page(source, LABELS) is not None
        assert render_markdown(source, LABELS) == markdown_it_py(source, LABELS), source
    if render._fast_page_html is not None:  # sources with a block never take it
        assert on_fast_path > 40
