"""Which files an entry may link to and a channel may publish: one predicate for both.

A pull request can add any file and link to it; the file is then served from the help
center's own origin, where an HTML page, a script or an SVG with script runs as the site. So
kbctl publishes only passive types, only from `knowledge/` (and the folders `assets` lists in
kbctl.yaml), never a hidden file or folder (`.git`, `.kbctl`, dotfiles), never through a
symbolic link (which could lead to an internal entry's source or out of the repository), and
never a Markdown file: an entry's source is linked as an entry, not copied.
`kbctl/checks/links.py` reports what this refuses; the site channel copies only what it allows.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

KNOWLEDGE_DIR = "knowledge"

# Types a browser shows and never runs: images, PDF, plain audio and video, plain text and CSV
# (a static host serves them as text/plain and text/csv). SVG is XML that may hold script: it
# is published only when `svg_problem` finds none of that.
PUBLISHABLE_TYPES = frozenset({
    "png", "jpg", "jpeg", "gif", "webp", "avif", "ico",
    "pdf",
    "mp3", "mp4", "webm", "ogg", "wav", "m4a",
    "txt", "csv",
    "svg",
})


class Refusal(NamedTuple):
    """Why a linked file is not published: a rule name and the problem, for the link's diagnostic."""

    rule: str  # "broken-link" (nothing there) or "unsafe-file" (there, but never published)
    problem: str


def file_refusal(kb, kb_path: str) -> Refusal | None:
    """None when the file at `kb_path` (relative to the KB root, normalized) may be published."""
    if kb_path == ".." or kb_path.startswith("../") or posixpath.isabs(kb_path):
        return Refusal("broken-link", "points outside the knowledge base")
    parts = kb_path.split("/")
    if any(part.startswith(".") for part in parts):
        return Refusal("unsafe-file", f"{kb_path}: hidden files and folders are never published")
    folders = linkable_folders(kb.config)
    if not any(kb_path.startswith(folder + "/") for folder in folders):
        listed = ", ".join(f"{folder}/" for folder in folders)
        return Refusal("unsafe-file", f"{kb_path}: only files under {listed} are published "
                                      "(kbctl.yaml `assets` lists more folders)")
    found = what_is_there(kb.root, parts)
    if found == "link":
        return Refusal("unsafe-file", f"{kb_path}: a symbolic link is never published (it may lead anywhere)")
    if found != "file":
        return Refusal("broken-link", f"no file {kb_path}")
    suffix = posixpath.splitext(parts[-1])[1].lower().lstrip(".")
    if suffix == "md":
        return Refusal("unsafe-file", f"{kb_path}: Markdown is not published as a file "
                                      "(link to an entry by its id or its file)")
    if suffix not in PUBLISHABLE_TYPES:
        shown = f".{suffix} files" if suffix else "files without an extension"
        return Refusal("unsafe-file", f"{kb_path}: {shown} are never published "
                                      f"(allowed: {', '.join(sorted(PUBLISHABLE_TYPES))})")
    if suffix == "svg":
        problem = svg_problem(kb.root / kb_path)
        if problem:
            return Refusal("unsafe-file", f"{kb_path}: {problem}")
    return None


def linkable_folders(config) -> tuple[str, ...]:
    """`knowledge` and the folders kbctl.yaml's `assets` lists (its schema keeps them relative,
    without `.` or `..` parts)."""
    declared = config.raw.get("assets") or []
    return (KNOWLEDGE_DIR, *(posixpath.normpath(folder) for folder in declared))


def what_is_there(root: Path, parts: list[str]) -> str:
    """"link" if any part of the path is a symbolic link (never followed), "file" for a
    regular file, "other" for anything else or nothing."""
    path, mode = str(root), 0
    for part in parts:
        path = f"{path}{os.sep}{part}"
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return "other"
        if stat.S_ISLNK(mode):
            return "link"
    return "file" if stat.S_ISREG(mode) else "other"


# -- SVG ---------------------------------------------------------------------------------------

_ACTIVE_ELEMENTS = frozenset({"script", "foreignobject", "handler", "listener", "iframe", "embed", "object"})
_URL_IN_CSS = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)
_SCRIPT_SCHEMES = ("javascript:", "vbscript:")


def svg_problem(path: Path) -> str | None:
    """Why the SVG may not be published: script, event handlers, a reference outside the
    file, or XML that does not parse (then nobody can tell what a browser makes of it).
    defusedxml's parser refuses a DTD (so entities) before anything is expanded."""
    scan = _SvgScan()
    parser = DefusedXMLParser(target=scan, forbid_dtd=True)
    try:
        parser.feed(path.read_bytes())
        parser.close()
    except ET.ParseError as exc:
        return f"not well-formed XML ({exc}); an SVG is published only when it parses"
    except _Unsafe as unsafe:
        return f"an SVG with {unsafe} is never published"
    except DefusedXmlException:
        return "an SVG with a DOCTYPE (entities) is never published"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


class _Unsafe(Exception):
    """What makes an SVG active, found while parsing."""


class _SvgScan:
    """An ElementTree parser target that raises `_Unsafe` at the first active part."""

    def __init__(self) -> None:
        self.in_style = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _local(tag).lower()
        if name in _ACTIVE_ELEMENTS:
            raise _Unsafe(f"a <{_local(tag)}> element")
        self.in_style += name == "style"
        for key, value in attrib.items():
            _check_attribute(_local(key), value)

    def end(self, tag: str) -> None:
        self.in_style -= _local(tag).lower() == "style"

    def data(self, text: str) -> None:
        if self.in_style:
            _check_css(text)

    def pi(self, target: str, _text: str) -> None:
        raise _Unsafe(f"a processing instruction <?{target} …?>")  # xml-stylesheet loads CSS

    def doctype(self, _name, _pubid, _system) -> None:
        raise _Unsafe("a DOCTYPE (entities)")

    def close(self) -> None:
        return None


def _check_attribute(name: str, value: str) -> None:
    lowered = name.lower()
    if lowered.startswith("on"):
        raise _Unsafe(f"an event handler ({name}=)")
    # Browsers drop whitespace and control characters inside a URL's scheme: `java\tscript:`.
    compact = "".join(ch for ch in value if ch > " ").lower()
    if any(scheme in compact for scheme in _SCRIPT_SCHEMES) or compact.startswith("data:"):
        raise _Unsafe(f"a script or data URL in {name}=")
    if lowered == "href" and value.strip() and not value.strip().startswith("#"):
        raise _Unsafe(f"a reference outside the file ({name}={value.strip()!r})")
    _check_css(value)


def css_problem(text: str) -> str | None:
    """Why a stylesheet may not be published: an `@import` or a `url()` that is not a
    fragment (a theme's CSS is copied alone, so anything else would load from elsewhere)."""
    try:
        _check_css(text)
    except _Unsafe as unsafe:
        return f"a stylesheet with {unsafe} is never published"
    return None


def _check_css(text: str) -> None:
    """Styles may only point inside the file (`url(#gradient)`); `@import` loads more CSS."""
    if "@import" in text.lower():
        raise _Unsafe("a CSS @import")
    for target in _URL_IN_CSS.findall(text):
        if not target.startswith("#"):
            raise _Unsafe(f"a reference outside the file (url({target}))")


def _local(name: str) -> str:
    """`{namespace}local` -> `local`: xlink:href and href are both an href."""
    return name.rpartition("}")[2]
