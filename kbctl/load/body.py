"""Read a body once: `:::` blocks, links, heading anchors and raw HTML, each with its line."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from markdown_it.token import Token

from kbctl.markdown import (
    BLOCK_CLOSE,
    BLOCK_OPEN,
    block_name,
    block_reader,
    fast_tree,
    reader,
    slugify,
)
from kbctl.model import BLOCK_NAMES, RESTRICTED_BLOCKS, VISIBILITY_LEVELS, Block, Diagnostic, Link
from kbctl.rules import rule

# A `:::` marker as a line reads, whatever is before it (quote marks, list markers, indent).
_LINE_MARKER = re.compile(r"^[ \t>]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+[ \t>]*)*(:{3,})(.*)$")
_CLOSER = re.compile(r"^[ \t>]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+[ \t>]*)*:{3,}[ \t]*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
UNKNOWN_BLOCK_LEVEL = len(VISIBILITY_LEVELS) - 1  # unknown names are treated as internal


@dataclass
class BodyInfo:
    blocks: list[Block] = field(default_factory=list)
    segments: list[tuple[str | None, str]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    headings: list[tuple[int, str, str]] = field(default_factory=list)
    raw_html_lines: list[int] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def analyse(path: str, entry_id: str | None, body: str, first_line: int) -> BodyInfo:
    if ":::" not in body:
        return _analyse_plain(path, body, first_line)
    return _analyse_with_blocks(path, entry_id, body, first_line)


def _analyse_plain(path: str, body: str, first_line: int) -> BodyInfo:
    """A body without any `:::` has no block: all of it is public text, in one segment, read
    by the fastest reader (most entries have no block)."""
    info = BodyInfo(segments=[(None, body)])
    _walk_tokens(path, body, [0] * (body.count("\n") + 1), first_line, info)
    return info


def _analyse_with_blocks(path: str, entry_id: str | None, body: str, first_line: int) -> BodyInfo:
    """Blocks are what the pages' parser reads as blocks (kbctl.markdown `block_reader`): the
    pages cut exactly those. Links, anchors and raw HTML come from the same parse."""
    info = BodyInfo()
    tokens = block_reader().parse(body)
    lines = body.split("\n")
    levels, owners = _read_blocks(path, entry_id, tokens, lines, first_line, info)
    _check_marker_lines(path, entry_id, tokens, lines, first_line, info)
    _segments(lines, levels, owners, info)
    _walk_parsed(path, tokens, levels, first_line, info)
    return info


def _read_blocks(path, entry_id, tokens, lines, first_line, info: BodyInfo):
    """The blocks (and block-syntax findings); each line's visibility rank (None: a marker)
    and the name of the block it is in.
    A block must be at the top level: one inside a quote or a list item would take its
    content from lines it shares with them, which no page could cut cleanly."""
    syntax = rule("block-syntax")
    levels: list[int | None] = [0] * len(lines)
    owners: list[str | None] = [None] * len(lines)  # the name of the block a line is in
    open_blocks: list[tuple[str | None, Token]] = []  # the containers around the current token
    for token in tokens:
        if token.type == BLOCK_CLOSE:
            open_blocks.pop()
            continue
        if token.type != BLOCK_OPEN:
            continue
        name, rest = block_name(token)
        start, end = token.map
        line_no = first_line + start
        outer = next((outer for outer, _ in reversed(open_blocks) if outer), None)
        open_blocks.append((name, token))
        if name is None:
            info.diagnostics.append(syntax.diag(
                path, line_no, "malformed block marker: use '::: NAME' and a closing ':::'", entry_id))
        elif token.level and outer:
            info.diagnostics.append(syntax.diag(
                path, line_no, f"block '::: {name}' inside '::: {outer}': blocks cannot nest", entry_id))
        elif token.level:
            info.diagnostics.append(syntax.diag(
                path, line_no, f"block '::: {name}' inside a quote or list item: a block starts at "
                "the left margin, outside quotes and lists", entry_id))
        else:
            _check_opener(path, entry_id, name, rest, line_no, info)
        closed = end < len(lines) and _closes(lines[end])
        rank = _level(name or "")
        for offset in range(start + 1, end):
            inner = levels[offset]
            if inner is not None and rank >= inner:
                levels[offset], owners[offset] = rank, name or "malformed"
        levels[start] = None
        if closed:
            levels[end] = None
        if token.level == 0 and name:
            info.blocks.append(Block(name, line_no, first_line + end if closed else None,
                                     "\n".join(lines[start + 1:end])))
            if not closed:
                info.diagnostics.append(syntax.diag(
                    path, line_no, f"block '::: {name}' is never closed (add a line ':::')", entry_id))
    return levels, owners


def _check_opener(path, entry_id, name: str, rest: str, line_no: int, info: BodyInfo) -> None:
    syntax = rule("block-syntax")
    if rest:
        # The pages read `::: internal note` as an internal block, so it opens one.
        info.diagnostics.append(syntax.diag(
            path, line_no, f"unexpected text {rest!r} after '::: {name}'", entry_id))
    if name not in BLOCK_NAMES:
        known = ", ".join(BLOCK_NAMES)
        info.diagnostics.append(syntax.diag(
            path, line_no, f"unknown block '::: {name}' (known: {known})", entry_id))


def _closes(line: str) -> bool:
    return bool(_CLOSER.match(line))


def _check_marker_lines(path, entry_id, tokens, lines, first_line, info: BodyInfo) -> None:
    """The markers as an editor reads the lines: an opener and the next closer make a block.
    A restricted one that the parse does not read as a block (it is in code, raw HTML or a
    paragraph: after a fence that did not close where it seems to, say) would be published,
    so it is an error; so is a closer that closes nothing."""
    syntax = rule("block-syntax")
    openers = {token.map[0] for token in tokens if token.type == BLOCK_OPEN}
    code = _code_lines(tokens)
    stack: list[tuple[int, str]] = []  # (line offset, name) of the openers seen
    for offset, text in enumerate(lines):
        if ":::" not in text:
            continue
        marker = _LINE_MARKER.match(text)
        if marker is None:
            continue
        name = marker.group(2).strip().split(" ")[0].split("\t")[0]
        if name:
            stack.append((offset, name))
        elif stack:
            start, opened = stack.pop()
            if start not in openers and opened in RESTRICTED_BLOCKS:
                info.diagnostics.append(syntax.diag(
                    path, first_line + start, f"'::: {opened}' is not read as a block here (it is inside "
                    "code, raw HTML or a paragraph), so its content would be published: start the "
                    "block at the left margin, after any code block is closed", entry_id))
        elif offset not in code and not _closes_a_block(tokens, offset):
            info.diagnostics.append(syntax.diag(
                path, first_line + offset, "closing ':::' without an opening block", entry_id))


def _closes_a_block(tokens, offset: int) -> bool:
    return any(token.type == BLOCK_OPEN and token.map[1] == offset for token in tokens)


def _code_lines(tokens) -> set[int]:
    """Lines of code blocks and raw HTML blocks, whose text is nobody's marker."""
    lines: set[int] = set()
    for token in tokens:
        if token.type in ("fence", "code_block", "html_block") and token.map:
            lines.update(range(*token.map))
    return lines


def _segments(lines: list[str], levels: list[int | None], owners: list[str | None], info: BodyInfo) -> None:
    """The body as runs of lines of one owner (None: public text; markers left out)."""
    run: list[str] = []
    owner: str | None = None
    for text, level, line_owner in zip(lines, levels, owners):
        if run and (level is None or line_owner != owner):
            info.segments.append((owner, "\n".join(run)))
            run = []
        if level is not None:
            run.append(text)
            owner = line_owner
    if run:
        info.segments.append((owner, "\n".join(run)))


def _level(name: str) -> int:
    if name == "ivr":
        return len(VISIBILITY_LEVELS)
    if name in VISIBILITY_LEVELS:
        return VISIBILITY_LEVELS.index(name)
    return UNKNOWN_BLOCK_LEVEL


def _walk_tokens(path, source, levels, first_line, info: BodyInfo) -> None:
    if fast_tree is not None:
        _walk_tree(path, source, levels, first_line, info)
    else:
        _walk_markdown_it(path, source, levels, first_line, info)


def _walk_tree(path, source, levels, first_line, info: BodyInfo) -> None:
    """The same reading as `_walk_markdown_it`, from markdown-it.rs' syntax tree: 7 times faster,
    which makes it most of a cold `kbctl validate`. Positions come as byte offsets."""
    assert fast_tree is not None  # _walk_tokens comes here only with markdown-it.rs
    lines = _LineCounter(source.encode("utf-8"))
    repeats: dict[str, int] = {}
    for node in fast_tree(source).walk():
        name = node.name
        if name in ("heading", "lheading"):  # lheading: a setext heading (underlined)
            text = _tree_text(node)
            anchor = _numbered(slugify(text), repeats)
            info.anchors.add(anchor)
            info.headings.append((node.meta["level"], text, anchor))
        elif name in ("html_block", "html_inline"):
            info.raw_html_lines.append(first_line + lines.before(node.srcmap[0]))
        elif name in ("link", "image", "autolink"):
            offset = lines.before(node.srcmap[0])
            level = levels[offset] if offset < len(levels) and levels[offset] is not None else 0
            info.links.append(classify(path, node.meta.get("url", ""), first_line + offset, level))


class _LineCounter:
    """The 0-based line of byte offsets met in a tree walk, thus mostly in increasing order:
    newlines are counted on from the previous offset, so a body is scanned about once. Only
    links and raw HTML need a line: listing every line's start for each body cost more."""

    def __init__(self, data: bytes):
        self._data = data
        self._offset = 0
        self._line = 0

    def before(self, offset: int) -> int:
        if offset < self._offset:
            self._offset = self._line = 0
        self._line += self._data.count(b"\n", self._offset, offset)
        self._offset = offset
        return self._line


def _tree_text(node) -> str:
    """A heading's text as markdown-it-py's heading ids see it: text and code, not image alts."""
    parts = []
    for child in node.children:
        if child.name in ("text", "text_special"):
            parts.append(child.meta.get("content", ""))
        elif child.name != "image":
            parts.append(_tree_text(child))
    return "".join(parts)


def _numbered(base: str, repeats: dict[str, int]) -> str:
    count = repeats.get(base, 0)
    repeats[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def _walk_markdown_it(path, source, levels, first_line, info: BodyInfo) -> None:
    _walk_parsed(path, reader().parse(source), levels, first_line, info)


def _walk_parsed(path, tokens: list[Token], levels, first_line, info: BodyInfo) -> None:
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            anchor = str(token.attrGet("id") or "")
            inline = tokens[index + 1]
            text = "".join(child.content for child in inline.children or []
                           if child.type in ("text", "code_inline"))
            info.anchors.add(anchor)
            info.headings.append((int(token.tag[1]), text, anchor))
        elif token.type == "html_block" and token.map:
            info.raw_html_lines.append(first_line + token.map[0])
        elif token.type == "inline" and token.map:
            _inline(path, token, levels, first_line, info)


def _inline(path, token, levels, first_line, info: BodyInfo) -> None:
    offset = token.map[0]
    for child in token.children or []:
        if child.type in ("softbreak", "hardbreak"):
            offset += 1
        elif child.type == "html_inline":
            info.raw_html_lines.append(first_line + offset)
            offset += child.content.count("\n")  # a tag may span lines: `<a\nhref=…>`
        elif child.type in ("link_open", "image"):
            href = child.attrGet("href" if child.type == "link_open" else "src") or ""
            level = levels[offset] if offset < len(levels) and levels[offset] is not None else 0
            info.links.append(classify(path, href, first_line + offset, level))


def classify(entry_path: str, href: str, line: int, level: int) -> Link:
    """What a link points to: another entry, an anchor here, a file in the KB, or elsewhere."""
    if href.startswith("kb:"):
        target, _, anchor = unquote(href[3:]).partition("#")
        return Link("entry", target, anchor or None, line, level, href)
    if href.startswith("#"):
        return Link("anchor", "", unquote(href[1:]) or None, line, level, href)
    if _SCHEME.match(href) or href.startswith("//"):
        return Link("external", href, None, line, level, href)
    target, _, anchor = href.partition("#")
    target = unquote(target.split("?", 1)[0])
    if target.startswith("/"):
        resolved = posixpath.normpath(target.lstrip("/"))
    else:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry_path), target))
    kind = "entry-path" if resolved.endswith(".md") else "file"
    return Link(kind, resolved, unquote(anchor) or None, line, level, href)
