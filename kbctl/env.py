"""The build environment: what the last build read and made, kept between builds as data.

Every build is the same pipeline over a `BuildEnv` (kbctl/build.py); a cold build starts from
an empty one. The environment holds, per entry file, the stat and digest it had (so a rebuild
reads only the files whose stat changed, git's index idea), and per channel the inputs each
output file was made from, recorded while it was made (kbctl/output.py `ChannelWriter`): a
file whose inputs are those recorded, in an output folder exactly as that build left it, is
kept as it is; any other is made again, by the same functions a cold build uses.

Stored as JSON in `.kbctl/env.json`, sealed like every cache file (kbctl/cachetrust.py): one
that a commit planted, or that another kbctl version or code wrote, is an empty environment,
so a cold build. Nothing here is ever code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kbctl import cachetrust

ENV_VERSION = 2
FILE_NAME = "env.json"
ROLE = "env"

Inputs = dict[str, str]  # input name (a file of the KB, or a part of a page) -> its digest


@dataclass(frozen=True)
class SourceRecord:
    """An entry file as the last build found it."""

    stat: tuple[int, int, int] | None  # (size, mtime_ns, inode), None when unreadable
    sha: str | None  # sha256 of its bytes, None when unreadable


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
    outputs: dict[str, OutputRecord] = field(default_factory=dict)


@dataclass
class BuildEnv:
    """What the next build needs to know of the last one. `key`: kbctl's code and version,
    which an environment must have been written by to be used."""

    key: str = ""
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    linked_files: dict[str, tuple[int, int, int] | None] = field(default_factory=dict)  # path -> stat
    git_head: str = ""
    facts: str = ""  # digest of kbctl.yaml's facts: a change is looked into entry by entry
    channels: dict[str, ChannelRecord] = field(default_factory=dict)

    # -- storage ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path, key: str) -> BuildEnv:
        """The last build's environment, or an empty one (none, unsealed, another key)."""
        data = cachetrust.read_sealed(root, FILE_NAME, ROLE)
        if data is None:
            return cls(key)
        try:
            env = from_data(json.loads(data))
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls(key)
        return env if env.key == key else cls(key)

    def save(self, root: Path) -> None:
        """Write atomically; an environment that cannot be written only means a cold build."""
        if cachetrust.usable(root):
            data = json.dumps(to_data(self), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            cachetrust.write_sealed(root, FILE_NAME, ROLE, data)


# -- JSON shape: compact lists, so that 10,000 pages' records stay small and quick to read ------

def to_data(env: BuildEnv) -> dict:
    return {
        "version": ENV_VERSION,
        "key": env.key,
        "sources": {path: [list(s.stat) if s.stat else None, s.sha] for path, s in env.sources.items()},
        "linked_files": {path: list(stat) if stat else None for path, stat in env.linked_files.items()},
        "git_head": env.git_head,
        "facts": env.facts,
        "channels": {name: {"world": c.world, "snapshot": c.snapshot,
                            "outputs": {relpath: [o.sha, o.inputs] for relpath, o in c.outputs.items()}}
                     for name, c in env.channels.items()},
    }


def from_data(data: dict) -> BuildEnv:
    if data.get("version") != ENV_VERSION:
        raise ValueError("another version of the build environment")
    return BuildEnv(
        key=str(data["key"]),
        sources={path: SourceRecord(_stat(stat), sha) for path, (stat, sha) in data["sources"].items()},
        linked_files={path: _stat(stat) for path, stat in data["linked_files"].items()},
        git_head=str(data["git_head"]),
        facts=str(data["facts"]),
        channels={name: ChannelRecord(dict(c["world"]), c["snapshot"],
                                      {relpath: OutputRecord(sha, inputs) for relpath, (sha, inputs)
                                       in c["outputs"].items()})
                  for name, c in data["channels"].items()},
    )


def _stat(value) -> tuple[int, int, int] | None:
    if value is None:
        return None
    size, mtime, inode = value
    return (int(size), int(mtime), int(inode))
