"""`kbctl build`: validate → select per channel → render → write atomically → manifest.

Gathers everything before writing anything: a refused build touches no file of the output.
A channel whose inputs (entry bytes, git history, config, templates, date, linked files) are
those of the last build, and whose output is still as that build left it, is not built again;
after an edit of answers' text only, its few affected files are patched (kbctl/patch.py).
Entry files are read only where their stat changed since the last build (git's index idea).
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import os
import subprocess
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kbctl import __version__, cache, cachetrust
from kbctl.config import CONFIG_NAME, Channel, Config
from kbctl.errors import BuildRefused, UsageError
from kbctl.load.discover import discover
from kbctl.model import Diagnostic, KnowledgeBase, Severity
from kbctl.output import ChannelWriter, OutputSnapshot, discard, staging_folder, swap_in
from kbctl.publish import carried
from kbctl.resources import data_dir
from kbctl.timing import stage

if TYPE_CHECKING:
    from kbctl.channels import ChannelContext

# Loading, checking and rendering are imported where a build really happens: a no-change
# rebuild only compares digests, and should not pay for importing the Markdown stack.

STATE_NAME = "build-state"
RENDER_CACHE_NAME = "renderings"

# The last build's knowledge base, kept while the process lives: command-line runs leave with
# os._exit (kbctl/cli.py), and freeing 10,000 entries object by object before that took 0.3 s.
_RETAINED: list[KnowledgeBase] = []


@dataclass
class BuildResult:
    kb: KnowledgeBase | None
    diagnostics: list[Diagnostic]
    written: dict[str, int]  # channel -> number of files
    unchanged: list[str] = field(default_factory=list)  # channels already up to date
    patched: dict[str, int] = field(default_factory=dict)  # channel -> files updated in place


def select_channels(config: Config, names: list[str] | None) -> list[Channel]:
    if not names:
        return list(config.channels.values())
    unknown = [n for n in names if n not in config.channels]
    if unknown:
        raise UsageError(f"--channel {unknown[0]!r}: not configured (have: {', '.join(config.channels)})")
    return [config.channels[n] for n in dict.fromkeys(names)]


def build(root: Path, config: Config, as_of: dt.date, out: Path,
          channel_names: list[str] | None = None, progress=None) -> BuildResult:
    channels = select_channels(config, channel_names)
    with stage("state load"):
        state = cache.load(root, STATE_NAME, cache.cache_key("state"))
    with stage("scan"):
        found = discover(root)
        scan = scan_inputs(root, found, state)
    world = world_digest(root, as_of, state.get("_assets", ()))
    stale = [c for c in channels if not _up_to_date(state, c, world, scan.content, out)]
    if not stale:
        if scan.stats != state.get("_stats"):  # touched, not changed: remember the new stats
            state["_stats"] = scan.stats
            cache.save(root, STATE_NAME, cache.cache_key("state"), state)
        return BuildResult(None, [], {}, [c.name for c in channels])
    from kbctl.checks.questions import asked
    from kbctl.load.names import Names
    from kbctl.patch import patch_edits, save_seeds

    unchanged = [c.name for c in channels if c not in stale]
    cache.COMPILED_TEMPLATES[:] = [root / cache.CACHE_DIR / "templates"]
    with stage("patch"):
        patched = patch_edits(root, config, out, state, stale, scan, world, as_of)
    if patched is not None:
        return BuildResult(None, state.get("_warnings", []), {}, unchanged, patched)
    kb, diagnostics = _load_and_check(root, config, as_of, found, scan)
    # The knowledge base lives until the end: keep the cyclic collector from rescanning its
    # millions of objects at every collection the rendering triggers (and forked workers from
    # touching, so copying, their pages).
    gc.freeze()
    assets = linked_files(kb)
    if assets != list(state.get("_assets", ())):
        world = world_digest(root, as_of, assets)
    written: dict[str, int] = {}
    staged: list[tuple[Channel, Path]] = []
    try:
        for channel in stale:
            reusable = _intact_output(state, channel, out)
            with progress(channel) if progress else nullcontext(), stage(f"channel {channel.name}"):
                with renderings(root, channel):
                    staging, written[channel.name], seeds = stage_channel(kb, channel, as_of, out, reusable)
                    staged.append((channel, staging))
                with stage("seeds save"):
                    save_seeds(root, channel, seeds, scan.content)
            cache.write_pending()  # per channel: its renderings are not kept while the next builds
    except BaseException:
        for _, staging in staged:  # a refusal in any channel (kbctl/leakguard.py) writes none
            discard(staging)
        raise
    for channel, staging in staged:
        trash = kb.root / cache.CACHE_DIR / "trash" if cachetrust.usable(kb.root) else None
        swap_in(staging, out / channel.name, trash=trash)
        state[channel.name] = _channel_record(channel, world, scan.content, out)
    state.update(_stats=scan.stats, _shas=scan.shas, _content=scan.content, _assets=assets,
                 _interfaces={e.path: e.interface for e in kb.entries},
                 _structures={e.path: e.structure for e in kb.entries},
                 _asked={e.path: [key for key, _, _ in asked(e)] for e in kb.valid_entries},
                 _names=Names.of(kb, as_of),
                 _git_dates={e.path: e.git_date for e in kb.entries if e.git_date},
                 _warnings=[d for d in diagnostics if d.severity is Severity.WARNING])
    with stage("state save"):
        cache.save(root, STATE_NAME, cache.cache_key("state"), state)
    _RETAINED[:] = [kb]
    return BuildResult(kb, diagnostics, written, unchanged)


@contextmanager
def renderings(root: Path, channel: Channel):
    """The channel's cached renderings (by content, audience and link targets), loaded for its
    build and saved after it. One channel's at a time: all four together peaked above 1 GB."""
    from kbctl import render

    name, key = f"{RENDER_CACHE_NAME}-{channel.name}", cache.cache_key(RENDER_CACHE_NAME)
    with stage("render cache load"):
        render.RENDER_CACHE.update(cache.load(root, name, key))
    try:
        yield
        cache.save_later(root, name, key, render.used_renderings())
    finally:
        render.forget_renderings()


def _load_and_check(root: Path, config: Config, as_of: dt.date, found, scan: Scan):
    """The knowledge base, validated (refused on errors), with git dates attached."""
    from kbctl.checks import run_validate
    from kbctl.load.loader import load_kb, read_entry_file

    raw = [(item, scan.read[item.path] if item.path in scan.read else read_entry_file(item))
           for item in found]
    history: list = []  # git history is read while workers parse the entries
    with stage("load (+ git history)"):
        kb = load_kb(root, config, raw=raw, meanwhile=lambda: history.append(_git_dates(root)))
    with stage("validate"):
        diagnostics = run_validate(kb, as_of)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        count = f"{len(errors)} error" + ("s" if len(errors) > 1 else "")
        raise BuildRefused(f"{count} in the content; nothing was written (run kbctl validate)",
                           diagnostics=errors, entries=len(kb.entries))
    _attach_git_dates(kb, history[0] if history else _git_dates(root))
    return kb, diagnostics


def linked_files(kb: KnowledgeBase) -> list[str]:
    """Files (images, documents) the answers link to: channels copy them, checks look for them."""
    return sorted({link.target for e in kb.entries for link in e.links if link.kind == "file"})


def channel_context(kb: KnowledgeBase, channel: Channel, as_of: dt.date,
                    reusable: Path | None = None) -> ChannelContext:
    from kbctl.channels import ChannelContext

    entries = sorted(carried(kb.valid_entries, channel, as_of), key=lambda e: e.id)
    return ChannelContext(kb, kb.config, channel, as_of, entries, reusable_output=reusable)


def stage_channel(kb: KnowledgeBase, channel: Channel, as_of: dt.date, out: Path,
                  reusable: Path | None = None) -> tuple[Path, int, object]:
    """Write the channel beside its output folder; return that staging folder, its number of
    files and its seeds. `build` swaps every channel in only once all are made: a channel
    refused late must leave the output as it was."""
    try:
        staging = staging_folder(out, channel.name)
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror or exc}") from None
    try:
        writer = ChannelWriter(staging)
        from kbctl.channels import kinds

        seeds = kinds()[channel.kind].render(channel_context(kb, channel, as_of, reusable), writer)
        writer.write_manifest(channel, as_of)
    except BaseException:
        discard(staging)
        raise
    return staging, len(writer.files), seeds


def _git_dates(root: Path):
    from kbctl.gitdates import last_verified_dates

    return last_verified_dates(root)


def _attach_git_dates(kb: KnowledgeBase, dates) -> None:
    """Pages and FAQ data show the last verification date, which git history may advance."""
    if not dates.usable:
        return
    for entry in kb.entries:
        entry.git_date = dates.dates.get(entry.path)


# -- knowing when a channel is already up to date ------------------------------------------------

@dataclass
class Scan:
    """The entry files as this run finds them, read only where their stat changed."""

    stats: dict[str, tuple | None]  # path -> (size, mtime, inode), as git's index keeps them
    shas: dict[str, str | None]  # path -> sha256 of the bytes (None: unreadable)
    read: dict[str, bytes | Diagnostic]  # the files this run had to read
    changed: list[str]  # entries whose bytes differ from the last build's
    added_or_removed: bool
    content: str  # digest of every entry's bytes


def scan_inputs(root: Path, found, state: dict) -> Scan:
    """Stat every entry file and read only those whose size, time or inode changed: a rebuild
    after one edit reads one file, not 10,000 (git's index idea)."""
    from kbctl.load.discover import read_entry_file

    old_stats, old_shas = state.get("_stats", {}), state.get("_shas", {})
    stats, shas, read, changed = {}, {}, {}, []
    base = f"{root}{os.sep}"
    for item in found:
        stats[item.path] = stat = _stat(base + item.path)
        if stat is not None and old_stats.get(item.path) == stat and item.path in old_shas:
            shas[item.path] = old_shas[item.path]
            continue
        read[item.path] = data = read_entry_file(item)
        shas[item.path] = hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else None
        if item.path not in old_shas or shas[item.path] != old_shas[item.path]:
            changed.append(item.path)
    added_or_removed = shas.keys() != old_shas.keys()
    return Scan(stats, shas, read, changed, added_or_removed, _content_digest(shas))


def _stat(path: str) -> tuple | None:
    try:
        stat = os.stat(path)  # a string, not a Path: this runs 10,000 times
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _content_digest(shas: dict[str, str | None]) -> str:
    text = "".join(f"{path}\0{sha}\n" for path, sha in sorted(shas.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def world_digest(root: Path, as_of: dt.date, assets) -> str:
    """Every input but the entries' bytes: kbctl, the date, kbctl.yaml, git HEAD (git dates
    feed pages), templates and site assets, and the stat of every file the answers link to."""
    digest = hashlib.sha256(f"{__version__}\n{as_of.isoformat()}\n".encode())
    try:
        digest.update((root / CONFIG_NAME).read_bytes())
    except OSError:
        digest.update(b"no config")
    digest.update(_git_head(root).encode())
    digest.update(assets_digest().encode())
    base = f"{root}{os.sep}"
    for path in assets:
        digest.update(f"{path}\0{_stat(base + path)}\n".encode())
    return digest.hexdigest()


def channel_world(world: str, channel: Channel, out: Path) -> str:
    return hashlib.sha256(f"{world}\n{channel.name}\n{out.resolve()}".encode()).hexdigest()


def _channel_record(channel: Channel, world: str, content: str, out: Path) -> dict:
    return {"world": channel_world(world, channel, out), "content": content,
            "manifest": _manifest_digest(out / channel.name)}


def _up_to_date(state: dict, channel: Channel, world: str, content: str, out: Path) -> bool:
    recorded = state.get(channel.name)
    if not recorded or recorded.get("world") != channel_world(world, channel, out):
        return False
    if recorded.get("content") != content:
        return False
    return recorded.get("manifest") == _manifest_digest(out / channel.name)


def _intact_output(state: dict, channel: Channel, out: Path) -> Path | None:
    """The channel's output folder if it is exactly as the last build left it (so its pages
    may be reused), else None."""
    recorded = (state.get(channel.name) or {}).get("manifest")
    folder = out / channel.name
    return folder if recorded and recorded == _manifest_digest(folder) else None


def _manifest_digest(folder: Path) -> str | None:
    snapshot = OutputSnapshot.take(folder)
    return snapshot.digest() if snapshot else None


def _git_head(root: Path) -> str:
    """Git dates feed pages: a new commit (or a shallow/unshallow change) means rebuild."""
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD", "--is-shallow-repository"], cwd=root,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "no-git"
    return proc.stdout if proc.returncode == 0 else "no-git"


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
