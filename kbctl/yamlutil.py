"""YAML: the one guarded way kbctl reads it (front matter fast, config and fmt round-trip),
kbctl's words for what is wrong with it, and helpers for positions and plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError as RuamelYAMLError
from ruamel.yaml.reader import ReaderError as RuamelReaderError

from kbctl.config_model import MAX_CONFIG_DEPTH

try:  # libyaml-backed loader: the fast path (PERF-NOTES: 3x faster than ruamel's safe loader)
    from yaml import CSafeLoader as _BaseLoader

    FAST_YAML = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    FAST_YAML = False


class FrontMatterLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that keeps timestamps as text.

    Dates stay strings so that the entry schema reports an impossible date (2026-02-30) as a
    `schema` finding on its key, rather than YAML failing the whole front matter.
    """


def _timestamp_as_text(loader: yaml.BaseLoader, node: yaml.Node) -> str:
    return loader.construct_scalar(node)  # type: ignore[arg-type]


FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)

# -- the guard ---------------------------------------------------------------------------------
# Every YAML text kbctl reads (front matter, kbctl.yaml, fmt's round trip) goes through one
# guard before any library composes it, and every refusal or library error comes out as a
# BadYaml in kbctl's words: the libraries' own texts differ between libyaml, PyYAML's Python
# parser and ruamel, and change across their releases (PyYAML 6.0.4's libyaml refuses deep
# nesting itself, in its own words).


@dataclass(frozen=True)
class Limits:
    """What a text may hold: anything bigger or deeper is an attack, not a document."""

    max_chars: int
    max_depth: int  # collections inside collections
    max_values: int  # scalars and collections, with every alias counted as what it names


FRONT_MATTER = Limits(max_chars=256 * 1024, max_depth=20, max_values=10_000)
# Room for a large taxonomy; ruamel's composer recurses per level (kbctl/config.py).
CONFIG = Limits(max_chars=1024 * 1024, max_depth=MAX_CONFIG_DEPTH, max_values=100_000)

# Every nesting level needs one of these characters, so a text with few of them cannot nest
# deeply. libyaml composes in C (up to its own limit, far above these counts) and the loaded
# object is walked afterwards; a pure-Python composer recurses, so ruamel's texts are scanned
# whenever they could nest past the limit.
_NESTING_CHARS = "[{-?:"
_C_SCAN_ABOVE = 500
# Aliases are legitimate YAML (a config may reuse a mapping), so they are not refused; what
# they expand to is counted, without expanding anything.
_ANCHOR_AND_ALIAS = ("&", "*")


class BadYaml(ValueError):
    """A YAML text refused, in kbctl's words; `line` is 0-based in the text, None if unknown."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _too_deep(limits: Limits) -> str:
    return f"nested deeper than {limits.max_depth} levels"


def _too_many(limits: Limits, aliased: bool) -> str:
    if aliased:
        return f"its aliases (*name) expand to more than {limits.max_values:,} values"
    return f"more than {limits.max_values:,} values"


def guard(text: str, limits: Limits, scan_above: int) -> None:
    """Refuse, before composing, a text too big, too deep or whose aliases expand too far.

    The checks here are a few str.count calls; only a text with an anchor and an alias, or
    with more nesting characters than `scan_above`, pays for the event scan.
    """
    if len(text) > limits.max_chars:
        raise BadYaml(f"larger than {limits.max_chars // 1024:,} KiB")
    if all(mark in text for mark in _ANCHOR_AND_ALIAS) or _nesting_marks(text) > scan_above:
        scan(text, limits)


def _nesting_marks(text: str) -> int:
    return sum(text.count(char) for char in _NESTING_CHARS)


def scan(text: str, limits: Limits) -> None:
    """Read the text's parse events (iterative, stops at the first excess) against `limits`.

    libyaml's events come first, as they are fast; libyaml may refuse deep nesting itself
    (in its own words, before the excess is reached here), so on any error the pure-Python
    parser reads the text again: it streams, and reaches kbctl's limit or the real error.
    """
    try:
        _scan_events(yaml.parse(text, Loader=_BaseLoader), limits)
    except yaml.YAMLError:
        try:
            _scan_events(yaml.parse(text, Loader=yaml.SafeLoader), limits)
        except yaml.YAMLError as exc:
            raise explain(exc, text) from None


def _scan_events(events, limits: Limits) -> None:
    sizes: dict[str, int] = {}  # anchor -> values it names, aliases expanded
    open_collections: list[list] = []  # [anchor, values so far] of each unclosed collection
    total = 0
    for event in events:
        line = event.start_mark.line
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_collections) >= limits.max_depth:
                raise BadYaml(_too_deep(limits), line)
            open_collections.append([event.anchor, 1])
            new = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_collections.pop()
            if anchor is not None:
                sizes[anchor] = size
            if open_collections:
                open_collections[-1][1] += size
            continue  # its values are counted already
        elif isinstance(event, yaml.ScalarEvent):
            new = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            new = _alias_size(event.anchor or "", sizes, open_collections, line)
        else:
            continue
        if open_collections and not isinstance(event, yaml.CollectionStartEvent):
            open_collections[-1][1] += new
        total += new
        if total > limits.max_values:
            raise BadYaml(_too_many(limits, bool(sizes)), line)


def _alias_size(name: str, sizes: dict[str, int], open_collections: list[list], line: int) -> int:
    if name in sizes:
        return sizes[name]
    if any(anchor == name for anchor, _ in open_collections):
        raise BadYaml(f"the alias *{name} is inside the value it names", line)
    raise BadYaml(_no_anchor(name), line)


def _no_anchor(name: str) -> str:
    return f"the alias *{name} names no anchor &{name} above it"


def load_front_matter(text: str) -> Any:
    """Front matter (the hot path): libyaml, guarded; timestamps stay text."""
    guard(text, FRONT_MATTER, _C_SCAN_ABOVE if FAST_YAML else FRONT_MATTER.max_depth)
    try:
        data = yaml.load(text, Loader=FrontMatterLoader)
    except yaml.YAMLError as exc:
        raise explain(exc, text) from None
    _check_loaded(data, text, FRONT_MATTER)
    return data


def _check_loaded(data: Any, text: str, limits: Limits) -> None:
    """Walk the loaded object with a budget: the texts the guard let through unscanned may
    still nest past the limit, or hold more values than it allows."""
    budget = limits.max_values
    stack = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0 or (depth >= limits.max_depth and isinstance(item, (dict, list))):
            scan(text, limits)  # says where
            raise BadYaml(_too_many(limits, False) if budget < 0 else _too_deep(limits))
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
            stack.extend((k, depth + 1) for k in item)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def load_roundtrip(text: str, limits: Limits, constructor: type | None = None) -> Any:
    """kbctl.yaml or fmt's front matter with ruamel (comments, order, positions), guarded."""
    guard(text, limits, limits.max_depth)
    loader = roundtrip_yaml()
    if constructor is not None:
        loader.Constructor = constructor
    try:
        return loader.load(text)
    except RecursionError:  # not reached after the guard; a last line of defence
        raise BadYaml(_too_deep(limits)) from None
    except (RuamelYAMLError, yaml.YAMLError) as exc:
        raise explain(exc, text) from None


# -- kbctl's words for YAML mistakes ------------------------------------------------------------
# A mistake is recognised by a phrase its library uses (libyaml's, PyYAML's and ruamel's where
# they differ); any other is said generically. The library's text itself is never shown.
_MISTAKES = (
    (("tab character",), "a tab character: YAML is indented with spaces"),
    (("mapping values are not allowed",),
     "a ': ' inside a value that is not quoted (put the value in quotes)"),
    (("duplicate anchor",), "an anchor (&name) defined twice"),
    (("unknown escape", "escape character"), "an unknown escape (\\…) in a double-quoted value"),
    (("quoted scalar",), "a quoted value is never closed"),
    (("',' or ']'",), "a list opened with '[' is not closed by ']' (or holds a ': ')"),
    (("',' or '}'",), "a mapping opened with '{' is not closed by '}'"),
    (("block scalar",), "the '|' or '>' line of a block text is not valid"),
    (("unhashable",), "a key that is a list or a mapping"),
    (("constructor for the tag",), "a '!' tag kbctl does not read"),
    (("single document", "document start"), "more than one YAML document"),
    (("could not find expected ':'", "simple key"), "a line that is not 'key: value' (no ':' after the key?)"),
    (("block end", "expected key", "block mapping", "block collection", "indentation"),
     "a line indented differently from the keys around it"),
)
_NOT_YAML = "not valid YAML here (check the quotes, colons and indentation)"
_NEVER_CLOSED = ("quoted scalar", "',' or ']'", "',' or '}'")


def explain(exc: Exception, text: str) -> BadYaml:
    """A YAML library's error (PyYAML or ruamel) as kbctl's words and the 0-based line."""
    if isinstance(exc, (yaml.reader.ReaderError, RuamelReaderError)):
        return _unreadable_character(exc, text)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line if mark is not None else None
    if isinstance(exc, DuplicateKeyError):
        return BadYaml(f"duplicate key {_key_at(text, exc.problem_mark)!r}", line)
    said = f"{getattr(exc, 'context', None) or ''} {getattr(exc, 'problem', None) or ''}".lower()
    if any(phrase in said for phrase in _NEVER_CLOSED):  # say where it was opened
        start = getattr(exc, "context_mark", None)
        line = start.line if start is not None else line
    if "undefined alias" in said:
        return BadYaml(_no_anchor(_alias_at(text, mark)), line)
    if "cannot start any token" in said:
        return BadYaml(_cannot_start(_char_at(text, mark)), line)
    for phrases, words in _MISTAKES:
        if any(phrase in said for phrase in phrases):
            return BadYaml(words, line)
    return BadYaml(_NOT_YAML, line)


def _unreadable_character(exc: Any, text: str) -> BadYaml:
    """A control character: the reader gives its position and code, no mark."""
    position = exc.position if isinstance(exc.position, int) else 0
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    return BadYaml(f"control character #x{char:04x} is not allowed", text.count("\n", 0, position))


def _char_at(text: str, mark: Any) -> str:
    if mark is None:
        return ""
    lines = text.split("\n")
    here = lines[mark.line] if mark.line < len(lines) else ""
    return here[mark.column:mark.column + 1]


def _alias_at(text: str, mark: Any) -> str:
    lines = text.split("\n")
    here = lines[mark.line][mark.column:] if mark is not None and mark.line < len(lines) else ""
    found = re.match(r"\*([^\s,\[\]{}]+)", here)
    return found.group(1) if found else "name"


def _cannot_start(char: str) -> str:
    if char == "\t":
        return "a tab character: YAML is indented with spaces"
    if char:
        return f"{char!r} cannot start a value that is not quoted (put the value in quotes)"
    return _NOT_YAML


def _key_at(text: str, mark: Any) -> str:
    """The key written at `mark` (a duplicate key's position), quotes taken off."""
    lines = text.split("\n")
    here = lines[mark.line][mark.column:] if mark is not None and mark.line < len(lines) else ""
    return here.split(":", 1)[0].strip().strip("'\"")


# A top-level key: plain (not a comment, list item or other indicator), or quoted. The plain
# key's run is possessive (its blanks are stripped after): a lazy run followed by `\s*:`
# backtracks quadratically on a long line of blanks with no colon.
_TOP_KEY = re.compile(r"""^(?:"([^"\\]*)"\s*|'([^']*)'\s*|([^\s#:'"\-?&*!|>%@`{\[][^:#]*+)):(?:\s|$)""")


def top_level_key_lines(text: str, first_line: int) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Lines of the top-level keys of a block mapping, and keys that appear twice.

    A text scan is enough: entry front matter is a flat mapping. It is far cheaper than a
    position-keeping parse, and gives duplicate keys, which PyYAML silently accepts.
    """
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, int]] = []
    for offset, line in enumerate(text.split("\n")):
        match = _TOP_KEY.match(line)
        if not match:
            continue
        key = next(group for group in match.groups() if group is not None).strip()
        if key in lines:
            duplicates.append((key, first_line + offset))
        else:
            lines[key] = first_line + offset
    return lines, duplicates


def roundtrip_yaml() -> YAML:
    """A ruamel round-trip instance: keeps comments, order and positions (config, fmt)."""
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    return rt


def line_of_path(data: Any, path: list) -> int | None:
    """1-based line of the deepest node on `path` in a ruamel round-trip tree."""
    line = None
    node = data
    for key in path:
        if isinstance(node, CommentedMap) and key in node:
            pos = node.lc.key(key)
            line = pos[0] + 1 if pos else line
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            pos = node.lc.item(key)
            line = pos[0] + 1 if pos else line
        else:
            break
        node = node[key]
    if line is None and hasattr(data, "lc"):
        line = data.lc.line + 1
    return line


def to_plain(data: Any) -> Any:
    """ruamel round-trip containers to plain dicts/lists (for JSON Schema)."""
    if isinstance(data, dict):
        return {str(k): to_plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [to_plain(v) for v in data]
    if hasattr(data, "isoformat"):
        return data.isoformat()
    return data
