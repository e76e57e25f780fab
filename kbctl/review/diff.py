"""From changed files to changed entries.

git reports files; a review reports entries. An entry keeps its identity across a change when
git pairs the two paths (a rename, `-M` at 50% similarity), when the path stays the same (even
if the id inside changed: that is the entry being renamed), or when a deleted file and an
added file hold the same id (a move that git could not pair because the text changed too much).
"""

from __future__ import annotations

from dataclasses import dataclass

from kbctl.model import Entry, KnowledgeBase
from kbctl.review.gitsnapshot import CONFIG_NAME, FileChange, is_entry_file

ADDED, MODIFIED, DELETED, RENAMED = "added", "modified", "deleted", "renamed"


@dataclass(frozen=True)
class EntryPair:
    """An entry at base and at head (either may be missing), with what happened to it."""

    status: str
    base_path: str | None
    head_path: str | None
    base: Entry | None
    head: Entry | None
    via_config: bool = False  # the file is unchanged; only kbctl.yaml changed its output

    @property
    def path(self) -> str:
        return self.head_path or self.base_path or ""

    @property
    def id(self) -> str | None:
        for entry in (self.head, self.base):
            if entry is not None and entry.id:
                return entry.id
        return None

    @property
    def old_id(self) -> str | None:
        if self.base is None or self.head is None or not self.base.id:
            return None
        return self.base.id if self.base.id != self.head.id else None


def is_entry_path(path: str | None) -> bool:
    return bool(path) and is_entry_file(path or "")


def config_changed(files: list[FileChange]) -> bool:
    return any(CONFIG_NAME in (f.path, f.old_path) for f in files)


def entry_pairs(files: list[FileChange], base: KnowledgeBase | None,
                head: KnowledgeBase) -> list[EntryPair]:
    """Changed entry files, each paired with its entry at base and at head."""
    pairs: list[EntryPair] = []
    for change in files:
        old = change.old_path if change.status == "R" else change.path
        old = old if change.status != "A" and is_entry_path(old) else None
        new = change.path if change.status != "D" and is_entry_path(change.path) else None
        if old is None and new is None:
            continue
        base_entry = base.by_path.get(old) if (base is not None and old) else None
        head_entry = head.by_path.get(new) if new else None
        pairs.append(EntryPair(_status(old, new, base_entry, head_entry), old, new,
                               base_entry, head_entry))
    return _pair_moves(pairs)


def _status(old, new, base_entry, head_entry) -> str:
    if old is None:
        return ADDED
    if new is None:
        return DELETED
    if old != new:
        return RENAMED
    if base_entry is not None and head_entry is not None and base_entry.id != head_entry.id:
        return RENAMED
    return MODIFIED


def _pair_moves(pairs: list[EntryPair]) -> list[EntryPair]:
    """A deleted and an added file holding the same id are one entry that moved."""
    added = {p.head.id: p for p in pairs if p.status == ADDED and p.head is not None and p.head.id}
    out: list[EntryPair] = []
    used: set[str] = set()
    for pair in pairs:
        if pair.status == DELETED and pair.base is not None and pair.base.id in added \
                and pair.base.id not in used:
            moved = added[pair.base.id]
            used.add(pair.base.id)
            out.append(EntryPair(RENAMED, pair.base_path, moved.head_path, pair.base, moved.head))
        else:
            out.append(pair)
    return [p for p in out if not (p.status == ADDED and p.head is not None and p.head.id in used)]


def unchanged_pairs(base: KnowledgeBase | None, head: KnowledgeBase,
                    changed: list[EntryPair]) -> list[EntryPair]:
    """Entries whose file did not change (candidates when kbctl.yaml changed)."""
    if base is None:
        return []
    touched = {p.base_path for p in changed} | {p.head_path for p in changed}
    return [
        EntryPair(MODIFIED, entry.path, entry.path, base.by_path.get(entry.path), entry,
                  via_config=True)
        for entry in head.entries
        if entry.path not in touched and entry.path in base.by_path
    ]
