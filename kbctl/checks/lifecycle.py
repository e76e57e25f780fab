"""Health checks: is the knowledge still verified, reachable, owned and in sync across locales?

Review dates follow CONTRACT 3.3. The checks read `entry.git_date`, which the caller fills in
from kbctl.gitdates (left None when git dates are not used), so they never run git themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from kbctl.checks.links import link_target
from kbctl.checks.references import resolve, unknown_names
from kbctl.config import CONFIG_NAME, Config, parse_interval
from kbctl.facts import used_in_settings
from kbctl.model import Diagnostic, Entry, KnowledgeBase
from kbctl.rules import rule


# -- review dates (CONTRACT 3.3) -----------------------------------------------------------
def last_verification(entry: Entry) -> dt.date | None:
    """The later of `last_reviewed` and the last committed content change."""
    dates = [d for d in (entry.date("last_reviewed"), entry.git_date) if d is not None]
    return max(dates) if dates else None


def review_interval(entry: Entry, config: Config) -> dt.timedelta:
    own = entry.meta.get("review_interval")
    if isinstance(own, str):
        try:
            return parse_interval(own)
        except ValueError:
            pass  # the schema reports it; fall back to the configured interval
    return config.type_intervals.get(entry.type, config.default_interval)


def due_date(entry: Entry, config: Config) -> dt.date | None:
    """When the entry must next be reviewed; None when it was never verified at all."""
    explicit = entry.date("review_by")
    if explicit is not None:
        return explicit
    verified = last_verification(entry)
    return verified + review_interval(entry, config) if verified else None


def days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _owner(entry: Entry) -> str:
    return f"owner: {entry.owner or '(none)'}"


def _published(kb: KnowledgeBase) -> list[Entry]:
    return [e for e in kb.valid_entries if e.is_published]


# -- the checks: check(kb, as_of) -> Iterable[Diagnostic] -------------------------------------
def review_dates(kb: KnowledgeBase, as_of: dt.date) -> Iterable[Diagnostic]:
    """`stale` when the due date has passed (or there is none), `expiring` when it is near."""
    config = kb.config
    for entry in _published(kb):
        due = due_date(entry, config)
        line = entry.line_of("review_by") or entry.line_of("last_reviewed")
        if due is None:
            yield rule("stale").diag(
                entry.path, line,
                f"never reviewed: no last_reviewed date and no committed change; {_owner(entry)}",
                entry.id)
        elif due < as_of:
            yield rule("stale").diag(
                entry.path, line,
                f"review was due {due} ({days((as_of - due).days)} overdue); {_owner(entry)}",
                entry.id)
        elif due <= as_of + config.warn_within:
            when = "today" if due == as_of else f"in {days((due - as_of).days)}"
            yield rule("expiring").diag(
                entry.path, line, f"review due {due} ({when}); {_owner(entry)}", entry.id)


def expired(kb: KnowledgeBase, as_of: dt.date) -> Iterable[Diagnostic]:
    for entry in _published(kb):
        valid_to = entry.date("valid_to")
        if valid_to is not None and valid_to < as_of:
            yield rule("expired").diag(
                entry.path, entry.line_of("valid_to"),
                f"valid_to {valid_to} has passed ({days((as_of - valid_to).days)} ago): "
                f"archive or extend it; {_owner(entry)}",
                entry.id)


def orphans(kb: KnowledgeBase, _as_of: dt.date) -> Iterable[Diagnostic]:
    linked = _linked_from_published(kb)
    for entry in _published(kb):
        if not entry.category and entry.path not in linked:
            yield rule("orphan").diag(
                entry.path, entry.line_of("id"),
                f"no category and no published entry links to it; {_owner(entry)}", entry.id)


def _linked_from_published(kb: KnowledgeBase) -> set[str]:
    """Paths of entries that some other published entry links to or lists as related."""
    linked: set[str] = set()
    for source in _published(kb):
        targets = [link_target(kb, link) for link in source.links]
        targets += [resolve(kb, name) for name in source.related]
        linked.update(t.path for t in targets if t is not None and t is not source)
    return linked


def translations_outdated(kb: KnowledgeBase, _as_of: dt.date) -> Iterable[Diagnostic]:
    for entry in _published(kb):
        source = resolve(kb, entry.translation_of) if entry.translation_of else None
        if source is None or source is entry:
            continue
        source_date, own_date = last_verification(source), last_verification(entry)
        if source_date is not None and (own_date is None or source_date > own_date):
            yield rule("translation-outdated").diag(
                entry.path, entry.line_of("translation_of"),
                f"source {source.id!r} was verified on {source_date}, after this translation "
                f"({own_date or 'never'}); {_owner(entry)}",
                entry.id)


def unknown_owners(kb: KnowledgeBase, as_of: dt.date) -> Iterable[Diagnostic]:
    """Entries nobody answers for: validate's `unknown-owner` findings, shown here too."""
    return (d for d in unknown_names(kb, as_of) if d.rule == "unknown-owner")


def owners_unused(kb: KnowledgeBase, _as_of: dt.date) -> Iterable[Diagnostic]:
    # Entries that fail validation still name their owner: it is in use.
    used = {e.meta.get("owner") for e in kb.entries if isinstance(e.meta.get("owner"), str)}
    for key in kb.config.owners:
        if key not in used:
            yield rule("owner-unused").diag(
                CONFIG_NAME, kb.config.lines.get(f"owners/{key}"), f"owner {key!r} owns no entry")


def facts_unused(kb: KnowledgeBase, _as_of: dt.date) -> Iterable[Diagnostic]:
    used = {name for entry in kb.entries for name in entry.facts}
    used |= used_in_settings([channel.options.get("theme") for channel in kb.config.channels.values()])
    for name, fact in kb.config.facts.items():
        if name not in used:
            yield rule("fact-unused").diag(CONFIG_NAME, fact.line, f"fact {name!r} is used by no entry")


def empty_categories(kb: KnowledgeBase, _as_of: dt.date) -> Iterable[Diagnostic]:
    filled: set[str] = set()
    for entry in _published(kb):
        parts = (entry.category or "").split("/")
        filled.update("/".join(parts[:n]) for n in range(1, len(parts) + 1) if parts[0])
    for node_path, node in kb.config.nodes.items():
        if node_path not in filled:
            yield rule("empty-category").diag(
                CONFIG_NAME, node.line, f"category {node_path!r} has no published entry")


HEALTH_CHECKS = (
    review_dates,
    expired,
    orphans,
    translations_outdated,
    unknown_owners,
    owners_unused,
    facts_unused,
    empty_categories,
)


def run_health(kb: KnowledgeBase, as_of: dt.date) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for check in HEALTH_CHECKS:
        found.extend(check(kb, as_of))
    return sorted(set(found), key=Diagnostic.sort_key)
