"""An entry's *interface*: everything about it that anything but its own pages can see.

Checks, navigation, related lists, backlinks, tag and category pages, IVR menus and scripts
read an entry's front matter, its links, headings, blocks and load findings, never the prose
of its body. So when an edit leaves the interface as it was, only the outputs that show the
body change: the entry's own pages, its FAQ record and the search indexes (kbctl/patch.py).

Inside the interface, the *structure* is all of it but the fields in RESTATED: the words other
pages show of the entry (title, summary, questions), its tags, its related list, its review
dates and its owner; and but its links to entries and the web (links to files stay in it:
channels copy those files, and builds watch them).
An edit that keeps the structure moves no entry into or out of a channel, category, menu or
link graph; kbctl/patch.py follows what such an edit changes page by page, and runs again the
checks that read those fields.

The digests err on the side of "changed": line numbers are part of them (findings carry them),
and so is the order of front-matter keys. They never err the other way: a field checks or
channels read outside the body's prose must be listed here.
"""

from __future__ import annotations

import hashlib

from kbctl.model import Diagnostic, Entry

# Front-matter fields an edit may change and still be patched (kbctl/patch.py): each is either
# shown by a fixed set of outputs (cards, menus, FAQ records, tag pages, related lists and
# backlinks, review dates) or read only by checks the patch runs again (duplicate-question, the
# ivr script checks, unknown-owner, broken-reference and cross-visibility-link of `related`).
# Adding or removing one of these keys changes the structure: a key's presence and line are
# structural.
WORDS = ("title", "summary", "questions")
RESTATED = (*WORDS, "tags", "related", "last_reviewed", "review_interval", "review_by", "owner")


def interface_digests(entry: Entry, diagnostics: list[Diagnostic]) -> tuple[str, str]:
    """(interface, structure) digests of the entry."""
    blocks = [(b.name, b.start_line, b.end_line, b.text if b.name == "ivr" else None)
              for b in entry.blocks]  # an ivr script is read by checks and the ivr channel
    meta = entry.meta
    masked = {key: (None if key in RESTATED else value) for key, value in meta.items()}
    files = [link for link in entry.links if link.kind == "file"]  # copied and watched: structural
    shown = (entry.path, masked, entry.key_lines, entry.body_line, entry.ok, files,
             sorted(entry.anchors), entry.raw_html_lines, entry.headings, blocks, diagnostics)
    structure = hashlib.sha256(repr(shown).encode("utf-8")).hexdigest()
    restated = repr(([meta.get(key) for key in RESTATED], entry.links))
    interface = hashlib.sha256(f"{structure}\n{restated}".encode()).hexdigest()
    return interface, structure
