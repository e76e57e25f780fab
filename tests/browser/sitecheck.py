"""Checks over a built site folder that need no browser: links, URL schemes, JSON-LD.

Shared by tests/test_site.py (fixture KB) and tests/browser (the sample KB).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

URL_ATTRS = {"href", "src", "action", "formaction", "poster", "data", "srcset", "xlink:href"}
SAFE_SCHEMES = ("http", "https", "mailto", "tel")


@dataclass
class PageRefs:
    urls: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)
    ids: set[str] = field(default_factory=set)
    base: str | None = None
    jsonld: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)  # types of every <script>


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs = PageRefs()
        self._in_jsonld = False
        self._buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name in URL_ATTRS and value is not None:
                self.refs.urls.append((tag, name, value))
            if name == "id" and value:
                self.refs.ids.add(value)
        if tag == "base" and values.get("href"):
            self.refs.base = values["href"]
        if tag == "script":
            self.refs.scripts.append(values.get("type") or "")
            self._in_jsonld = values.get("type") == "application/ld+json"
            self._buffer = []

    def handle_data(self, data):
        if self._in_jsonld:
            self._buffer.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._in_jsonld:
            self.refs.jsonld.append("".join(self._buffer))
            self._in_jsonld = False


def page_refs(path: Path) -> PageRefs:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.refs


def html_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def broken_links(folder: Path) -> list[str]:
    """Every relative URL of every page must name a file of the folder (and an id, if it has a
    #fragment); a folder URL without index.html counts as broken (file:// cannot open it)."""
    problems: list[str] = []
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = page_refs(path).ids
        return ids[path]

    for page in html_files(folder):
        refs = page_refs(page)
        ids[page] = refs.ids
        rel_page = page.relative_to(folder).as_posix()
        for tag, attr, value in refs.urls:
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//"):
                continue
            if not parts.path:
                if parts.fragment and unquote(parts.fragment) not in refs.ids:
                    problems.append(f"{rel_page}: {value}: no such id")
                continue
            target_rel = posixpath.normpath(posixpath.join(posixpath.dirname(rel_page), unquote(parts.path)))
            target = folder / target_rel
            if target_rel.startswith("..") or not target.is_file():
                problems.append(f"{rel_page}: <{tag} {attr}={value!r}> → {target_rel}: missing")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in ids_of(target):
                problems.append(f"{rel_page}: {value}: no id {unquote(parts.fragment)!r} in {target_rel}")
    return problems


def unsafe_urls(folder: Path) -> list[str]:
    """URLs of a scheme other than http(s)/mailto/tel (javascript:, data:, vbscript: …)."""
    found = []
    for page in html_files(folder):
        for tag, attr, value in page_refs(page).urls:
            scheme = urlsplit(value.strip()).scheme.lower()
            if scheme and scheme not in SAFE_SCHEMES:
                found.append(f"{page.relative_to(folder)}: <{tag} {attr}={value!r}>")
    return found


def jsonld_blocks(path: Path) -> list[dict]:
    return [json.loads(text) for text in page_refs(path).jsonld]
