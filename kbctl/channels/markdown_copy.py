"""An entry's Markdown copy as a channel carries it (CONTRACT 8): what `index.md`, `llms-full.txt`,
RAG chunks and `kbctl mcp` give AI assistants.

The copy is made from the body's segments (kbctl/load/body.py: runs of lines of one owner,
found by the same parse as the blocks the pages cut), so the cut is the pages' cut:

- public text, and restricted blocks at or below the channel's audience, are kept (a kept block
  keeps its `::: name` … `:::` markers: an agent reads that the text is, say, internal);
- blocks above the audience, `::: ivr` scripts, unknown and malformed blocks are dropped, with
  the link reference definitions made inside them (they are in no kept segment);
- raw HTML is dropped, as on pages;
- each link goes where `resolve` says (kbctl.render `LinkResolver`), or becomes its text:
  `answer_resolver` sends links to entries the channel carries to `link_url(target)` (their
  Markdown copy), links to other entries to plain text, files to `file_url` (or plain text),
  and external links of a scheme other than http(s), mailto or tel to plain text.

Links are rewritten in the Markdown text, outside code: inline links and images, `<scheme:…>`
autolinks, and reference definitions (a definition whose target is not carried is dropped and
the links using it become their text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from kbctl.channels.base import ChannelContext, last_verified
from kbctl.checks.links import link_target
from kbctl.load.body import classify
from kbctl.markdown import parser
from kbctl.model import RESTRICTED_BLOCKS, VISIBILITY_RANK, Entry, Link
from kbctl.render import LinkResolver

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")
# Markdown copies drop these as pages do (kbctl.render `_SCRIPT_SCHEME`): no byte reads as a script URL.
_SCRIPT_SCHEME = re.compile(r"(?i)\b(javascript|vbscript)\s*:")
FRONT_MATTER_KEYS = ("id", "title", "url", "locale", "category", "tags", "updated")


@dataclass(frozen=True)
class Part:
    """A run of the answer as carried: public text (`block` None, `level` 0) or a restricted
    block the audience may see (its name and rank). `text` is Markdown, links resolved,
    without the block's markers."""

    block: str | None
    level: int
    text: str

    def markdown(self) -> str:
        return self.text if self.block is None else f"::: {self.block}\n{self.text}\n:::"


def answer_resolver(ctx: ChannelContext, entry: Entry, *, link_url: Callable[[Entry], str | None],
                    file_url: Callable[[str], str | None] | None = None) -> LinkResolver:
    """Where each link of the entry's copy goes on channel `ctx`: a carried entry's copy at
    `link_url(target)` (plus the anchor; None: plain text), an anchor of this entry stays `#anchor`, a file at
    `file_url(kb path)` if given and the file is linked from text the audience sees."""
    audience = ctx.channel.audience_rank
    visible_files = {link.target for link in entry.links if link.kind == "file" and link.level <= audience}

    def resolve(link: Link) -> str | None:
        if link.kind in ("entry", "entry-path"):
            target = link_target(ctx.kb, link)
            if target is None or not ctx.carries(target):
                return None  # not carried: no URL and no title of the target, the text only
            url = link_url(target)
            if url is None:
                return None  # carried, but with no address to give (a RAG chunk without a site)
            return url + (f"#{quote(link.anchor, safe='')}" if link.anchor else "")
        if link.kind == "anchor":
            return f"#{quote(link.anchor, safe='')}" if link.anchor else None
        if link.kind == "file":
            return file_url(link.target) if file_url is not None and link.target in visible_files else None
        return link.target if link.target.lower().startswith(SAFE_SCHEMES) else None

    return resolve


def answer_parts(ctx: ChannelContext, entry: Entry, resolve: LinkResolver) -> list[Part]:
    """The answer's runs the channel's audience may see, in order, each rewritten."""
    audience = ctx.channel.audience_rank
    kept: list[tuple[str | None, int, str]] = []
    for name, text in entry.segments:
        if name is None:
            kept.append((None, 0, text))
        elif name in RESTRICTED_BLOCKS and VISIBILITY_RANK[name] <= audience:
            kept.append((name, VISIBILITY_RANK[name], text))
        # else: above the audience, an ivr script, or an unknown or malformed block
    # A definition applies to the whole text shown, whichever run it is in.
    unlinked = {label for _, _, text in kept for label in _unlinked_labels(text, entry.path, resolve)}
    parts: list[Part] = []
    for name, level, text in kept:
        cleaned = _rewrite(text, entry.path, resolve, unlinked).strip("\n")
        if cleaned.strip():
            parts.append(Part(name, level, cleaned))
    return parts


def answer_markdown(ctx: ChannelContext, entry: Entry, *, link_url: Callable[[Entry], str | None],
                    file_url: Callable[[str], str | None] | None = None) -> str:
    """The body only: the answer as channel `ctx` carries it, as Markdown (ends with a newline,
    or is empty)."""
    resolve = answer_resolver(ctx, entry, link_url=link_url, file_url=file_url)
    text = "\n\n".join(part.markdown() for part in answer_parts(ctx, entry, resolve))
    return text + "\n" if text else ""


def front_matter(entry: Entry, url: str | None, updated: str | None) -> str:
    """`---` YAML `---` with FRONT_MATTER_KEYS; each value is written as JSON (valid YAML:
    strings quoted and escaped, so no value can end the front matter or add a key), `<` as
    `\\u003c` (the same string, which no viewer can take for raw HTML)."""
    values = {"id": entry.id, "title": entry.title, "url": url, "locale": entry.locale,
              "category": entry.category, "tags": entry.tags, "updated": updated}
    lines = [f"{key}: {_yaml_value(values[key])}" for key in FRONT_MATTER_KEYS]
    return "---\n" + "\n".join(lines) + "\n---\n"


def _yaml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def heading_text(text: str) -> str:
    """Plain text (a title, a summary) made safe to put in Markdown: one line, no raw HTML."""
    return " ".join(text.split()).replace("<", "&lt;")


def entry_markdown(ctx: ChannelContext, entry: Entry, *, link_url: Callable[[Entry], str | None],
                   url: str | None = None, file_url: Callable[[str], str | None] | None = None) -> str:
    """The entry's Markdown copy as channel `ctx` carries it: front matter (`url` is the entry's
    own URL, or null), `# title`, the summary, then `answer_markdown`."""
    head = front_matter(entry, url, last_verified(entry)) + "\n" + head_markdown(entry)
    body = answer_markdown(ctx, entry, link_url=link_url, file_url=file_url)
    return head + ("\n" + body if body else "")


def head_markdown(entry: Entry) -> str:
    """`# title`, then the summary where there is one (public fields: carried with the entry)."""
    head = f"# {heading_text(entry.title)}\n"
    return head + (f"\n{heading_text(entry.summary)}\n" if entry.summary else "")


# ---------------------------------------------------------------------------------------------
# Rewriting a segment's Markdown.

_INLINE_LINK = re.compile(
    r"(!?)\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]\("          # ![text]( or [text](
    r"[ \t]*(<[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()]*)*)"  # destination
    r"((?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?)[ \t]*\)")  # optional title
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>")
_DEFINITION = re.compile(r"^( {0,3})\[([^\[\]\n]+)\]:[ \t]*(<[^<>\n]*>|\S+)(.*)$")


def _unlinked_labels(text: str, entry_path: str, resolve: LinkResolver) -> set[str]:
    """The labels of the reference definitions in `text` whose target is shown as plain text."""
    code = _structure(text)[0]
    out: set[str] = set()
    for index, line in enumerate(text.split("\n")):
        definition = None if index in code else _DEFINITION.match(line)
        if definition and resolve(classify(entry_path, _unbracket(definition.group(3)), 0, 0)) is None:
            out.add(_label_key(definition.group(2)))
    return out


def _rewrite(text: str, entry_path: str, resolve: LinkResolver, unlinked: set[str]) -> str:
    lines = text.split("\n")
    code, html_lines, inline_html = _structure(text)
    out: list[str] = []
    for index, line in enumerate(lines):
        if index in code:
            out.append(line)
            continue
        if index in html_lines:
            continue  # a raw HTML block: never published
        for tag in inline_html.get(index, ()):
            line = line.replace(tag, "", 1)
        definition = _DEFINITION.match(line)
        if definition:
            indent, label, destination, title = definition.groups()
            url = resolve(classify(entry_path, _unbracket(destination), 0, 0))
            if url is None:
                continue
            out.append(f"{indent}[{label}]: {_bracket(url)}{title}")
            continue
        out.append(line)
    joined = "\n".join(out)
    return _outside_code(joined, code_lines=code, unlinked=unlinked, entry_path=entry_path, resolve=resolve)


def _structure(text: str) -> tuple[set[int], set[int], dict[int, list[str]]]:
    """Lines of code (fences, indented code), lines of raw HTML blocks, and the inline raw HTML
    tags by line, as the pages' parser reads the text."""
    tokens = parser(html=True).parse(text)
    code: set[int] = set()
    html_lines: set[int] = set()
    inline_html: dict[int, list[str]] = {}
    for token in tokens:
        if not token.map:
            continue
        if token.type in ("fence", "code_block"):
            code.update(range(*token.map))
        elif token.type == "html_block":
            html_lines.update(range(*token.map))
        elif token.type == "inline" and token.children:
            line = token.map[0]
            for child in token.children:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type == "html_inline":
                    inline_html.setdefault(line, []).append(child.content)
    return code, html_lines, inline_html


def _outside_code(text: str, *, code_lines: set[int], unlinked: set[str], entry_path: str,
                  resolve: LinkResolver) -> str:
    out: list[str] = []
    for index, line in enumerate(text.split("\n")):
        if index in code_lines:
            out.append(line)
            continue
        pieces = re.split(r"(`+[^`]*?`+)", line) if "`" in line else [line]
        out.append("".join(piece if piece.startswith("`") else
                           _rewrite_piece(piece, unlinked, entry_path, resolve) for piece in pieces))
    return "\n".join(out)


def _rewrite_piece(piece: str, unlinked: set[str], entry_path: str, resolve: LinkResolver) -> str:
    def inline(match: re.Match) -> str:
        bang, label, destination, title = match.groups()
        url = resolve(classify(entry_path, _unbracket(destination), 0, 0))
        label = _INLINE_LINK.sub(inline, label)  # an image inside a link's text
        if url is None:
            return label
        return f"{bang}[{label}]({_bracket(url)}{title})"

    def autolink(match: re.Match) -> str:
        url = resolve(classify(entry_path, match.group(1), 0, 0))
        return match.group(1) if url is None else f"<{url}>"

    piece = _INLINE_LINK.sub(inline, piece)
    piece = _AUTOLINK.sub(autolink, piece)
    if unlinked:
        piece = _REFERENCE.sub(lambda m: _unreference(m, unlinked), piece)
    return _SCRIPT_SCHEME.sub("\\1\uff1a", piece)


_REFERENCE = re.compile(r"(!?)\[([^\[\]\n]*)\](?:\[([^\[\]\n]*)\])?(?!\()")


def _unreference(match: re.Match, unlinked: set[str]) -> str:
    _bang, text, label = match.groups()
    key = _label_key(label if label else text)
    return text if key in unlinked else match.group(0)


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _unbracket(destination: str) -> str:
    return destination[1:-1] if destination.startswith("<") and destination.endswith(">") else destination


def _bracket(url: str) -> str:
    return f"<{url}>" if any(ch in url for ch in " ()<>") else url
