"""Split an entry into front matter and body, parse the YAML, validate it against the schema."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from kbctl.load.controlchars import check_front_matter
from kbctl.load.fastschema import SchemaCheck
from kbctl.load.schemawords import describe, missing_keys, unknown_keys
from kbctl.model import Diagnostic
from kbctl.resources import inline_refs, load_schema
from kbctl.rules import rule
from kbctl.yamlutil import FRONT_MATTER, BadYaml, load_front_matter, top_level_key_lines

if TYPE_CHECKING:
    import jsonschema

MAX_FRONT_MATTER = FRONT_MATTER.max_chars
DATE_KEYS = ("last_reviewed", "review_by", "valid_from", "valid_to")
REQUIRED = ("id", "title", "type", "status", "owner")
# The fields that decide who may read an entry, and when. One in error is dropped like any
# other, and then would read as its default: `visibility` public, `channels` every channel, a
# validity date none. So an entry with one in error is not sound (`ok` False), and no channel
# carries it, whatever else reads it before a build refuses it (kbctl/publish.py).
GATING = ("visibility", "channels", "valid_from", "valid_to")


@dataclass
class FrontMatter:
    meta: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    ok: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)


@cache
def _schema() -> SchemaCheck:
    return SchemaCheck(inline_refs(load_schema("entry.schema.json")))


def schema_errors(data: dict[str, Any]) -> list[jsonschema.ValidationError]:
    """jsonschema's findings on the front matter, in report order."""
    return sorted(_schema().errors(data), key=_error_order)


def split(text: str) -> tuple[str, str, int] | str:
    """(front matter, body, first body line) or a problem sentence."""
    if not text.strip():
        return "the file is empty"
    first, newline, rest = text.partition("\n")
    if first.rstrip() != "---":
        return "no front matter: the file must start with a line '---'"
    if first != "---":  # `--- ` with trailing blanks still opens front matter
        text = "---" + newline + rest
    end = _closing_fence(text)
    if end is None:
        return "the front matter is never closed by a line '---'"
    front, rest_start, closing_line = end
    return front, text[rest_start:], closing_line + 1


def _closing_fence(text: str) -> tuple[str, int, int] | None:
    position = 4
    line = 2
    while position <= len(text):
        newline = text.find("\n", position)
        stop = len(text) if newline < 0 else newline
        if text[position:stop].rstrip() in ("---", "..."):
            return text[4:position], (stop + 1 if newline >= 0 else stop), line
        if newline < 0:
            return None
        position = newline + 1
        line += 1
    return None


_VALUE_OPENS_WITH_FACT = re.compile(r"^\s*(?:-\s+|[A-Za-z_][\w-]*:\s+)\{\{", re.MULTILINE)


def _fact_hint(front: str) -> str:
    """YAML reads a value that starts with `{{` as a mapping: say what to do about it."""
    if _VALUE_OPENS_WITH_FACT.search(front):
        return " (a value that starts with {{ fact }} must be quoted)"
    return ""


def parse(path: str, text: str) -> FrontMatter:
    result = FrontMatter()
    syntax = rule("front-matter-syntax")
    parts = split(text)
    if isinstance(parts, str):
        result.diagnostics.append(syntax.diag(path, 1, parts))
        return result
    front, result.body, result.body_line = parts
    if len(front) > MAX_FRONT_MATTER:
        result.diagnostics.append(syntax.diag(path, 1, "front matter is larger than 256 KiB"))
        return result
    try:
        data = load_front_matter(front)
    except BadYaml as exc:
        line = 2 + exc.line if exc.line is not None else 1
        result.diagnostics.append(syntax.diag(path, line, f"YAML error: {exc}{_fact_hint(front)}"))
        return result
    if data is None:
        result.diagnostics.append(syntax.diag(path, 1, "the front matter is empty"))
        return result
    if not isinstance(data, dict):
        result.diagnostics.append(syntax.diag(path, 2, "the front matter is not a mapping of keys"))
        return result
    result.key_lines, duplicates = top_level_key_lines(front, 2)
    entry_id = data.get("id") if isinstance(data.get("id"), str) else None
    for key, line in duplicates:
        result.diagnostics.append(syntax.diag(path, line, f"duplicate key {key!r}", entry_id))
    result.meta, result.ok = _validate(path, data, result.key_lines, entry_id, result.diagnostics)
    return result


def _validate(path, data, key_lines, entry_id, out) -> tuple[dict[str, Any], bool]:
    """Schema-check; drop the fields in error so later checks see only sound values."""
    schema_rule = rule("schema")
    data = {str(k): v for k, v in data.items()}
    # A key holding a control character where it may not is reported once, for that.
    bad_keys: set[str] = check_front_matter(path, data, key_lines, entry_id, out)
    reported: set[tuple] = set()
    for error in schema_errors(data):
        # One finding per value: '2026/09/01' fails both `pattern` and `format`, '' both
        # `minLength` and `pattern`; saying so twice is noise.
        where = tuple(map(str, error.absolute_path))
        if where and (where in reported or where[0] in bad_keys):
            continue
        reported.add(where)
        if error.validator == "additionalProperties":
            for key in unknown_keys(error):
                if key not in bad_keys:
                    bad_keys.add(key)
                    out.append(schema_rule.diag(
                        path, key_lines.get(key, 1), f"unknown key {key!r}", entry_id))
            continue
        if error.validator == "required":  # one error per missing key, each naming them all
            for key in missing_keys(error):
                if key not in bad_keys:
                    bad_keys.add(key)
                    out.append(schema_rule.diag(path, 1, f"missing required key {key!r}", entry_id))
            continue
        explained_key, message = _explain(error)
        if explained_key:
            bad_keys.add(explained_key)
        line = key_lines.get(explained_key, 1) if explained_key else 1
        out.append(schema_rule.diag(path, line, message, entry_id))
    meta = {k: v for k, v in data.items() if k not in bad_keys}
    for key in DATE_KEYS:
        if isinstance(meta.get(key), str):
            meta[key] = dt.date.fromisoformat(meta[key])
    start, end = meta.get("valid_from"), meta.get("valid_to")
    if start and end and start > end:
        out.append(schema_rule.diag(
            path, key_lines.get("valid_from", 1),
            f"valid_from {start} is after valid_to {end}", entry_id,
        ))
    ok = all(k in meta for k in REQUIRED) and not any(k in bad_keys for k in GATING)
    return meta, ok


# When a value breaks several rules, the first in this order is the one reported: a wrong
# type makes the rest moot; a date's pattern says more than its format.
_RULE_ORDER = ("type", "required", "additionalProperties", "enum", "pattern", "minLength", "format")


def _error_order(error: jsonschema.ValidationError) -> tuple:
    rank = _RULE_ORDER.index(error.validator) if error.validator in _RULE_ORDER else len(_RULE_ORDER)
    return (list(map(str, error.absolute_path)), rank, str(error.validator))


def _explain(error: jsonschema.ValidationError) -> tuple[str | None, str]:
    """(the top-level key in error or None, kbctl's message): the entry's own words for dates
    and empty text, else kbctl's words for the rule (kbctl/load/schemawords.py)."""
    path = list(error.absolute_path)
    key = str(path[0]) if path else None
    where = "/".join(map(str, path))
    if error.validator == "format" and error.validator_value == "date":
        message = f"{error.instance!r} is not a real date"
    elif error.validator == "pattern" and key in DATE_KEYS:
        message = f"{error.instance!r} is not a date in the form YYYY-MM-DD"
    elif error.validator in ("pattern", "minLength") and error.schema.get("pattern") == "\\S":
        message = "must not be empty"
    else:
        message = describe(error)
    return key, f"{where}: {message}" if where else message
