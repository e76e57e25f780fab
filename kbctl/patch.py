"""Rebuilding after edits that keep entries' structure, without loading the knowledge base.

Most edits change what an answer says, or an entry's title, summary, questions, tags, related
list, review dates, owner or links to entries and the web: no heading, category, block, file
link, visibility or channel moves. Such an edit leaves the entry's *structure*
(kbctl/load/interface.py) as it was, and with it which channels, categories and menus hold
each entry, and every finding of validate but those about the changed fields, which are
checked again here (`recheck`: duplicate-question, the spoken summary's ivr checks,
unknown-owner, broken-reference, broken-link and cross-visibility-link; a finding sends the
build the full way). So when

  - the only changes since the last build are entries' bytes (no file added or removed; the
    same kbctl, date, config, templates, git HEAD and linked files),
  - each changed entry still parses to the structure it had,
  - each channel to build was built from the last build's content, is still exactly as that
    build left it (its manifest and the stat of every file), and left its seeds,

each channel makes again, in its own worker, only the files that show the edited entries
(kbctl/channels: `patchers`) from its seeds: after an answer's text changed, its pages, FAQ
records and the search indexes; after a restated field changed, also every page, tag page,
menu, record and sitemap date that shows it. They replace the old files together with an
updated manifest. Anything else falls back to a full build, which gives the same bytes
(tests/test_patch.py holds the two equal).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from kbctl import cache
from kbctl.channels.replay import NotReplayable
from kbctl.checks.questions import asked
from kbctl.config import Channel, Config
from kbctl.load.names import Names
from kbctl.model import Entry
from kbctl.output import OutputSnapshot, Patch
from kbctl.parallel import fork_map
from kbctl.seedstore import SeedReader, SeedStore, replace_later, update_later, wait_for_writer
from kbctl.timing import note, stage


def _seeds_key(channel: Channel) -> str:
    from kbctl.build import assets_digest

    return cache.cache_key("seeds", channel.name, channel.kind, assets_digest())


def save_seeds(root: Path, channel: Channel, seeds, content: str) -> None:
    """Keep what the channel's full build leaves for patching, and the entries' content it
    was built from (written by the build's forked writer); a store that cannot be written
    only means the next edit takes the full build."""
    replace_later(root, channel.name, _seeds_key(channel), lambda: [*seeds.rows(), ("content", content.encode())])


@dataclass
class PatchJob:
    """What a channel kind's patcher is given."""

    rows: SeedReader  # the channel's seeds from the last build
    entries: list[Entry]  # the changed entries, parsed (with their git dates)
    restated: set[str]  # ids of those whose RESTATED fields (kbctl/load/interface.py) changed
    folder: Path  # the channel's output, as the last build left it
    config: Config
    channel: Channel
    root: Path
    names: Names  # what ids, aliases and paths name (as the last full build found)

    def entry(self, path: str) -> Entry:
        """An unchanged entry, parsed again from its file (a page listing an edited one)."""
        from kbctl.load.loader import decode, parse_entry

        try:
            text = decode(path, (self.root / path).read_bytes())
        except OSError as why:
            raise NotReplayable(f"{path}: {why}") from None
        entry = parse_entry(path, text, self.config.default_locale, "")[0] if isinstance(text, str) else None
        if entry is None:
            raise NotReplayable(f"{path} no longer parses")
        return entry


def patch_edits(root: Path, config: Config, out: Path, state: dict, stale: list[Channel],
                scan, world: str, as_of: dt.date) -> dict[str, int] | None:
    """Files updated per channel, or None when a full build is needed (nothing written)."""
    from kbctl.build import channel_world

    if not scan.changed or scan.added_or_removed:
        return _full("no entry changed" if not scan.changed else "entries added or removed")
    for channel in stale:
        recorded = state.get(channel.name) or {}
        if recorded.get("world") != channel_world(world, channel, out):
            return _full(f"{channel.name}: other inputs than entries changed")
        if recorded.get("content") != state.get("_content"):
            return _full(f"{channel.name}: not built from the last build's entries")
    if "_names" not in state:
        return _full("no names from the last build")
    with stage("edited entries, checked"):
        edits = _edited_entries(config, state, scan)
        if isinstance(edits, str):
            return _full(edits)
        entries, restated = edits
        if why := recheck(config, state, [e for e in entries if e.id in restated], as_of):
            return _full(why)
    wait_for_writer(root, [channel.name for channel in stale])
    contents = (state["_content"].encode(), scan.content.encode())
    names = state["_names"]
    with stage("channels patched"):
        made = fork_map(lambda channels: [_patch_channel(root, config, out / c.name, c, entries, restated, names,
                                                         state[c.name]["manifest"], contents) for c in channels],
                        stale, min_items=2)
    patch = Patch()
    for result in made:
        if isinstance(result, ChannelPatch):
            patch.pending += result.pending
            patch.removed += result.removing
    failed = next((result for result in made if not isinstance(result, ChannelPatch)), None)
    if failed is not None:
        patch.discard()
        if isinstance(failed, BaseException):
            raise failed
        return _full(failed)
    # The seeds went first (from the workers), then the output, then the state: an interruption
    # leaves seeds whose content row is not the state's, or a state whose manifest digests do
    # not match the output; either way the next build is a full one.
    with stage("patch commit"):
        patch.commit()
    _record(root, state, scan, entries, stale, made)
    return {channel.name: len(result.relpaths) for channel, result in zip(stale, made)}


def _record(root: Path, state: dict, scan, entries: list[Entry], stale: list[Channel], made) -> None:
    """The build state after a committed patch."""
    for channel, result in zip(stale, made):
        state[channel.name].update(content=scan.content, manifest=result.digest)
    for entry in entries:  # an edited entry's interface, and the questions it asks now
        state.setdefault("_interfaces", {})[entry.path] = entry.interface
        state.setdefault("_asked", {})[entry.path] = [key for key, _, _ in asked(entry)]
    state.update(_stats=scan.stats, _shas=scan.shas, _content=scan.content)
    with stage("state save"):
        cache.save(root, "build-state", cache.cache_key("state"), state)


@dataclass
class ChannelPatch:
    """One channel's new files, written under temporary names, and those that go."""

    pending: list  # (temporary, final) paths, for kbctl/output.py Patch
    removing: list  # paths, for kbctl/output.py Patch
    relpaths: list[str]  # files made
    removed: list[str]  # files that go
    digest: str  # the output's digest once they are committed (kbctl/output.py OutputSnapshot)


def _patch_channel(root: Path, config: Config, folder: Path, channel: Channel, entries: list[Entry],
                   restated: set[str], names: Names, recorded: str,
                   contents: tuple[bytes, bytes]) -> ChannelPatch | str | BaseException:
    """Patch one channel (in a forked worker when there are several): its files staged and its
    seed rows on their way to the store (`recorded`: the output's digest as the last build
    left it; `contents`: the entries' content digest the seeds are of, and the one they will
    be of), or why a full build is needed, or the exception it met (its staged files removed:
    a worker's exception would lose the other workers' staged files)."""
    from kbctl.channels import patchers

    output = OutputSnapshot.take(folder)  # 10,000 stats: here, in parallel with the others
    if output is None or output.digest() != recorded:
        return f"{channel.name}: output not as the last build left it"
    patch = Patch()
    try:
        store = SeedStore(root)  # a connection of this process's own: none crosses a fork
        try:
            rows = store.reader(channel.name, _seeds_key(channel))
            if rows is None or rows.get("content") != contents[0]:
                return f"{channel.name}: no seeds from the last build"
            with stage(f"patch {channel.name}"):
                job = PatchJob(rows, entries, restated, folder, config, channel, root, names)
                files, changed, removed = patchers()[channel.kind](job)
                manifest = patch.stage(folder, output.manifest, files, removed)
                digest = output.staged_digest(manifest, patch.staged(folder), removed)
        finally:
            store.close()
    except NotReplayable as why:
        patch.discard()
        return str(why)
    except (OSError, sqlite3.Error) as why:
        patch.discard()
        return f"{channel.name}: seeds unreadable: {why}"
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        patch.discard()
        return exc
    # The rows go now, before the parent commits the output: if it never does, their content
    # row is not the build state's, and the next build is a full one.
    update_later(root, channel.name, {**changed, "content": contents[1]})
    return ChannelPatch(patch.pending, patch.removed, list(files), sorted(removed), digest)


def _full(reason: str) -> dict[str, int] | None:
    """Note why the edits take the full build: patch_edits returns this None."""
    note(f"full build: {reason}")
    return None


def _edited_entries(config: Config, state: dict, scan) -> tuple[list[Entry], set[str]] | str:
    """The changed entries, parsed, and the ids of those whose words others show changed;
    or why a full build is needed (an entry's structure changed)."""
    from kbctl.load.loader import decode, parse_entry

    interfaces, structures = state.get("_interfaces", {}), state.get("_structures", {})
    git_dates = state.get("_git_dates", {})
    entries, restated = [], set()
    for path in scan.changed:
        data = scan.read.get(path)
        text = decode(path, data) if isinstance(data, bytes) else None
        if not isinstance(text, str):
            return f"{path} is unreadable"
        entry, _ = parse_entry(path, text, config.default_locale, scan.shas[path])
        if entry is None or entry.structure != structures.get(path):
            return f"{path}: more than answer text, title, summary or questions changed"
        if entry.interface != interfaces.get(path):
            restated.add(entry.id)
        entry.git_date = git_dates.get(path)
        entries.append(entry)
    return entries, restated


def recheck(config: Config, state: dict, restated: list[Entry], as_of: dt.date) -> str | None:
    """Why the checks that read RESTATED fields might now find otherwise (a full build then
    reports it), or None."""
    from kbctl.checks.ivr import speech_findings
    from kbctl.checks.references import unknown_names

    counts = Counter(key for keys in state.get("_asked", {}).values() for key in keys)
    before = {entry.path: state.get("_asked", {}).get(entry.path, []) for entry in restated}
    for path, keys in before.items():
        if any(counts[key] > 1 for key in keys):
            return f"{path} asked a question another entry asks (duplicate-question)"
        counts.subtract(keys)
    for entry in restated:
        for key, _, _ in asked(entry):
            if counts[key] > 0:
                return f"{entry.path} now asks a question another entry asks (duplicate-question)"
            counts[key] += 1
    for entry in restated:
        if speech_findings(config, entry, as_of):
            return f"{entry.path}: the ivr checks find its spoken summary wanting"
        if list(unknown_names(SimpleNamespace(config=config, valid_entries=[entry]), as_of)):
            return f"{entry.path}: its owner is not in kbctl.yaml (unknown-owner)"
        if why := _related_findings(state, entry) or _link_findings(config, state, entry):
            return why
    return None


def _link_findings(config: Config, state: dict, entry: Entry) -> str | None:
    """Why broken-link or cross-visibility-link might find otherwise in the entry's links, or
    None: each link to an entry names one, with the heading it names, and every channel that
    carries this entry and shows the link carries the entry it names."""
    names: Names = state["_names"]
    if any(d.path == entry.path and d.rule == "cross-visibility-link" for d in state.get("_warnings", [])):
        return f"{entry.path}: a cross-visibility-link finding may go"
    carrying = names.carriers(entry.path) if entry.is_published else frozenset()
    for link in entry.links:
        if link.kind == "anchor":
            if link.anchor is not None and link.anchor not in entry.anchors:
                return f"{entry.path}: {link.raw} (broken-link)"
            continue
        if link.kind not in ("entry", "entry-path"):
            continue  # the web's links are not checked; links to files are structural
        path = names.link_path(link)
        if path is None or (link.anchor and not names.has_anchor(path, link.anchor)):
            return f"{entry.path}: {link.raw} (broken-link)"
        shown = {name for name in carrying if config.channels[name].audience_rank >= link.level}
        if shown - names.carriers(path):
            return f"{entry.path}: {link.raw} is not carried where it is shown (cross-visibility-link)"
    return None


def _related_findings(state: dict, entry: Entry) -> str | None:
    """Why broken-reference or cross-visibility-link might find otherwise in the entry's
    `related` (kbctl/checks), or None: a related id must name an entry, and every linking
    channel that carries this one must carry the entries it names."""
    names: Names = state["_names"]
    line = entry.line_of("related")
    if any(d.path == entry.path and d.line == line for d in state.get("_warnings", [])):
        return f"{entry.path}: a finding on its related list may go"
    carrying = names.carriers(entry.path) if entry.is_published else frozenset()
    for name in entry.related:
        found = names.resolve(name)
        if found is None or name == entry.id:
            return f"{entry.path}: related {name!r} (broken-reference)"
        if carrying - names.carriers(found[1]):
            return f"{entry.path}: related {name!r} is not carried where it is (cross-visibility-link)"
    return None
