"""An entry's *interface*: everything about it that anything but its own pages can see.

Checks, navigation, related lists, backlinks, tag and category pages, IVR menus and scripts
read an entry's front matter, its links, headings, blocks and load findings, never the prose
of its body. So when an edit leaves the interface as it was, only the outputs that show the
body change: the entry's own pages, its FAQ record and the search indexes (kbctl/patch.py).

Inside the interface, the *structure* is all of it but the words other pages show of the
entry: its title, summary and questions (PRESENTATION). An edit that keeps the structure moves
no entry from one list, menu, channel or finding to another; it changes what lists say of the
entry and where titles sort, which kbctl/patch.py follows page by page.

The digests err on the side of "changed": line numbers are part of them (findings carry them),
and so is the order of front-matter keys. They never err the other way: a field checks or
channels read outside the body's prose must be listed here.
"""

from __future__ import annotations

import hashlib

from kbctl.model import Diagnostic, Entry

# Front-matter fields shown by other pages (cards, menus, records) but deciding nothing about
# which lists, channels or findings hold the entry, apart from the checks kbctl/patch.py runs
# again on them (duplicate-question, the ivr script checks). Adding or removing one of these
# keys changes the structure: the key's presence and line are structural.
PRESENTATION = ("title", "summary", "questions")


def interface_digests(entry: Entry, diagnostics: list[Diagnostic]) -> tuple[str, str]:
    """(interface, structure) digests of the entry."""
    blocks = [(b.name, b.start_line, b.end_line, b.text if b.name == "ivr" else None)
              for b in entry.blocks]  # an ivr script is read by checks and the ivr channel
    meta = entry.meta
    masked = {key: (None if key in PRESENTATION else value) for key, value in meta.items()}
    shown = (entry.path, masked, entry.key_lines, entry.body_line, entry.ok, entry.links,
             sorted(entry.anchors), entry.raw_html_lines, entry.headings, blocks, diagnostics)
    structure = hashlib.sha256(repr(shown).encode("utf-8")).hexdigest()
    words = repr([meta.get(key) for key in PRESENTATION])
    interface = hashlib.sha256(f"{structure}\n{words}".encode()).hexdigest()
    return interface, structure
