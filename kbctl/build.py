"""`kbctl build`: one pipeline over the build environment (kbctl/env.py), cold or not.

    scan     stat every entry file, read those whose stat changed (git's index idea)
    plan     what was added, changed and removed since the last build; a channel whose inputs
             are all as the last build recorded, its output untouched since, is up to date
    load     every entry (a file whose stat is as recorded is not read: its parse is found by
             the content hash recorded, in the entries cache or a serve's memory), git dates,
             the checks: errors refuse the build, nothing written
    make     per channel, through its writer: each output file whose inputs differ from those
             it was made from, with the same functions a cold build uses (kbctl/output.py)
    write    in place, file by file, where the output is exactly as the last build left it;
             else into a staging folder swapped in whole. Every channel is staged before any
             is put in place: a refusal in a later channel leaves the earlier ones as they were
    record   the environment, for the next build

A cold build is the same code with an empty environment.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kbctl import __version__, cache, cachetrust
from kbctl.config import CONFIG_NAME, Channel, Config
from kbctl.env import BuildEnv, ChannelRecord, Inputs, OutputRecord, SourceRecord
from kbctl.errors import BuildRefused, UsageError
from kbctl.facts import facts_digest
from kbctl.gitcache import git_dates, git_head
from kbctl.load.discover import Found, discover
from kbctl.model import Diagnostic, KnowledgeBase, Severity
from kbctl.output import ChannelWriter, Made, discard, output_digest, staging_folder, swap_in
from kbctl.publish import carried
from kbctl.resources import data_dir
from kbctl.theme import theme_digest, theme_of
from kbctl.timing import stage

if TYPE_CHECKING:
    from kbctl.channels.base import ChannelContext, ChannelMemory
    from kbctl.load.loader import Parses

# Loading, checking and rendering are imported where a build really happens: a no-change
# rebuild only compares digests, and should not pay for importing the Markdown stack.

RENDER_CACHE_NAME = "renderings"

# The last build's knowledge base, kept while the process lives: command-line runs leave with
# os._exit (kbctl/cli.py), and freeing 10,000 entries object by object before that took 0.3 s.
_RETAINED: list[KnowledgeBase] = []

Progress = Callable[[Channel], AbstractContextManager[None]]


@dataclass
class ChannelReport:
    """What the build did to one channel's output."""

    made: int = 0  # files written
    removed: int = 0
    files: int = 0  # files the channel has
    fresh: bool = False  # made whole into a new folder (no usable earlier output)
    reasons: list[str] = field(default_factory=list)  # `--explain`: "relpath: why"


@dataclass
class BuildResult:
    kb: KnowledgeBase | None
    diagnostics: list[Diagnostic]
    channels: dict[str, ChannelReport] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)  # channels up to date, not looked into

    @property
    def written(self) -> dict[str, int]:
        return {name: report.files for name, report in self.channels.items() if report.fresh}


@dataclass
class BuildMemory:
    """What a long-running process (kbctl serve) keeps between its builds, instead of reading
    it back from the cache folder: the environment, every entry's parse, and what channels
    keep (kbctl/channels/base.py), by channel name."""

    env: BuildEnv | None = None
    parses: Parses | None = None
    channels: dict[str, ChannelMemory] = field(default_factory=dict)

    def of_channel(self, name: str) -> ChannelMemory:
        from kbctl.channels.base import ChannelMemory

        return self.channels.setdefault(name, ChannelMemory())


def select_channels(config: Config, names: list[str] | None) -> list[Channel]:
    if not names:
        return list(config.channels.values())
    unknown = [n for n in names if n not in config.channels]
    if unknown:
        raise UsageError(f"--channel {unknown[0]!r}: not configured (have: {', '.join(config.channels)})")
    return [config.channels[n] for n in dict.fromkeys(names)]


def build(root: Path, config: Config, as_of: dt.date, out: Path,
          channel_names: list[str] | None = None, progress: Progress | None = None,
          memory: BuildMemory | None = None) -> BuildResult:
    channels = select_channels(config, channel_names)
    with stage("environment load"):
        env = memory.env if memory is not None and memory.env is not None else BuildEnv.load(root, env_key())
    with stage("scan"):
        scan = scan_sources(root, discover(root), env)
        head = git_head(root)
    worlds = {c.name: channel_world(config, c, as_of, out) for c in channels}
    facts = facts_digest(set(config.facts), config.facts)
    with stage("output check"):
        snapshots = {c.name: output_digest(out / c.name) for c in channels}
    quiet = (not scan.changed and head == env.git_head and facts == env.facts
             and linked_stats(root, env.linked_files) == env.linked_files)
    # A channel not made by the last build is older than the sources recorded: not up to date.
    stale = [c for c in channels if not (quiet and _intact(env, c, worlds, snapshots) and env.is_current(c.name))]
    if not stale:
        if scan.stats_moved:  # touched, not changed: remember the new stats
            env.sources, env.scanned_at = scan.sources, scan.started
            _save(root, env, memory)
        return BuildResult(None, [], unchanged=[c.name for c in channels])
    # An entry file whose stat is as recorded is not read again: its parse is found by the
    # content hash the last build recorded, which the facts it names are part of.
    unread = scan.recorded_digests() if facts == env.facts else {}
    kb, diagnostics = _load_and_check(root, config, as_of, scan, head, memory, unread)
    # The knowledge base lives until the end: keep the cyclic collector from rescanning its
    # millions of objects at every collection the rendering triggers (and forked workers from
    # touching, so copying, their pages).
    gc.freeze()
    result = BuildResult(kb, diagnostics, unchanged=[c.name for c in channels if c not in stale])
    writers: list[tuple[Channel, ChannelWriter]] = []
    previous = {c.name: env.outputs(c.name) if _intact(env, c, worlds, snapshots) else None for c in stale}
    since_last = env.changed_entries({entry.path: entry.content_hash for entry in kb.entries})
    changed = {c.name: since_last if previous[c.name] is not None and env.is_current(c.name) else None
               for c in stale}
    try:
        for channel, writer in make_channels(kb, stale, as_of, out, previous, progress, memory, changed):
            writers.append((channel, writer))
            result.channels[channel.name] = _report(writer, env.channels.get(channel.name), worlds[channel.name],
                                                    snapshots[channel.name])
    except BaseException:
        for _, writer in writers:  # a refusal in any channel (kbctl/leakguard.py) writes none
            _discard(writer)
        raise
    with stage("write"):
        env.advance(carried_over=quiet)
        for channel, writer in writers:
            _put_in_place(kb.root, writer, out / channel.name)
            # In place, only what the writer put or removed has moved since the output check.
            touched = {*writer.remade, *writer.removed()} if writer.in_place else None
            env.record_channel(channel.name, worlds[channel.name], output_digest(out / channel.name, touched),
                               writer.records())
    env.sources, env.scanned_at = scan.with_digests(kb), scan.started
    env.git_head, env.facts = head, facts
    env.linked_files = linked_stats(root, {path: None for path in linked_files(kb)})
    with stage("environment save"):
        _save(root, env, memory)
    _RETAINED[:] = [kb]
    return result


def make_channels(kb: KnowledgeBase, channels: list[Channel], as_of: dt.date, out: Path,
                  previous: dict[str, dict[str, OutputRecord] | None],
                  progress: Progress | None = None, memory: BuildMemory | None = None,
                  changed: dict[str, frozenset[str] | None] | None = None) -> Iterator[tuple[Channel, ChannelWriter]]:
    """Each channel's writer, in order, its files staged (not yet in place).

    Where every channel is made in place over the last build's output, the channels are made
    side by side in forked children (kbctl/parallel.py): each is small next to a whole build,
    and the cores would otherwise wait on one channel at a time. A fresh channel makes every
    file, and two at once would double the peak memory: those are made one after another
    here. On a failure the channels already yielded are the caller's to discard. A `memory`
    is lent to channels made here, not to forked children: what they keep would be lost.
    `changed`: by channel, the entry files changed since its `previous` output was made
    (ChannelContext.changed)."""
    changed = changed or {}
    if len(channels) > 1 and all(previous[c.name] is not None for c in channels):
        yield from _made_side_by_side(kb, channels, as_of, out, previous, changed)
        return
    for channel in channels:
        with progress(channel) if progress else nullcontext(), stage(f"channel {channel.name}"):
            writer = make_channel(kb, channel, as_of, out, previous[channel.name],
                                  memory.of_channel(channel.name) if memory is not None else None,
                                  changed.get(channel.name))
        cache.write_pending()  # per channel: its renderings are not kept while the next builds
        yield channel, writer


def _made_side_by_side(kb: KnowledgeBase, channels: list[Channel], as_of: dt.date, out: Path,
                       previous: dict[str, dict[str, OutputRecord] | None],
                       changed: dict[str, frozenset[str] | None]) -> Iterator[tuple[Channel, ChannelWriter]]:
    from kbctl.parallel import fork_each

    def task(channel: Channel) -> Callable[[], Made | BaseException]:
        def made_in_child() -> Made | BaseException:
            try:
                with stage(f"channel {channel.name}"):
                    writer = make_channel(kb, channel, as_of, out, previous[channel.name],
                                          changed=changed.get(channel.name))
                cache.write_pending()
                return writer.made()
            except BaseException as exc:  # noqa: BLE001 - the parent discards the others, then raises it
                return exc

        return made_in_child

    failure: BaseException | None = None
    for channel, outcome in zip(channels, fork_each([task(c) for c in channels])):
        if isinstance(outcome, BaseException):
            failure = failure or outcome  # the child discarded what it had staged
            continue
        writer = ChannelWriter(out / channel.name, previous[channel.name])
        writer.merge(outcome)
        yield channel, writer
    if failure is not None:
        raise failure


def make_channel(kb: KnowledgeBase, channel: Channel, as_of: dt.date, out: Path,
                 previous: dict[str, OutputRecord] | None, memory: ChannelMemory | None = None,
                 changed: frozenset[str] | None = None) -> ChannelWriter:
    """The channel's files through a writer: in place over the output the last build left
    (`previous`: its files and the inputs each was made from), or fresh into a staging folder."""
    from kbctl.channels import kinds

    if previous is not None:
        writer = ChannelWriter(out / channel.name, previous)
    else:
        try:
            writer = ChannelWriter(staging_folder(out, channel.name))
        except OSError as exc:
            raise UsageError(f"cannot write to {out}: {exc.strerror or exc}") from None
    try:
        with renderings(kb.root, channel):
            kinds()[channel.kind].render(channel_context(kb, channel, as_of, memory, changed), writer)
        if writer.in_place and not writer.remade and not writer.removed():
            return writer  # nothing changed: not even the manifest is written again
        writer.write_manifest(channel, as_of)
    except BaseException:
        _discard(writer)
        raise
    return writer


def _put_in_place(root: Path, writer: ChannelWriter, final: Path) -> None:
    if writer.in_place:
        if writer.remade or writer.removed():
            writer.commit()
        return
    trash = root / cache.CACHE_DIR / "trash" if cachetrust.usable(root) else None
    swap_in(writer.folder, final, trash=trash)


def _discard(writer: ChannelWriter) -> None:
    if writer.in_place:
        writer.discard()
    else:
        discard(writer.folder)


def _report(writer: ChannelWriter, last: ChannelRecord | None, world: Inputs, snapshot: str | None) -> ChannelReport:
    report = ChannelReport(len(writer.remade), len(writer.removed()), len(writer.files), not writer.in_place)
    if not writer.in_place:
        report.reasons.append(f"every file made: {_why_fresh(last, world, snapshot)}")
        return report
    report.reasons += [f"{relpath}: {why}" for relpath, why in sorted(writer.remade.items())]
    report.reasons += [f"{relpath}: removed (no longer made)" for relpath in writer.removed()]
    return report


def _why_fresh(last: ChannelRecord | None, world: Inputs, snapshot: str | None) -> str:
    if last is None:
        return "no earlier build recorded"
    changed = sorted(name for name in world.keys() | last.world.keys() if world.get(name) != last.world.get(name))
    if changed:
        return "changed: " + ", ".join(changed)
    return "the output folder is not as the last build left it" if snapshot != last.snapshot else "made again"


def _intact(env: BuildEnv, channel: Channel, worlds: dict[str, Inputs], snapshots: dict[str, str | None]) -> bool:
    """The last build of the channel had these channel-wide inputs and its output is still as
    it left it."""
    record = env.channels.get(channel.name)
    return (record is not None and record.world == worlds[channel.name]
            and record.snapshot is not None and record.snapshot == snapshots[channel.name])


def _save(root: Path, env: BuildEnv, memory: BuildMemory | None) -> None:
    if memory is not None:
        memory.env = env
    env.save(root)


@contextmanager
def renderings(root: Path, channel: Channel):
    """The channel's cached renderings (by content, audience and link targets), loaded for its
    build and saved after it. One channel's at a time: all four together peaked above 1 GB."""
    from kbctl import render

    name, key = f"{RENDER_CACHE_NAME}-{channel.name}", cache.cache_key(RENDER_CACHE_NAME)
    with stage("render cache load"):
        render.load_renderings(cache.load(root, name, key))
    try:
        yield
        cache.save_later(root, name, key, render.used_renderings())
    finally:
        render.forget_renderings()


def load_checked(root: Path, config: Config, as_of: dt.date) -> KnowledgeBase:
    """The knowledge base as a build would publish it (validated, git dates attached), with
    nothing written: what `kbctl mcp` serves. Refused (BuildRefused) on content errors, as a
    build is."""
    scan = scan_sources(root, discover(root), BuildEnv(root=root))
    return _load_and_check(root, config, as_of, scan, git_head(root))[0]


def _load_and_check(root: Path, config: Config, as_of: dt.date, scan: Scan, head: str,
                    memory: BuildMemory | None = None, unread: dict[str, str] | None = None):
    """The knowledge base, validated (refused on errors), with git dates (read at `head`)
    attached. With a `memory`, the entries parsed by its earlier builds are taken from it;
    the files `unread` names (with their content hashes) are read only if no parse of that
    hash is at hand."""
    from kbctl.checks import run_validate
    from kbctl.load.loader import Parses, Unread, load_kb, read_entry_file

    unread = unread or {}

    def data(item: Found):
        if item.path in scan.read:
            return scan.read[item.path]
        digest = unread.get(item.path)
        return Unread(digest) if digest is not None else read_entry_file(item)

    raw = [(item, data(item)) for item in scan.found]
    history: list = []  # git history is read while workers parse the entries
    if memory is not None and memory.parses is None:
        memory.parses = Parses()
    with stage("load (+ git history)"):
        kb = load_kb(root, config, raw=raw, meanwhile=lambda: history.append(git_dates(root, head)),
                     parses=memory.parses if memory is not None else None)
    with stage("validate"):
        diagnostics = run_validate(kb, as_of)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        count = f"{len(errors)} error" + ("s" if len(errors) > 1 else "")
        raise BuildRefused(f"{count} in the content; nothing was written (run kbctl validate)",
                           diagnostics=errors, entries=len(kb.entries))
    _attach_git_dates(kb, history[0] if history else git_dates(root, head))
    return kb, diagnostics


def linked_files(kb: KnowledgeBase) -> list[str]:
    """Files (images, documents) the answers link to: channels copy them, checks look for them."""
    return sorted({link.target for e in kb.entries for link in e.links if link.kind == "file"})


def linked_stats(root: Path, files) -> dict[str, tuple[int, int, int] | None]:
    base = f"{root}{os.sep}"
    return {path: _stat(base + path) for path in files}


def channel_context(kb: KnowledgeBase, channel: Channel, as_of: dt.date,
                    memory: ChannelMemory | None = None, changed: frozenset[str] | None = None) -> ChannelContext:
    from kbctl.channels.base import ChannelContext

    entries = sorted(carried(kb, channel, as_of), key=lambda e: e.id)
    return ChannelContext(kb, kb.config, channel, as_of, entries, memory, changed)


def _attach_git_dates(kb: KnowledgeBase, dates) -> None:
    """Pages and FAQ data show the last verification date, which git history may advance.
    Set on every entry, each build: an entry a BuildMemory kept has the last build's."""
    for entry in kb.entries:
        entry.git_date = dates.dates.get(entry.path) if dates.usable else None


# -- scan: what changed since the last build ---------------------------------------------------

@dataclass
class Scan:
    """The entry files as this run finds them, read only where their stat changed."""

    found: list[Found]
    sources: dict[str, SourceRecord]
    read: dict[str, bytes | Diagnostic]  # the files this run had to read
    added: list[str]
    changed: list[str]  # added, modified or removed since the last build
    removed: list[str]
    stats_moved: bool  # some stat differs from the recorded one (bytes the same or not)
    started: int = 0  # when the stats were taken (ns since the epoch)

    def recorded_digests(self) -> dict[str, str]:
        """The content hash recorded for each file this run did not read."""
        return {path: source.digest for path, source in self.sources.items()
                if source.digest is not None and path not in self.read}

    def with_digests(self, kb: KnowledgeBase) -> dict[str, SourceRecord]:
        """The sources, each with its entry's content hash as this build loaded it."""
        digests = {entry.path: entry.content_hash or None for entry in kb.entries}
        return {path: source if source.digest == digests.get(path) else
                SourceRecord(source.stat, source.sha, digests.get(path))
                for path, source in self.sources.items()}


# A file modified this close before its stat was recorded may have been modified again within
# the same tick of its file system's clock (two seconds on FAT), keeping size and time: its
# stat proves nothing and it is read again (git's "racily clean" entries).
RACY_NS = 2_000_000_000


def scan_sources(root: Path, found: list[Found], env: BuildEnv) -> Scan:
    """Stat every entry file and read only those whose size, time or inode changed: a rebuild
    after one edit reads one file, not 10,000 (git's index idea)."""
    from kbctl.load.discover import read_entry_file

    started = time.time_ns()
    old = env.sources
    trusted_before = env.scanned_at - RACY_NS
    sources: dict[str, SourceRecord] = {}
    read: dict[str, bytes | Diagnostic] = {}
    changed: list[str] = []
    moved = False
    base = f"{root}{os.sep}"
    for item in found:
        stat = _stat(base + item.path)
        last = old.get(item.path)
        if stat is not None and last is not None and last.stat == stat and stat[1] < trusted_before:
            sources[item.path] = last
            continue
        moved = True
        read[item.path] = data = read_entry_file(item)
        sha = hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else None
        digest = last.digest if last is not None and sha is not None and sha == last.sha else None
        sources[item.path] = SourceRecord(stat, sha, digest)  # bytes as they were: so is the parse
        if last is None or sha != last.sha or sha is None:
            changed.append(item.path)
    added = [path for path in changed if path not in old]
    removed = sorted(old.keys() - sources.keys())
    return Scan(found, sources, read, added, changed + removed, removed, moved or bool(removed), started)


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)  # a string, not a Path: this runs 10,000 times
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


# -- what every file of a channel depends on ---------------------------------------------------

def env_key() -> str:
    """Environments are only used by the kbctl (code and version) that wrote them."""
    return cache.cache_key("build-env")


def channel_world(config: Config, channel: Channel, as_of: dt.date, out: Path) -> Inputs:
    """The inputs every file of the channel depends on, named for `--explain`: kbctl itself
    (its code, templates and site assets), kbctl.yaml, the date, where the output goes, and
    a site's theme (its files, override templates, and footer and links after facts).
    Entries, git dates, linked files and facts are inputs of the files that show them: a fact
    is part of the content hash of each entry using it (kbctl/load/loader.py)."""
    settings = {key: value for key, value in config.raw.items() if key != "facts"}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, ensure_ascii=False, default=str).encode())
    world = {"kbctl": cache.cache_key("kbctl", __version__), "templates": assets_digest(),
             CONFIG_NAME: digest.hexdigest(), "date": as_of.isoformat(),
             "channel": f"{channel.name}\0{channel.kind}", "output folder": str(out.resolve())}
    theme = theme_of(channel.options)
    if theme is not None:  # every page shows it: its files, overrides and facts (kbctl/theme.py)
        world["theme"] = theme_digest(config.path.parent, theme, config.locales, config.default_locale,
                                      config.facts)
    return world


@functools.cache
def assets_digest() -> str:
    """kbctl's templates and site assets (fixed for a process, like its code: cache.py)."""
    digest = hashlib.sha256()
    for name in ("templates", "site"):
        base = data_dir(name)
        for path in sorted(base.rglob("*")) if base.is_dir() else []:
            if path.is_file():
                digest.update(path.relative_to(base).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()
