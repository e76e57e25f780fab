"""The only module that asks git for dates: when did each file's content last change?

CONTRACT 3.3: the committer date (a UTC calendar date) of the last commit on the first-parent
history that changed the file's content. A merge counts at the merge; history follows renames,
and a pure rename is not a verification. A shallow clone gives dates that are always too
recent (stale entries would look fresh), so there, and outside git, no dates are used at all.

One `git log` pass over the whole history dates every file: asking per file costs ~6 ms each.
After a commit, the pass over the commits since brings the dates kept at the one before up to
date (`dates_after`, kept by kbctl/gitcache.py).
`tracks` answers the one other question kbctl asks the working tree's git (is its cache
committed? kbctl/cachetrust.py).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_HEADER = b"\x01"  # starts each commit's record; never the first byte of a status token
_LOG_FORMAT = "--format=%x01%ct"
SHALLOW = ("this is a shallow clone, whose dates are too recent "
           "(fetch the full history: git fetch --unshallow)")
# Settings a user's gitconfig could use to change what `git log` prints (showRoot=false
# would hide the first commit's files, and with them the dates of files never touched since).
_NEUTRAL_CONFIG = (
    "-c", "core.quotepath=off", "-c", "diff.relative=false", "-c", "log.showSignature=false",
    "-c", "log.showRoot=true", "-c", "color.ui=never",
)


@dataclass(frozen=True)
class GitDates:
    """Last content change per path (relative to the KB root, "/"-separated)."""

    dates: dict[str, dt.date] = field(default_factory=dict)
    usable: bool = True
    reason: str | None = None  # why git dates are not used, for the `git-dates` note
    first: dict[str, dt.date] = field(default_factory=dict)  # first commit, through renames

    def get(self, path: str) -> dt.date | None:
        return self.dates.get(path)

    def first_committed(self, path: str) -> dt.date | None:
        """When the file (under any of its earlier names) was first committed (CONTRACT 7)."""
        return self.first.get(path)


class _GitFailed(Exception):
    """git could not answer; the message says why, in words for the `git-dates` note."""


def last_verified_dates(root: Path) -> GitDates:
    """Date every committed file under `root`, or say why git dates cannot be used."""
    try:
        prefix = _repository_prefix(root)
        if prefix is None:
            return GitDates(usable=False, reason=SHALLOW)
        if not _has_commits(root):
            return GitDates()
        output = _log(root, limit_to_folder=bool(prefix))
    except _GitFailed as exc:
        return GitDates(usable=False, reason=str(exc))
    walk = walk_log(output)
    return GitDates(dates=_relative_to(walk.dates, prefix), first=_relative_to(walk.first, prefix))


def dates_after(root: Path, earlier: GitDates, commit: str) -> GitDates | None:
    """The dates at HEAD from `earlier`, those at `commit`, reading only the commits after it:
    where `commit` is on HEAD's first-parent history (a commit made, a pull that fast-forwards,
    a merge), the same dates as `last_verified_dates` at a fraction of its cost. None where it
    is not (a checkout of another branch, a rebase, an amend) or git cannot say: read it all."""
    if not earlier.usable or _COMMIT.fullmatch(commit) is None:
        return None
    try:
        prefix = _repository_prefix(root)
        if prefix is None or not _on_first_parent_history(root, commit):
            return None
        output = _log(root, limit_to_folder=bool(prefix), since=commit)
    except _GitFailed:
        return None
    return walk_log(output).continued(earlier, prefix)


_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a full object name, never an option


def _on_first_parent_history(root: Path, commit: str) -> bool:
    """`commit` is HEAD, or the first parent of the oldest commit of HEAD's first-parent
    history after it."""
    done = _run(root, "rev-list", "--first-parent", "--parents", f"{commit}..HEAD")
    if done.returncode != 0:
        return False
    lines = done.stdout.decode("ascii", "replace").splitlines()
    if not lines:
        head = _run(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        return head.returncode == 0 and head.stdout.decode("ascii", "replace").strip() == commit
    oldest = lines[-1].split()
    return len(oldest) > 1 and oldest[1] == commit


def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *_NEUTRAL_CONFIG, *args], cwd=root, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, check=False,
        )
    except FileNotFoundError:
        raise _GitFailed("git is not installed") from None
    except OSError as exc:
        raise _GitFailed(f"git could not be run ({exc.strerror or exc})") from None


def _first_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    return text.splitlines()[0].removeprefix("fatal: ") if text else "git failed"


def _repository_prefix(root: Path) -> str | None:
    """The KB root's path in its repository ("" at the top, else "sub/dir/"); None if shallow."""
    done = _run(root, "rev-parse", "--is-shallow-repository", "--show-prefix",
                "--git-path", "shallow")
    if done.returncode != 0:
        message = _first_line(done.stderr)
        if "not a git repository" in message:
            raise _GitFailed("the knowledge base is not in a git repository")
        raise _GitFailed(f"git cannot read the repository ({message})")
    lines = done.stdout.split(b"\n")
    if len(lines) < 3:
        raise _GitFailed("git rev-parse gave an unexpected answer")
    # Older git does not know --is-shallow-repository; the shallow file tells the same.
    if lines[0] == b"true" or (root / os.fsdecode(lines[2])).exists():
        return None
    return os.fsdecode(lines[1])


def _has_commits(root: Path) -> bool:
    return _run(root, "rev-parse", "--quiet", "--verify", "HEAD^{commit}").returncode == 0


def tracks(root: Path, folder: str) -> bool:
    """git tracks or has staged a file under `folder` (relative to `root`); False outside git,
    where no repository is looked for unless a `.git` is at or above `root` (or GIT_DIR set)."""
    if "GIT_DIR" not in os.environ and not any((parent / ".git").exists() for parent in (root, *root.parents)):
        return False
    try:
        done = _run(root, "ls-files", "-z", "--", f":(literal){folder}")
    except _GitFailed:
        return False
    return done.returncode == 0 and bool(done.stdout)


def _log(root: Path, limit_to_folder: bool, since: str | None = None) -> bytes:
    """The first-parent history of HEAD, or only the part of it after `since`."""
    base = ["log", "--first-parent", "-z", "--name-status", "-M", "--no-color", _LOG_FORMAT]
    # For a KB in a sub-folder, the pathspec "." (relative to it) skips the rest of the repo;
    # at the top it would only cost time (a third more on 10,000 files).
    revisions = [f"{since}..HEAD"] if since else []
    pathspec = ["--", "."] if limit_to_folder else []
    done = _run(root, *base[:2], "--diff-merges=first-parent", *base[2:], *revisions, *pathspec)
    if done.returncode != 0 and b"diff-merges" in done.stderr:
        # git before 2.31: -m with --first-parent diffs a merge against its first parent only.
        done = _run(root, *base[:2], "-m", *base[2:], *revisions, *pathspec)
    if done.returncode != 0:
        raise _GitFailed(f"git log failed ({_first_line(done.stderr)})")
    return done.stdout


def _relative_to(dates: dict[str, dt.date], prefix: str) -> dict[str, dt.date]:
    if not prefix:
        return dates
    return {path[len(prefix):]: date for path, date in dates.items() if path.startswith(prefix)}


def dates_from_log(output: bytes) -> dict[str, dt.date]:
    return walk_log(output).dates


def walk_log(output: bytes) -> _HistoryWalk:
    """Walk `git log -z --name-status --format=%x01%ct` output, newest commit first."""
    walk = _HistoryWalk()
    tokens = output.split(b"\0")
    index, count = 0, len(tokens)
    while index < count:
        token = tokens[index].lstrip(b"\n")
        index += 1
        if token.startswith(_HEADER):
            walk.finish_commit()
            walk.date = _utc_date(token[1:])
        elif token:
            paths = 2 if token[:1] in (b"R", b"C") else 1
            names = [os.fsdecode(t) for t in tokens[index:index + paths]]
            index += paths
            walk.change(token.decode("ascii", "replace"), names)
    walk.finish_commit()
    return walk


def _utc_date(timestamp: bytes) -> dt.date:
    return dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC).date()


class _HistoryWalk:
    """Follows names back in time, newest commit first.

    `names` maps a path as it was named just after the commit being read to the current path
    whose date it would give, or to None when nothing current depends on it any more. A path
    not in `names` was untouched by every newer commit, so it is still current under that name.
    `lineage` is the same map for first commits: a change settles a file's date, but not
    where its history began, which older commits under the same name (or the name it was
    renamed from) still tell; a deletion ends a name's history. One commit's changes are
    resolved against the names as they were after it, and only then applied, so a commit that
    renames a→b and adds a new `a` is read correctly.
    """

    def __init__(self) -> None:
        self.dates: dict[str, dt.date] = {}
        self.first: dict[str, dt.date] = {}  # overwritten by each older commit: the oldest stays
        self.names: dict[str, str | None] = {}
        self.lineage: dict[str, str | None] = {}
        self.date: dt.date | None = None
        self._settled: list[str] = []  # names whose date this commit settles
        self._before: list[tuple[str, str | None, str | None]] = []  # older names: (name, date of, history of)

    def change(self, status: str, paths: list[str]) -> None:
        """One line of --name-status: "M", "A", "T", "D", or "R<score>" with old and new path."""
        if self.date is None or not paths:
            return
        kind = status[:1]
        if kind == "D":
            self._before.append((paths[0], None, None))
            return
        new = paths[-1]
        target, origin = self.names.get(new, new), self.lineage.get(new, new)
        self._settled.append(new)
        if origin is not None:
            self.first[origin] = self.date
        if kind == "R" and len(paths) == 2:
            # The older name's history is the file's: it was first committed there. Its
            # changes cannot date the last verification when this rename changed content,
            # since that date is set below, before any older commit is read.
            self._before.append((paths[0], target, origin))
            # R100 is the same content under a new name: its date lies further back.
            if status == "R100":
                return
        if target is not None and target not in self.dates:
            self.dates[target] = self.date

    def finish_commit(self) -> None:
        for name in self._settled:
            self.names[name] = None
        for name, target, origin in self._before:
            self.names[name], self.lineage[name] = target, origin
        self._settled, self._before = [], []

    def continued(self, earlier: GitDates, prefix: str) -> GitDates:
        """The dates at the newest commit walked, given `earlier`, those at the parent of the
        oldest: what walking on through that parent's history would find. A path the walk
        left unsettled takes its date (and a path its first commit) from `earlier`, under the
        name it had there."""
        dates, first = _relative_to(self.dates, prefix), _relative_to(self.first, prefix)
        for path, day in _renamed(earlier.dates, self.names, prefix):
            dates.setdefault(path, day)  # a date the walk found is newer
        first.update(_renamed(earlier.first, self.lineage, prefix))  # an older first commit wins
        return GitDates(dates=dates, first=first)


def _renamed(found: dict[str, dt.date], names: dict[str, str | None], prefix: str) -> Iterator[tuple[str, dt.date]]:
    """The dates `found` (by path relative to the KB) under the current names `names` maps
    their paths to (repository paths, hence the prefix), without those no current file has."""
    for path, day in found.items():
        current = names.get(prefix + path, prefix + path)
        if current is not None and current.startswith(prefix):
            yield current[len(prefix):], day
