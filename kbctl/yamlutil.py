"""YAML helpers: the fast reader for front matter, round-trip tools for config and fmt."""

from __future__ import annotations

import re
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

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

# Objects nested deeper, or larger, than this are not front matter but an attack (YAML bomb).
MAX_NODES = 10_000
MAX_DEPTH = 20
# Every nesting level needs one of these characters, so a text with fewer of them cannot nest
# deeply enough to hurt; only texts with more pay for the extra event scan below.
_NESTING_CHARS = "[{-?:"
_SCAN_ABOVE = 1_000


class TooComplex(ValueError):
    """Front matter too big or too deep to be anything but an attack; `line` is 0-based in the
    YAML text when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


_TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
_TOO_BIG = f"more than {MAX_NODES:,} values (YAML aliases?)"


def load_front_matter(text: str) -> Any:
    check_depth(text)
    data = yaml.load(text, Loader=FrontMatterLoader)
    _check_size(data)
    return data


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse deep nesting before composing: libyaml's composer recurses in C, and about
    30,000 nested `[` (60 KB, well under the front-matter size limit) crash the process
    with a segmentation fault instead of raising. Parsing events is iterative and stops early.
    """
    if sum(text.count(char) for char in _NESTING_CHARS) <= _SCAN_ABOVE:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > max_depth:
                raise TooComplex(f"nested deeper than {max_depth} levels", event.start_mark.line)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _check_size(data: Any) -> None:
    """Walk the loaded object with a budget: aliases can make a tiny text a huge tree."""
    budget = MAX_NODES
    stack = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise TooComplex(_TOO_BIG)
        if depth > MAX_DEPTH:
            raise TooComplex(_TOO_DEEP)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
            stack.extend((k, depth + 1) for k in item)
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


# A top-level key: plain (not a comment, list item or other indicator), or quoted.
_TOP_KEY = re.compile(r"""^(?:"([^"\\]*)"|'([^']*)'|([^\s#:'"\-?&*!|>%@`{\[][^:#]*?))\s*:(?:\s|$)""")


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
