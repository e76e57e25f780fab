"""`kbctl health` through its real entry point, on small KBs in real git repositories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from kbctl.cli import main

AS_OF = "2026-06-01"

CONFIG = """\
name: Test KB
default_locale: en-US
locales: [en-US, zh-CN]
owners:
  team-a: {name: Team A, github: "@example/a"}
  team-b: {name: Team B}
  idle-team: {name: Idle}
taxonomy:
  - id: billing
    title: Billing
    children:
      - id: payments
        title: Payments
  - id: empty
    title: Empty
review:
  default_interval: 100d
  intervals: {policy: 30d}
  warn_within: 10d
channels:
  web: {kind: site, audience: public}
"""


class KB:
    """A knowledge base folder, optionally a git repository, with dated commits."""

    def __init__(self, root: Path, git: bool = True):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "kbctl.yaml").write_text(CONFIG, encoding="utf-8")
        if git:
            self.git("init", "-q", "-b", "main")

    def git(self, *args: str, day: str = "2026-01-01") -> None:
        when = f"{day}T12:00:00+00:00"
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
               "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
               "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        subprocess.run(["git", *args], cwd=self.root, env=env, check=True, capture_output=True)

    def entry(self, entry_id: str, *, path: str | None = None, body: str = "Text.\n",
              **fields: str) -> str:
        meta = {"id": entry_id, "title": f"Title of {entry_id}", "type": "faq",
                "status": "published", "owner": "team-a", "category": "billing/payments",
                **fields}
        front = "".join(f"{key}: {value}\n" for key, value in meta.items() if value is not None)
        rel = path or f"knowledge/{entry_id}.md"
        file = self.root / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
        return rel

    def commit(self, day: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", f"on {day}", day=day)


def run(capsys, kb_root: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ended:
        main(["--root", str(kb_root), "health", "--as-of", AS_OF, *args])
    captured = capsys.readouterr()
    return ended.value.code, captured.out, captured.err


def findings(capsys, kb_root: Path, *args: str) -> set[tuple]:
    """(rule, entry or path, message) of every finding, via the JSON format."""
    code, out, err = run(capsys, kb_root, "--format", "json", "--fail-on", "never", *args)
    assert code == 0, err
    return {(d["rule"], d["entry"] or d["path"], d["message"])
            for d in json.loads(out)["diagnostics"]}


def rules_of(capsys, kb_root: Path, entry_id: str, *args: str) -> dict[str, str]:
    return {rule: message for rule, who, message in findings(capsys, kb_root, *args)
            if who == entry_id}


@pytest.fixture
def kb(tmp_path: Path) -> KB:
    return KB(tmp_path / "kb")


# -- review due dates (CONTRACT 3.3) ---------------------------------------------------------
def test_stale_and_fresh_by_git_date(kb, capsys):
    kb.entry("old")                     # committed 2026-01-01 → due 2026-04-11
    kb.commit("2026-01-01")
    kb.entry("fresh")                   # committed 2026-03-01 → due 2026-06-09: expiring
    kb.entry("fresher")
    kb.commit("2026-03-01")
    kb.entry("fresher", body="Edited.\n")
    kb.commit("2026-05-01")             # the last content change → due 2026-08-09: fine
    assert rules_of(capsys, kb.root, "old") == {
        "stale": "review was due 2026-04-11 (51 days overdue); owner: team-a"}
    assert rules_of(capsys, kb.root, "fresh") == {
        "expiring": "review due 2026-06-09 (in 8 days); owner: team-a"}
    assert rules_of(capsys, kb.root, "fresher") == {}


def test_last_reviewed_later_than_git_wins_and_git_later_than_last_reviewed_wins(kb, capsys):
    kb.entry("reviewed", last_reviewed="2026-05-01")
    kb.entry("edited", last_reviewed="2025-01-01")
    kb.commit("2026-05-15")
    kb.entry("reviewed-old", last_reviewed="2025-12-01")
    kb.commit("2026-01-01")
    assert rules_of(capsys, kb.root, "reviewed") == {}
    assert rules_of(capsys, kb.root, "edited") == {}
    assert rules_of(capsys, kb.root, "reviewed-old") == {
        "stale": "review was due 2026-04-11 (51 days overdue); owner: team-a"}


def test_review_by_wins_over_intervals(kb, capsys):
    kb.entry("pinned", review_by="2026-05-31", last_reviewed="2026-05-30")
    kb.entry("later", review_by="2027-01-01", last_reviewed="2020-01-01")
    kb.commit("2026-05-30")
    assert rules_of(capsys, kb.root, "pinned") == {
        "stale": "review was due 2026-05-31 (1 day overdue); owner: team-a"}
    assert rules_of(capsys, kb.root, "later") == {}


def test_type_interval_then_entry_interval(kb, capsys):
    kb.entry("policy", type="policy", last_reviewed="2026-04-01")            # 30d → 05-01
    kb.entry("own", type="policy", review_interval="1y", last_reviewed="2026-04-01")
    kb.commit("2026-01-01")
    assert rules_of(capsys, kb.root, "policy") == {
        "stale": "review was due 2026-05-01 (31 days overdue); owner: team-a"}
    assert rules_of(capsys, kb.root, "own") == {}


@pytest.mark.parametrize(("reviewed", "expected"), [
    ("2026-02-20", ("stale", "review was due 2026-05-31 (1 day overdue); owner: team-a")),
    ("2026-02-21", ("expiring", "review due 2026-06-01 (today); owner: team-a")),
    ("2026-03-03", ("expiring", "review due 2026-06-11 (in 10 days); owner: team-a")),
    ("2026-03-04", None),
])
def test_expiring_window_boundaries(kb, capsys, reviewed, expected):
    kb.entry("e", last_reviewed=reviewed)
    found = rules_of(capsys, kb.root, "e")
    assert found == (dict([expected]) if expected else {})


def test_only_published_entries_age_and_an_undated_one_is_stale(tmp_path, capsys):
    kb = KB(tmp_path / "kb", git=False)
    kb.entry("never")
    kb.entry("draft", status="draft", valid_to="2026-01-01")
    assert rules_of(capsys, kb.root, "never") == {
        "stale": "never reviewed: no last_reviewed date and no committed change; owner: team-a"}
    assert rules_of(capsys, kb.root, "draft") == {}


def test_expired_is_an_error_and_exits_1(kb, capsys):
    kb.entry("promo", valid_to="2026-05-30", last_reviewed="2026-05-30")
    kb.entry("ends-today", valid_to=AS_OF, last_reviewed="2026-05-30")
    kb.commit("2026-05-30")
    code, out, _ = run(capsys, kb.root, "--format", "json")
    assert code == 1
    [expired] = [d for d in json.loads(out)["diagnostics"] if d["entry"]]
    assert expired == {
        "rule": "expired", "severity": "error", "path": "knowledge/promo.md", "line": 8,
        "entry": "promo", "code": "KB103",
        "message": "valid_to 2026-05-30 has passed (2 days ago): archive or extend it; "
                   "owner: team-a"}


# -- git history ----------------------------------------------------------------------------
def test_pure_rename_keeps_the_old_date_and_rename_with_edit_is_new(kb, capsys):
    body = "A paragraph that stays the same.\n" * 10
    kb.entry("moved", body=body)
    kb.entry("rewritten", body=body)
    kb.commit("2026-01-01")
    kb.git("mv", "knowledge/moved.md", "knowledge/moved-here.md")
    kb.git("mv", "knowledge/rewritten.md", "knowledge/rewritten-here.md")
    kb.entry("rewritten", path="knowledge/rewritten-here.md", body=body + "One new line.\n")
    kb.commit("2026-05-01")
    assert rules_of(capsys, kb.root, "moved") == {
        "stale": "review was due 2026-04-11 (51 days overdue); owner: team-a"}
    assert rules_of(capsys, kb.root, "rewritten") == {}


def test_uncommitted_edit_does_not_count(kb, capsys):
    kb.entry("e")
    kb.commit("2026-01-01")
    kb.entry("e", body="Edited but not committed.\n")
    assert set(rules_of(capsys, kb.root, "e")) == {"stale"}


def test_kb_in_a_subfolder_of_the_repository(tmp_path, capsys):
    repo = KB(tmp_path / "repo")
    kb = KB(repo.root / "docs" / "kb", git=False)
    kb.entry("e")
    repo.commit("2026-05-01")
    assert rules_of(capsys, kb.root, "e") == {}


def test_shallow_clone_ignores_git_dates_with_one_note(kb, tmp_path, capsys):
    kb.entry("e")
    kb.commit("2026-01-01")
    kb.commit("2026-05-01")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{kb.root}", str(clone)],
                   check=True, capture_output=True)
    code, out, _ = run(capsys, clone, "--format", "json")
    assert code == 0
    diagnostics = json.loads(out)["diagnostics"]
    notes = [d for d in diagnostics if d["rule"] == "git-dates"]
    assert len(notes) == 1 and notes[0]["path"] is None and notes[0]["severity"] == "info"
    assert "shallow" in notes[0]["message"]
    stale = [d["message"] for d in diagnostics if d["entry"] == "e"]
    assert stale == [("never reviewed: no last_reviewed date and no committed change; "
                      "owner: team-a")]


def test_not_a_git_repository_gives_one_note(tmp_path, capsys):
    kb = KB(tmp_path / "kb", git=False)
    kb.entry("e", last_reviewed="2026-05-01")
    notes = [f for f in findings(capsys, kb.root) if f[0] == "git-dates"]
    assert len(notes) == 1 and "not in a git repository" in notes[0][2]


# -- reachability, ownership, translations -------------------------------------------------
def test_orphan_unless_categorized_or_linked_from_a_published_entry(kb, capsys):
    kb.entry("lonely", category=None)
    kb.entry("linked", category=None)
    kb.entry("related-to", category=None)
    kb.entry("draft-linked", category=None)
    kb.entry("hub", related="[related-to]", body="See [it](kb:linked) and [me](kb:hub).\n")
    kb.entry("draft", status="draft", body="See [it](kb:draft-linked).\n")
    kb.entry("self-linked", category=None, body="See [me](kb:self-linked).\n")
    kb.commit("2026-05-01")
    orphans = {who for rule, who, _ in findings(capsys, kb.root) if rule == "orphan"}
    assert orphans == {"lonely", "draft-linked", "self-linked"}


def test_translation_outdated_when_the_source_was_verified_later(kb, capsys):
    kb.entry("src", last_reviewed="2026-05-20")
    kb.entry("src-zh", locale="zh-CN", translation_of="src", last_reviewed="2026-05-01")
    kb.entry("ok", last_reviewed="2026-05-01")
    kb.entry("ok-zh", locale="zh-CN", translation_of="ok", last_reviewed="2026-05-01")
    kb.commit("2026-01-01")
    assert rules_of(capsys, kb.root, "src-zh") == {"translation-outdated": (
        "source 'src' was verified on 2026-05-20, after this translation (2026-05-01); "
        "owner: team-a")}
    assert rules_of(capsys, kb.root, "ok-zh") == {}


def test_owner_unused_empty_category_and_unknown_owner(kb, capsys):
    kb.entry("e", owner="team-b", last_reviewed="2026-05-01")
    kb.entry("ghost", owner="ghost-team", last_reviewed="2026-05-01")
    kb.commit("2026-05-01")
    code, out, _ = run(capsys, kb.root, "--format", "json")
    assert code == 1  # unknown-owner keeps its validate severity: error
    config_findings = [(d["rule"], d["line"], d["message"]) for d in json.loads(out)["diagnostics"]
                       if d["path"] == "kbctl.yaml"]
    assert config_findings == [
        ("owner-unused", 5, "owner 'team-a' owns no entry"),
        ("owner-unused", 7, "owner 'idle-team' owns no entry"),
        ("empty-category", 14, "category 'empty' has no published entry"),
    ]
    assert rules_of(capsys, kb.root, "ghost") == {
        "unknown-owner": "owner 'ghost-team' is not in kbctl.yaml owners"}


# -- options and formats ---------------------------------------------------------------------
def test_owner_filter_and_unknown_owner_name(kb, capsys):
    kb.entry("a-entry", owner="team-a")
    kb.entry("b-entry", owner="team-b")
    kb.commit("2026-01-01")
    assert {who for _, who, _ in findings(capsys, kb.root, "--owner", "team-b")} == {"b-entry"}
    both = {who for _, who, _ in findings(capsys, kb.root, "--owner", "team-a",
                                          "--owner", "team-b")}
    assert both == {"a-entry", "b-entry"}
    code, out, err = run(capsys, kb.root, "--owner", "nobody")
    assert code == 2 and "--owner 'nobody': no such owner" in err and out == ""


@pytest.mark.parametrize(("fail_on", "code"), [
    ("error", 0), ("warning", 1), ("info", 1), ("never", 0)])
def test_fail_on(kb, capsys, fail_on, code):
    kb.entry("stale-one")
    kb.commit("2026-01-01")
    assert run(capsys, kb.root, "--fail-on", fail_on, "--format", "github")[0] == code


def test_fail_on_info_counts_an_expiring_entry(kb, capsys):
    kb.entry("soon", last_reviewed="2026-02-25")  # no commits: dates rest on last_reviewed
    assert run(capsys, kb.root, "--fail-on", "warning", "--owner", "team-a")[0] == 0
    assert run(capsys, kb.root, "--fail-on", "info", "--owner", "team-a")[0] == 1


def test_a_bad_date_is_a_usage_error(kb, capsys):
    code, out, err = run(capsys, kb.root, "--as-of", "2026-02-30")
    assert code == 2 and out == ""
    assert err == "kbctl: error: --as-of '2026-02-30': expected a real date as YYYY-MM-DD\n"


def test_a_bad_choice_is_a_usage_error(kb, capsys):
    code, _, err = run(capsys, kb.root, "--fail-on", "sometimes")
    assert code == 2 and "internal error" not in err and "Traceback" not in err


def test_json_shape(kb, capsys):
    kb.entry("e")
    kb.commit("2026-01-01")
    code, out, _ = run(capsys, kb.root, "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["version"] == 1
    assert data["summary"]["entries"] == 1 and data["summary"]["errors"] == 0
    assert data["summary"]["warnings"] == 2 and data["summary"]["infos"] == 2
    for diag in data["diagnostics"]:
        assert {"rule", "severity", "path", "line", "entry", "message"} <= set(diag)


def test_path_arguments_limit_findings(kb, capsys, monkeypatch):
    kb.entry("in-a", path="knowledge/a/in-a.md")
    kb.entry("in-b", path="knowledge/b/in-b.md")
    kb.commit("2026-01-01")
    monkeypatch.chdir(kb.root)
    assert {who for _, who, _ in findings(capsys, kb.root, "knowledge/a")} == {"in-a"}


def test_validate_errors_do_not_stop_health(kb, capsys):
    kb.entry("fine", last_reviewed="2026-05-01")
    (kb.root / "knowledge" / "broken.md").write_text("no front matter\n", encoding="utf-8")
    kb.entry("typo", nonsense="1")
    kb.commit("2026-05-01")
    assert {who for _, who, _ in findings(capsys, kb.root)} == {"kbctl.yaml"}


def _report_kb(kb: KB) -> None:
    kb.entry("a-late", last_reviewed="2026-01-01")      # due 04-11
    kb.entry("a-later", last_reviewed="2026-02-01")     # due 05-12
    kb.entry("a-never", owner="team-a")                 # never reviewed: first
    kb.entry("b-expired", owner="team-b", valid_to="2026-05-01", last_reviewed="2026-05-01")


def test_text_report_is_grouped_by_owner_oldest_due_first(kb, capsys):
    _report_kb(kb)
    code, out, _ = run(capsys, kb.root)
    assert code == 1
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert lines[0] == f"Knowledge health of Test KB, as of {AS_OF}"
    assert lines[1] == "team-a — Team A (@example/a)   3 stale"
    assert [line.split()[2] for line in lines[2:8:2]] == ["a-never", "a-late", "a-later"]
    assert lines[3] == ("never reviewed: no last_reviewed date and no committed change; "
                        "owner: team-a")
    assert lines[8] == "team-b — Team B   1 expired"
    assert lines[11] == "(knowledge base)   1 empty-category · 1 owner-unused"
    assert lines[-2] == "✖ 4 entries: 1 error, 4 warnings, 1 note"


def test_markdown_report_for_a_tracking_issue(kb, capsys):
    _report_kb(kb)
    code, out, _ = run(capsys, kb.root, "--format", "markdown")
    assert code == 1
    assert out.startswith(f"## Knowledge health: Test KB, as of {AS_OF}\n\n"
                          "**4** entries · **3** stale · **1** empty-category · **1** expired · "
                          "**1** owner-unused\n")
    assert "### team-a — Team A (@example/a)\n\n3 stale\n" in out
    assert "| entry | path | rule | due date | days overdue | finding |" in out
    assert ("| `a-late` Title of a-late | `knowledge/a-late.md:8` | 🟠 `stale` | 2026-04-11 | "
            "51 | review was due 2026-04-11 (51 days overdue); owner: team-a |") in out
    assert "| 🟠 `stale` |  | never reviewed |" in out
    assert ("| `b-expired` Title of b-expired | `knowledge/b-expired.md:8` | 🔴 `expired` | "
            "2026-05-01 | 31 |") in out
    assert out.index("### team-a") < out.index("### team-b") < out.index("### (knowledge base)")
