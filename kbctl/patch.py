"""Rebuilding after an edit of answers' text only, without loading the knowledge base.

Most edits change what an answer says and nothing else: no title, link, tag or block moves.
Such an edit leaves the entry's *interface* (kbctl/load/interface.py) as it was, and with it
every finding of validate, every map and list, every page but the entry's own. So when

  - the only changes since the last build are entries' bytes (no file added or removed; the
    same kbctl, date, config, templates, git HEAD and linked files),
  - each changed entry still parses to the interface it had,
  - each channel to build was built from the last build's content, is still exactly as that
    build left it (its manifest and the stat of every file), and left its seeds,

each channel makes again only the files that show the answers (the entries' pages, FAQ
records, search indexes) from its seeds, and they replace the old files together with an
updated manifest. Anything else falls back to a full build, which gives the same bytes
(tests/test_patch.py holds the two equal).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kbctl import cache
from kbctl.channels.replay import NotReplayable
from kbctl.config import Channel, Config
from kbctl.model import Entry
from kbctl.output import OutputSnapshot, Patch
from kbctl.seedstore import SeedStore
from kbctl.seedstore import discard as discard_store
from kbctl.timing import note, stage


def _seeds_key(channel: Channel) -> str:
    from kbctl.build import assets_digest

    return cache.cache_key("seeds", channel.name, channel.kind, assets_digest())


def save_seeds(root: Path, channel: Channel, seeds) -> None:
    """Keep what the channel's full build leaves for patching; a cache that cannot be written
    only means the next edit takes the full build."""
    for _attempt in range(2):
        try:
            store = SeedStore(root)
            try:
                store.replace_channel(channel.name, _seeds_key(channel), seeds.rows())
                return
            finally:
                store.close()
        except sqlite3.DatabaseError:  # damaged inside: start the store again, once
            discard_store(root)
        except (OSError, sqlite3.Error):
            return


def patch_bodies(root: Path, config: Config, out: Path, state: dict, stale: list[Channel],
                 scan, world: str) -> dict[str, int] | None:
    """Files updated per channel, or None when a full build is needed (nothing written)."""
    from kbctl.build import channel_world

    if not scan.changed or scan.added_or_removed:
        return _full("no entry changed" if not scan.changed else "entries added or removed")
    outputs: dict[str, OutputSnapshot] = {}
    for channel in stale:
        recorded = state.get(channel.name) or {}
        if recorded.get("world") != channel_world(world, channel, out):
            return _full(f"{channel.name}: other inputs than entries changed")
        if recorded.get("content") != state.get("_content"):
            return _full(f"{channel.name}: not built from the last build's entries")
        outputs[channel.name] = snapshot = OutputSnapshot.take(out / channel.name)
        if snapshot is None or recorded.get("manifest") != snapshot.digest():
            return _full(f"{channel.name}: output not as the last build left it")
    entries = _edited_entries(config, state, scan)
    if entries is None:
        return _full("an edit changed more than answer text")
    try:
        store = SeedStore(root)
    except (OSError, sqlite3.Error) as why:
        return _full(f"no seeds: {why}")
    try:
        return _patch(root, store, out, state, stale, scan, entries, outputs)
    except sqlite3.Error as why:
        return _full(f"seeds unreadable: {why}")
    finally:
        with stage("seeds close"):
            store.close()


def _patch(root: Path, store: SeedStore, out: Path, state: dict, stale: list[Channel], scan, entries,
           outputs: dict[str, OutputSnapshot]) -> dict[str, int] | None:
    from kbctl.channels import patchers

    patch = Patch()
    changed: dict[str, tuple[list[str], dict[str, bytes]]] = {}
    try:
        for channel in stale:
            rows = store.reader(channel.name, _seeds_key(channel))
            if rows is None:
                patch.discard()
                return _full(f"{channel.name}: no seeds from the last build")
            with stage(f"patch {channel.name}"):
                files, seed_rows = patchers()[channel.kind](rows, entries, out / channel.name)
                patch.stage(out / channel.name, outputs[channel.name].manifest, files)
            changed[channel.name] = (list(files), seed_rows)
    except NotReplayable as why:
        patch.discard()
        return _full(str(why))
    except BaseException:
        patch.discard()
        raise
    # Output first, then seeds, then the state: an interruption between two of them leaves a
    # state whose manifest digests no longer match the output, so the next build is a full one.
    with stage("patch commit"):
        patch.commit()
    with stage("seeds update"):
        for channel in stale:
            relpaths, seed_rows = changed[channel.name]
            if relpaths:
                store.update(channel.name, {**seed_rows, "key": _seeds_key(channel).encode()})
    for channel in stale:
        relpaths = changed[channel.name][0]
        snapshot = outputs[channel.name]
        snapshot.refresh(relpaths)
        state[channel.name].update(content=scan.content, manifest=snapshot.digest())
    state.update(_stats=scan.stats, _shas=scan.shas, _content=scan.content)
    with stage("state save"):
        cache.save(root, "build-state", cache.cache_key("state"), state)
    return {name: len(relpaths) for name, (relpaths, _) in changed.items()}


def _full(reason: str) -> None:
    note(f"full build: {reason}")


def _edited_entries(config: Config, state: dict, scan) -> list[Entry] | None:
    """The changed entries, parsed; None unless each keeps its interface."""
    from kbctl.load.loader import decode, parse_entry

    interfaces, git_dates = state.get("_interfaces", {}), state.get("_git_dates", {})
    entries = []
    for path in scan.changed:
        data = scan.read.get(path)
        text = decode(path, data) if isinstance(data, bytes) else None
        if not isinstance(text, str):
            return None
        entry, _ = parse_entry(path, text, config.default_locale, scan.shas[path])
        if entry is None or entry.interface != interfaces.get(path):
            return None
        entry.git_date = git_dates.get(path)
        entries.append(entry)
    return entries
