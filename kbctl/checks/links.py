"""Body links and `related`: do they resolve, and can every reader of the link follow it?"""

from __future__ import annotations

from urllib.parse import unquote

from kbctl.assets import Refusal, file_refusal
from kbctl.checks.references import resolve
from kbctl.publish import carried_paths
from kbctl.rules import rule

LINKING_KINDS = ("site", "faq")


def link_target(kb, link):
    """The entry a link names, or None (external, file, or nothing)."""
    if link.kind == "entry":
        return resolve(kb, link.target)
    if link.kind == "entry-path":
        return kb.by_path.get(link.target)
    return None


def broken_links(kb, _as_of):
    """broken-link, and unsafe-file for a linked file that exists but is never published."""
    for entry in kb.valid_entries:
        for link in entry.links:
            problem = _problem(kb, entry, link)
            if problem:
                name, text = problem if isinstance(problem, Refusal) else ("broken-link", problem)
                # markdown-it percent-encodes hrefs; show the link as the author wrote it.
                yield rule(name).diag(entry.path, link.line, f"{unquote(link.raw)}: {text}", entry.id)


def _problem(kb, entry, link) -> str | Refusal | None:
    if link.kind == "external":
        return None
    if link.kind == "anchor":  # a bare `#` is the top of the page
        if link.anchor is None or link.anchor in entry.anchors:
            return None
        return f"no heading '#{link.anchor}' in this entry"
    if link.kind == "entry":
        target = resolve(kb, link.target)
        if target is None:
            return f"no entry with id {link.target!r}"
        return _anchor_problem(target, link)
    if link.kind == "entry-path":
        target = kb.by_path.get(link.target)
        if target is not None:
            return _anchor_problem(target, link)
    return file_refusal(kb, link.target)  # the site channel copies what this lets through


def _anchor_problem(target, link) -> str | None:
    if link.anchor and link.anchor not in target.anchors:
        return f"entry {target.id!r} has no heading '#{link.anchor}'"
    return None


def cross_visibility_links(kb, as_of):
    """Warn where a channel shows a link (or related item) whose target it does not carry."""
    warn = rule("cross-visibility-link")
    channels = [c for c in kb.config.channels.values() if c.kind in LINKING_KINDS]
    carried_by = {c.name: carried_paths(kb, c, as_of) for c in channels}
    for entry in kb.valid_entries:
        if not entry.is_published:
            continue
        carrying = [c for c in channels if entry.path in carried_by[c.name]]
        if not carrying:
            continue
        references = [(link_target(kb, link), link.level, link.line) for link in entry.links]
        references += [(resolve(kb, rid), 0, entry.line_of("related")) for rid in entry.related]
        for target, level, line in references:
            if target is None:
                continue
            blind = [c.name for c in carrying
                     if c.audience_rank >= level and target.path not in carried_by[c.name]]
            if blind:
                verb = "does" if len(blind) == 1 else "do"
                yield warn.diag(
                    entry.path, line,
                    f"links to {target.id!r}, which {', '.join(blind)} {verb} not carry "
                    f"({_why_not_carried(target, as_of)})",
                    entry.id,
                )


def _why_not_carried(target, as_of) -> str:
    """Say why, so the author knows whether to fix the link or the target."""
    if not target.is_published:
        return f"status {target.status}"
    valid_from, valid_to = target.date("valid_from"), target.date("valid_to")
    if valid_to is not None and valid_to < as_of:
        return f"valid_to {valid_to} has passed"
    if valid_from is not None and as_of < valid_from:
        return f"not valid before {valid_from}"
    if target.visibility != "public":
        return f"visibility {target.visibility}"
    return f"channels: {', '.join(target.channels or [])}" if target.channels is not None else "not selected"


def raw_html(kb, _as_of):
    warn = rule("raw-html")
    for entry in kb.valid_entries:
        for line in entry.raw_html_lines:
            yield warn.diag(entry.path, line, "raw HTML is never published; use Markdown", entry.id)
