"""Benchmark `kbctl health`: a 10,000-entry KB with ~300 commits, built outside the repository.

    python bench/health_bench.py [--out /tmp/big] [--entries 10000] [--commits 300]

Prints the seconds of the git pass alone (kbctl.gitdates) and of the whole command.
History is written with `git fast-import`, so building the KB takes seconds, not minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]  # run from a checkout, installed or not
TEAMS = ("billing-team", "network-team", "account-team")
CATEGORIES = ("billing/payments", "network/mobile", "account/security")
CONFIG = """\
name: Benchmark KB
default_locale: en-US
locales: [en-US]
owners:
  billing-team: {name: Billing}
  network-team: {name: Network}
  account-team: {name: Account}
taxonomy:
  - {id: billing, title: Billing, children: [{id: payments, title: Payments}]}
  - {id: network, title: Network, children: [{id: mobile, title: Mobile}]}
  - {id: account, title: Account, children: [{id: security, title: Security}]}
review: {default_interval: 180d, warn_within: 14d}
channels:
  web: {kind: site, audience: public}
"""


def entry_text(index: int, version: int) -> str:
    paragraph = ("This paragraph explains the procedure step by step so that an agent can "
                 "read it to a caller without improvising. ") * 4
    return (f"---\nid: e{index:05d}\ntitle: How do I do task {index}?\ntype: faq\n"
            f"status: published\nowner: {TEAMS[index % 3]}\ncategory: {CATEGORIES[index % 3]}\n"
            f"---\n## Steps\n\n{paragraph}\n\nSee [the next one](kb:e{(index + 1) % 10000:05d}).\n"
            f"\n<!-- version {version} -->\n")


def history(entries: int, commits: int) -> bytes:
    """Commit 0 adds everything; each later commit edits ~30 entries and renames a few."""
    start = int(dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC).timestamp())
    parts = [_commit(start, "kbctl.yaml", CONFIG)]
    parts += [_file(f"knowledge/e{i:05d}.md", entry_text(i, 0)) for i in range(entries)]
    for number in range(1, commits):
        parts.append(_commit(start + number * 86400 * 2, None, None))
        for index in range(number % 331, entries, 331):
            parts.append(_file(f"knowledge/e{index:05d}.md", entry_text(index, number)))
        if number % 50 == 0:  # pure renames: the date must stay the old one
            renamed = number // 50
            parts.append(f"R knowledge/e{renamed:05d}.md knowledge/moved/e{renamed:05d}.md\n")
    return "".join(parts).encode()


def _commit(stamp: int, path: str | None, text: str | None) -> str:
    head = (f"commit refs/heads/main\ncommitter Bench <bench@example.com> {stamp} +0000\n"
            "data 6\nchange\n")
    return head + (_file(path, text) if path else "")


def _file(path: str, text: str) -> str:
    data = text.encode()
    return f"M 644 inline {path}\ndata {len(data)}\n{text}\n"


def build(out: Path, entries: int, commits: int) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=out, check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=out, input=history(entries, commits),
                   check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=out, check=True)


def timed(label: str, action) -> float:
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    print(f"{label}: {elapsed:.2f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/big"))
    parser.add_argument("--entries", type=int, default=10000)
    parser.add_argument("--commits", type=int, default=300)
    args = parser.parse_args()
    timed(f"build {args.entries} entries × {args.commits} commits", lambda: build(
        args.out, args.entries, args.commits))
    sys.path.insert(0, str(REPO))
    from kbctl.gitdates import last_verified_dates

    timed("git pass (kbctl.gitdates)", lambda: last_verified_dates(args.out))
    command = [sys.executable, "-m", "kbctl", "--root", str(args.out), "health",
               "--format", "json", "--fail-on", "never"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(REPO), os.environ.get("PYTHONPATH")]))}
    timed("kbctl health (whole process)", lambda: subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, env=env))


if __name__ == "__main__":
    main()
