"""The one Markdown dialect kbctl reads and renders, and the GitHub-style heading slugs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import MutableMapping
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from mdit_py_plugins.container import container_plugin

from kbctl.model import RESTRICTED_BLOCKS, VISIBILITY_LEVELS, VISIBILITY_RANK

try:
    import markdown_it_pyrs
except ImportError:  # optional: markdown-it-py then reads and renders everything
    markdown_it_pyrs = None  # type: ignore[assignment]

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

# Every `:::` block is one container token pair, whatever its name: one rule reads them for
# the checks (kbctl/load/body.py) and for the pages, so both find the same blocks, at any
# depth. A bare `:::` opens none: it only closes.
BLOCK_OPEN = "container_kb_block_open"
BLOCK_CLOSE = "container_kb_block_close"
# The audience rank a page is rendered for, in the parse's env; without it nothing is cut.
AUDIENCE = "kb_audience"
NEVER_ON_A_PAGE = len(VISIBILITY_LEVELS)  # ivr scripts, unknown and malformed blocks
_BLOCK_NAME = re.compile(r"[ \t]*([A-Za-z0-9_-]*)(.*)", re.DOTALL)


def block_name(token) -> tuple[str | None, str]:
    """A block opener's name (None: malformed, as `:::?x`, `::::x` or `::: a.b`) and the text
    after it."""
    match = _BLOCK_NAME.fullmatch(token.info)
    assert match is not None  # the pattern takes any info string
    name, after = match.groups()
    rest = after.strip()
    if token.markup != ":::" or not name or (rest and after[0] not in " \t"):
        return None, rest
    return name, rest


def page_level(token) -> int:
    """The lowest audience rank a block's content may be shown to on a page."""
    name, _ = block_name(token)
    return VISIBILITY_RANK[name] if name in RESTRICTED_BLOCKS else NEVER_ON_A_PAGE


class RestrictedContentOnPage(Exception):
    """A block above the audience reached the page renderer: the cut failed (kbctl.leakguard)."""


def _block_container(md: MarkdownIt) -> None:
    """Read `::: name` … `:::` as a container; render a restricted one as a marked section
    (reached only where the page's audience may see it: anything else is a bug)."""

    def render(self, tokens, idx, _options, env):
        token = tokens[idx]
        if token.nesting == -1:
            return RESTRICTED_BLOCK_CLOSE
        audience = (env or {}).get(AUDIENCE)
        if audience is None or page_level(token) > audience:
            raise RestrictedContentOnPage(token.info.strip())
        return restricted_block_open(block_name(token)[0], env)

    container_plugin(md, "kb_block", validate=lambda params, _markup: bool(params.strip()), render=render)
    md.core.ruler.after("block", "kb_cut_blocks", _cut_blocks)


def _cut_blocks(state: StateCore) -> None:
    """Drop, before inline parsing, every block (at any depth) above the audience in the env,
    and the link reference definitions made inside them: a page's links must not take a URL
    from text the page does not show."""
    audience = state.env.get(AUDIENCE)
    if audience is None:
        return
    kept: list = []
    cut: list[tuple[int, int]] = []
    depth = 0  # > 0: inside a cut block
    for token in state.tokens:
        if depth:
            depth += token.type == BLOCK_OPEN
            depth -= token.type == BLOCK_CLOSE
        elif token.type == BLOCK_OPEN and page_level(token) > audience:
            depth = 1
            assert token.map is not None  # block tokens carry their lines
            cut.append((token.map[0], token.map[1]))
        else:
            kept.append(token)
    if cut:
        state.tokens[:] = kept
        _drop_definitions(state.env, cut)


def _drop_definitions(env: MutableMapping, cut: list[tuple[int, int]]) -> None:
    def inside(found: dict) -> bool:
        return any(start <= found["map"][0] < end for start, end in cut)

    references = env.get("references") or {}
    for label in [label for label, found in references.items() if inside(found)]:
        del references[label]
    for duplicate in env.get("duplicate_refs", []):  # a later definition the first one hid
        if not inside(duplicate):
            references.setdefault(duplicate["label"], {k: duplicate[k] for k in ("title", "href", "map")})


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
fast_version: str | None = getattr(markdown_it_pyrs, "__version__", None)


def _rust_parser(*extensions: str):
    if markdown_it_pyrs is None:
        return None
    # The stubs list markdown-it.rs' rule names as literals; the callers pass valid ones.
    return markdown_it_pyrs.MarkdownIt("commonmark").enable_many(["strikethrough", *extensions])  # type: ignore[list-item]


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
def block_reader() -> MarkdownIt:
    """The parser for checks of a body with `:::` blocks: the pages' block structure (tables
    included: a table row and a block opener compete for a line), inline parsed where needed.
    What it finds inside a block is what the pages cut."""
    md = parser(html=True, restricted_blocks=True, _fresh=True)
    md.core.ruler.at("inline", _inline_where_needed)
    return md


@cache
def parser(*, html: bool, restricted_blocks: bool = False, tables: bool = True,
           _fresh: bool = False) -> MarkdownIt:
    """The parser. `html=True` keeps raw HTML as tokens so checks can find them (renderers
    drop them). `tables=False` is for reading links and headings only: rows then parse as
    paragraphs with the same links on the same lines, and the table rule, tried on every
    line, costs a fifth of the parse. `restricted_blocks` reads `:::` blocks, and cuts those
    above the audience an env gives (`AUDIENCE`)."""
    md = MarkdownIt("commonmark", {"html": html, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"] if tables else ["strikethrough"])
    md.core.ruler.push("kb_heading_ids", _heading_ids)
    if restricted_blocks:
        _block_container(md)
    return md
