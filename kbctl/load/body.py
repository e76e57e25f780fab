"""Read a body once: `:::` blocks, links, heading anchors and raw HTML, each with its line."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from kbctl.markdown import fast_tree, reader, slugify
from kbctl.model import BLOCK_NAMES, VISIBILITY_LEVELS, Block, Diagnostic, Link
from kbctl.rules import rule

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MARKER = re.compile(r"^ {0,3}:::")
_MARKER_NAME = re.compile(r"^ {0,3}:::[ \t]*([A-Za-z0-9_-]*)(.*)$")
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
    """A body without any `:::` has no block: all of it is public text, in one segment. What
    _scan_blocks finds there, without its regexes on every line (most entries have no block,
    and that scan was a sixth of reading their bodies)."""
    info = BodyInfo(segments=[(None, body)])
    _walk_tokens(path, body, [0] * (body.count("\n") + 1), first_line, info)
    return info


def _analyse_with_blocks(path: str, entry_id: str | None, body: str, first_line: int) -> BodyInfo:
    info = BodyInfo()
    lines = body.split("\n")
    levels = _scan_blocks(path, entry_id, lines, first_line, info)
    # Marker lines become blank lines: markdown-it sees the same text on the same lines.
    stripped = "\n".join("" if lvl is None else text for text, lvl in zip(lines, levels))
    _walk_tokens(path, stripped, levels, first_line, info)
    return info


def _scan_blocks(path, entry_id, lines, first_line, info: BodyInfo) -> list[int | None]:
    """Find `:::` blocks outside code fences; return each line's visibility rank (None: marker)."""
    syntax = rule("block-syntax")
    levels: list[int | None] = []
    fence: str | None = None
    open_block: tuple[str, int, list[str]] | None = None  # name, file line, content
    nested = 0  # blocks wrongly opened inside open_block: their closers are not its closer
    segment: list[str] = []

    def flush(name: str | None) -> None:
        if segment:
            info.segments.append((name, "\n".join(segment)))
            segment.clear()

    for offset, text in enumerate(lines):
        line_no = first_line + offset
        current = open_block[0] if open_block else None
        fence_match = _FENCE.match(text)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
        elif fence_match:
            fence = fence_match.group(1)
        elif _MARKER.match(text):
            match = _MARKER_NAME.match(text)
            name, after = (match.group(1), match.group(2)) if match else (None, "")
            rest = after.strip()
            if rest and (not name or after[0] not in " \t"):
                name = None  # `:::?x`, `::::` or `::: a.b`: not a marker the renderer reads
            if name is None:
                info.diagnostics.append(syntax.diag(
                    path, line_no, "malformed block marker: use '::: NAME' and a closing ':::'", entry_id))
            elif name and open_block:
                nested += 1
                info.diagnostics.append(syntax.diag(
                    path, line_no, f"block '::: {name}' inside '::: {open_block[0]}': blocks cannot nest", entry_id))
            elif open_block and nested:
                nested -= 1  # closes the wrongly nested block reported above, not open_block
            elif name:
                if rest:
                    # The renderer reads `::: internal note` as an internal block, so it opens one.
                    info.diagnostics.append(syntax.diag(
                        path, line_no, f"unexpected text {rest!r} after '::: {name}'", entry_id))
                if name not in BLOCK_NAMES:
                    known = ", ".join(BLOCK_NAMES)
                    info.diagnostics.append(syntax.diag(
                        path, line_no, f"unknown block '::: {name}' (known: {known})", entry_id))
                flush(None)
                open_block = (name, line_no, [])
                levels.append(None)
                continue
            elif open_block:
                flush(open_block[0])
                name, start, content = open_block
                info.blocks.append(Block(name, start, line_no, "\n".join(content)))
                open_block = None
                levels.append(None)
                continue
            else:
                info.diagnostics.append(syntax.diag(
                    path, line_no, "closing ':::' without an opening block", entry_id))
        if open_block:
            open_block[2].append(text)
        segment.append(text)
        levels.append(_level(current) if current else 0)
    if open_block:
        name, start, content = open_block
        flush(name)
        info.blocks.append(Block(name, start, None, "\n".join(content)))
        info.diagnostics.append(syntax.diag(
            path, start, f"block '::: {name}' is never closed (add a line ':::')", entry_id))
    else:
        flush(None)
    return levels


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
    tokens = reader().parse(source)
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            anchor = token.attrGet("id") or ""
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
