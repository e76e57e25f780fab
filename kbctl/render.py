"""Shared rendering: an entry's Markdown for one audience, to HTML and to plain text.

Security lives here: blocks above the audience are cut from the *source* before parsing, so
their text never reaches a renderer; raw HTML is dropped; links to entries the channel does
not carry become plain text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from markdown_it.token import Token

from kbctl.load.body import classify
from kbctl.markdown import parser
from kbctl.model import RESTRICTED_BLOCKS, VISIBILITY_RANK, Entry, Link

# Given the link as written, return the URL to emit, or None to show the text unlinked.
LinkResolver = Callable[[Link], "str | None"]


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str  # plain text: no markup, no raw HTML
    linked_ids: tuple[str, ...]  # entries this rendering links to (as carried)


def audience_source(entry: Entry, audience_rank: int) -> str:
    """The body as a reader of `audience_rank` may see it: higher blocks and ivr scripts cut."""
    parts: list[str] = []
    for name, text in entry.segments:
        if name is None:
            parts.append(text)
        elif name in RESTRICTED_BLOCKS and VISIBILITY_RANK[name] <= audience_rank:
            parts.append(f"\n::: {name}\n{text}\n:::\n")
        # ivr scripts and unknown blocks never reach a page
    return "\n".join(parts)



def render_markdown(source: str, entry_path: str, resolve: LinkResolver, env: dict | None = None) -> Rendered:
    # The container rules are tried on every line; register them only where a block is.
    md = parser(html=True, restricted_blocks=":::" in source)
    env = dict(env or {})
    tokens = md.parse(source, env)
    linked: list[str] = []
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _resolve_links(token.children, entry_path, resolve, linked)
    tokens = [t for t in tokens if t.type != "html_block"]
    html = md.renderer.render(tokens, md.options, env)
    return Rendered(html=html, text=plain_text(tokens), linked_ids=tuple(linked))


def render_entry(entry: Entry, audience_rank: int, resolve: LinkResolver, env: dict | None = None) -> Rendered:
    """Render, or take from the cache a rendering of the same bytes for the same audience with
    the same link targets. Every link is resolved either way (resolvers may record assets)."""
    targets = tuple(resolve(classify(entry.path, link.raw, 0, 0)) for link in entry.links)
    if not entry.content_hash:  # not loaded from a file: nothing identifies it across runs
        return render_markdown(audience_source(entry, audience_rank), entry.path, resolve, env)
    key = _cache_key(entry, audience_rank, targets, env)
    found = RENDER_CACHE.get(key)
    if found is None:
        found = render_markdown(audience_source(entry, audience_rank), entry.path, resolve, env)
        RENDER_CACHE[key] = found
        _FRESH.add(key)
    _USED.add(key)
    _TOUCHED.append(key)
    return found


# Renderings by key; build.py loads it from and saves it to the KB's .kbctl/ cache.
RENDER_CACHE: dict[str, Rendered] = {}
_USED: set[str] = set()
_FRESH: set[str] = set()
_TOUCHED: list[str] = []


def _cache_key(entry: Entry, audience_rank: int, targets: tuple, env: dict | None) -> str:
    material = repr((entry.content_hash, entry.path, audience_rank, targets, sorted((env or {}).items())))
    return hashlib.sha256(material.encode()).hexdigest()


def take_renderings() -> list[tuple[str, Rendered | None]]:
    """Renderings used since the last call, what a worker sends back for the cache: the new
    ones in full, those it found in the cache (which the parent has too) by key only."""
    taken = [(key, RENDER_CACHE.get(key) if key in _FRESH else None) for key in _TOUCHED]
    _FRESH.clear()
    _TOUCHED.clear()
    return taken


def remember(renderings: list[tuple[str, Rendered | None]]) -> None:
    for key, rendered in renderings:
        if rendered is not None:
            RENDER_CACHE[key] = rendered
        _USED.add(key)


def used_renderings() -> dict[str, Rendered]:
    """The renderings this run used: what is worth keeping for the next one."""
    return {key: RENDER_CACHE[key] for key in _USED if key in RENDER_CACHE}


# markdown-it refuses `[x](javascript:…)` as a link and keeps it as text; defang that text too, so
# no published byte reads as a script URL (a pasted payload stays visible, but inert).
_SCRIPT_SCHEME = re.compile(r"(?i)\b(javascript|vbscript)\s*:")


def _resolve_links(children: list[Token], entry_path: str, resolve: LinkResolver, linked: list[str]) -> list[Token]:
    out: list[Token] = []
    unlinked_depth: list[bool] = []  # per open link: was it unlinked?
    for child in children:
        if child.type == "html_inline":
            continue  # raw HTML is never published
        if child.type == "text" and ":" in child.content:
            child.content = _SCRIPT_SCHEME.sub("\\1\uff1a", child.content)
        if child.type == "link_open":
            link = classify(entry_path, child.attrGet("href") or "", 0, 0)
            url = resolve(link)
            unlinked_depth.append(url is None)
            if url is None:
                continue
            child.attrSet("href", url)
            if link.kind in ("entry", "entry-path"):
                linked.append(link.target)
        elif child.type == "link_close":
            if unlinked_depth and unlinked_depth.pop():
                continue
        elif child.type == "image":
            url = resolve(classify(entry_path, child.attrGet("src") or "", 0, 0))
            if url is None:
                text = Token("text", "", 0)
                text.content = child.content
                out.append(text)
                continue
            child.attrSet("src", url)
        out.append(child)
    return out


_BLOCK_ENDS = {"paragraph_close", "heading_close", "list_item_close", "blockquote_close",
               "tr_close", "fence", "code_block", "hr"}


def plain_text(tokens: list[Token]) -> str:
    """Readable text of the tokens: words kept, markup and raw HTML dropped."""
    out: list[str] = []
    for token in tokens:
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    out.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    out.append(" ")
                elif child.type == "image":
                    out.append(child.content)
        elif token.type in ("fence", "code_block"):
            out.append(token.content.strip())
        elif token.type in ("th_close", "td_close"):
            out.append(" ")
        if token.type in _BLOCK_ENDS:
            out.append("\n")
    text = "".join(out)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)
