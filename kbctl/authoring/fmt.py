"""`kbctl fmt`: normalize entries' front matter without losing a comment, a key or a byte of body.

The front matter is rearranged as text, not re-dumped: ruamel (round-trip) parses it to find
where each top-level key starts and to reject duplicate keys; each key's lines then move as a
block, with the comment lines just above a key travelling with it. Re-dumping would re-wrap
long titles, re-quote values and move comments to the key before them. A final parse checks
that the result holds the same data in the new order; otherwise the file is left alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.constructor import RoundTripConstructor

from kbctl.authoring.files import atomic_write
from kbctl.errors import UsageError
from kbctl.load.discover import discover
from kbctl.yamlutil import FRONT_MATTER, BadYaml, load_roundtrip, to_plain

# CONTRACT 1.2 / schemas/entry.schema.json order; unknown keys follow in their own order.
KEY_ORDER = (
    "id", "title", "type", "status", "owner", "locale", "visibility", "category", "channels",
    "tags", "questions", "summary", "related", "translation_of", "aliases", "last_reviewed",
    "review_interval", "review_by", "valid_from", "valid_to",
)
DATE_KEYS = ("last_reviewed", "review_by", "valid_from", "valid_to")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
# `key: 2026-9-1  # note`, optionally quoted, with - / or . between the parts.
_DATE_LINE = re.compile(
    r"^(?P<head>(?P<key>[a-z_]+)[ \t]*:[ \t]*)(?P<q>['\"]?)(?P<y>\d{4})(?P<s>[-/.])(?P<m>\d{1,2})"
    r"(?P=s)(?P<d>\d{1,2})(?P=q)(?P<tail>[ \t]*(?:#.*)?(?:\r\n|\r|\n)?)$"
)


class _DatesAsText(RoundTripConstructor):
    """Dates stay text, so an impossible one (2026-02-30) does not stop the rest of fmt."""


_DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


class Unformattable(ValueError):
    """The file cannot be formatted safely; the message says why, for people."""


@dataclass
class Formatted:
    text: str
    changes: list[str] = field(default_factory=list)  # what changed, for the report

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def format_text(text: str) -> Formatted:
    """The formatted file text; raises Unformattable when it cannot be done safely."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = _LINE.findall(text[len(bom):])
    close = _closing_fence(lines)
    front_lines = lines[1:close]
    data = _parse("".join(front_lines))
    blocks, header, tail = _key_blocks(front_lines, data)
    changes: list[str] = []
    for key, block in blocks.items():
        changes.extend(_normalize_date(key, block))
    order = ordered_keys(list(blocks))
    if order != list(blocks):
        changes.insert(0, "key order")
    new_front = header + [line for key in order for line in blocks[key]] + tail
    _verify(data, _parse("".join(new_front)), order)
    result = bom + lines[0] + "".join(new_front) + "".join(lines[close:])
    return Formatted(result, changes if result != text else [])


def ordered_keys(keys: list[str]) -> list[str]:
    known = [k for k in KEY_ORDER if k in keys]
    return known + [k for k in keys if k not in KEY_ORDER]


def _closing_fence(lines: list[str]) -> int:
    """Index of the closing `---` line, with the same rules as the loader."""
    if not lines or lines[0].rstrip("\r\n") != "---":
        raise Unformattable("no front matter: the file must start with a line '---'")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return index
    raise Unformattable("the front matter is never closed by a line '---'")


def _parse(front: str) -> CommentedMap:
    """The front matter read the way the loader reads it: one guarded YAML reader, so a YAML
    bomb or deep nesting is refused here as in validate, in the same words."""
    try:
        data = load_roundtrip(front, FRONT_MATTER, constructor=_DatesAsText)
    except BadYaml as exc:
        where = f" (line {exc.line + 2})" if exc.line is not None else ""
        raise Unformattable(f"YAML error{where}: {exc}") from None
    if not isinstance(data, CommentedMap) or not data:
        raise Unformattable("the front matter is not a mapping of keys")
    return data


def _key_blocks(lines: list[str], data: CommentedMap) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Split the front matter lines into {key: its lines}, plus lines before and after all keys.

    A key's block runs to the next key; full-line comments and blank lines at the end of a
    block belong to the key below them (that is where people write a key's comment).
    """
    starts = [_key_start(data, key) for key in data]
    if any(b <= a for a, b in itertools.pairwise(starts)):
        raise Unformattable("the front matter is not a plain block mapping (one key per line)")
    keys = [str(key) for key in data]
    blocks: dict[str, list[str]] = {}
    carried = lines[:starts[0]]
    header: list[str] = []
    for index, key in enumerate(keys):
        end = starts[index + 1] if index + 1 < len(keys) else len(lines)
        block = lines[starts[index]:end]
        moved = _trailing_comments(block)
        body, trailing = block[:len(block) - moved], block[len(block) - moved:]
        if index == 0:
            header, carried = _split_header(carried)
        blocks[key] = carried + body
        carried = trailing
    return blocks, header, carried


def _key_start(data: CommentedMap, key: Any) -> int:
    line, column = data.lc.key(key)
    if column != 0:
        raise Unformattable("the front matter is not a plain block mapping (one key per line)")
    return line


def _split_header(lines: list[str]) -> tuple[list[str], list[str]]:
    """Lines above the first key: a comment block separated by a blank line stays on top
    (a file header); comment lines touching the first key belong to that key."""
    moved = _trailing_comments(lines, stop_at_blank=True)
    return lines[:len(lines) - moved], lines[len(lines) - moved:]


def _trailing_comments(block: list[str], stop_at_blank: bool = False) -> int:
    count = 0
    for line in reversed(block):
        if not _is_comment_or_blank(line) or (stop_at_blank and not line.strip()):
            break
        count += 1
    return count


def _is_comment_or_blank(line: str) -> bool:
    # Only column-0 comments: an indented "#" line may be the content of a block scalar.
    return not line.strip() or line.startswith("#")


def _normalize_date(key: str, block: list[str]) -> list[str]:
    if key not in DATE_KEYS:
        return []
    for index, line in enumerate(block):
        match = _DATE_LINE.match(line)
        if match and match.group("key") == key:
            return _rewrite_date(match, block, index)
    return []


def _rewrite_date(match: re.Match, block: list[str], index: int) -> list[str]:
    try:
        date = dt.date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
    except ValueError:
        return []  # an impossible date stays as written: validate reports it
    old = match.group(0)[len(match.group("head")):len(match.group(0)) - len(match.group("tail"))]
    if old == date.isoformat():
        return []
    block[index] = match.group("head") + date.isoformat() + match.group("tail")
    return [f"{match.group('key')} {old} → {date.isoformat()}"]


def _verify(before: CommentedMap, after: CommentedMap, order: list[str]) -> None:
    """The safety net: same keys in the new order, same values, dates aside."""
    old, new = to_plain(before), to_plain(after)
    if list(new) != order:
        raise Unformattable("the keys could not be reordered safely")
    for key in old:
        if key in DATE_KEYS and isinstance(new.get(key), str) and _as_date(new[key]) == _as_date(old[key]):
            continue
        if old[key] != new[key]:
            raise Unformattable(f"formatting would change the value of {key!r}")


def _as_date(value: Any) -> dt.date | None:
    text = str(value).strip().replace("/", "-").replace(".", "-")
    parts = text.split("-")
    try:
        return dt.date(*map(int, parts)) if len(parts) == 3 else None
    except ValueError:
        return None


# -- files -------------------------------------------------------------------------------------

@dataclass
class FileResult:
    path: Path
    changes: list[str] = field(default_factory=list)
    problem: str | None = None


def format_files(paths: list[Path], write: bool) -> list[FileResult]:
    return [format_file(path, write) for path in paths]


def format_file(path: Path, write: bool) -> FileResult:
    """Format one file; write it (atomically) only when `write` and its text changes."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except OSError as exc:
        return FileResult(path, problem=f"cannot read: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return FileResult(path, problem="not UTF-8")
    try:
        formatted = format_text(text)
    except Unformattable as exc:
        return FileResult(path, problem=str(exc))
    if formatted.changed and write:
        atomic_write(path, formatted.text.encode("utf-8"))
    return FileResult(path, formatted.changes)


def entry_files(root: Path | None, paths: list[Path]) -> list[Path]:
    """The entry files named by PATH arguments (folders: every entry below), else the KB's."""
    if not paths:
        assert root is not None
        return [found.absolute for found in discover(root) if not found.escapes]
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*.md")) if p.name != "README.md" and p.is_file())
        elif path.is_file():
            if path.name != "README.md":  # not an entry (CONTRACT 1.2), even when named
                files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))
