"""The one Markdown dialect kbctl reads and renders, and the GitHub-style heading slugs."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from mdit_py_plugins.container import container_plugin

from kbctl.model import RESTRICTED_BLOCKS

try:
    import markdown_it_pyrs
except ImportError:  # optional: markdown-it-py then reads and renders everything
    markdown_it_pyrs = None

_NOT_SLUG = re.compile(r"[^\w\- ]", re.UNICODE)


def slugify(text: str) -> str:
    """GitHub's anchor for a heading: lower-cased, punctuation dropped, spaces to `-`, CJK kept."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    return _NOT_SLUG.sub("", text).replace(" ", "-")


def _heading_ids(state: StateCore) -> None:
    """Give every heading its slug as `id`, numbering repeats as GitHub does (`x`, `x-1`)."""
    seen: dict[str, int] = {}
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        text = "".join(
            child.content for child in (inline.children or [])
            if child.type in ("text", "code_inline")
        ) if inline.children else inline.content
        base = slugify(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        token.attrSet("id", base if count == 0 else f"{base}-{count}")


def restricted_block_open(name: str, env: dict | None) -> str:
    """The HTML that opens a `::: name` block: a marked section with the block's label."""
    label = (env or {}).get("block_labels", {}).get(name, name)
    return (
        f'<section class="kb-restricted kb-restricted-{name}" data-visibility="{name}">'
        f'<p class="kb-restricted-label">{escapeHtml(label)}</p>\n'
    )


RESTRICTED_BLOCK_CLOSE = "</section>\n"


def _restricted_container(md: MarkdownIt, name: str) -> None:
    """Render `::: internal` … `:::` as a marked section (only reached when the channel may show it)."""

    def render(self, tokens, idx, _options, env):
        if tokens[idx].nesting == 1:
            return restricted_block_open(name, env)
        return RESTRICTED_BLOCK_CLOSE

    container_plugin(md, name, render=render)


def _inline_where_needed(state: StateCore) -> None:
    """Parse inline content only where a link, image or raw HTML can be (a `[` or `<`).

    For reading links, anchors and raw HTML, the other paragraphs' inline parse is wasted
    work: about a third of the whole parse. Headings are always parsed: their anchors must
    be those of the rendered page (`_b_` is emphasis there, not underscores).
    """
    md = state.md
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "inline":
            continue
        token.children = []
        in_heading = index > 0 and tokens[index - 1].type == "heading_open"
        if in_heading or "[" in token.content or "<" in token.content:
            md.inline.parse(token.content, md, state.env, token.children)


# markdown-it.rs (markdown-it-pyrs), where installed: the same CommonMark reading as
# markdown-it-py, in Rust, several times faster.
fast_version: str | None = markdown_it_pyrs.__version__ if markdown_it_pyrs else None


def _rust_parser(*extensions: str):
    if markdown_it_pyrs is None:
        return None
    return markdown_it_pyrs.MarkdownIt("commonmark").enable_many(["strikethrough", *extensions])


# Checks read bodies with markdown-it.rs' tree (tests hold the two readings equal).
_reader = _rust_parser()
fast_tree = _reader.tree if _reader is not None else None
# kbctl.render takes a page's HTML from markdown-it.rs where the source has only constructs
# on which the two render alike: the dialect of `parser(html=True)`, tables included.
_pages = _rust_parser("table")
fast_page_html = _pages.render if _pages is not None else None


@cache
def reader() -> MarkdownIt:
    """The parser for checks: raw HTML kept as tokens, no tables, inline parsed where needed."""
    md = parser(html=True, tables=False, _fresh=True)
    md.core.ruler.at("inline", _inline_where_needed)
    return md


@cache
def parser(*, html: bool, restricted_blocks: bool = False, tables: bool = True,
           _fresh: bool = False) -> MarkdownIt:
    """The parser. `html=True` keeps raw HTML as tokens so checks can find them (renderers
    drop them). `tables=False` is for reading links and headings only: rows then parse as
    paragraphs with the same links on the same lines, and the table rule, tried on every
    line, costs a fifth of the parse."""
    md = MarkdownIt("commonmark", {"html": html, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"] if tables else ["strikethrough"])
    md.core.ruler.push("kb_heading_ids", _heading_ids)
    if restricted_blocks:
        for name in RESTRICTED_BLOCKS:
            _restricted_container(md, name)
    return md
