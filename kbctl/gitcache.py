"""Git dates kept between runs, with the commit they were read at.

`git log` over a 10,000-file history is the largest single cost of a rebuild after one edit;
its answer only changes with the commit checked out (HEAD, and whether the clone is shallow),
so it is kept in the cache folder with that commit (sealed JSON like every cache,
kbctl/cache.py). At the same commit it is the answer; at a later one on the same first-parent
history (after a commit, a pull, a merge) only the commits since are read and the kept dates
carried over (kbctl/gitdates.py `dates_after`); after any other move, all of history again.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from kbctl import cache
from kbctl.gitdates import GitDates, dates_after, last_verified_dates

CACHE_NAME = "git-dates"
NO_GIT = "no-git"


def git_head(root: Path) -> str:
    """The commit checked out and whether the clone is shallow: what git dates depend on."""
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD", "--is-shallow-repository"], cwd=root,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return NO_GIT
    return proc.stdout if proc.returncode == 0 else NO_GIT


def git_dates(root: Path, head: str) -> GitDates:
    """`last_verified_dates(root)`, from the cache when it was read at `head`, or brought up to
    `head` from the commit it was read at."""
    if head == NO_GIT:
        return last_verified_dates(root)
    key = cache.cache_key(CACHE_NAME)
    kept = _kept(cache.load(root, CACHE_NAME, key))
    if kept is not None and kept[0] == head:
        return kept[1]
    dates = dates_after(root, kept[1], _commit_of(kept[0])) if kept is not None else None
    if dates is None:
        dates = last_verified_dates(root)
    cache.save(root, CACHE_NAME, key, _to_data(head, dates))
    return dates


def _commit_of(head: str) -> str:
    return head.partition("\n")[0]


def _kept(stored: dict) -> tuple[str, GitDates] | None:
    """The head and the dates read at it, or None when the cache holds nothing of this shape."""
    try:
        return str(stored["head"]), _from_data(stored)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _to_data(head: str, dates: GitDates) -> dict:
    return {"head": head, "usable": dates.usable, "reason": dates.reason,
            "dates": {path: day.isoformat() for path, day in dates.dates.items()},
            "first": {path: day.isoformat() for path, day in dates.first.items()}}


def _from_data(data: dict) -> GitDates:
    return GitDates(dates={str(p): dt.date.fromisoformat(d) for p, d in data["dates"].items()},
                    usable=bool(data["usable"]),
                    reason=None if data["reason"] is None else str(data["reason"]),
                    first={str(p): dt.date.fromisoformat(d) for p, d in data["first"].items()})
