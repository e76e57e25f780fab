"""JSON Schema checks that pay for jsonschema only when something is wrong.

jsonschema walks the schema in Python for every instance: 0.9 s for the front matter of
10,000 entries, a quarter of their parse. fastjsonschema compiles the same schema to Python
code that only accepts or refuses, in 0.06 s. So the compiled check goes first, and only what
it refuses goes through jsonschema, whose errors are the findings (their messages, paths and
order stay jsonschema's). A knowledge base without errors never imports jsonschema at all
(70 ms with its format checkers).

That is exact as long as whatever the compiled check accepts, jsonschema accepts too. For
the keywords kbctl's schemas use, it does (tests/test_fast_schema.py holds them to it):
- formats are checked by jsonschema's own tests, repeated below;
- `pattern` is ECMA 262's in both: `$` is the end of the text. fastjsonschema rewrites each
  unescaped `$` to `\\Z`; jsonschema applies Python's `re.search` as it is, where `$` also
  matches before a final newline, so kbctl gives it a `pattern` keyword making the same
  rewrite (`ecma_search`);
- every `enum` and `const` in the schemas is made of strings, and every `uniqueItems` array
  must hold strings: strings compare alike in both;
- `if` (whose verdict a stricter check would turn into a laxer one) only tests a `const`;
- `default` values are not written into the data (`use_default=False`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import TYPE_CHECKING, Any

import fastjsonschema

if TYPE_CHECKING:
    import jsonschema

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_date(value: str) -> bool:
    """jsonschema's `format: date` (jsonschema/_format.py, is_date). fastjsonschema's own
    accepts 0000-01-01, which Python's calendar, and so jsonschema, refuses."""
    try:
        return bool(_DATE.fullmatch(value) and dt.date.fromisoformat(value))
    except ValueError:
        return False


def _is_email(value: str) -> bool:
    """jsonschema's `format: email`: anything with an @."""
    return "@" in value


FORMATS = {"date": _is_date, "email": _is_email}

# An unescaped `$`, as fastjsonschema finds it (draft04.py, DOLLAR_FINDER): the same rewrite
# keeps the two libraries' verdicts the same. kbctl's schemas have no `$` inside a [...] set.
_DOLLAR = re.compile(r"(?<!\\)\$")


@functools.cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def ecma_search(pattern: str, text: str) -> bool:
    """`pattern` found in `text`, with `$` the end of the text as in ECMA 262."""
    return _ecma_regex(pattern).search(text) is not None


def _pattern_keyword(validator, pattern, instance, schema):
    """jsonschema's `pattern` (jsonschema/_keywords.py), with ECMA 262's `$`."""
    import jsonschema

    if validator.is_type(instance, "string") and not ecma_search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


class SchemaCheck:
    """One schema: `errors(instance)` is jsonschema's `iter_errors`, made fast for the valid."""

    def __init__(self, schema: dict[str, Any]):
        self._schema = schema
        self._accepts = fastjsonschema.compile(schema, formats=FORMATS, use_default=False)
        self._reference: jsonschema.protocols.Validator | None = None

    def errors(self, instance: Any) -> list[jsonschema.ValidationError]:
        """jsonschema's errors for `instance`, in its order; none when it is accepted."""
        try:
            self._accepts(instance)
        except Exception:  # noqa: BLE001 - a refusal, or a crash on odd data (e.g. a YAML
            # set among uniqueItems): either way, jsonschema has the last word.
            return list(self.reference().iter_errors(instance))
        return []

    def reference(self) -> jsonschema.protocols.Validator:
        """jsonschema's validator of the schema, with its format checker; built on first use."""
        if self._reference is None:
            import jsonschema

            cls = jsonschema.validators.extend(
                jsonschema.validators.validator_for(self._schema), {"pattern": _pattern_keyword})
            self._reference = cls(self._schema, format_checker=cls.FORMAT_CHECKER)
        return self._reference
