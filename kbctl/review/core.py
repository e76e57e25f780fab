"""`kbctl review`: what a change does between two commits (CONTRACT 5).

resolve refs → diff files → lay out both commits → load both → pair changed entries →
channel effects and widening per entry → validate head (limited to what the change touches)
→ health on changed entries, for information.
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbctl import cachetrust
from kbctl.cache import CACHE_DIR, file_of
from kbctl.checks import run_validate
from kbctl.config import CONFIG_NAME, load_config
from kbctl.errors import KbctlError, UsageError
from kbctl.facts import changed_facts
from kbctl.load import load_kb
from kbctl.load.loader import CACHE_NAME
from kbctl.model import Diagnostic, KnowledgeBase, Severity
from kbctl.review.diff import DELETED, EntryPair, config_changed, entry_pairs, unchanged_pairs
from kbctl.review.fingerprint import Fingerprints, channel_effects
from kbctl.review.gitsnapshot import Repository, Snapshot
from kbctl.review.widening import widening

HEALTH_RULES = ("stale", "expiring", "expired", "orphan", "translation-outdated")


@dataclass(frozen=True)
class Change:
    """One changed entry as a reviewer sees it."""

    id: str | None
    path: str
    status: str
    effects: dict[str, str]  # channel -> added | changed | removed
    reasons: tuple[str, ...] = ()  # why it widens the audience; empty when it does not
    old_path: str | None = None
    old_id: str | None = None
    title: str = ""
    via_config: bool = False
    visibility_line: int | None = None  # where head sets `visibility`, for annotations
    facts: tuple[str, ...] = ()  # the changed facts (kbctl.yaml) the entry uses

    @property
    def channels(self) -> list[str]:
        return sorted(self.effects)

    @property
    def widens(self) -> bool:
        return bool(self.reasons)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "path": self.path, "status": self.status,
                                "channels": self.channels, "widens": self.widens}
        if self.reasons:
            data["widening"] = list(self.reasons)
        if self.old_path and self.old_path != self.path:
            data["old_path"] = self.old_path
        if self.old_id:
            data["old_id"] = self.old_id
        data["channel_effects"] = dict(sorted(self.effects.items()))
        data["title"] = self.title
        if self.via_config:
            data["via_config"] = True
        if self.facts:
            data["facts"] = list(self.facts)
        return data


@dataclass
class Review:
    base: str
    head: str
    as_of: dt.date
    config_changed: bool
    changes: list[Change]
    problems: list[Diagnostic]  # validate findings: they decide the exit code
    health: list[Diagnostic] = field(default_factory=list)  # for information only
    entries: int = 0
    channels: list[str] = field(default_factory=list)
    merge_base: str = ""  # the commit compared with head: where head's history left base's
    facts: list[str] = field(default_factory=list)  # facts of kbctl.yaml the change changed

    def fact_reach(self, name: str) -> tuple[int, int]:
        """(entries, channels) a changed fact reaches."""
        using = [c for c in self.changes if name in c.facts]
        return len(using), len({channel for c in using for channel in c.effects})

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.problems)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def review(root: Path, base_ref: str, head_ref: str, as_of: dt.date) -> Review:
    """Compare head with the merge base of base and head, as a pull request's diff does (on a
    linear history, and for GitHub's pull-request merge commits, that is base itself)."""
    repo = Repository(root)
    base_sha = repo.resolve(base_ref, "--base")
    head_sha = repo.resolve(head_ref, "--head")
    fork = repo.merge_base(base_sha, head_sha)
    files = repo.changed_files(fork, head_sha)
    with ExitStack() as stack:
        head_snap = repo.snapshot(head_sha)
        if head_snap is None:
            raise UsageError(f"--head {head_ref!r}: the commit has no {repo.prefix}{CONFIG_NAME}")
        stack.callback(head_snap.close)
        base_snap = repo.snapshot(fork)
        if base_snap is not None:
            stack.callback(base_snap.close)
        head_kb = _load(head_snap, "--head", head_ref, root)
        base_kb = _load_base(base_snap, base_ref, head_snap, head_kb, root) if base_snap else None
        _add_linked_files(head_snap, head_kb)
        result = _compare(repo, base_sha, head_sha, files, base_kb, head_kb, as_of)
        result.merge_base = fork
        return result


def _load(snap: Snapshot, option: str, ref: str, cache_from: Path) -> KnowledgeBase:
    """Load a commit's KB with the loader, reusing the working tree's parse cache: it is keyed
    on each file's bytes, so an entry unchanged since then is not parsed again."""
    _borrow_cache(snap.root, cache_from)
    try:
        return load_kb(snap.root, load_config(snap.root), raw=snap.sources())
    except KbctlError as exc:
        raise UsageError(f"{option} {ref!r}: {exc}") from None


def _load_base(snap: Snapshot, ref: str, head_snap: Snapshot, head: KnowledgeBase,
               cache_from: Path) -> KnowledgeBase:
    """Load the base commit's KB, taking every entry whose file is the same at head from the
    head's KB: most of a KB is unchanged by a change, so most of it is parsed only once."""
    try:
        config = load_config(snap.root)
    except KbctlError as exc:
        raise UsageError(f"--base {ref!r}: {exc}") from None
    # An entry is parsed with its facts filled in: one naming a fact the change changed is
    # parsed again with the base's facts.
    refilled = changed_facts(config.facts, head.config.facts)
    unknown = {d.path for d in head.diagnostics if d.rule == "unknown-fact"} if refilled else set()
    shared = {path: entry for path, entry in head.by_path.items()
              if snap.same_file(head_snap, path) and not (refilled & set(entry.facts)) and path not in unknown}
    raw = snap.sources(skip=set(shared))
    if raw is None or config.default_locale != head.config.default_locale:
        return _load(snap, "--base", ref, cache_from)
    rest = load_kb(snap.root, config, use_cache=False, raw=raw)
    entries = sorted([*shared.values(), *rest.entries], key=lambda e: e.path)
    return KnowledgeBase(root=snap.root, config=config, entries=entries,
                         diagnostics=rest.diagnostics)


def _borrow_cache(snapshot_root: Path, kb_root: Path) -> None:
    """Link the KB's cache file into the snapshot (read through the link; a rewrite of the
    snapshot's cache replaces the link, never the KB's own file). Its seal is verified where
    it is read (kbctl/cachetrust.py); a cache the KB's git tracks is not lent at all."""
    source = file_of(kb_root, CACHE_NAME)
    if not source.is_file() or not cachetrust.usable(kb_root):
        return
    folder = snapshot_root / CACHE_DIR
    try:
        folder.mkdir(exist_ok=True)
        (folder / source.name).symlink_to(source.resolve())
    except OSError:
        pass  # no cache: slower, same result


def _add_linked_files(snap: Snapshot, kb: KnowledgeBase) -> None:
    """Files outside knowledge/ that entries link to must exist for the link checks."""
    snap.add({link.target for entry in kb.entries for link in entry.links
              if link.kind in ("file", "entry-path")})


def _compare(repo, base_sha, head_sha, files, base_kb, head_kb, as_of) -> Review:
    cache: dict = {}
    base_fp, head_fp = Fingerprints(base_kb, as_of, cache), Fingerprints(head_kb, as_of, cache)
    changed_config = config_changed(files)
    facts = sorted(changed_facts(base_kb.config.facts, head_kb.config.facts)) if base_kb else []
    pairs = entry_pairs(files, base_kb, head_kb)
    changes = [_change(p, base_fp, head_fp, facts) for p in pairs]
    if changed_config:
        for pair in unchanged_pairs(base_kb, head_kb, pairs):
            change = _change(pair, base_fp, head_fp, facts)
            if change.effects or change.facts:  # every entry using a changed fact is listed
                changes.append(change)
                pairs.append(pair)
    changes.sort(key=lambda c: (c.path, c.status))
    problems = _problems(head_kb, as_of, pairs, changes, changed_config)
    health = _health(repo, head_sha, head_kb, as_of, changes)
    channels = sorted(set(head_fp.channels) | set(base_fp.channels))
    return Review(base_sha, head_sha, as_of, changed_config, changes, problems, health,
                  len(head_kb.entries), channels, facts=facts)


def _change(pair: EntryPair, base_fp: Fingerprints, head_fp: Fingerprints, facts: list[str]) -> Change:
    effects = channel_effects(base_fp, head_fp, pair.base, pair.head)
    reasons = () if pair.status == DELETED else tuple(
        widening(base_fp, head_fp, pair.base, pair.head))
    shown = pair.head or pair.base
    return Change(
        id=pair.id, path=pair.path, status=pair.status, effects=effects, reasons=reasons,
        old_path=pair.base_path if pair.base_path != pair.path else None, old_id=pair.old_id,
        title=shown.title if shown is not None and isinstance(shown.title, str) else "",
        via_config=pair.via_config,
        visibility_line=pair.head.line_of("visibility") if pair.head is not None else None,
        facts=tuple(name for name in facts if any(name in e.facts for e in (pair.base, pair.head) if e)),
    )


def _problems(kb, as_of, pairs, changes, changed_config) -> list[Diagnostic]:
    """validate on head, limited to the changed entries and the entries that refer to them.

    A kbctl.yaml change concerns every entry, so then every finding is reported.
    """
    found = run_validate(kb, as_of)
    if changed_config:
        return found
    paths = {c.path for c in changes if c.status != DELETED}
    paths |= referring(kb, pairs)
    ivr = {n for n, c in kb.config.channels.items() if c.kind == "ivr"}
    menus_touched = any(ivr & set(c.effects) for c in changes)
    return [d for d in found if d.path in paths or (menus_touched and d.path == CONFIG_NAME)]


def referring(kb: KnowledgeBase, pairs: list[EntryPair]) -> set[str]:
    """Paths of head entries whose links, `related` or `translation_of` name a changed entry
    by any of its ids (old, new, aliases) or paths."""
    names: set[str] = set()
    for pair in pairs:
        for entry in (pair.base, pair.head):
            if entry is not None:
                names.add(entry.id)
                names.update(a for a in entry.aliases if isinstance(a, str))
        names.update(p for p in (pair.base_path, pair.head_path) if p)
    names.discard("")
    found = set()
    for entry in kb.valid_entries:
        refs = {link.target for link in entry.links if link.kind in ("entry", "entry-path")}
        refs.update(entry.related)
        if entry.translation_of:
            refs.add(entry.translation_of)
        if refs & names:
            found.add(entry.path)
    return found


def _health(repo: Repository, head_sha: str, kb: KnowledgeBase, as_of: dt.date,
            changes: list[Change]) -> list[Diagnostic]:
    """Lifecycle findings (stale, expiring, expired, orphan, …) on the changed entries."""
    paths = {c.path for c in changes if c.status != DELETED}
    if not paths:
        return []
    try:
        from kbctl.checks.lifecycle import run_health
        from kbctl.gitdates import dates_from_log
    except ImportError:  # the health checks are optional to a review
        return []
    notes: list[Diagnostic] = []
    log = repo.log_for_dates(head_sha)
    if log is None:
        from kbctl.rules import rule

        notes.append(rule("git-dates").diag(
            None, None, "git dates are not used (shallow clone); review dates rest on "
                        "last_reviewed and review_by alone"))
    else:
        prefix = repo.prefix
        dates = {p[len(prefix):]: d for p, d in dates_from_log(log).items() if p.startswith(prefix)}
        for entry in kb.entries:
            entry.git_date = dates.get(entry.path)
    found = [d for d in run_health(kb, as_of) if d.rule in HEALTH_RULES and d.path in paths]
    return notes + found
