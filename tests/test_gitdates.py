"""kbctl.gitdates: one pass over first-parent history, following renames (CONTRACT 3.3)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import pytest

from kbctl.gitdates import dates_from_log, last_verified_dates

D = dt.date


class Repo:
    """A real git repository whose commits carry fixed dates and a fixed identity."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, when: str = "2026-01-01T12:00:00+00:00") -> str:
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
               "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
               "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        done = subprocess.run(["git", *args], cwd=self.path, env=env, check=True,
                              capture_output=True)
        return done.stdout.decode()

    def write(self, rel: str, text: str) -> None:
        file = self.path / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")

    def commit(self, day: str, message: str = "change") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, when=f"{day}T12:00:00+00:00")


def dates(path: Path) -> dict[str, D]:
    found = last_verified_dates(path)
    assert found.usable, found.reason
    return found.dates


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_each_file_gets_the_date_of_its_last_content_change(repo):
    repo.write("a.md", "a")
    repo.write("b.md", "b")
    repo.commit("2026-01-01")
    repo.write("b.md", "b2")
    repo.commit("2026-02-01")
    repo.commit("2026-03-01", "an empty commit changes nothing")
    assert dates(repo.path) == {"a.md": D(2026, 1, 1), "b.md": D(2026, 2, 1)}
    # Its first commit stays where it was added, through the later changes.
    assert last_verified_dates(repo.path).first == {"a.md": D(2026, 1, 1), "b.md": D(2026, 1, 1)}


def test_committer_date_is_taken_as_a_utc_calendar_date(repo):
    repo.write("a.md", "a")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "late evening in New York", when="2026-03-01T23:30:00-05:00")
    assert dates(repo.path) == {"a.md": D(2026, 3, 2)}


def test_a_pure_rename_keeps_the_old_date_and_an_edited_rename_is_new(repo):
    repo.write("old.md", "same content\n" * 20)
    repo.write("edit.md", "content line\n" * 20)
    repo.commit("2026-01-01")
    repo.git("mv", "old.md", "moved.md")
    repo.commit("2026-02-01")
    (repo.path / "dir").mkdir()
    repo.git("mv", "moved.md", "dir/again.md")
    repo.git("mv", "edit.md", "edited.md")
    repo.write("edited.md", "content line\n" * 20 + "one more line\n")
    repo.commit("2026-03-01")
    assert dates(repo.path) == {"dir/again.md": D(2026, 1, 1), "edited.md": D(2026, 3, 1)}


def test_a_rename_and_a_new_file_under_the_old_name_in_one_commit():
    # Git reports this only with -B (too costly for every run), so feed the walk directly.
    out = b"\x011769947200\0\nR100\0a.md\0b.md\0A\0a.md\0\x011767268800\0\nA\0a.md\0"
    assert dates_from_log(out) == {"a.md": D(2026, 2, 1), "b.md": D(2026, 1, 1)}


def test_a_deleted_then_re_added_file_dates_from_its_return(repo):
    repo.write("a.md", "a")
    repo.write("gone.md", "x")
    repo.commit("2026-01-01")
    repo.git("rm", "-q", "a.md", "gone.md")
    repo.commit("2026-02-01")
    repo.write("a.md", "a")
    repo.commit("2026-03-01")
    assert dates(repo.path) == {"a.md": D(2026, 3, 1)}


def test_a_merged_change_counts_at_the_merge(repo):
    repo.write("a.md", "a")
    repo.write("b.md", "b")
    repo.commit("2026-01-01")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("a.md", "a reviewed")
    repo.commit("2026-01-10")
    repo.git("checkout", "-q", "main")
    repo.write("b.md", "b2")
    repo.commit("2026-01-20")
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "merge", when="2026-02-01T12:00:00+00:00")
    assert dates(repo.path) == {"a.md": D(2026, 2, 1), "b.md": D(2026, 1, 20)}


def test_uncommitted_edits_and_untracked_files_do_not_count(repo):
    repo.write("a.md", "a")
    repo.commit("2026-01-01")
    repo.write("a.md", "edited, not committed")
    repo.write("new.md", "untracked")
    assert dates(repo.path) == {"a.md": D(2026, 1, 1)}


def test_paths_are_relative_to_a_kb_in_a_subfolder(repo):
    repo.write("README.md", "top")
    repo.write("docs/kb/knowledge/a.md", "a")
    repo.write("docs/other.md", "o")
    repo.commit("2026-01-01")
    assert dates(repo.path / "docs" / "kb") == {"knowledge/a.md": D(2026, 1, 1)}


def test_unusual_file_names_survive(repo):
    raw = b"knowledge/caf\xe9.md"  # not UTF-8: Latin-1 bytes in the name
    (repo.path / "knowledge").mkdir()
    (repo.path / os.fsdecode(raw)).write_text("x")
    repo.write("knowledge/缴费 说明.md", "x")
    repo.write('knowledge/quote"tab\t.md', "x")
    repo.commit("2026-01-01")
    assert dates(repo.path) == {
        os.fsdecode(raw): D(2026, 1, 1),
        "knowledge/缴费 说明.md": D(2026, 1, 1),
        'knowledge/quote"tab\t.md': D(2026, 1, 1),
    }


def test_a_repository_without_commits_has_no_dates(repo):
    repo.write("a.md", "a")
    found = last_verified_dates(repo.path)
    assert found.usable and found.dates == {}


def test_outside_git_dates_are_not_used(tmp_path):
    found = last_verified_dates(tmp_path)
    assert not found.usable and "not in a git repository" in found.reason


def test_a_shallow_clone_is_refused(repo, tmp_path):
    for day in ("2026-01-01", "2026-02-01"):
        repo.write(f"{day}.md", day)
        repo.commit(day)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)],
                   check=True, capture_output=True)
    found = last_verified_dates(clone)
    assert not found.usable and "shallow" in found.reason and found.dates == {}


def test_without_git_installed_dates_are_not_used(repo, monkeypatch):
    repo.write("a.md", "a")
    repo.commit("2026-01-01")
    monkeypatch.setenv("PATH", "")
    found = last_verified_dates(repo.path)
    assert not found.usable and found.reason == "git is not installed"


def test_log_parsing_tolerates_empty_commits_and_trailing_separators():
    out = (b"\x011767268800\0\x011767268800\0\nM\0a.md\0R100\0x.md\0y.md\0"
           b"\x011764590400\0\nA\0x.md\0")
    assert dates_from_log(out) == {"a.md": D(2026, 1, 1), "y.md": D(2025, 12, 1)}


def test_one_pass_is_fast_enough(tmp_path):
    """2,000 files and 200 commits (written with fast-import) are dated well under a second."""
    repo = Repo(tmp_path / "big")
    stream = _fast_import_stream(files=2000, commits=200)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo.path, input=stream, check=True)
    repo.git("reset", "-q", "--hard", "main")
    start = time.perf_counter()
    found = dates(repo.path)
    elapsed = time.perf_counter() - start
    assert len(found) == 2000
    assert found["knowledge/f0000.md"] == D(2026, 1, 1) + dt.timedelta(days=100)
    assert found["knowledge/f0099.md"] == D(2026, 1, 1) + dt.timedelta(days=199)
    assert elapsed < 1.0, f"git pass took {elapsed:.2f} s"


def _fast_import_stream(files: int, commits: int) -> bytes:
    """Commit 0 adds every file; commit n rewrites the files whose index is n modulo 100."""
    base = int(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC).timestamp())
    parts = []
    for number in range(commits):
        stamp = base + number * 86400
        parts.append(f"commit refs/heads/main\ncommitter T <t@example.com> {stamp} +0000\n"
                     f"data 1\nc\n")
        chosen = range(files) if number == 0 else range(number % 100, files, 100)
        for index in chosen:
            body = f"file {index} version {number}\n"
            parts.append(f"M 644 inline knowledge/f{index:04d}.md\ndata {len(body)}\n{body}")
    return "".join(parts).encode()



def test_kept_dates_are_read_again_after_a_commit_and_match_git(repo, monkeypatch):
    from kbctl import gitcache, gitdates

    repo.write("a.md", "a")
    repo.commit("2026-01-01")
    first = gitcache.git_dates(repo.path, gitcache.git_head(repo.path))
    assert first.dates == {"a.md": D(2026, 1, 1)}
    assert first.first == {"a.md": D(2026, 1, 1)}
    repo.write("a.md", "a2")
    repo.commit("2026-02-02")
    after = gitcache.git_dates(repo.path, gitcache.git_head(repo.path))
    assert after.dates == {"a.md": D(2026, 2, 2)}
    # At the same commit the kept answer is used: git is not asked again, and it is the same.
    monkeypatch.setattr(gitcache, "last_verified_dates",
                        lambda root: pytest.fail("git log was run again at the same commit"))
    again = gitcache.git_dates(repo.path, gitcache.git_head(repo.path))
    assert again == after == gitdates.last_verified_dates(repo.path)


def test_a_shallow_or_gitless_answer_is_kept_with_its_reason(tmp_path):
    from kbctl import gitcache

    assert gitcache.git_head(tmp_path) == gitcache.NO_GIT
    found = gitcache.git_dates(tmp_path, gitcache.NO_GIT)
    assert not found.usable and "not in a git repository" in (found.reason or "")


# -- first commits ---------------------------------------------------------------------------
def first_dates(path: Path) -> dict[str, D]:
    found = last_verified_dates(path)
    assert found.usable, found.reason
    return found.first


def test_a_first_commit_follows_renames_and_starts_again_after_a_deletion(repo):
    repo.write("old.md", "same content\n" * 20)
    repo.write("gone.md", "x")
    repo.commit("2026-01-01")
    repo.git("mv", "old.md", "new.md")
    repo.git("rm", "-q", "gone.md")
    repo.commit("2026-02-01")
    repo.write("new.md", "same content\n" * 20 + "edited\n")
    repo.write("gone.md", "back")
    repo.commit("2026-03-01")
    assert first_dates(repo.path) == {"new.md": D(2026, 1, 1), "gone.md": D(2026, 3, 1)}


def test_a_new_file_under_a_renamed_files_old_name_has_its_own_first_commit():
    out = b"\x011769947200\0\nR100\0a.md\0b.md\0A\0a.md\0\x011767268800\0\nA\0a.md\0"
    from kbctl.gitdates import walk_log

    assert walk_log(out).first == {"a.md": D(2026, 2, 1), "b.md": D(2026, 1, 1)}


# -- brought up to date from the dates at an earlier commit ------------------------------------
def _head(repo: Repo) -> str:
    return repo.git("rev-parse", "HEAD").strip()


def _random_change(repo: Repo, rng, day: str, number: int) -> None:
    """One commit of random adds, edits, deletions and renames (pure or edited)."""
    files = sorted(p.relative_to(repo.path).as_posix() for p in repo.path.rglob("*.md"))
    for _ in range(rng.randint(1, 4)):
        action = rng.choice(["add", "edit", "delete", "rename", "rename-edit"] if files else ["add"])
        if action == "add":
            name = f"d{rng.randint(0, 2)}/f{number}-{rng.randint(0, 999)}.md"
            repo.write(name, f"new file {number}\n" + "body line\n" * 20)
            repo.git("add", name)
            files.append(name)
            continue
        name = rng.choice(files)
        if action == "edit":
            repo.write(name, (repo.path / name).read_text() + f"edit {number}\n")
            continue
        files.remove(name)
        if action == "delete":
            repo.git("rm", "-qf", name)
            continue
        target = f"d{rng.randint(0, 2)}/r{number}-{rng.randint(0, 999)}.md"
        (repo.path / target).parent.mkdir(exist_ok=True)
        repo.git("mv", "-f", name, target)
        if action == "rename-edit":
            repo.write(target, (repo.path / target).read_text() + f"edit {number}\n")
        files.append(target)
    repo.commit(day, f"change {number}")


@pytest.mark.parametrize("seed", range(4))
def test_dates_brought_up_from_an_earlier_commit_are_those_of_a_full_read(repo, seed):
    import random

    from kbctl.gitdates import dates_after

    rng = random.Random(seed)
    repo.write("d0/start.md", "start\n" * 20)
    repo.commit("2026-01-01")
    for number in range(1, 13):
        earlier, commit = last_verified_dates(repo.path), _head(repo)
        if number % 4 == 0:  # a merged branch: its changes count at the merge
            repo.git("checkout", "-q", "-b", f"topic{number}")
            _random_change(repo, rng, f"2026-02-{number:02d}", number)
            repo.git("checkout", "-q", "main")
            repo.git("merge", "-q", "--no-ff", f"topic{number}", "-m", "merge",
                     when=f"2026-03-{number:02d}T12:00:00+00:00")
        else:
            for step in range(rng.randint(1, 2)):  # a push of one or two commits
                _random_change(repo, rng, f"2026-01-{number * 2 + step:02d}", number * 10 + step)
        full = last_verified_dates(repo.path)
        assert dates_after(repo.path, earlier, commit) == full, f"after change {number}"


def test_dates_are_brought_up_only_along_first_parent_history(repo):
    from kbctl.gitdates import dates_after

    repo.write("a.md", "a")
    repo.commit("2026-01-01")
    repo.write("a.md", "a2")
    repo.commit("2026-02-01")
    earlier, commit = last_verified_dates(repo.path), _head(repo)
    assert dates_after(repo.path, earlier, commit) == earlier  # at that very commit
    repo.git("reset", "-q", "--hard", "HEAD~1")
    assert dates_after(repo.path, earlier, commit) is None  # HEAD moved back: an empty range
    repo.git("reset", "-q", "--hard", commit)
    repo.git("commit", "-q", "--amend", "-m", "amended", when="2026-02-05T12:00:00+00:00")
    assert dates_after(repo.path, earlier, commit) is None  # rewritten: not an ancestor
    assert dates_after(repo.path, earlier, "--output=/tmp/x") is None  # never passed to git
    # A commit reached only through a merge's second parent is not on first-parent history.
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("b.md", "b")
    repo.commit("2026-02-10")
    topic, topic_dates = _head(repo), last_verified_dates(repo.path)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "topic", "-m", "merge", when="2026-02-20T12:00:00+00:00")
    assert dates_after(repo.path, topic_dates, topic) is None


def test_dates_brought_up_in_a_kb_in_a_subfolder(repo):
    from kbctl.gitdates import dates_after

    kb = repo.path / "docs" / "kb"
    repo.write("docs/kb/knowledge/a.md", "a\n" * 20)
    repo.write("README.md", "top")
    repo.commit("2026-01-01")
    earlier, commit = last_verified_dates(kb), _head(repo)
    repo.git("mv", "docs/kb/knowledge/a.md", "docs/kb/knowledge/b.md")
    repo.write("docs/kb/knowledge/c.md", "c")
    repo.write("README.md", "top 2")
    repo.commit("2026-02-01")
    brought = dates_after(kb, earlier, commit)
    assert brought == last_verified_dates(kb)
    assert brought is not None and brought.dates == {"knowledge/b.md": D(2026, 1, 1), "knowledge/c.md": D(2026, 2, 1)}


def test_after_a_commit_only_the_commits_since_the_kept_dates_are_read(repo, monkeypatch):
    from kbctl import gitcache

    repo.write("a.md", "a")
    repo.write("b.md", "b")
    repo.commit("2026-01-01")
    gitcache.git_dates(repo.path, gitcache.git_head(repo.path))
    repo.write("a.md", "a2")
    repo.commit("2026-02-02")
    full = last_verified_dates(repo.path)
    monkeypatch.setattr(gitcache, "last_verified_dates",
                        lambda root: pytest.fail("all of history was read again after one commit"))
    assert gitcache.git_dates(repo.path, gitcache.git_head(repo.path)) == full
    # An amend is not on the kept commit's history: all of it is read again, and matches git.
    monkeypatch.undo()
    repo.git("commit", "-q", "--amend", "-m", "amended", when="2026-03-03T12:00:00+00:00")
    assert gitcache.git_dates(repo.path, gitcache.git_head(repo.path)) == last_verified_dates(repo.path)
    assert gitcache.git_dates(repo.path, gitcache.git_head(repo.path)).dates["a.md"] == D(2026, 3, 3)
