"""Two entries of one locale asking the same question drift apart: find them."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from kbctl.rules import rule

_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def normalize_question(text: str) -> str:
    """Case, width, spaces and punctuation do not make a different question."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).casefold())


def asked(entry) -> list[tuple[tuple[str, str], int | None, str]]:
    """What the entry asks: ((locale, normalized question), line, text), each question once;
    nothing for an archived entry."""
    if entry.status == "archived":
        return []
    found, seen_here = [], set()
    phrasings = [(entry.title, entry.line_of("title"))]
    phrasings += [(q, entry.line_of("questions")) for q in entry.questions]
    for text, line in phrasings:
        key = normalize_question(text)
        if key and key not in seen_here:
            seen_here.add(key)
            found.append(((entry.locale, key), line, text))
    return found


def duplicate_questions(kb, _as_of):
    asked_by = defaultdict(list)  # (locale, normalized) -> [(entry, line, text)]
    for entry in kb.valid_entries:
        for key, line, text in asked(entry):
            asked_by[key].append((entry, line, text))
    warn = rule("duplicate-question")
    for places in asked_by.values():
        if len(places) < 2:
            continue
        for entry, line, text in places:
            # Name the other entry by path when it shares this one's id (a duplicate-id).
            others = ", ".join(sorted(o.id if o.id != entry.id else o.path
                                      for o, _, _ in places if o is not entry))
            yield warn.diag(entry.path, line, f"{text!r} is also asked by {others}", entry.id)
