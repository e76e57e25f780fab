"""Writing a channel: files into a staging folder, a manifest, then an atomic swap."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections import defaultdict
from pathlib import Path, PurePosixPath


class ChannelWriter:
    """Collects a channel's files in a staging folder and remembers what each entry produced."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: dict[str, str] = {}
        self.entries: dict[str, list[str]] = defaultdict(list)

    def write(self, relpath: str, data: str | bytes, entry_id: str | None = None) -> None:
        rel = PurePosixPath(relpath)
        if rel.is_absolute() or ".." in rel.parts or relpath == "manifest.json":
            raise ValueError(f"refusing to write outside the channel folder: {relpath}")
        blob = data.encode("utf-8") if isinstance(data, str) else data
        target = self.folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
        self.files[str(rel)] = hashlib.sha256(blob).hexdigest()
        if entry_id is not None:
            self.entries[entry_id].append(str(rel))

    def record(self, relpath: str, digest: str, entry_id: str | None = None) -> None:
        """Note a file written by another writer on the same folder (a worker process)."""
        self.files[relpath] = digest
        if entry_id is not None:
            self.entries[entry_id].append(relpath)

    def copy(self, relpath: str, source: Path, entry_id: str | None = None) -> None:
        self.write(relpath, source.read_bytes(), entry_id)

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
        text = json.dumps(self.manifest(channel, as_of), ensure_ascii=False, indent=2) + "\n"
        (self.folder / "manifest.json").write_text(text, encoding="utf-8")


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
    and a detached `rm` deletes it while kbctl exits.
    """
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
    if moved:
        remove_later(aside)


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
