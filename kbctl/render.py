"""Shared rendering: an entry's Markdown for one audience, to HTML and to plain text.

Security lives here: blocks above the audience are cut from the token stream right after the
block parse (the parse that found them for the checks: kbctl/load/body.py), before any inline
parsing, so their text never reaches a renderer, and kbctl/leakguard.py checks every page's
tokens on their way out; raw HTML is dropped; links to entries the channel does not carry
become plain text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import markdown_it
import mdit_py_plugins
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from kbctl import leakguard
from kbctl.load.body import classify
from kbctl.markdown import (
    AUDIENCE,
    RestrictedContentOnPage,
    fast_page_html,
    fast_version,
    parser,
    slugify,
)
from kbctl.model import Entry, Link

# Given the link as written, return the URL to emit, or None to show the text unlinked.
LinkResolver = Callable[[Link], "str | None"]
# Given the tokens a page is about to be made of (None: HTML of a source without blocks),
# raise if they carry what the page's audience may not see.
PageCheck = Callable[["list[Token] | None"], None]


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str  # plain text: no markup, no raw HTML
    linked_ids: tuple[str, ...]  # entries this rendering links to (as carried)


def render_markdown(source: str, entry_path: str, resolve: LinkResolver, env: dict | None = None,
                    audience_rank: int = 0, check: PageCheck | None = None) -> Rendered:
    """The answer HTML, its plain text and the entries it links to, for a reader of
    `audience_rank`: `:::` blocks above it, and ivr scripts, are cut from the parse.

    markdown-it-py defines the output. Where markdown-it.rs is installed and the source has
    only constructs on which the two agree byte for byte (`_fast_path_fits`: no `:::` block
    among them), the output is made from markdown-it.rs' HTML instead, four to five times
    faster (rendering was two thirds of a page's cost in a cold site build).
    tests/test_render_fast.py holds the two paths equal. `check` sees the tokens a page is
    made of (None: the fast path's HTML, of a source without blocks) before it is made."""
    html = _fast_page(source, env) if _fast_page_html is not None else None
    if html is not None:
        if check is not None:
            check(None)
        return _render_fast(source, html, entry_path, resolve)
    return _render_markdown_it(source, entry_path, resolve, env, audience_rank, check)


def _render_markdown_it(source: str, entry_path: str, resolve: LinkResolver, env: dict | None,
                        audience_rank: int = 0, check: PageCheck | None = None) -> Rendered:
    # The container rule is tried on every line; register it only where a block may be.
    md = parser(html=True, restricted_blocks=":::" in source)
    env = {**(env or {}), AUDIENCE: audience_rank}
    tokens = md.parse(source, env)  # blocks above the audience are cut here (kb_cut_blocks)
    linked: list[str] = []
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _resolve_links(token.children, entry_path, resolve, linked)
    tokens = [t for t in tokens if t.type != "html_block"]
    if check is not None:
        check(tokens)
    html = md.renderer.render(tokens, md.options, env)
    return Rendered(html=html, text=plain_text(tokens), linked_ids=tuple(linked))


def _rendering(entry: Entry, audience_rank: int, resolve: LinkResolver, env: dict | None) -> Rendered:
    """The entry's body for the audience, checked on its way (kbctl/leakguard.py)."""
    def check(tokens):
        leakguard.check_page(entry, audience_rank, tokens)

    try:
        return render_markdown(entry.body, entry.path, resolve, env, audience_rank, check)
    except RestrictedContentOnPage as found:
        leakguard.refuse(entry, audience_rank, f"a '::: {found}' block")


def render_entry(entry: Entry, audience_rank: int, resolve: LinkResolver, env: dict | None = None) -> Rendered:
    """Render, or take from the cache a rendering of the same bytes for the same audience with
    the same link targets. Every link is resolved either way (resolvers may record assets)."""
    targets = tuple(resolve(classify(entry.path, link.raw, 0, 0)) for link in entry.links)
    if not entry.content_hash:  # not loaded from a file: nothing identifies it across runs
        return _rendering(entry, audience_rank, resolve, env)
    key = _cache_key(entry, audience_rank, targets, env)
    found = RENDER_CACHE.get(key)  # made by this code (the cache is keyed on it), so checked
    if found is None:
        found = _rendering(entry, audience_rank, resolve, env)
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


def used_renderings() -> dict[str, list]:
    """The renderings this run used, what is worth keeping for the next one, as JSON data
    (`[html, text, linked ids]`) for the cache: `load_renderings` makes them again."""
    return {key: [found.html, found.text, list(found.linked_ids)]
            for key in _USED if (found := RENDER_CACHE.get(key)) is not None}


def load_renderings(stored: dict[str, list]) -> None:
    """Hold the renderings `used_renderings` gave, read back from the cache (sealed: kbctl's
    own, made by this very code, as the cache key says)."""
    for key, (html, text, linked_ids) in stored.items():
        RENDER_CACHE[key] = Rendered(html, text, tuple(linked_ids))


def forget_renderings() -> None:
    """Drop every rendering held (build.py keeps one channel's at a time: memory)."""
    RENDER_CACHE.clear()
    _USED.clear()
    _FRESH.clear()
    _TOUCHED.clear()


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
            link = classify(entry_path, str(child.attrGet("href") or ""), 0, 0)
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
            url = resolve(classify(entry_path, str(child.attrGet("src") or ""), 0, 0))
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
    return _plain_lines(out)


def _plain_lines(out: list[str]) -> str:
    text = "".join(out)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------------------------------------
# The fast path: markdown-it.rs' HTML, made into what `_render_markdown_it` gives.

# The versions (markdown-it-py, mdit-py-plugins, markdown-it-pyrs) on which the tests hold the
# fast path equal to markdown-it-py; with any others, markdown-it-py renders every page (the
# same bytes, slower) and tests/test_render_fast.py skips the comparisons until the new
# versions are checked and added here.
VALIDATED_READERS = {("4.3.0", "0.7.0", "0.4.0")}
READERS = (markdown_it.__version__, mdit_py_plugins.__version__, fast_version)


def validated_fast_reader(readers: tuple[str, str, str | None]) -> Callable[[str], str] | None:
    """markdown-it.rs' renderer where these reader versions were held equal, else None."""
    return fast_page_html if readers in VALIDATED_READERS else None


_fast_page_html = validated_fast_reader(READERS)

# Where the fast path may be taken. markdown-it.rs (0.6) ports an older markdown-it than
# markdown-it-py (4.x) does, with its own block-interruption machinery, so the two readers
# disagree on some sources. Each test below excludes one cause of disagreement by a condition
# on the source text that holds wherever that cause could act: a superset, so some sources go
# to markdown-it-py needlessly, and none is rendered differently. The tests cost about 15 µs
# a page, of the 300 µs the fast path saves; tests/test_render_fast.py holds the two paths
# equal, on cases for each cause and on random sources.

# Characters that alone send a source to markdown-it-py:
_EXCLUDED_CHARS = re.compile(
    "[\\\\"        # backslash escapes: escaped pipes split table rows differently, and the
                   # tests below read the source as written
    "\x00"         # NUL: markdown-it-py alone replaces it (and `_html_text` uses it)
    # whitespace other than space and newline: markdown-it-py trims paragraphs and headings
    # with str.strip(), which removes U+3000, U+00A0, \r, \f… where markdown-it.rs does not;
    # tabs count to the next tab stop in indentation; `_html_text` knows spaces only
    "\t\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
# Constructs left to markdown-it-py wholesale, each recognisable by characters no other
# construct needs: container blocks (the only plugin, and markdown-it-py's) and images
# (their plain text is their label's source as written, which the HTML does not keep).
_EXCLUDED_MARKERS = (":::", "![")
_RAW_HTML = re.compile(r"<\S")  # raw HTML and autolinks start with `<` and a non-blank
# Entities may stand for any character, such as a blank markdown-it-py trims (&nbsp;).
_ENTITY = re.compile(r"&[#A-Za-z]")
# Tables: markdown-it-py stops filling short rows after 65,536 empty cells; columns are fewer
# than the `|` plus one and rows fewer than the lines.
_MAX_TABLE_CELLS = 0x10000


def _fast_path_fits(source: str, env: dict | None) -> bool:
    """Whether `_render_fast` gives exactly `_render_markdown_it`'s output for `source`."""
    # An env other than block labels could carry `references` into markdown-it-py's parse.
    if env and env.keys() - {"block_labels"}:
        return False
    if any(marker in source for marker in _EXCLUDED_MARKERS) or _EXCLUDED_CHARS.search(source):
        return False
    if ("<" in source and _RAW_HTML.search(source)) or ("&" in source and _ENTITY.search(source)):
        return False
    # A fence left open at the end of a source without a final newline: markdown-it.rs ends
    # its content with a newline, markdown-it-py does not.
    if not source.endswith("\n") and ("```" in source or "~~~" in source):
        return False
    if "|" in source and (source.count("|") + 1) * (source.count("\n") + 1) > _MAX_TABLE_CELLS:
        return False
    return (_delimiters_agree(source) and _blocks_agree(source) and _destinations_agree(source)
            and _code_spans_agree(source))


_DELIMITER_RUN = re.compile(r"[*_~]+")
# What may come before a fence's marker on its line: `>` and list markers, and at most three
# spaces before each and before the fence (see `_FENCE_LINE`).
_FENCE_PREFIX = r"(?: {0,3}(?:>|[-+*] |\d{1,9}[.)] ))* {0,3}"
# A line with three tildes or more in its text (not as a fence's marker).
_LONG_TILDES = re.compile(r"\n(?!" + _FENCE_PREFIX + r"~~~)[^\n]*~~~")


def _delimiters_agree(source: str) -> bool:
    """Emphasis and strikethrough: whether a `*`, `_` or `~` run opens or closes depends on the
    characters beside it, and markdown-it-py takes Unicode symbols (S*: ￥ ～ → © …) for
    punctuation (CommonMark 0.31) where markdown-it.rs takes them for letters (0.30); the
    two also know different Unicode versions (Cn, unassigned in one). And markdown-it.rs does
    not close a strikethrough with part of a longer run of tildes (`a~~b~~~~`)."""
    if "~~~" in source and _LONG_TILDES.search("\n" + source):
        return False
    if source.isascii() or not any(ch in source for ch in "*_~"):
        return True
    for run in _DELIMITER_RUN.finditer(source):
        for pos in (run.start() - 1, run.end()):
            if 0 <= pos < len(source) and source[pos] >= "\x80":
                category = unicodedata.category(source[pos])
                if category[0] == "S" or category in ("Cn", "Co", "Cs"):
                    return False
    return True


# The patterns below read lines of "\n" + source, so that each line starts after a newline
# (a literal first character makes a regex search fast).
# Containers a line opens, as the length of its prefix: markdown-it-py stops nesting blocks at
# level 20 (markdown-it.rs at 100), and each level takes at least one prefix character.
_DEEP_LINE = re.compile(r"\n[ >\-+*.)0-9]{16}")
# A line whose content starts a link reference definition: `[`, then a first `]` followed by
# `:`, or no `]` on the line (a label may span lines).
_DEFINITION = re.compile(r"\n[ >]*(?:(?:[-+*]|\d{1,9}[.)]) +)*\[(?:[^\]\n]*\]:|[^\]\n]*(?:\n|\Z))")
# An item that may not interrupt a paragraph: empty, or ordered from another number than 1.
_RESTRICTED_ITEM = re.compile(r"\n[ >]*(?:(?:[-+*]|\d{1,9}[.)]) *(?:\n|\Z)|(?!0*1[.)])\d{1,9}[.)](?: |\n|\Z))")
# A line either reader could take as a table's delimiter row, after `>` or indentation (a
# list marker cannot precede one: it would start an item).
_DELIMITER_ROW = re.compile(r"\n([ >]*[-:|][-:| ]*)(?=\n|\Z)")
_LIST_MARKER = re.compile(r"[ >]*(?:[-+*]|\d{1,9}[.)])(?: |$)")
_QUOTE_LINE = re.compile(r"\n[ \-+*.)0-9]*>")


def _blocks_agree(source: str) -> bool:
    """Block structure. Blank lines end every context below, so each is looked for in the run
    of lines between two blank lines (or a longer one: a line of spaces counts as text).

    - Link reference definitions: label case folding, and the lines a definition may take,
      differ; without any, `[x][y]` and `[x]` resolve in neither reader.
    - A table starts where markdown-it-py finds a `|` in the header row and markdown-it.rs a
      `|` or `:` in the delimiter row: both agree when both rows have a `|`, or neither has and
      the delimiter row has no `:` (a setext underline or hr).
    - markdown-it-py ends a blockquote's lazy lines only at fence, blockquote, hr, list, html and
      heading starts, markdown-it.rs also at a table start; it ends a list at a marker line only
      for fence, blockquote and hr, markdown-it.rs also for a table start.
    - markdown-it.rs never lets an item that could not interrupt a paragraph end anything;
      markdown-it-py lets it end lazy quote lines and table rows.
    - A header row that opens a fence is a table to markdown-it-py (its table rule comes
      first) and a fence to markdown-it.rs.
    """
    text = "\n" + source
    if _DEEP_LINE.search(text) or ("[" in source and _DEFINITION.search(text)):
        return False
    if not any(ch in source for ch in "|:->"):  # no table, no delimiter row, no quote
        return True
    for run in source.split("\n\n"):
        run = "\n" + run
        pipes = "|" in run
        quotes = ">" in run and _QUOTE_LINE.search(run) is not None
        if (pipes or quotes) and _RESTRICTED_ITEM.search(run):
            return False
        for row in _DELIMITER_ROW.finditer(run):
            line = row.group(1)
            above = run[run.rfind("\n", 0, row.start()) + 1:row.start()]
            if "|" in line or "|" in above or ":" in line:
                if "|" not in line or "|" not in above:
                    return False
                if quotes or _LIST_MARKER.match(above) or above.lstrip(" >").startswith(("```", "~~~")):
                    return False
    return True


# An inline link's destination as markdown-it-py reads it, where it is simple: up to a blank
# or `)`; `after` is what ends it (a `(`, `[` or `]`, a newline at its start: not simple).
_LINK_DESTINATION = re.compile(r"\]\( *([^\s()\[\]]*)(.?)", re.DOTALL)
_RECODED_HOST = re.compile(r"(?i)(?:https?:|mailto:)?//|mailto:")


def _destinations_agree(source: str) -> bool:
    """Link destinations: markdown-it-py normalises them with mdurl, which drops the brackets
    of `x:[y]` as an IPv6 host, and punycodes the host of http(s) and mailto URLs where
    markdown-it.rs percent-encodes it; a host with `@` is split differently too. Destinations
    with parentheses inside are left to markdown-it-py as well, not to read them here."""
    if "](" not in source:
        return True
    for link in _LINK_DESTINATION.finditer(source):
        destination, after = link.groups()
        if after not in (")", " ", "") and not (after == "\n" and destination):
            return False
        if _RECODED_HOST.match(destination) and ("@" in destination or not destination.isascii()):
            return False
    return True


_BACKTICKS = re.compile(r"`+")
# A fence's opening or closing line: its backticks open no span (an info string after
# backticks has none). Such a line, with at most three spaces before the marker (after any
# `>` or list marker), is a fence's wherever it is: no block takes it as text (a paragraph
# would only if it were indented by four or more).
_FENCE_LINE = re.compile(_FENCE_PREFIX + r"(?:```+[^`]*|~~~.*)$")


def _code_spans_agree(source: str) -> bool:
    """Code spans: markdown-it.rs panics on a `[` before a backtick run left unclosed, and
    strips a space from each end of a span of spaces only (markdown-it-py keeps them). So each
    line, and each `|`-separated piece of it (cells are parsed apart), must close every run it
    opens with one of the same length, and no span may be spaces only. That also keeps spans
    on one line, which makes pairing line by line the same as markdown-it's pairing, but for
    backticks in a link's destination or title, which are no delimiters: those are refused."""
    if "`" not in source:
        return True
    if "](" in source:
        for link in _LINK_DESTINATION.finditer(source):
            destination, after = link.groups()
            if "`" in destination or after != ")":  # a title (or a blank) may follow
                return False
    for line in source.split("\n"):
        if "`" not in line or _FENCE_LINE.match(line):
            continue
        for piece in line.split("|"):
            runs = _BACKTICKS.findall(piece)
            if not runs:
                continue
            spans = _BACKTICKS.split(piece)  # spans[i + 1]: the text after runs[i]
            following: list[int | None] = [None] * len(runs)  # the next run of the same length
            last: dict[str, int] = {}
            for index in range(len(runs) - 1, -1, -1):
                following[index] = last.get(runs[index])
                last[runs[index]] = index
            index = 0
            while index < len(runs):
                close = following[index]
                if close is None:
                    return False
                if close == index + 1 and spans[close] and not spans[close].strip(" "):
                    return False
                index = close + 1
    return True


def _fast_page(source: str, env: dict | None) -> str | None:
    """markdown-it.rs' HTML of the source where the fast path can render it, else None.

    A source with `:::` is left to markdown-it-py (`_EXCLUDED_MARKERS`): only its container
    rule reads blocks, and the cut must be made on the blocks the checks found, which are
    that rule's (kbctl/load/body.py)."""
    return _fast_html(source) if _fast_path_fits(source, env) else None


def _fast_html(source: str) -> str | None:
    """markdown-it.rs' HTML, or None where it cannot read the source: a lone surrogate (not
    UTF-8), or a panic (such as on a `[` before an unclosed backtick run, which the tests above
    exclude, with the other known ones). Nothing has been resolved yet, so markdown-it-py can
    still render the source."""
    if _fast_page_html is None:
        return None
    try:
        return _fast_page_html(source)
    except UnicodeEncodeError:
        return None
    except BaseException as exc:  # pyo3's PanicException derives from BaseException only
        if type(exc).__name__ != "PanicException":
            raise
        return None


# markdown-it.rs' HTML for the sources above is markdown-it-py's, byte for byte, but for four
# things: headings have no id, an empty link title is rendered (`title=""`), an empty
# blockquote spans two lines, and a code block right after the text of a tight list item
# starts a line (markdown-it-py renders fences without the newline it puts before other
# blocks there). Each is recognisable in the HTML: text and attribute values are escaped, so
# every `<` starts a tag, and every `"` in a tag delimits an attribute.
_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.DOTALL)
# Inline content (text, or an inline element's end) and then a block: only a tight item's text.
_FENCE_AFTER_TIGHT_TEXT = re.compile(r"([^>]|</(?:em|strong|s|code|a)>)\n<pre>")
_TAG = re.compile(r"<[^>]*>")
_LINK_TAGS = re.compile(r'<a href="([^"]*)"((?: title="[^"]*")?)>|</a>')
_SCRIPT_BEFORE = re.compile(r"(?i)(?:javascript|vbscript)\Z")


def _render_fast(source: str, html: str, entry_path: str, resolve: LinkResolver) -> Rendered:
    """`_render_markdown_it`'s output, from markdown-it.rs' HTML of the source."""
    linked: list[str] = []
    if ' title="">' in html:
        html = html.replace(' title="">', ">")
    if "<blockquote>\n</blockquote>" in html:
        html = html.replace("<blockquote>\n</blockquote>", "<blockquote></blockquote>")
    if "\n<pre>" in html:
        html = _FENCE_AFTER_TIGHT_TEXT.sub(r"\1<pre>", html)
    if "<h" in html:
        html = _HEADING.sub(_HeadingIds(), html)
    if _names_script(source):
        html = _defang_html(html)
    if "<a " in html:
        html = _LINK_TAGS.sub(_LinkRewriter(entry_path, resolve, linked), html)
    return Rendered(html=html, text=_html_text(html), linked_ids=tuple(linked))


class _HeadingIds:
    """Each heading's id, as `kbctl.markdown._heading_ids` gives it: the slug of its text and
    code (tags dropped, before links are resolved or text defanged), numbered on repeats."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def __call__(self, heading: re.Match) -> str:
        level, inner = heading.groups()
        base = slugify(_unescape(_TAG.sub("", inner) if "<" in inner else inner))
        count = self.seen.get(base, 0)
        self.seen[base] = count + 1
        slug = base if count == 0 else f"{base}-{count}"
        # A slug is word characters and `-`: escaping (as markdown-it does ids) changes nothing.
        return f'<h{level} id="{slug}">{inner}</h{level}>'


class _LinkRewriter:
    """Each link's href resolved, in document order; a link resolved to None loses its tags
    and keeps its text. Links do not nest, so a `</a>` closes the last `<a>`."""

    def __init__(self, entry_path: str, resolve: LinkResolver, linked: list[str]):
        self.entry_path = entry_path
        self.resolve = resolve
        self.linked = linked
        self.unlinked = False

    def __call__(self, tag: re.Match) -> str:
        href, title = tag.groups()
        if href is None:  # </a>
            return "" if self.unlinked else "</a>"
        link = classify(self.entry_path, _unescape(href), 0, 0)
        url = self.resolve(link)
        self.unlinked = url is None
        if url is None:
            return ""
        if link.kind in ("entry", "entry-path"):
            self.linked.append(link.target)
        return f'<a href="{escapeHtml(url)}"{title}>'


def _names_script(source: str) -> bool:
    """Whether `_SCRIPT_SCHEME` may match in the text: the text tokens are pieces of source lines
    (no escapes or entities on the fast path), so in the source too. Looked for before each
    colon, as a regex over the whole source is slow."""
    colon = source.find(":")
    while colon != -1:
        end = colon
        while end and source[end - 1].isspace():
            end -= 1
        if _SCRIPT_BEFORE.search(source, max(0, end - 10), end):
            return True
        colon = source.find(":", colon + 1)
    return False


def _defang_html(html: str) -> str:
    """`_SCRIPT_SCHEME` applied as `_resolve_links` applies it: to each text token, that is,
    to the text between two tags or newlines (a newline in text is a soft break), outside
    code (inline code and code blocks keep their text)."""
    parts = re.split(r"(<[^>]*>)", html)  # text, tag, text, tag, …
    in_code = False
    for index in range(0, len(parts), 2):
        if index:
            tag = parts[index - 1]
            if tag.startswith("<code"):
                in_code = True
            elif tag == "</code>":
                in_code = False
        if not in_code and ":" in parts[index]:
            parts[index] = "\n".join(_SCRIPT_SCHEME.sub("\\1\uff1a", text)
                                     for text in parts[index].split("\n"))
    return "".join(parts)


# The tags of markdown-it-py's HTML by their part in `plain_text`: block tags end a line (the
# tokens that do are block ends; the others, openings, come only after one), cells end with a
# space, inline tags leave their text.
_CODE_BLOCK = re.compile(r"<pre><code[^>]*>(.*?)</code></pre>", re.DOTALL)
_BLOCK_TAG = re.compile(r"</?(?:p|h[1-6]|ul|ol|li|blockquote|table|thead|tbody|tr)(?: [^>]*)?>|<hr />")


def _html_text(html: str) -> str:
    """`plain_text` of the tokens, from their HTML: text and code, soft and hard breaks as
    spaces, a line per block."""
    if "<pre>" in html:  # a code block's lines stay lines (NUL is in no source here)
        html = _CODE_BLOCK.sub(lambda code: "\0" + code.group(1).replace("\n", "\0") + "\0", html)
    text = html.replace("\n", " ")  # soft breaks; the other newlines are beside a block tag
    if "</t" in text:
        text = text.replace("</th>", " ").replace("</td>", " ")
    text = _TAG.sub("", _BLOCK_TAG.sub("\n", text))
    text = _unescape(text).replace("\0", "\n")
    # `_plain_lines`, for text whose only blanks are spaces and newlines (`_EXCLUDED_CHARS`):
    # blanks collapsed in each line, empty lines dropped.
    text = _SPACE_RUN.sub(" ", text).replace(" \n", "\n")
    return _LINE_START.sub("\n", text).strip(" \n")


_SPACE_RUN = re.compile(r"  +")
_LINE_START = re.compile(r"\n[ \n]+")


def _unescape(text: str) -> str:
    """Undo markdown-it's escapeHtml."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
