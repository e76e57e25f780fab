"""Git dates kept between runs, keyed by the commit they were read at.

`git log` over a 10,000-file history is the largest single cost of a rebuild after one edit;
its answer only changes with the commit checked out (HEAD, and whether the clone is shallow),
so it is kept in the cache folder under that key (sealed JSON like every cache, kbctl/cache.py)
and read again only after a commit, a checkout or a fetch of more history.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from kbctl import cache
from kbctl.gitdates import GitDates, last_verified_dates

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
    """`last_verified_dates(root)`, from the cache when it was read at `head`."""
    if head == NO_GIT:
        return last_verified_dates(root)
    key = cache.cache_key(CACHE_NAME, head)
    stored = cache.load(root, CACHE_NAME, key)
    if stored:
        try:
            return _from_data(stored)
        except (KeyError, TypeError, ValueError):
            pass  # not of this shape: read git again
    dates = last_verified_dates(root)
    cache.save(root, CACHE_NAME, key, _to_data(dates))
    return dates


def _to_data(dates: GitDates) -> dict:
    return {"usable": dates.usable, "reason": dates.reason,
            "dates": {path: day.isoformat() for path, day in dates.dates.items()},
            "first": {path: day.isoformat() for path, day in dates.first.items()}}


def _from_data(data: dict) -> GitDates:
    return GitDates(dates={str(p): dt.date.fromisoformat(d) for p, d in data["dates"].items()},
                    usable=bool(data["usable"]),
                    reason=None if data["reason"] is None else str(data["reason"]),
                    first={str(p): dt.date.fromisoformat(d) for p, d in data["first"].items()})
