"""Reusable facts (CONTRACT section 6): a hotline number, a fee or a deadline written once in
kbctl.yaml and put in place of `{{ name }}` in an entry's title, summary, questions and body.

Facts are filled in when an entry is loaded, so every channel, check and cache sees the text
as readers get it and no channel has its own substitution. Two things stay as written:
code (spans and blocks keep the literal `{{ name }}`), and `::: ivr` scripts, which the voice
channel speaks with a fact's `spoken` form (`spoken_pieces`) rather than its written one.
An entry's content hash covers the facts it names (`facts_digest`), so a changed fact remakes
exactly the outputs of the entries that use it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ANY_LOCALE = "*"
# `{{ name }}`, spaces inside the braces optional. Any word between the braces is a use, so a
# misspelt or capitalised name is reported instead of reaching readers as `{{ Hotline }}`.
USE = re.compile(r"\{\{[ \t]*([^{}\s]*)[ \t]*\}\}")
_USE_BYTES = re.compile(rb"\{\{[ \t]*([^{}\s]*)[ \t]*\}\}")


@dataclass(frozen=True)
class Fact:
    name: str
    value: Mapping[str, str]  # locale (or ANY_LOCALE) -> text
    spoken: Mapping[str, str]
    say_as: str | None = None
    owner: str | None = None
    line: int | None = None  # of its key in kbctl.yaml

    def text(self, locale: str) -> str | None:
        return _in_locale(self.value, locale)

    def spoken_text(self, locale: str) -> str | None:
        """What the IVR says: `spoken` where it has text for the locale, else `value`."""
        return _in_locale(self.spoken, locale) or self.text(locale)


def _in_locale(values: Mapping[str, str], locale: str) -> str | None:
    text = values.get(locale, values.get(ANY_LOCALE))
    return text if text else None


def facts_from_config(data: Mapping[str, Any], lines: Mapping[str, int] | None = None) -> dict[str, Fact]:
    """The `facts:` mapping of kbctl.yaml (already schema-checked) as records."""
    facts: dict[str, Fact] = {}
    for name, spec in sorted((data or {}).items()):
        if not isinstance(spec, dict):
            spec = {"value": spec}
        facts[name] = Fact(
            name=name, value=_by_locale(spec.get("value")), spoken=_by_locale(spec.get("spoken")),
            say_as=spec.get("say_as"), owner=spec.get("owner"),
            line=(lines or {}).get(f"facts/{name}"),
        )
    return facts


def _by_locale(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(locale): _one_line(text) for locale, text in value.items()}
    return {ANY_LOCALE: _one_line(value)}


def _one_line(text: Any) -> str:
    # A fact is put inside a line of text: a line break in it would end a paragraph or a table row.
    return " ".join(str(text).split())


# -- what an entry file names -------------------------------------------------------------------

def named_in(data: bytes) -> set[str]:
    """Every fact name the file's bytes name, in code or not: cheap, before parsing."""
    if b"{{" not in data:
        return set()
    return {match.group(1).decode("utf-8", "replace") for match in _USE_BYTES.finditer(data)}


def facts_digest(names: set[str], facts: Mapping[str, Fact]) -> str:
    """What the named facts say (or that they do not exist), for the entry's content hash."""
    material = [(name, _fact_material(facts.get(name))) for name in sorted(names)]
    return hashlib.sha256(repr(material).encode()).hexdigest()


def _fact_material(fact: Fact | None) -> object:
    if fact is None:
        return None
    return (sorted(fact.value.items()), sorted(fact.spoken.items()), fact.say_as)


# -- filling in ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """A use that cannot be filled in: no such fact, or none for the entry's locale."""

    name: str
    offset: int  # in the text given

    def message(self, facts: Mapping[str, Fact], locale: str) -> str:
        if self.name not in facts:
            return f"{{{{ {self.name} }}}} names no fact in kbctl.yaml"
        return f"fact {self.name!r} has no value for locale {locale}"


@dataclass(frozen=True)
class Filled:
    text: str
    used: frozenset[str]
    problems: tuple[Problem, ...]


def fill_plain(text: str, locale: str, facts: Mapping[str, Fact]) -> Filled:
    """A title, summary, question or theme string with its facts' written values."""
    return _fill(text, locale, facts, [(0, len(text))], lambda value, _start, _end: value)


def fill_markdown(body: str, locale: str, facts: Mapping[str, Fact], kept: list[tuple[int, int]]) -> Filled:
    """An entry body with its facts' written values, Markdown-escaped, except inside the
    `kept` line ranges (code blocks, `::: ivr` blocks; 0-based, end exclusive) and code spans.
    Line breaks are untouched, so every line keeps its number."""
    regions = _text_regions(body, kept)
    return _fill(body, locale, facts, regions,
                 lambda value, start, end: _escaped(value, _at_line_start(body, start), body[end:end + 1]))


def _fill(text: str, locale: str, facts: Mapping[str, Fact], regions: list[tuple[int, int]], put) -> Filled:
    out: list[str] = []
    used: set[str] = set()
    problems: list[Problem] = []
    done = 0
    for start, end in regions:
        for match in USE.finditer(text, start, end):
            name = match.group(1)
            fact = facts.get(name)
            value = fact.text(locale) if fact is not None else None
            if fact is not None:
                used.add(name)
            if value is None:
                problems.append(Problem(name, match.start()))
                continue
            out.append(text[done:match.start()])
            out.append(put(value, match.start(), match.end()))
            done = match.end()
    out.append(text[done:])
    return Filled("".join(out), frozenset(used), tuple(problems))


def uses_in(text: str) -> Iterator[tuple[str, int]]:
    """(name, offset) of every use in `text`."""
    for match in USE.finditer(text):
        yield match.group(1), match.start()


# Characters that could start Markdown inline syntax anywhere in a line; CommonMark lets any
# ASCII punctuation be escaped with a backslash, and renders the escaped character as itself.
_INLINE_SYNTAX = re.compile(r"([\\`*_\[\]<>&|~{}!])")
_BLOCK_START = re.compile(r"([#>+=-]|\d+[.)])")


def _escaped(value: str, line_start: bool, after: str) -> str:
    value = _INLINE_SYNTAX.sub(r"\\\1", value)
    if line_start and (match := _BLOCK_START.match(value)):  # "15." at a line start: a list
        value = value[:match.end() - 1] + "\\" + value[match.end() - 1:]
    elif line_start and value.isdigit() and after and after in ".)":  # "{{ n }}. " would be one too
        value += "\\"
    return value


def _at_line_start(text: str, offset: int) -> bool:
    line_start = text.rfind("\n", 0, offset) + 1
    return not text[line_start:offset].strip()


def _text_regions(body: str, kept: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character ranges of `body` outside the kept lines and outside code spans, in order."""
    starts = [0]
    for line in body.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    skip = sorted(kept)
    regions: list[tuple[int, int]] = []
    at = 0
    for first, end in skip:
        begin = starts[min(first, len(starts) - 1)]
        if begin > at:
            regions.extend(_outside_code_spans(body, at, begin))
        at = max(at, starts[min(end, len(starts) - 1)])
    if at < len(body):
        regions.extend(_outside_code_spans(body, at, len(body)))
    return regions


_TICKS = re.compile(r"`+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def _outside_code_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Ranges of text[start:end] outside code spans. A code span opens at a backtick run not
    escaped by a backslash and closes at the next run of the same length within the
    paragraph (CommonMark 6.1); a run that never closes is literal text."""
    out: list[tuple[int, int]] = []
    for para_start, para_end in _paragraphs(text, start, end):
        at = para_start
        pos = para_start
        while (opening := _TICKS.search(text, pos, para_end)) is not None:
            if _escaped_at(text, opening.start()):
                pos = opening.start() + 1
                continue
            closing = _closing_run(text, opening.end(), para_end, len(opening.group()))
            if closing is None:
                pos = opening.end()
                continue
            if opening.start() > at:
                out.append((at, opening.start()))
            at = pos = closing
        if at < para_end:
            out.append((at, para_end))
    return out


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    at = start
    for match in _PARAGRAPH_BREAK.finditer(text, start, end):
        yield at, match.start()
        at = match.start()
    yield at, end


def _closing_run(text: str, start: int, end: int, length: int) -> int | None:
    for run in _TICKS.finditer(text, start, end):
        if len(run.group()) == length:
            return run.end()
    return None


def _escaped_at(text: str, offset: int) -> bool:
    backslashes = 0
    while offset - backslashes - 1 >= 0 and text[offset - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


# -- speaking -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spoken:
    """A fact as the IVR says it: its spoken text, read as `say_as` says where set."""

    text: str
    say_as: str | None


Piece = str | Spoken


def spoken_pieces(text: str, locale: str, facts: Mapping[str, Fact]) -> list[Piece]:
    """`text` (a script, summary or title as written) cut into plain text and spoken facts.
    A use that names no fact stays as written: validate has refused it already."""
    pieces: list[Piece] = []
    done = 0
    for match in USE.finditer(text):
        fact = facts.get(match.group(1))
        said = fact.spoken_text(locale) if fact is not None else None
        if fact is None or said is None:
            continue
        if match.start() > done:
            pieces.append(text[done:match.start()])
        pieces.append(Spoken(said, fact.say_as))
        done = match.end()
    if done < len(text):
        pieces.append(text[done:])
    return pieces


def spoken_text(text: str, locale: str, facts: Mapping[str, Fact]) -> str:
    """What the IVR says for `text`, as one string (for the length and speakability rules)."""
    return "".join(p if isinstance(p, str) else p.text for p in spoken_pieces(text, locale, facts))


def fills_spoken(text: str, locale: str, facts: Mapping[str, Fact]) -> list[Problem]:
    """Uses in a script with nothing to say: no such fact, or no text for the locale."""
    problems = []
    for name, offset in uses_in(text):
        fact = facts.get(name)
        if fact is None or fact.spoken_text(locale) is None:
            problems.append(Problem(name, offset))
    return problems


def used_in_settings(settings: Any) -> set[str]:
    """Fact names used in strings anywhere in `settings` (a channel's `theme`, say)."""
    if isinstance(settings, str):
        return {name for name, _ in uses_in(settings)}
    if isinstance(settings, dict):
        settings = list(settings.values())
    if isinstance(settings, list):
        return set().union(*(used_in_settings(item) for item in settings)) if settings else set()
    return set()


def changed_facts(base: Mapping[str, Fact], head: Mapping[str, Fact]) -> set[str]:
    """Facts added, removed or saying something else between two configs (owners aside)."""
    return {name for name in base.keys() | head.keys()
            if _fact_material(base.get(name)) != _fact_material(head.get(name))}
