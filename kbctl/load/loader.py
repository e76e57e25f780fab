"""Load a knowledge base: config, then every entry file parsed once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kbctl.config import Config, load_config
from kbctl.load import body as body_mod
from kbctl.load import frontmatter
from kbctl.load.discover import Found, discover
from kbctl.model import Diagnostic, Entry, KnowledgeBase
from kbctl.rules import rule

MAX_FILE_BYTES = 32 * 1024 * 1024


def load_kb(root: Path, config: Config | None = None) -> KnowledgeBase:
    config = config or load_config(root)
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    for found in discover(root):
        entry, found_diags = load_entry(found, config.default_locale)
        diagnostics.extend(found_diags)
        if entry is not None:
            entries.append(entry)
    return KnowledgeBase(root=root, config=config, entries=entries, diagnostics=diagnostics)


def load_entry(found: Found, default_locale: str) -> tuple[Entry | None, list[Diagnostic]]:
    data = _read(found)
    if isinstance(data, Diagnostic):
        return None, [data]
    text = _decode(found.path, data)
    if isinstance(text, Diagnostic):
        return None, [text]
    return parse_entry(found.path, text, default_locale, hashlib.sha256(data).hexdigest())


def parse_entry(path: str, text: str, default_locale: str, digest: str = "") -> tuple[Entry | None, list[Diagnostic]]:
    fm = frontmatter.parse(path, text)
    diagnostics = list(fm.diagnostics)
    if not fm.meta and not fm.ok:
        return None, diagnostics
    meta = dict(fm.meta)
    meta["_locale"] = meta.get("locale") or default_locale
    entry_id = meta.get("id") if isinstance(meta.get("id"), str) else None
    info = body_mod.analyse(path, entry_id, fm.body, fm.body_line)
    diagnostics.extend(info.diagnostics)
    entry = Entry(
        path=path,
        meta=meta,
        key_lines=fm.key_lines,
        body=fm.body,
        body_line=fm.body_line,
        ok=fm.ok,
        links=info.links,
        blocks=info.blocks,
        anchors=frozenset(info.anchors),
        raw_html_lines=info.raw_html_lines,
        headings=info.headings,
        segments=info.segments,
        content_hash=digest,
    )
    return entry, diagnostics


def _read(found: Found) -> bytes | Diagnostic:
    unreadable = rule("unreadable")
    if found.escapes:
        return unreadable.diag(found.path, None, "a symbolic link leading outside the knowledge base")
    try:
        size = found.absolute.stat().st_size
        if size > MAX_FILE_BYTES:
            return unreadable.diag(found.path, None, f"the file is {size // 1048576} MiB; entries are limited to 32 MiB")
        return found.absolute.read_bytes()
    except OSError as exc:
        return unreadable.diag(found.path, None, f"cannot read the file: {exc.strerror or exc}")


def _decode(path: str, data: bytes) -> str | Diagnostic:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return rule("encoding").diag(path, line, f"not UTF-8: byte 0x{data[exc.start]:02x} at line {line}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
