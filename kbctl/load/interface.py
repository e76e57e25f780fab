"""An entry's *interface*: everything about it that anything but its own pages can see.

Checks, navigation, related lists, backlinks, tag and category pages, IVR menus and scripts
read an entry's front matter, its links, headings, blocks and load findings, never the prose
of its body. So when an edit leaves the interface as it was, only the outputs that show the
body change: the entry's own pages, its FAQ record and the search indexes (kbctl/patch.py).

The digest errs on the side of "changed": line numbers are part of it (findings carry them),
and so is the order of front-matter keys. It never errs the other way: a field checks or
channels read outside the body's prose must be listed here.
"""

from __future__ import annotations

import hashlib

from kbctl.model import Diagnostic, Entry


def interface_digest(entry: Entry, diagnostics: list[Diagnostic]) -> str:
    blocks = [(b.name, b.start_line, b.end_line, b.text if b.name == "ivr" else None)
              for b in entry.blocks]  # an ivr script is read by checks and the ivr channel
    shown = (entry.path, entry.meta, entry.key_lines, entry.body_line, entry.ok, entry.links,
             sorted(entry.anchors), entry.raw_html_lines, entry.headings, blocks, diagnostics)
    return hashlib.sha256(repr(shown).encode("utf-8")).hexdigest()
