"""The build environment: what the last build read and made, kept between builds as data.

Every build is the same pipeline over a `BuildEnv` (kbctl/build.py); a cold build starts from
an empty one. The environment holds, per entry file, the stat and digest it had (so a rebuild
reads only the files whose stat changed, git's index idea), and per channel the inputs each
output file was made from, recorded while it was made (kbctl/output.py `ChannelWriter`): a
file whose inputs are those recorded, in an output folder exactly as that build left it, is
kept as it is; any other is made again, by the same functions a cold build uses.

Stored as JSON, sealed like every cache file (kbctl/cachetrust.py): `.kbctl/env.json` holds
what every build reads (the sources, the channel-wide inputs), `.kbctl/env-<channel>.json` a
channel's output records, read only when that channel is looked into (the head names each
one by its digest, so records of another build are never taken). One that a commit planted, or
that another kbctl version or code wrote, is an empty environment, so a cold build. Nothing
here is ever code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from kbctl import cachetrust, jsondata

ENV_VERSION = 5
FILE_NAME = "env.json"
ROLE = "env"

Inputs = dict[str, str]  # input name (a file of the KB, or a part of a page) -> its digest


@dataclass(frozen=True)
class SourceRecord:
    """An entry file as the last build found it."""

    stat: tuple[int, int, int] | None  # (size, mtime_ns, inode), None when unreadable
    sha: str | None  # sha256 of its bytes, None when unreadable
    # Its entry's content hash (its bytes and the facts it names: kbctl/load/loader.py), by
    # which its parse is found again without reading the file; None if it made no entry.
    digest: str | None = None


@dataclass(frozen=True)
class OutputRecord:
    """One file of a channel's output: its digest and the inputs it was made from."""

    sha: str
    inputs: Inputs


@dataclass
class ChannelRecord:
    """A channel as the last build left it."""

    world: Inputs  # what every file of the channel depends on (kbctl, config, date, folder)
    snapshot: str | None  # the output folder's digest after the build (kbctl/output.py)
    outputs_digest: str = ""  # sha256 of its output records' file
    generation: int = 0  # the environment's generation (BuildEnv) the build of it left


@dataclass
class BuildEnv:
    """What the next build needs to know of the last one. `key`: kbctl's code and version,
    which an environment must have been written by to be used; `root`: the KB it was read from
    (a channel's output records are read from there when first asked for)."""

    key: str = ""
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    linked_files: dict[str, tuple[int, int, int] | None] = field(default_factory=dict)  # path -> stat
    git_head: str = ""
    facts: str = ""  # digest of kbctl.yaml's facts: a change is looked into entry by entry
    scanned_at: int = 0  # when the sources' stats were taken (ns since the epoch)
    # Counts the builds that made channels: a channel whose record has the environment's
    # generation was made from the very sources recorded here (`is_current`).
    generation: int = 0
    channels: dict[str, ChannelRecord] = field(default_factory=dict)
    root: Path | None = None
    _outputs: dict[str, dict[str, OutputRecord]] = field(default_factory=dict)  # read or made
    _unsaved: set[str] = field(default_factory=set)

    def outputs(self, name: str) -> dict[str, OutputRecord] | None:
        """Channel `name`'s output records from its last build, or None (none, unreadable, or
        not those of the build the head describes)."""
        if name not in self._outputs:
            record = self.channels.get(name)
            data = None if record is None or self.root is None else \
                cachetrust.read_sealed(self.root, _channel_file(name), ROLE)
            if data is None or record is None or hashlib.sha256(data).hexdigest() != record.outputs_digest:
                return None
            try:
                self._outputs[name] = _outputs_from_data(jsondata.loads(data))
            except (ValueError, TypeError, KeyError, AttributeError):
                return None
        return self._outputs[name]

    def record_channel(self, name: str, world: Inputs, snapshot: str | None,
                       outputs: dict[str, OutputRecord]) -> None:
        """What a build of channel `name` left: saved with the environment."""
        self.channels[name] = ChannelRecord(world, snapshot, generation=self.generation)
        self._outputs[name] = outputs
        self._unsaved.add(name)

    def is_current(self, name: str) -> bool:
        """Channel `name` was made by the last build, from the sources recorded here."""
        record = self.channels.get(name)
        return record is not None and bool(self.generation) and record.generation == self.generation

    def advance(self, carried_over: bool) -> None:
        """A new generation, for the channels this build makes. `carried_over`: no source
        changed since the last build, so a channel it made is still made from the sources."""
        last, self.generation = self.generation, self.generation + 1
        if carried_over:
            for record in self.channels.values():
                if record.generation == last:
                    record.generation = self.generation

    def changed_entries(self, digests: dict[str, str]) -> frozenset[str]:
        """The entry files whose content hash (`digests`: path -> hash, as loaded now) differs
        from the one recorded, removed ones included: what changed since the channels that
        are current (`is_current`) were made."""
        recorded = {path: source.digest for path, source in self.sources.items()}
        return frozenset(path for path in recorded.keys() | digests.keys()
                         if recorded.get(path) != digests.get(path))

    # -- storage ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path, key: str) -> BuildEnv:
        """The last build's environment, or an empty one (none, unsealed, another key)."""
        data = cachetrust.read_sealed(root, FILE_NAME, ROLE)
        if data is None:
            return cls(key, root=root)
        try:
            env = from_data(jsondata.loads(data))
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls(key, root=root)
        env.root = root
        return env if env.key == key else cls(key, root=root)

    def save(self, root: Path) -> None:
        """Write atomically, each channel's records before the head that names them; an
        environment that cannot be written only means a cold build."""
        if not cachetrust.usable(root):
            return
        for name in sorted(self._unsaved):
            data = _json_bytes(_outputs_to_data(self._outputs[name]))
            cachetrust.write_sealed(root, _channel_file(name), ROLE, data)
            self.channels[name].outputs_digest = hashlib.sha256(data).hexdigest()
        self._unsaved.clear()
        cachetrust.write_sealed(root, FILE_NAME, ROLE, _json_bytes(to_data(self)))


def _channel_file(name: str) -> str:
    return f"env-{name}.json"


def _json_bytes(value) -> bytes:
    return jsondata.dumps(value)


# -- JSON shape: compact lists, so that 10,000 pages' records stay small and quick to read ------

def to_data(env: BuildEnv) -> dict:
    return {
        "version": ENV_VERSION,
        "key": env.key,
        "sources": {path: [list(s.stat) if s.stat else None, s.sha, s.digest] for path, s in env.sources.items()},
        "linked_files": {path: list(stat) if stat else None for path, stat in env.linked_files.items()},
        "git_head": env.git_head,
        "facts": env.facts,
        "scanned_at": env.scanned_at,
        "generation": env.generation,
        "channels": {name: {"world": c.world, "snapshot": c.snapshot, "outputs": c.outputs_digest,
                            "generation": c.generation}
                     for name, c in env.channels.items()},
    }


def from_data(data: dict) -> BuildEnv:
    if data.get("version") != ENV_VERSION:
        raise ValueError("another version of the build environment")
    return BuildEnv(
        key=str(data["key"]),
        sources={path: SourceRecord(_stat(stat), sha, digest) for path, (stat, sha, digest) in data["sources"].items()},
        linked_files={path: _stat(stat) for path, stat in data["linked_files"].items()},
        git_head=str(data["git_head"]),
        facts=str(data["facts"]),
        scanned_at=int(data["scanned_at"]),
        generation=int(data["generation"]),
        channels={name: ChannelRecord(dict(c["world"]), c["snapshot"], str(c["outputs"]), int(c["generation"]))
                  for name, c in data["channels"].items()},
    )


def _outputs_to_data(outputs: dict[str, OutputRecord]) -> dict:
    return {relpath: [o.sha, o.inputs] for relpath, o in outputs.items()}


def _outputs_from_data(data: dict) -> dict[str, OutputRecord]:
    return {relpath: OutputRecord(sha, inputs) for relpath, (sha, inputs) in data.items()}


def _stat(value) -> tuple[int, int, int] | None:
    if value is None:
        return None
    size, mtime, inode = value
    return (int(size), int(mtime), int(inode))
