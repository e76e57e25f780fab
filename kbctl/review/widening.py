"""Does a change make an entry's content reach a wider audience than before?

The rule, applied to an entry that exists at both commits (modified, renamed, or changed by
kbctl.yaml). The entry's text is cut into units: the title, summary and each question, and each
line of the body (whitespace collapsed, list and heading markers dropped, units with fewer than
two letters or digits ignored). Each unit has, at each commit,

- an *intended level*: the entry's visibility, or the level of the `::: customer|partner|internal`
  block holding it if higher (CONTRACT 1.3), and
- an *exposure*: the lowest audience among the channels that show it at that commit (a channel
  shows a body unit when it carries the entry and the unit's level is within its audience; an
  ivr channel shows only the title and the script), or none when no channel shows it.

The change widens the audience when any of these holds:

1. the entry's visibility was lowered (internal → public, …), carried anywhere or not;
2. the entry has as many restricted blocks as before and one of them now has a lower level
   (catches a `::: internal` turned `::: customer` even when its text was reworded);
3. a unit present at both commits has a lower intended level at head (a block's level lowered,
   its markers removed, or its text moved out into plain text);
4. a unit present at both commits is exposed at head to a lower audience than before, where
   "before" is its exposure at base or, if nothing showed it at base, its intended level there
   (so publishing a draft to the audience it was written for does not count, but a channel of a
   lower audience newly carrying it, or a channel whose audience was raised in kbctl.yaml and so
   newly showing restricted blocks, does).

Text that is new at head is not compared: its level is the author's choice, reviewed as content.
Added and deleted entries never widen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kbctl.config import Channel
from kbctl.model import RESTRICTED_BLOCKS, VISIBILITY_LEVELS, VISIBILITY_RANK, Entry
from kbctl.review.fingerprint import Fingerprints

_MARKERS = re.compile(r"^(?:[#>*+|\-]+\s*|\d+[.)]\s+)+")
_WORD = re.compile(r"\w")


@dataclass
class Unit:
    """One piece of text of an entry at one commit: who it is meant for, who is shown it."""

    intended: int  # visibility rank of the text
    shown_on: dict[str, int] = field(default_factory=dict)  # channel -> audience rank

    @property
    def exposure(self) -> int | None:
        return min(self.shown_on.values(), default=None)

    @property
    def reference(self) -> int:
        """How far the text reached: its exposure, or its intended level where nobody showed it."""
        exposure = self.exposure
        return self.intended if exposure is None else exposure


def widening(base_fp: Fingerprints, head_fp: Fingerprints,
             base: Entry | None, head: Entry | None) -> list[str]:
    """Why the change widens the entry's audience; empty when it does not."""
    if base is None or head is None or not (base.ok and head.ok):
        return []
    reasons: list[str] = []
    if head.visibility_rank < base.visibility_rank:
        reasons.append(f"visibility lowered from {base.visibility} to {head.visibility}")
    reasons += _blocks_lowered(base, head)
    before, after = units(base, base_fp), units(head, head_fp)
    common = sorted(before.keys() & after.keys())
    lowered = {(before[u].intended, after[u].intended) for u in common
               if after[u].intended < before[u].intended}
    lowered.discard((base.visibility_rank, head.visibility_rank))  # said above already
    for old, new in sorted(lowered, reverse=True):
        reasons.append(f"text meant for {VISIBILITY_LEVELS[old]} readers "
                       f"is now {VISIBILITY_LEVELS[new]}")
    shown: dict[str, int] = {}
    for unit in common:
        reference = before[unit].reference
        shown.update((name, rank) for name, rank in after[unit].shown_on.items()
                     if rank < reference)
    for name, rank in sorted(shown.items()):
        reasons.append(f"newly shown on {name} (audience {VISIBILITY_LEVELS[rank]})")
    return list(dict.fromkeys(reasons))


def _blocks_lowered(base: Entry, head: Entry) -> list[str]:
    old = [b.name for b in base.blocks if b.name in RESTRICTED_BLOCKS]
    new = [b.name for b in head.blocks if b.name in RESTRICTED_BLOCKS]
    if len(old) != len(new):
        return []
    return [f"a '::: {a}' block became '::: {b}'"
            for a, b in zip(old, new) if VISIBILITY_RANK[b] < VISIBILITY_RANK[a]]


def units(entry: Entry, fp: Fingerprints) -> dict[str, Unit]:
    """The entry's text units (normalized text -> Unit) at the commit `fp` describes."""
    carriers = [c for c in fp.channels.values() if fp.carries(c, entry)]
    pages = [c for c in carriers if c.kind != "ivr"]
    voices = [c for c in carriers if c.kind == "ivr"]
    found: dict[str, Unit] = {}

    def add(text: object, level: int, showing: list[Channel]) -> None:
        intended = max(entry.visibility_rank, level)
        for line in str(text or "").split("\n"):
            key = normalize(line)
            if key is None:
                continue
            unit = found.setdefault(key, Unit(intended))
            unit.intended = min(unit.intended, intended)
            for channel in showing:
                if channel.audience_rank >= level:
                    unit.shown_on[channel.name] = channel.audience_rank

    add(entry.title, 0, carriers)
    add(entry.summary, 0, pages + ([] if entry.has_ivr_block else voices))
    for question in entry.questions:
        add(question, 0, pages)
    for name, text in entry.segments:
        if name is None:
            add(text, 0, pages)
        elif name in RESTRICTED_BLOCKS:
            add(text, VISIBILITY_RANK[name], pages)
        elif name == "ivr":
            add(text, 0, voices)
        else:  # unknown blocks are never published (block-syntax reports them)
            add(text, VISIBILITY_RANK["internal"], [])
    return found


def normalize(line: str) -> str | None:
    text = _MARKERS.sub("", " ".join(line.split())).strip()
    return text if len(_WORD.findall(text)) >= 2 else None
