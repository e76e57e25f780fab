"""Control characters in what kbctl reads: refused in names, ids, paths and URLs.

No editor types one into a name by accident, and a name holding one turns into two things
where kbctl writes it: a newline and a tab in a file name add a rule to CODEOWNERS, a newline
in an id ends a page folder's name, a carriage return rewrites a terminal line. YAML lets
quoted values hold any of them through escapes ("\\n", "\\x01", "\\u2028"), so the parsed
values are checked, once, right after parsing (kbctl/load/frontmatter.py, kbctl/config_load.py),
and entry file paths as the loader meets them (kbctl/load/loader.py).

Refused everywhere: C0 controls (U+0000-U+001F), DEL (U+007F), C1 controls (U+0080-U+009F)
and the line and paragraph separators U+2028 and U+2029, which JavaScript and many editors
take for line ends. Free text (titles, summaries, questions, tags, owner and KB names,
taxonomy titles) may hold tab and newline, which YAML block scalars write plainly and
Markdown and HTML treat as spaces; no other control character. Mapping keys are names, never
free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from kbctl.config_model import CONFIG_NAME
from kbctl.errors import UsageError
from kbctl.model import Diagnostic
from kbctl.rules import rule
from kbctl.yamlutil import line_of_path

Where = tuple[str | int, ...]  # keys and list indexes from the top of a parsed document

_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # tab and newline allowed

ENTRY_TEXT_KEYS = frozenset({"title", "summary", "questions", "tags"})


def first_control(text: str, free_text: bool = False) -> str | None:
    """The first control character in `text` that is not allowed there, or None."""
    found = (_IN_TEXT if free_text else _IN_NAME).search(text)
    return found.group() if found else None


def findings(data: Any, free_text: Callable[[Where], bool]) -> Iterator[tuple[Where, str]]:
    """(where, character) of every string and key holding a control character it may not,
    in document order. `free_text(where)` says which string values are free text.

    One walk over the whole document, with its own stack: the loaders bound the nesting
    depth already, but a walk of parsed data should not depend on that for its safety."""
    stack: list[tuple[Where, Any]] = [((), data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            char = first_control(value, free_text(where))
            if char is not None:
                yield where, char
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                char = first_control(key) if isinstance(key, str) else None
                if char is not None:
                    yield (*where, key), char
                else:
                    children.append(((*where, str(key)), item))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([((*where, i), item) for i, item in enumerate(value)]))


def describe(where: Where, char: str) -> str:
    """`title: the control character U+0001 is not allowed here`, printable on one line."""
    shown = "/".join(_shown(part) for part in where) or "(top level)"
    return f"{shown}: the control character U+{ord(char):04X} is not allowed here"


def _shown(part: str | int) -> str:
    return repr(part) if isinstance(part, str) and first_control(part) else str(part)


# -- entries ---------------------------------------------------------------------------------
def path_problem(path: str) -> Diagnostic | None:
    """An `unreadable` finding for an entry file whose path holds a control character."""
    char = first_control(path)
    if char is None:
        return None
    return rule("unreadable").diag(
        path, None, f"the file's path holds the control character U+{ord(char):04X}: rename it")


def check_front_matter(path: str, data: dict[str, Any], key_lines: dict[str, int],
                       entry_id: str | None, out: list[Diagnostic]) -> set[str]:
    """Add a `schema` finding per top-level key whose key or value holds a control character
    it may not; return those keys, which the entry then does without."""
    bad: dict[str, tuple[Where, str]] = {}
    for where, char in findings(data, lambda where: where[0] in ENTRY_TEXT_KEYS):
        bad.setdefault(str(where[0]), (where, char))
    schema = rule("schema")
    for key, (where, char) in bad.items():
        out.append(schema.diag(path, key_lines.get(key, 1), describe(where, char), entry_id))
    return set(bad)


# -- kbctl.yaml ------------------------------------------------------------------------------
def check_config(data: dict[str, Any], tree: Any) -> None:
    """Raise a UsageError (kbctl.yaml, the line, the place) at the first control character."""
    for where, char in findings(data, _config_free_text):
        raise UsageError(describe(where, char), path=CONFIG_NAME,
                         line=line_of_path(tree, list(where)))


def _config_free_text(where: Where) -> bool:
    """The KB's and owners' names and the taxonomy titles (a string, or one per locale)."""
    if where == ("name",) or (len(where) == 3 and where[0] == "owners" and where[2] == "name"):
        return True
    if where[:1] != ("taxonomy",):
        return False
    rest = where[2:]  # below one top-level node: ("children", i)* then the node's own key
    while rest[:1] == ("children",):
        rest = rest[2:]
    return rest[:1] == ("title",) and len(rest) <= 2
