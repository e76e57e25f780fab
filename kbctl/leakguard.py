"""The last line of defence: no page is made of anything above its audience.

kbctl/render.py cuts the blocks above a page's audience from the token stream. Here each
page's final tokens are held against what the checks found when the entry was loaded
(`entry.blocks`, from another parse, often in another process), so a bug in either the cut or
the reading refuses the build instead of publishing:

- no `:::` container whose level is above the audience (or an ivr script, or an unknown
  block) is among the tokens;
- no token that carries text (paragraph and heading content, code) comes from a line of a
  block above the audience.

Token positions, not text: a page's words are markup-free and escaped, so matching a block's
words against them is unsure both ways (a short line of a block may also be public text),
while a token's source lines are exact and cost one comparison a token. The fast path renders
only sources without `:::`, which hold no block: an entry with a block above the audience
must never reach it.
"""

from __future__ import annotations

from typing import NoReturn

from markdown_it.token import Token

from kbctl.errors import BuildRefused
from kbctl.markdown import BLOCK_OPEN, block_name, page_level
from kbctl.model import VISIBILITY_LEVELS, VISIBILITY_RANK, Entry

# Tokens that put source text on a page; their `map` is the lines it comes from.
_TEXT_TOKENS = frozenset({"inline", "fence", "code_block", "html_block"})


class LeakRefused(BuildRefused):
    """A page would carry content above its audience (a kbctl bug): the build is refused."""


def check_page(entry: Entry, audience_rank: int, tokens: list[Token] | None) -> None:
    """Refuse unless the page's tokens (None: the fast path's) carry only what the audience
    may see."""
    hidden = _hidden_lines(entry, audience_rank)
    if tokens is None:
        if hidden:
            refuse(entry, audience_rank, f"a '::: {hidden[0][2]}' block (on the fast path)")
        return
    for token in tokens:
        if token.type == BLOCK_OPEN and page_level(token) > audience_rank:
            refuse(entry, audience_rank, f"a '::: {block_name(token)[0] or token.info.strip()}' block")
        if hidden and token.map and token.type in _TEXT_TOKENS:
            first, last = token.map
            for start, end, name in hidden:
                if first < end and start < last:
                    refuse(entry, audience_rank, f"text of the '::: {name}' block at line "
                                                 f"{entry.body_line + start}")


def refuse(entry: Entry, audience_rank: int, what: str) -> NoReturn:
    audience = VISIBILITY_LEVELS[audience_rank] if 0 <= audience_rank < len(VISIBILITY_LEVELS) else audience_rank
    raise LeakRefused(f"{entry.path}: refused: its page for audience '{audience}' would carry {what}; "
                      "nothing was written (this is a kbctl bug: please report it)")


def _hidden_lines(entry: Entry, audience_rank: int) -> list[tuple[int, int, str]]:
    """(first, end, name) body lines of each block above the audience, markers included."""
    hidden = []
    total = entry.body.count("\n") + 1
    for block in entry.blocks:
        if VISIBILITY_RANK.get(block.name, len(VISIBILITY_LEVELS)) <= audience_rank:
            continue
        start = block.start_line - entry.body_line
        end = (block.end_line - entry.body_line + 1) if block.end_line is not None else total
        hidden.append((start, end, block.name))
    return hidden
