"""Load a knowledge base: config, then every entry file parsed once.

The speed-ups, each measured (bench/run.py): unchanged files come from the content-hash
cache; the rest are parsed in forked worker processes when there are enough of them to pay
for the workers; the bytes are read and hashed once; each entry's record is written as JSON
once, in the worker, for both the trip back and the cache (kbctl/load/records.py); the cyclic
garbage collector waits.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbctl import cache, cachetrust
from kbctl.config import Config, load_config
from kbctl.facts import Fact, facts_digest, named_in
from kbctl.load import body as body_mod
from kbctl.load import frontmatter, records
from kbctl.load.controlchars import path_problem
from kbctl.load.discover import MAX_FILE_BYTES, Found, discover, read_entry_file  # noqa: F401 - re-exported
from kbctl.load.facts import fill_entry
from kbctl.model import Diagnostic, Entry, KnowledgeBase
from kbctl.parallel import fork_map
from kbctl.rules import rule

PARALLEL_MIN_FILES = 400  # below this, starting workers costs more than it saves
CACHE_NAME = "entries"

Parsed = records.Parsed
# One Parsed: as JSON text from a worker (see `pack`), as decoded JSON from the cache (a
# list), or as it is (a tuple) where JSON cannot carry it or it is not worth caching.
Packed = str | list | Parsed


def scan(root: Path) -> list[tuple[Found, bytes | Diagnostic]]:
    """Every entry file with its bytes (or why it could not be read), in path order."""
    return [(f, read_entry_file(f)) for f in discover(root)]


@dataclass(frozen=True)
class Unread:
    """An entry file not read again: its stat is the one the last build recorded, with this
    content hash (kbctl/build.py). Read after all where no parse of that hash is at hand."""

    digest: str


def digests_of(raw, facts: Mapping[str, Fact] | None = None) -> dict[str, str]:
    """Each file's content hash (see `content_digest`); an unread file's as recorded."""
    digests = {}
    for found, data in raw:
        if isinstance(data, bytes):
            digests[found.path] = content_digest(data, facts)
        elif isinstance(data, Unread):
            digests[found.path] = data.digest
    return digests


def content_digest(data: bytes, facts: Mapping[str, Fact] | None = None) -> str:
    """A file's bytes, and what the facts it names say (kbctl/facts.py), so that an entry is
    parsed, and its outputs made, again when one of its facts changes."""
    digest = hashlib.sha256(data).hexdigest()
    if facts is not None and (names := named_in(data)):
        digest = hashlib.sha256(f"{digest}{facts_digest(names, facts)}".encode()).hexdigest()
    return digest


@dataclass
class Parses:
    """What the loads of a long-running process (kbctl serve) parsed, by path: the file's
    content digest and its parse, which the next load takes as it is instead of decoding the
    entries cache again. Sound because an entry is not changed once loaded, but for its git
    date, which every build sets again (kbctl/build.py). `key`: what parsing depended on."""

    key: str = ""
    by_path: dict[str, tuple[str, Parsed]] = field(default_factory=dict)


def load_kb(root: Path, config: Config | None = None, use_cache: bool = True, raw=None,
            meanwhile=None, parses: Parses | None = None) -> KnowledgeBase:
    """Load every entry. `meanwhile` (work independent of the entries, such as reading git
    history) runs while worker processes parse. `parses`: an earlier load's, used and
    updated (with `use_cache`)."""
    with gc_paused():
        return _load_kb(root, config, use_cache, raw, meanwhile, parses if use_cache else None)


def _load_kb(root: Path, config: Config | None, use_cache: bool, raw, meanwhile,
             parses: Parses | None) -> KnowledgeBase:
    config = config or load_config(root)
    raw = scan(root) if raw is None else raw
    found = [f for f, _ in raw]
    digests = digests_of(raw, config.facts)
    key = cache.cache_key(config.default_locale)
    remembered = parses.by_path if parses is not None and parses.key == key else {}
    kept = {path: parsed for path, (digest, parsed) in remembered.items() if digests.get(path) == digest}
    # What memory has not is new since the last build of this process: not in the cache either.
    needed = use_cache and not remembered
    cached = cache.load(root, CACHE_NAME, key) if needed else {}
    results: dict[str, Packed] = {}
    todo: list[tuple[str, bytes, str]] = []
    for item, data in raw:
        path = item.path
        if isinstance(data, Unread) and path not in kept and not _cached(cached, path, data.digest):
            data = read_entry_file(item)  # no parse of the hash recorded: read it after all
            if isinstance(data, bytes):
                digests[path] = content_digest(data, config.facts)
            else:
                digests.pop(path, None)
        if isinstance(data, Diagnostic):
            results[path] = (None, [data])
        elif (bad_path := path_problem(path)) is not None:
            results[path] = (None, [bad_path])
        elif path in kept:
            results[path] = kept[path]
        elif _cached(cached, path, digests[path]):
            results[path] = cached[path][1]
        elif isinstance(data, bytes):
            todo.append((path, data, digests[path]))
    results.update(_parse_all(todo, config, meanwhile))
    if use_cache and (todo or (needed and len(cached) != len(digests))):
        # Encoding 10,000 records is done by a forked child while this process goes on; it
        # forks before `_assemble` turns the records' dates back into dates.
        cache.save_later(root, CACHE_NAME, key, _cache_items(digests, results))
        cache.write_pending()
    cached.clear()  # the decoded records go as entries are made of them (`_assemble`)
    kb, by_path = _assemble(root, config, found, results)
    if parses is not None:
        parses.key = key
        parses.by_path = {path: (digests[path], parsed) for path, parsed in by_path.items() if path in digests}
    if use_cache:  # validate and build say when a committed cache was not read
        kb.diagnostics.extend(cachetrust.ignored_note(root))
    return kb


def _cached(cached: dict[str, Any], path: str, digest: str) -> bool:
    """The entries cache holds a parse of this content hash of the file."""
    hit = cached.get(path)
    return isinstance(hit, list) and len(hit) == 2 and hit[0] == digest


def pack(parsed: Parsed) -> Packed:
    """One entry's record as JSON text, made where it is parsed (in a worker).

    Workers send this text back and the cache keeps it as it is, so each record is encoded
    once and the parent only decodes. A record holding a value JSON cannot carry exactly
    stays as it is: it crosses to the parent the workers' own way, and is not cached."""
    try:
        return records.dumps(parsed)
    except records.NotData:
        return parsed


def unpack(packed: Packed) -> Parsed:
    if isinstance(packed, str):
        return records.loads(packed)
    if isinstance(packed, list):
        return records.parsed_from(packed)
    return packed


def _cache_items(digests: dict[str, str], results: dict[str, Packed]) -> dict[str, object]:
    """What the entries cache keeps: each file's digest and record, new ones as the worker
    wrote them, and those an earlier load of this process parsed encoded by the writer."""
    items: dict[str, object] = {}
    for path, digest in digests.items():
        packed = results.get(path)
        if isinstance(packed, str):
            items[path] = cache.Encoded(f'["{digest}",{packed}]')  # a digest is hex: no escaping
        elif isinstance(packed, list):
            items[path] = [digest, packed]
        elif packed is not None and packed[0] is not None:
            items[path] = cache.EncodedLater(functools.partial(_item_text, digest, packed))
    return items


def _item_text(digest: str, parsed: Parsed) -> str | None:
    """A remembered parse as the cache keeps it: as parsed, so without the git date a build
    gave its entry since. None where JSON cannot carry it (it is not cached)."""
    entry, diagnostics = parsed
    if entry is not None and entry.git_date is not None:
        entry = dataclasses.replace(entry, git_date=None)
    try:
        return f'["{digest}",{records.dumps((entry, diagnostics))}]'
    except records.NotData:
        return None


@contextmanager
def gc_paused():
    """Loading makes millions of objects that nearly all stay alive; the cyclic collector, run
    every few hundred allocations, would rescan the growing heap for next to nothing. Forked
    workers inherit the pause. Refcounting still frees garbage at once.

    Once loaded, what is alive is frozen (`gc.freeze`): it lives until the process ends, and
    otherwise the first collections after the pause (the young generation, then the middle,
    then the full one, as the loaded objects move up) would each scan all of it again. The
    little in cycles (fastjsonschema's recursive `uniqueItems` helper, error tracebacks) is
    frozen with it: kept, as it would have been until the first full collection."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _assemble(root, config, found, results: dict[str, Packed]) -> tuple[KnowledgeBase, dict[str, Parsed]]:
    """The knowledge base of the records in `results`, which are used up: each record's decoded
    JSON goes once its entry is made, so that the two are never all held at once. And each
    file's parse, by path."""
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    by_path: dict[str, Parsed] = {}
    for item in found:
        by_path[item.path] = parsed = unpack(results.pop(item.path))
        entry, found_diags = parsed
        diagnostics.extend(found_diags)
        if entry is not None:
            entries.append(entry)
    return KnowledgeBase(root=root, config=config, entries=entries, diagnostics=diagnostics), by_path


def _parse_all(todo: list[tuple[str, bytes, str]], config: Config, meanwhile=None) -> dict[str, Packed]:
    default_locale, facts = config.default_locale, config.facts
    return dict(fork_map(lambda chunk: _parse_chunk(chunk, default_locale, facts), todo,
                         PARALLEL_MIN_FILES, meanwhile=meanwhile))


def _parse_chunk(items: Sequence[tuple[str, bytes, str]], default_locale: str,
                 facts: Mapping[str, Fact]) -> list[tuple[str, Packed]]:
    out: list[tuple[str, Packed]] = []
    for path, data, digest in items:
        text = decode(path, data)
        if isinstance(text, Diagnostic):
            out.append((path, (None, [text])))
        else:
            out.append((path, pack(parse_entry(path, text, default_locale, digest, facts))))
    return out


def parse_entry(path: str, text: str, default_locale: str, digest: str = "",
                facts: Mapping[str, Fact] | None = None) -> Parsed:
    fm = frontmatter.parse(path, text)
    diagnostics = list(fm.diagnostics)
    if not fm.meta and not fm.ok:
        return None, diagnostics
    meta = dict(fm.meta)
    meta["_locale"] = meta.get("locale") or default_locale
    entry_id = meta.get("id") if isinstance(meta.get("id"), str) else None
    filled = fill_entry(path, text, meta, fm.key_lines, fm.body, fm.body_line, facts or {}) if "{{" in text else None
    body = filled.body if filled else fm.body
    if filled:
        diagnostics.extend(filled.diagnostics)
    info = body_mod.analyse(path, entry_id, body, fm.body_line)
    diagnostics.extend(info.diagnostics)
    entry = Entry(
        path=path,
        meta=meta,
        key_lines=fm.key_lines,
        body=body,
        body_line=fm.body_line,
        ok=fm.ok,
        links=info.links,
        blocks=info.blocks,
        anchors=frozenset(info.anchors),
        raw_html_lines=info.raw_html_lines,
        headings=info.headings,
        segments=info.segments,
        content_hash=digest,
        facts=filled.used if filled else (),
        unfilled=filled.unfilled if filled else {},
    )
    return entry, diagnostics


def decode(path: str, data: bytes) -> str | Diagnostic:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return rule("encoding").diag(path, line, f"not UTF-8: byte 0x{data[exc.start]:02x} at line {line}")
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
