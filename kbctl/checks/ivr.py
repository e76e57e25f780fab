"""Voice channel checks: every carried entry has a short, speakable script; menus fit a keypad."""

from __future__ import annotations

import re
from collections import defaultdict

from kbctl.config import CONFIG_NAME
from kbctl.facts import spoken_text
from kbctl.ivrmenu import KEYS, build_menu, walk
from kbctl.markdown import parser
from kbctl.publish import carried
from kbctl.rules import rule
from kbctl.speech import rates, spoken_seconds

# Scripts are attacker-controlled text: every pattern here is linear. A domain is found by
# its last dot (a word character, `.com`): `[\w.-]+\.com` tried from each start of a long
# `a.a.a.…` backtracks quadratically. Runs that could fail late are possessive or bounded
# by a character class the next part cannot match.
_SCHEME = re.compile(r"(?i)\b(?:https?://|www\.|ftp://|mailto:)")
_DOMAIN = re.compile(r"(?i)\w\.(?:com|cn|net|org|io)\b")
# A pattern runs only on a script holding one of its literal parts (found by str's own
# search, several times faster than a regular expression trying every position).
_URL_PATTERNS = ((("://", "www.", "mailto:"), _SCHEME), ((".com", ".cn", ".net", ".org", ".io"), _DOMAIN))
_MARKUP = re.compile(
    r"<[A-Za-z/!][^<>]*+>|\[[^\[\]]*+\]\([^()]*+\)|`|^[^\S\n]*+\|[^\n]*\|[^\S\n]*$|!\[", re.MULTILINE)
# No phone prompt is this long: past it a script is too long for any voice menu, and only
# the first part is parsed as Markdown (whose parse of a long hostile text costs seconds);
# the linear patterns above still read all of it.
MAX_PARSED_SCRIPT = 5_000
_UNSPEAKABLE_TOKENS = {
    "link_open": "a link", "image": "an image", "table_open": "a table",
    "code_inline": "code", "code_block": "code", "fence": "code",
    "html_inline": "raw HTML", "html_block": "raw HTML",
}


def ivr_channels(kb):
    return [c for c in kb.config.channels.values() if c.kind == "ivr"]


def unspeakable(script: str) -> str | None:
    """What in the script a speech engine cannot say, or None."""
    found = find_unspeakable(script)
    return found[0] if found else None


def find_unspeakable(script: str) -> tuple[str, int] | None:
    """(what a speech engine cannot say, its 0-based line in the script), or None."""
    for token in parser(html=True).parse(_parsed_part(script)):
        line = token.map[0] if token.map else 0
        for item in [token, *(token.children or [])]:
            if item.type in _UNSPEAKABLE_TOKENS:
                return _UNSPEAKABLE_TOKENS[item.type], _child_line(token, item, line)
    lowered = script.lower()
    urls = [m.start() for parts, pattern in _URL_PATTERNS if any(part in lowered for part in parts)
            if (m := pattern.search(script))]
    if urls:
        return "a URL", script.count("\n", 0, min(urls))
    if any(mark in script for mark in "<[`|") and (match := _MARKUP.search(script)):
        return "markup", script.count("\n", 0, match.start())
    return None


def _parsed_part(script: str) -> str:
    """The script up to MAX_PARSED_SCRIPT characters, cut at a line end."""
    if len(script) <= MAX_PARSED_SCRIPT:
        return script
    cut = script.rfind("\n", 0, MAX_PARSED_SCRIPT)
    return script[:cut if cut > 0 else MAX_PARSED_SCRIPT]


def _child_line(token, item, line: int) -> int:
    """The line of an inline child: count the line breaks before it."""
    for child in token.children or []:
        if child is item:
            break
        if child.type in ("softbreak", "hardbreak"):
            line += 1
    return line


def scripts(kb, as_of):
    for entry in kb.valid_entries:
        for block in entry.blocks:
            if block.name == "ivr" and (found := find_unspeakable(said(kb, entry, block.text))):
                what, offset = found  # the content starts on the line after `::: ivr`
                yield rule("ivr-unspeakable").diag(
                    entry.path, block.start_line + 1 + offset,
                    f"the ::: ivr script holds {what}", entry.id)
    for channel in ivr_channels(kb):
        for entry in carried(kb, channel, as_of):
            yield from _script_findings(kb.config, channel, entry)


def said(kb, entry, text: str) -> str:
    """The text as the IVR says it: the rules judge what callers hear, facts filled in."""
    return spoken_text(text, entry.locale, kb.config.facts) if entry.facts else text


def _script_findings(config, channel, entry):
    script = spoken_text(entry.ivr_script, entry.locale, config.facts) if entry.ivr_script else None
    line = next((b.start_line for b in entry.blocks if b.name == "ivr"), None)
    if script is None:
        if not entry.summary:
            script_part = "an empty '::: ivr' block" if entry.has_ivr_block else "no '::: ivr' block"
            yield rule("ivr-missing-script").diag(
                entry.path, line or entry.line_of("channels") or 1,
                f"{channel.name} carries this entry but it has {script_part} and no summary",
                entry.id)
            return
        script, line = spoken_text(entry.as_written("summary"), entry.locale, config.facts), entry.line_of("summary")
        if what := unspeakable(script):
            yield rule("ivr-unspeakable").diag(
                entry.path, line, f"the summary, spoken by {channel.name}, holds {what}", entry.id)
    limit = channel.options.get("max_prompt_seconds")
    if limit is None:
        return
    seconds = spoken_seconds(script, *rates(config.speech, entry.locale))
    if seconds > limit:
        yield rule("ivr-too-long").diag(
            entry.path, line,
            f"the script takes {seconds:.1f} s to say; {channel.name} allows {limit:g} s", entry.id)


def menus(kb, as_of):
    yield from _key_clashes(kb)
    for channel in ivr_channels(kb):
        entries = carried(kb, channel, as_of)
        by_locale = defaultdict(list)
        for entry in entries:
            by_locale[entry.locale].append(entry)
        for locale in sorted(by_locale):
            menu = build_menu(kb.config, by_locale[locale], locale)
            for sub in walk(menu):
                if sub.overflow:
                    where = f"menu {sub.path!r}" if sub.path else "the main menu"
                    line = kb.config.lines.get(sub.path) or kb.config.lines.get(f"channels/{channel.name}")
                    yield rule("ivr-menu").diag(
                        CONFIG_NAME, line,
                        f"{channel.name} ({locale}): {where} has {len(sub.options)} options; "
                        f"a keypad offers {len(KEYS)}")


def _key_clashes(kb):
    yield from _sibling_clashes(kb.config, kb.config.taxonomy, "")


def _sibling_clashes(config, nodes, parent):
    """A module-level function, not a closure calling itself: such a closure is a reference
    cycle, which kept the whole knowledge base alive until the interpreter's final collection
    (0.2 s spent after a 10,000-entry validate had printed its findings)."""
    taken = {}
    for node in nodes:
        if node.dtmf and node.dtmf in taken:
            where = f"under {parent!r}" if parent else "at the top level"
            yield rule("ivr-menu").diag(
                CONFIG_NAME, config.lines.get(f"dtmf:{node.path}", node.line),
                f"dtmf {node.dtmf!r} of {node.path!r} is also used by {taken[node.dtmf]!r} {where}")
        elif node.dtmf:
            taken[node.dtmf] = node.path
        yield from _sibling_clashes(config, node.children, node.path)
