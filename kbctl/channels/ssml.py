"""Spoken text for VoiceXML prompts: plain text with numbers, dates and phone numbers marked up.

Speech engines guess how to read digits, and guess badly across languages: "10000" is a phone
number (一零零零零) on a Chinese hotline, not ten thousand; "2026-12-31" is a date, not a sum.
`segments()` finds such runs and says how to read them with SSML `<say-as>`
(values from the W3C note "SSML 1.0 say-as attribute values"):

| written                                         | interpret-as | format | content     |
|-------------------------------------------------|--------------|--------|-------------|
| 2026-12-31, 2026/12/31, 2026年12月31日           | date         | ymd    | 2026-12-31  |
| 2026年12月                                       | date         | ym     | 2026-12     |
| 12月31日                                         | date         | md     | 12-31       |
| 2026年; 1900-2099 standing alone                 | date         | y      | 2026        |
| 9:00, 18:30                                      | time         | hms24  | 09:00       |
| a number before a unit (50元, 2,000 yuan, 30%)   | cardinal     |        | 2000        |
| 10000, 95588, 13800138000, 400-123-4567, 010-…   | telephone    |        | as written  |
| any other run of 5 or more digits (codes, ids)   | digits       |        | as written  |
| any other number (5, 24, 2,000, 12.5)            | cardinal     |        | 2000, 12.5  |

Digits glued to letters or to other numbers ("5G", "PAY-1002", "24/7", "1.2.3") are left to
the engine: they are names and codes, and a wrong `<say-as>` is worse than none.
Impossible dates and times ("2026-13-45", "25:99") are left to the engine as well.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from kbctl.facts import Piece

# Characters XML 1.0 cannot carry at all; a script holding one would make the file unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_BEFORE = r"(?<![0-9A-Za-z])(?<![0-9A-Za-z][/:.,-])"  # not inside a code or a longer number
_AFTER = r"(?![0-9A-Za-z])(?![/:.,-][0-9])"
_UNITS = (r"元|块|角|万|亿|%|％|个|次|天|小时|分钟|秒|GB|MB|"
          r"yuan|RMB|percent|minutes?|hours?|days?|seconds?|months?|years?|times")
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"  # 5, 2,000, 12.5
_PATTERNS = [
    ("ymd", r"(?P<ymd_y>\d{4})(?P<sep>[-/.])(?P<ymd_m>\d{1,2})(?P=sep)(?P<ymd_d>\d{1,2})" + _AFTER),
    ("ymd_zh", r"(?P<ymdz_y>\d{4})年(?P<ymdz_m>\d{1,2})月(?P<ymdz_d>\d{1,2})[日号]"),
    ("ym_zh", r"(?P<ymz_y>\d{4})年(?P<ymz_m>\d{1,2})月"),
    ("md_zh", r"(?P<mdz_m>\d{1,2})月(?P<mdz_d>\d{1,2})[日号]"),
    ("y_zh", r"(?P<yz_y>\d{4})年"),
    ("time", r"(?P<t_h>\d{1,2}):(?P<t_m>\d{2})" + _AFTER),
    ("amount", rf"{_NUMBER}(?=\s?(?:{_UNITS}))|(?<=[¥￥$]){_NUMBER}|(?<=[¥￥$] ){_NUMBER}"),
    ("phone", r"(?:1[3-9]\d{9}|[19]\d{4}|[48]00-?\d{3}-?\d{4}|0\d{2,3}-\d{7,8})" + _AFTER),
    ("long", r"\d{5,}" + _AFTER),
    ("year", r"(?:19|20)\d{2}" + _AFTER),
    ("number", _NUMBER + _AFTER),
]
_SPOKEN = re.compile(_BEFORE + "(?:" + "|".join(f"(?P<{n}>{p})" for n, p in _PATTERNS) + ")")


@dataclass(frozen=True)
class Segment:
    text: str
    interpret_as: str | None = None  # None: plain text
    format: str | None = None


def clean(text: str) -> str:
    """Text fit for XML and speech: no characters XML forbids, whitespace collapsed."""
    return " ".join(_NOT_XML.sub("", text).split())


def segments(text: str) -> list[Segment]:
    """`text` cut into plain runs and `<say-as>` runs, in order."""
    return _marked(clean(text))


def spoken_segments(pieces: Sequence[Piece]) -> list[Segment]:
    """Text and spoken facts (kbctl/facts.py) cut the same way; a fact with `say_as` is read
    as it says, whatever its text looks like. Whitespace is collapsed across the pieces as
    `clean` collapses it in one text."""
    joined = clean("".join(_unmarked(p) if isinstance(p, str) else f"\ue000{_unmarked(p.text)}\ue001"
                           for p in pieces))
    out: list[Segment] = []
    facts = iter([p for p in pieces if not isinstance(p, str)])
    for plain, said in _FACT_RUN.findall(joined + "\ue000\ue001"):
        out.extend(_marked(plain))
        fact = next(facts, None)
        if fact is None:
            break
        out.extend([Segment(said, fact.say_as)] if fact.say_as else _marked(said))
    return [segment for segment in out if segment.text]


# A spoken fact's place in the joined text; U+E000 and U+E001 are private-use characters no
# script holds (`clean` keeps them, and a script's own are dropped before joining).
_FACT_RUN = re.compile("([^\ue000]*)\ue000([^\ue001]*)\ue001")


def _unmarked(text: str) -> str:
    return text.replace("\ue000", "").replace("\ue001", "")


def _marked(text: str) -> list[Segment]:
    out: list[Segment] = []
    done = 0
    for match in _SPOKEN.finditer(text):
        marked = _say_as(match)
        if marked is None:
            continue  # e.g. an impossible date: leave it to the engine
        if match.start() > done:
            out.append(Segment(text[done:match.start()]))
        out.append(marked)
        done = match.end()
    if done < len(text):
        out.append(Segment(text[done:]))
    return out


def _say_as(match: re.Match) -> Segment | None:
    kind, g = match.lastgroup, match.groupdict()
    if kind in ("ymd", "ymd_zh"):
        prefix = "ymd" if kind == "ymd" else "ymdz"
        return _date(g[f"{prefix}_y"], g[f"{prefix}_m"], g[f"{prefix}_d"])
    if kind == "ym_zh":
        month = int(g["ymz_m"])
        return Segment(f"{g['ymz_y']}-{month:02d}", "date", "ym") if 1 <= month <= 12 else None
    if kind == "md_zh":
        return _date("2000", g["mdz_m"], g["mdz_d"], "md")  # a leap year: 2月29日 is a day
    if kind == "y_zh":
        return Segment(g["yz_y"], "date", "y")
    if kind == "time":
        hour, minute = int(g["t_h"]), int(g["t_m"])
        if hour > 24 or minute > 59:
            return None
        return Segment(f"{hour:02d}:{minute:02d}", "time", "hms24")
    if kind == "phone":
        return Segment(match.group(), "telephone")
    if kind == "long":
        return Segment(match.group(), "digits")
    if kind == "year":
        return Segment(match.group(), "date", "y")
    return Segment(match.group().replace(",", ""), "cardinal")  # amount, number


def _date(year: str, month: str, day: str, fmt: str = "ymd") -> Segment | None:
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    text = date.isoformat() if fmt == "ymd" else f"{date.month:02d}-{date.day:02d}"
    return Segment(text, "date", fmt)


def append_text(parent: ET.Element, text: str) -> None:
    """Add plain text at the end of `parent` (after its last child, if any)."""
    text = _NOT_XML.sub("", text)
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def append_speech(parent: ET.Element, text: str | Sequence[Piece], say_as_tag: str) -> None:
    """Add `text` to `parent`, with `<say-as>` (tag `say_as_tag`) around numbers and dates."""
    for segment in segments(text) if isinstance(text, str) else spoken_segments(text):
        if segment.interpret_as is None:
            append_text(parent, segment.text)
            continue
        attrs = {"interpret-as": segment.interpret_as}
        if segment.format:
            attrs["format"] = segment.format
        ET.SubElement(parent, say_as_tag, attrs).text = segment.text
