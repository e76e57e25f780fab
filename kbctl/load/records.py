"""Parsed entries as JSON data and back, for the entries cache in `.kbctl/` (kbctl/cache.py).

The cache sits where a commit can write, so it holds plain data that `json.loads` decodes and
this module rebuilds field by field: no pickle, nothing that names a class or runs code. The
round trip is exact (tests/test_cache_data.py): equal objects of the same types. JSON has
strings, numbers, booleans, null, lists and string-keyed objects; the rest of what an entry
holds is written as follows:

- tuples, frozensets and records (Entry, Link, Block, Diagnostic) are lists in a fixed order;
- a date or datetime in the front matter is its ISO text, its place listed beside the meta
  (`[key, ..., "d" | "t"]`), so that a string that merely looks like a date stays a string;
- the segments of a body without blocks, which are the body itself (`[[null, body]]`), are
  null: most entries have no block, and their text written twice made the cache half again
  as large to read back on every build.

A meta value of any other type (YAML can make sets and bytes, or keys that are not strings)
raises `NotData`: such an entry is simply not cached.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from kbctl.model import Block, Diagnostic, Entry, Link, Severity

Parsed = tuple[Entry | None, list[Diagnostic]]

_PLAIN = (str, int, float, bool, type(None))
_DATE, _DATETIME = "d", "t"


class NotData(ValueError):
    """A value the codec cannot write down exactly."""


# -- to JSON ----------------------------------------------------------------------------------

def dumps(parsed: Parsed) -> str:
    """One entry's parse (entry or None, its findings) as JSON text; NotData if it holds a
    value JSON cannot carry exactly."""
    entry, diagnostics = parsed
    record = [entry_data(entry) if entry is not None else None, [diagnostic_data(d) for d in diagnostics]]
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def entry_data(entry: Entry) -> list:
    dates: list[list] = []
    meta = _plain(entry.meta, [], dates)
    return [
        entry.path, meta, dates, entry.key_lines, entry.body, entry.body_line, entry.ok,
        [[link.kind, link.target, link.anchor, link.line, link.level, link.raw] for link in entry.links],
        [[block.name, block.start_line, block.end_line, block.text] for block in entry.blocks],
        sorted(entry.anchors), entry.raw_html_lines,
        [list(heading) for heading in entry.headings], _segments_data(entry),
        entry.content_hash, entry.git_date.isoformat() if entry.git_date else None,
        list(entry.facts), entry.unfilled,
    ]


def _segments_data(entry: Entry) -> list | None:
    if len(entry.segments) == 1 and entry.segments[0] == (None, entry.body):
        return None  # the whole body, public: read back from the body
    return [list(segment) for segment in entry.segments]


def diagnostic_data(d: Diagnostic) -> list:
    return [d.path, d.line, d.rule, d.severity.value, d.message, d.entry, d.code]


def _plain(value: Any, where: list, dates: list[list]) -> Any:
    """`value` with its dates as text (their places added to `dates`); NotData for a type
    JSON cannot carry."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dt.datetime:
        dates.append([*where, _DATETIME])
        return value.isoformat()
    if kind is dt.date:
        dates.append([*where, _DATE])
        return value.isoformat()
    if kind is list:
        return [_plain(item, [*where, at], dates) for at, item in enumerate(value)]
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise NotData("a mapping key that is not a string")
        return {key: _plain(item, [*where, key], dates) for key, item in value.items()}
    raise NotData(f"a value of type {kind.__name__}")


# -- from JSON --------------------------------------------------------------------------------

def loads(text: str) -> Parsed:
    """What `dumps` wrote."""
    return parsed_from(json.loads(text))


def parsed_from(data: list) -> Parsed:
    """The parse `dumps` wrote, from its decoded JSON, which the entry takes over (its meta
    gets its dates back in place). Only ever given data kbctl wrote itself (the cache is
    sealed); data of another shape raises ValueError, TypeError or IndexError."""
    entry, diagnostics = data
    return (entry_from(entry) if entry is not None else None), [diagnostic_from(d) for d in diagnostics]


def entry_from(data: list) -> Entry:
    (path, meta, dates, key_lines, body, body_line, ok, links, blocks, anchors, raw_html_lines,
     headings, segments, content_hash, git_date, facts, unfilled) = data
    return Entry(
        path=path, meta=_with_dates(meta, dates), key_lines=key_lines, body=body, body_line=body_line, ok=ok,
        links=[Link(*link) for link in links],
        blocks=[Block(*block) for block in blocks],
        anchors=frozenset(anchors), raw_html_lines=raw_html_lines,
        headings=[tuple(heading) for heading in headings],  # type: ignore[misc]
        segments=[(None, body)] if segments is None else [tuple(segment) for segment in segments],  # type: ignore[misc]
        content_hash=content_hash,
        git_date=dt.date.fromisoformat(git_date) if git_date is not None else None,
        facts=tuple(facts), unfilled=unfilled,
    )


def diagnostic_from(data: list) -> Diagnostic:
    path, line, rule, severity, message, entry, code = data
    return Diagnostic(path, line, rule, Severity(severity), message, entry, code)


def _with_dates(meta: dict, dates: list[list]) -> dict:
    """`meta` with the values at the places listed made dates again."""
    for *keys, last, kind in dates:
        holder = meta
        for key in keys:
            holder = holder[key]
        parse = dt.datetime.fromisoformat if kind == _DATETIME else dt.date.fromisoformat
        holder[last] = parse(holder[last])
    return meta
