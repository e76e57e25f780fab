"""Writing a channel: fresh into a staging folder then swapped in, or in place file by file;
the manifest last either way."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat as stat_module
import subprocess
import time
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kbctl import jsondata
from kbctl.env import Inputs, OutputRecord
from kbctl.errors import UsageError


class ChannelWriter:
    """Puts a channel's files in place and records, per file, the inputs it was made from.

    Fresh (`previous` None): every file is written into an empty staging folder, which the
    build swaps in for the old output. In place (`previous`: the last build's records, its
    output folder exactly as that build left it): a file whose inputs are those recorded is
    left as it is; new bytes go to a temporary name beside the old file, and `commit` renames
    them over it, removes the files no longer made and writes the manifest, last. Until then
    the output is untouched; `discard` removes what was staged.

    Workers (forked) write through a copy of the writer and hand back `made()` for `merge`.
    """

    def __init__(self, folder: Path, previous: dict[str, OutputRecord] | None = None):
        self.folder = folder
        self.in_place = previous is not None
        self.previous = previous or {}
        self.files: dict[str, str] = {}  # relpath -> sha256
        self.entries: dict[str, list[str]] = defaultdict(list)
        self.inputs: dict[str, Inputs] = {}
        self.remade: dict[str, str] = {}  # relpath -> why it was made (kbctl build --explain)

    def output(self, relpath: str, inputs: Inputs, make: Callable[[], str | bytes],
               entry_id: str | None = None) -> bool:
        """The file made by `make()` from `inputs`, unless they are those it was made from:
        then it stays. Whether it was made."""
        old = self.previous.get(relpath)
        if self.in_place and old is not None and old.inputs == inputs:
            self._note(relpath, old.sha, inputs, entry_id)
            return False
        blob = _bytes(make())
        if self.in_place and old is not None and old.sha == hashlib.sha256(blob).hexdigest():
            self._note(relpath, old.sha, inputs, entry_id)  # made again to the same bytes
            return False
        self._put(relpath, blob, inputs, entry_id, why_made(old, inputs))
        return True

    def unchanged(self, relpath: str, inputs: Inputs) -> bool:
        """The file stays as it is if kept: made from these inputs, in an output as it was."""
        old = self.previous.get(relpath)
        return self.in_place and old is not None and old.inputs == inputs

    def keep(self, relpath: str, inputs: Inputs, entry_id: str | None = None) -> None:
        """Keep the file as the last build made it (`unchanged` said so)."""
        self._note(relpath, self.previous[relpath].sha, inputs, entry_id)

    def worker(self) -> ChannelWriter:
        """A writer on the same folder and records, for work done in a worker process."""
        mine = ChannelWriter(self.folder)
        mine.in_place, mine.previous = self.in_place, self.previous
        return mine

    def write(self, relpath: str, data: str | bytes, entry_id: str | None = None,
              inputs: Inputs | None = None) -> None:
        """A file already made: written unless the output holds these very bytes."""
        blob = _bytes(data)
        sha = hashlib.sha256(blob).hexdigest()
        inputs = inputs if inputs is not None else {}
        old = self.previous.get(relpath)
        if self.in_place and old is not None and old.sha == sha:
            self._note(relpath, sha, inputs, entry_id)
            return
        why = why_made(old, inputs) if old is None or old.inputs != inputs else "its content changed"
        self._put(relpath, blob, inputs, entry_id, why)

    def copy(self, relpath: str, source: Path, entry_id: str | None = None) -> None:
        self.write(relpath, source.read_bytes(), entry_id)

    def _put(self, relpath: str, blob: bytes, inputs: Inputs, entry_id: str | None, why: str) -> None:
        rel = PurePosixPath(relpath)
        if rel.is_absolute() or ".." in rel.parts or relpath == "manifest.json":
            raise ValueError(f"refusing to write outside the channel folder: {relpath}")
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        (_staged_name(target) if self.in_place else target).write_bytes(blob)
        self._note(str(rel), hashlib.sha256(blob).hexdigest(), inputs, entry_id)
        self.remade[str(rel)] = why

    def _note(self, relpath: str, sha: str, inputs: Inputs, entry_id: str | None) -> None:
        self.files[relpath] = sha
        self.inputs[relpath] = inputs
        if entry_id is not None:
            self.entries[entry_id].append(relpath)

    def made(self) -> Made:
        return Made(self.files, dict(self.entries), self.inputs, self.remade)

    def merge(self, made: Made) -> None:
        """What a worker's copy of this writer did."""
        self.files.update(made.files)
        for entry_id, relpaths in made.entries.items():
            self.entries[entry_id].extend(relpaths)
        self.inputs.update(made.inputs)
        self.remade.update(made.remade)

    def removed(self) -> list[str]:
        """Files of the last build this one did not make."""
        return sorted(self.previous.keys() - self.files.keys())

    def records(self) -> dict[str, OutputRecord]:
        return {relpath: OutputRecord(sha, self.inputs[relpath]) for relpath, sha in sorted(self.files.items())}

    def manifest(self, channel, as_of) -> dict:
        return {
            "channel": channel.name,
            "kind": channel.kind,
            "audience": channel.audience,
            "as_of": as_of.isoformat(),
            "entries": {k: sorted(set(v)) for k, v in sorted(self.entries.items())},
            "files": dict(sorted(self.files.items())),
        }

    def write_manifest(self, channel, as_of) -> None:
        target = self.folder / "manifest.json"
        text = manifest_bytes(self.manifest(channel, as_of))
        (_staged_name(target) if self.in_place else target).write_bytes(text)

    # -- in place ---------------------------------------------------------------------------------
    def commit(self) -> None:
        """Put the staged files in place, remove those no longer made, then the manifest."""
        for relpath in self.remade:
            final = self.folder / relpath
            os.replace(_staged_name(final), final)
        for relpath in self.removed():
            gone = self.folder / relpath
            gone.unlink(missing_ok=True)
            _remove_empty_parents(gone.parent)
        manifest = self.folder / "manifest.json"
        os.replace(_staged_name(manifest), manifest)

    def discard(self) -> None:
        for relpath in (*self.remade, "manifest.json"):
            staged = _staged_name(self.folder / relpath)
            staged.unlink(missing_ok=True)
            _remove_empty_parents(staged.parent)


@dataclass
class Made:
    """What a worker's writer did, for the parent's writer (`ChannelWriter.merge`)."""

    files: dict[str, str]
    entries: dict[str, list[str]]
    inputs: dict[str, Inputs]
    remade: dict[str, str]


def why_made(old: OutputRecord | None, inputs: Inputs) -> str:
    """Why a file is made again: the inputs that differ from those it was made from."""
    if old is None:
        return "new"
    changed = sorted(name for name in inputs.keys() | old.inputs.keys() if inputs.get(name) != old.inputs.get(name))
    return "changed: " + ", ".join(changed) if changed else "its content changed"


def _staged_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.kbctl-new")


def _bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def manifest_bytes(manifest: dict) -> bytes:
    return jsondata.dumps(manifest, indent=True) + b"\n"


def output_digest(folder: Path, touched: set[str] | None = None) -> str | None:
    """A channel folder as the last build left it, as one digest (None without a readable
    manifest): its manifest, the size and modification time of every file the manifest lists
    (a stat each, where hashing them would take seconds), and the modification time of every
    folder holding them, which a file added or removed there moves. A file edited, added or
    deleted by hand makes the channel be made again whole.

    `touched`: the files this process wrote or removed in the folder since it last took its
    digest. Only those and the folders above them are looked at again; every other file and
    folder is as that digest saw it (the build writes nothing else there)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    seen = _SEEN.get(str(folder)) if touched is not None else None
    touched = touched or set()
    touched_folders = {""}
    for relpath in touched:
        parent = relpath.rpartition("/")[0]
        while parent not in touched_folders:
            touched_folders.add(parent)
            parent = parent.rpartition("/")[0]
    prefix = f"{folder}{os.sep}"  # strings, not Paths: this runs once per output file
    stat = os.stat
    files: dict[str, tuple[int, int]] = {}
    folders: dict[str, int] = {}
    numbers = array("q")
    try:
        for relpath in manifest.files:
            known = seen[0].get(relpath) if seen is not None and relpath not in touched else None
            if known is None:
                info = stat(prefix + relpath)
                known = (info.st_size, info.st_mtime_ns)
            files[relpath] = known
            numbers.extend(known)
            parent = relpath.rpartition("/")[0]
            while parent not in folders:
                folders[parent] = -1
                parent = parent.rpartition("/")[0]
        for relpath in sorted(folders):
            mtime = seen[1].get(relpath) if seen is not None and relpath not in touched_folders else None
            folders[relpath] = stat(prefix + relpath).st_mtime_ns if mtime is None else mtime
            numbers.append(folders[relpath])
    except OSError:
        return None
    _SEEN[str(folder)] = (files, folders)
    digest = hashlib.sha256(manifest.blob)
    digest.update(numbers.tobytes())
    return digest.hexdigest()


# channel folder -> what output_digest last saw there: (file -> (size, mtime), folder -> mtime)
_SEEN: dict[str, tuple[dict[str, tuple[int, int]], dict[str, int]]] = {}


@dataclass(frozen=True)
class Manifest:
    """A channel folder's `manifest.json`: its bytes, and what the folder checks read of it."""

    blob: bytes
    channel: object
    kind: object
    files: list[str]


_MANIFESTS: dict[str, tuple[tuple[int, int, int], Manifest]] = {}  # path -> (its stat, it)


def read_manifest(folder: Path) -> Manifest | None:
    """A channel folder's manifest, or None when it is not one (not a regular file, not a JSON
    object with `files`). Parsed once per process for a given stat: the folder check and the
    snapshot both read it."""
    path = folder / "manifest.json"
    try:
        info = os.lstat(path)
    except OSError:
        return None
    key = (info.st_size, info.st_mtime_ns, info.st_ino)
    known = _MANIFESTS.get(str(path))
    if known is not None and known[0] == key:
        return known[1]
    if not stat_module.S_ISREG(info.st_mode):
        return None
    try:
        blob = path.read_bytes()
        data = jsondata.loads(blob)
    except (OSError, ValueError):
        return None
    if not (isinstance(data, dict) and isinstance(data.get("files"), dict)):
        return None
    manifest = Manifest(blob, data.get("channel"), data.get("kind"), list(data["files"]))
    _MANIFESTS[str(path)] = (key, manifest)
    return manifest


def _remove_empty_parents(folder: Path) -> None:
    """A removed page's folder goes too, as a cold build would not make it (up to the channel
    folder, which holds the manifest and is never empty)."""
    while not (folder / "manifest.json").exists():
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# -- where a build may write ----------------------------------------------------------------------

PROTECTED = ("knowledge", ".git", ".kbctl")  # beside the KB root itself


def check_output_folder(root: Path, out: Path, channels) -> None:
    """Refuse (UsageError, exit 2) an output that a build would write through a symbolic link
    or whose channel folders would replace the knowledge base, its history or its cache, or a
    folder kbctl did not make. A swap replaces `OUT/<channel>` whole: a committed `dist ->
    elsewhere` or a channel named `knowledge` with `--out .` would otherwise delete what is
    there."""
    out = Path(os.path.abspath(out))
    _refuse_links(Path(os.path.abspath(root)), out)
    protected = [root.resolve(), *(root.resolve() / name for name in PROTECTED)]
    _refuse_inside(out, protected[1:], "output folder")
    for channel in channels:
        folder = out / channel.name
        if folder.is_symlink():
            raise UsageError(f"{folder}: the channel folder is a symbolic link; kbctl never writes through one")
        real = folder.resolve()
        for place in protected:
            if real == place or real in place.parents:
                raise UsageError(f"{folder}: the channel folder of {channel.name} would replace {place}")
        _refuse_inside(folder, protected[1:], f"channel folder of {channel.name}")
        if not replaceable(folder, channel.name):
            raise UsageError(f"{folder}: not a kbctl channel folder (no manifest.json of channel "
                             f"{channel.name}); kbctl replaces only its own output")


def _refuse_links(root: Path, out: Path) -> None:
    """The output folder, and every folder between the KB root and it, must be real folders."""
    steps = [out]
    if out.is_relative_to(root):
        parts = out.relative_to(root).parts
        steps += [root.joinpath(*parts[:depth]) for depth in range(1, len(parts))]
    for step in steps:
        if step.is_symlink():
            raise UsageError(f"{step}: the output folder is (inside) a symbolic link; "
                             "kbctl never writes through one")


def _refuse_inside(folder: Path, places, what: str) -> None:
    real = folder.resolve()
    for place in places:
        if real == place or place in real.parents:
            raise UsageError(f"{folder}: the {what} is inside {place}, which kbctl never writes to")


def replaceable(folder: Path, name: str) -> bool:
    """May a swap replace `folder`? Only when it is absent, an empty folder, or what a build of
    channel `name` left there; never a symbolic link (the swap would empty its target)."""
    if folder.is_symlink():
        return False
    if not folder.exists():
        return True
    if folder.is_dir() and not any(folder.iterdir()):
        return True
    return is_channel_folder(folder, name)


def is_channel_folder(folder: Path, name: str) -> bool:
    """True when `folder` is a real folder holding the manifest a build of channel `name`
    writes: a regular file, a JSON object with that `channel`, a `kind` and `files`."""
    manifest = None if folder.is_symlink() else read_manifest(folder)
    return manifest is not None and manifest.channel == name and isinstance(manifest.kind, str)


def staging_folder(out: Path, name: str) -> Path:
    """A fresh folder beside the final one (same file system, so the swap is a rename)."""
    out.mkdir(parents=True, exist_ok=True)
    for leftover in out.glob(f".{name}.staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.glob(f".{name}.old-*"):
        remove_later(leftover)
    folder = out / f".{name}.staging-{os.getpid()}"
    folder.mkdir()
    return folder


def swap_in(staging: Path, final: Path, trash: Path | None = None) -> None:
    """Replace `final` by `staging`: the old folder is renamed aside, then removed.

    Removing a 10,000-page tree takes seconds, longer than the rest of an incremental build;
    so the old tree goes to `trash` (the KB's cache folder, out of the output folder's way)
    and a detached `rm` deletes it while kbctl exits. Without a trash (no usable cache folder)
    it is removed here, so that the output never shows it.
    """
    if not replaceable(final, final.name):  # check_output_folder refused it already; the last guard
        discard(staging)
        raise UsageError(f"{final}: not a kbctl channel folder, or a symbolic link; not replaced")
    aside = _aside_name(final, trash)
    moved = False
    if final.exists():
        try:
            os.replace(final, aside)
        except OSError:  # another file system: rename beside the folder instead
            aside = _aside_name(final, None)
            os.replace(final, aside)
        moved = True
    os.replace(staging, final)
    if not moved:
        return
    if trash is not None and aside.parent == trash:
        remove_later(aside)
    else:  # beside the channel, in the output folder: gone before the build returns
        shutil.rmtree(aside, ignore_errors=True)


def _aside_name(final: Path, trash: Path | None) -> Path:
    if trash is None:
        return final.parent / f".{final.name}.old-{os.getpid()}"
    try:
        trash.mkdir(parents=True, exist_ok=True)
    except OSError:
        return _aside_name(final, None)
    return trash / f"{final.name}.{os.getpid()}.{time.monotonic_ns()}"


def remove_later(folder: Path) -> None:
    rm = shutil.which("rm")
    if rm is None or os.environ.get("KBCTL_SYNC_DELETE"):
        shutil.rmtree(folder, ignore_errors=True)
        return
    subprocess.Popen([rm, "-rf", "--", str(folder)], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
