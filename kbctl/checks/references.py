"""Names that must resolve: ids, owners, categories, channels, locales, related, translations."""

from __future__ import annotations

from collections import defaultdict

from kbctl.rules import rule


def duplicate_ids(kb, _as_of):
    by_id = defaultdict(list)
    for entry in kb.valid_entries:
        by_id[entry.id].append(entry)
    for entry_id, entries in by_id.items():
        if len(entries) < 2:
            continue
        for entry in entries:
            others = ", ".join(e.path for e in entries if e is not entry)
            yield rule("duplicate-id").diag(
                entry.path, entry.line_of("id"), f"id {entry_id!r} is also used by {others}", entry_id)


def unknown_names(kb, _as_of):
    config = kb.config
    nodes = config.nodes
    for entry in kb.valid_entries:
        if entry.owner not in config.owners:
            yield rule("unknown-owner").diag(
                entry.path, entry.line_of("owner"),
                f"owner {entry.owner!r} is not in kbctl.yaml owners", entry.id)
        if entry.category and entry.category not in nodes:
            yield rule("unknown-category").diag(
                entry.path, entry.line_of("category"),
                f"category {entry.category!r} is not a taxonomy path", entry.id)
        for name in entry.channels or []:
            if name not in config.channels:
                yield rule("unknown-channel").diag(
                    entry.path, entry.line_of("channels"),
                    f"channel {name!r} is not configured in kbctl.yaml", entry.id)
        if entry.locale not in config.locales:
            yield rule("unknown-locale").diag(
                entry.path, entry.line_of("locale"),
                f"locale {entry.locale!r} is not in kbctl.yaml locales", entry.id)


def resolve(kb, entry_id: str):
    """The entry an id names, following `aliases` (former ids kept for old links)."""
    found = kb.by_id.get(entry_id)
    if found is not None:
        return found
    return alias_index(kb).get(entry_id)


def alias_index(kb) -> dict:
    cached = getattr(kb, "_aliases", None)
    if cached is None:
        cached = {}
        for entry in kb.valid_entries:
            for alias in entry.aliases:
                cached.setdefault(alias, entry)
        kb._aliases = cached
    return cached


def broken_references(kb, _as_of):
    broken = rule("broken-reference")
    for entry in kb.valid_entries:
        for target in entry.related:
            if resolve(kb, target) is None:
                yield broken.diag(entry.path, entry.line_of("related"),
                                  f"related entry {target!r} does not exist", entry.id)
            elif target == entry.id:
                yield broken.diag(entry.path, entry.line_of("related"),
                                  "an entry cannot be related to itself", entry.id)
        source_id = entry.translation_of
        if source_id is None:
            continue
        source = resolve(kb, source_id)
        if source is None:
            yield broken.diag(entry.path, entry.line_of("translation_of"),
                              f"translation_of {source_id!r}: no such entry", entry.id)
        elif source.locale == entry.locale:
            yield broken.diag(entry.path, entry.line_of("translation_of"),
                              f"translation_of {source_id!r} is in the same locale ({entry.locale})",
                              entry.id)
