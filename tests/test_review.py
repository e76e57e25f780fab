"""`kbctl review` through the real CLI, on small KBs in real git repositories with fixed dates."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, commit_all, entry_text, git, init_repo, write_kb
from conftest import run_cli as _run_cli

AS_OF = "2026-11-22"


def run_cli(*args: str, cwd: Path, env: dict | None = None):
    """The real CLI, importing this checkout of kbctl whether or not it is installed."""
    return _run_cli(*args, cwd=cwd, env={"PYTHONPATH": str(REPO), **(env or {})})


SITES = ["agent-portal", "faq-bot", "help-center"]  # what a public entry without `channels` reaches

PAY_BODY = """\
## 缴费方式

登录 App 选择缴费充值即可。

::: internal
坐席提示：客户多次失败时检查支付限额。
:::

逾期规则见 [滞纳金](kb:late-fee)。
"""


def base_entries() -> dict[str, str]:
    return {
        "billing/pay.md": entry_text(
            PAY_BODY, id="pay-bill-online", title="如何在线缴纳话费？", category="billing/payments",
            summary="在 App 缴费。", last_reviewed="2026-10-01"),
        "billing/cycle.md": entry_text(
            "账单每月初生成，详见 [在线缴费](kb:pay-bill-online)。\n", id="billing-cycle",
            title="账单周期是什么？", category="billing", related=["late-fee"],
            last_reviewed="2026-10-01"),
        "billing/late-fee.md": entry_text(
            "逾期每日收取万分之五。\n", id="late-fee", title="滞纳金怎么算？", category="billing",
            last_reviewed="2026-10-01"),
        "billing/agent-notes.md": entry_text(
            "内部处理流程：先核实身份再退费。\n", id="agent-notes", title="退费内部流程",
            category="billing", visibility="internal", last_reviewed="2026-10-01"),
        "network/outage.md": entry_text(
            "请重启光猫后再试。\n", id="report-outage", title="宽带断网怎么办？",
            category="network", last_reviewed="2026-10-01"),
    }


class Repo:
    """A KB in a git repository (optionally in a sub-folder), with a committed base."""

    def __init__(self, top: Path, sub: str = ""):
        self.top = top
        self.kb = top / sub if sub else top
        top.mkdir(parents=True, exist_ok=True)
        init_repo(top)
        write_kb(self.kb, base_entries())
        self.base = commit_all(top, "base", "2026-11-01")

    def write(self, rel: str, text: str) -> None:
        path = self.kb / "knowledge" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.kb / "knowledge" / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), encoding="utf-8")

    def remove(self, rel: str) -> None:
        (self.kb / "knowledge" / rel).unlink()

    def commit(self, message: str = "change", date: str = "2026-11-10") -> str:
        return commit_all(self.top, message, date)

    def review(self, *args: str, fmt: str = "json"):
        return run_cli("review", "--base", self.base, "--as-of", AS_OF, "--format", fmt, *args,
                       cwd=self.kb)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "kb")


def changes_by_id(result) -> dict[str, dict]:
    return {c["id"]: c for c in result.json()["changes"]}


def only_change(result) -> dict:
    changes = result.json()["changes"]
    assert len(changes) == 1, changes
    return changes[0]


def errors(result) -> list[dict]:
    return [d for d in result.json()["diagnostics"] if d["severity"] == "error"]


# -- statuses and channels ---------------------------------------------------------------------
def test_json_shape_and_full_shas(repo: Repo):
    repo.edit("network/outage.md", "请重启光猫后再试。", "请重启光猫和路由器后再试。")
    head = repo.commit()
    result = repo.review()
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["base"] == repo.base and data["head"] == head
    assert re.fullmatch(r"[0-9a-f]{40}", data["base"])
    assert data["config_changed"] is False
    assert data["changes"] == [{
        "id": "report-outage", "path": "knowledge/network/outage.md", "status": "modified",
        "channels": SITES, "widens": False,
        "channel_effects": {name: "changed" for name in SITES}, "title": "宽带断网怎么办？",
    }]
    assert data["diagnostics"] == []


def test_change_inside_internal_block_only_alters_agent_portal(repo: Repo):
    repo.edit("billing/pay.md", "检查支付限额", "检查支付限额和风控状态")
    repo.commit()
    change = only_change(repo.review())
    assert change["status"] == "modified"
    assert change["channels"] == ["agent-portal"]
    assert change["widens"] is False


def test_added_entry(repo: Repo):
    repo.write("network/slow.md", entry_text(
        "重启路由器。\n", id="slow-wifi", title="WiFi 慢怎么办？", category="network",
        channels=["help-center", "hotline"], summary="重启路由器即可。"))
    repo.commit()
    change = only_change(repo.review())
    assert change["status"] == "added"
    assert change["path"] == "knowledge/network/slow.md"
    assert change["channels"] == ["help-center", "hotline"]
    assert change["channel_effects"] == {"help-center": "added", "hotline": "added"}
    assert change["widens"] is False


def test_deleted_entry_still_referenced_is_an_error_at_the_referring_lines(repo: Repo):
    repo.remove("billing/late-fee.md")
    repo.commit()
    result = repo.review()
    assert result.code == 1, result.stdout
    change = only_change(result)
    assert (change["id"], change["status"], change["channels"]) == ("late-fee", "deleted", SITES)
    assert change["channel_effects"] == {name: "removed" for name in SITES}
    found = {(d["rule"], d["path"], d["line"]) for d in errors(result)}
    cycle = (repo.kb / "knowledge/billing/cycle.md").read_text(encoding="utf-8").split("\n")
    pay = (repo.kb / "knowledge/billing/pay.md").read_text(encoding="utf-8").split("\n")
    assert found == {
        ("broken-reference", "knowledge/billing/cycle.md", _line_of(cycle, "related:")),
        ("broken-link", "knowledge/billing/pay.md", _line_of(pay, "kb:late-fee")),
    }
    assert all("late-fee" in d["message"] for d in errors(result))
    github = repo.review(fmt="github")
    assert github.code == 1
    line = _line_of(pay, "kb:late-fee")
    assert f"::error file=knowledge/billing/pay.md,line={line},title=broken-link::" in github.stdout
    markdown = repo.review(fmt="markdown")
    assert f"knowledge/billing/pay.md:{line}" in markdown.stdout


def _line_of(lines: list[str], needle: str) -> int:
    return next(i for i, text in enumerate(lines, 1) if needle in text)


def test_renamed_with_small_edit(repo: Repo):
    (repo.kb / "knowledge/billing/payments").mkdir()
    git(repo.top, "mv", "knowledge/billing/pay.md", "knowledge/billing/payments/pay-online.md")
    repo.edit("billing/payments/pay-online.md", "选择缴费充值即可。", "选择“缴费充值”即可。")
    repo.commit()
    change = only_change(repo.review())
    assert change["status"] == "renamed"
    assert change["path"] == "knowledge/billing/payments/pay-online.md"
    assert change["old_path"] == "knowledge/billing/pay.md"
    assert change["id"] == "pay-bill-online" and "old_id" not in change
    assert change["channels"] == SITES
    assert change["widens"] is False


def test_pure_move_changes_no_channel(repo: Repo):
    git(repo.top, "mv", "knowledge/network/outage.md", "knowledge/outage.md")
    repo.commit()
    result = repo.review()
    change = only_change(result)
    assert (change["status"], change["old_path"], change["channels"]) == (
        "renamed", "knowledge/network/outage.md", [])
    assert result.code == 0


def test_move_that_git_cannot_pair_is_still_one_entry(repo: Repo):
    repo.remove("network/outage.md")
    repo.write("outage-new.md", entry_text(
        "完全重写的内容：先检查指示灯，再致电客服，我们会派工程师上门处理。\n",
        id="report-outage", title="宽带断网怎么办？", category="network"))
    repo.commit()
    change = only_change(repo.review())
    assert (change["status"], change["path"], change["old_path"]) == (
        "renamed", "knowledge/outage-new.md", "knowledge/network/outage.md")


def test_id_changed_without_alias_breaks_references(repo: Repo):
    repo.edit("billing/late-fee.md", "id: late-fee", "id: overdue-fee")
    repo.commit()
    result = repo.review()
    assert result.code == 1
    change = only_change(result)
    assert (change["status"], change["id"], change["old_id"]) == ("renamed", "overdue-fee", "late-fee")
    assert change["channels"] == SITES  # the URL of every page changes with the id
    by_path = {d["path"]: d for d in errors(result)}
    assert set(by_path) == {"knowledge/billing/cycle.md", "knowledge/billing/pay.md"}
    assert all("'late-fee'" in d["message"] for d in by_path.values())


def test_id_changed_with_alias_kept_is_clean(repo: Repo):
    repo.edit("billing/late-fee.md", "id: late-fee", "id: overdue-fee\naliases: [late-fee]")
    repo.commit()
    result = repo.review()
    assert result.code == 0, result.stdout
    change = only_change(result)
    assert (change["status"], change["old_id"]) == ("renamed", "late-fee")
    assert errors(result) == []


# -- widening ------------------------------------------------------------------------------------
def test_visibility_lowered_widens(repo: Repo):
    repo.edit("billing/agent-notes.md", "visibility: internal", "visibility: public")
    repo.commit()
    change = only_change(repo.review())
    assert change["widens"] is True
    assert change["channels"] == ["faq-bot", "help-center"]
    assert change["channel_effects"] == {"faq-bot": "added", "help-center": "added"}
    assert any("internal to public" in reason for reason in change["widening"])


def test_internal_block_made_plain_widens(repo: Repo):
    repo.edit("billing/pay.md", "::: internal\n坐席提示：客户多次失败时检查支付限额。\n:::\n",
              "坐席提示：客户多次失败时检查支付限额。\n")
    repo.commit()
    result = repo.review()
    change = only_change(result)
    assert change["widens"] is True
    assert change["channels"] == SITES
    github = repo.review(fmt="github")
    assert "::warning file=knowledge/billing/pay.md,title=widens-audience::" in github.stdout


def test_block_level_lowered_even_when_reworded_widens(repo: Repo):
    repo.edit("billing/pay.md", "::: internal\n坐席提示：客户多次失败时检查支付限额。",
              "::: customer\n温馨提示：多次失败请检查支付限额。")
    repo.commit()
    change = only_change(repo.review())
    assert change["widens"] is True
    assert change["channels"] == ["agent-portal"]  # no channel has the customer audience
    assert "a '::: internal' block became '::: customer'" in change["widening"]


def test_narrowing_changes_do_not_widen(repo: Repo):
    repo.edit("network/outage.md", "category: network", "category: network\nvisibility: internal")
    repo.edit("billing/pay.md", "登录 App 选择缴费充值即可。",
              "::: internal\n登录 App 选择缴费充值即可。\n:::")
    repo.commit()
    changes = changes_by_id(repo.review())
    assert changes["report-outage"]["widens"] is False
    assert changes["report-outage"]["channel_effects"] == {"faq-bot": "removed", "help-center": "removed"}
    assert changes["pay-bill-online"]["widens"] is False
    assert changes["pay-bill-online"]["channels"] == SITES


def test_newly_carried_by_a_lower_audience_widens(repo: Repo):
    repo.edit("network/outage.md", "category: network", "category: network\nchannels: [agent-portal]")
    base = repo.commit("agent-portal only", "2026-11-05")
    repo.edit("network/outage.md", "channels: [agent-portal]", "channels: [agent-portal, help-center]")
    repo.commit()
    result = run_cli("review", "--base", base, "--as-of", AS_OF, "--format", "json", cwd=repo.kb)
    change = only_change(result)
    assert change["channel_effects"] == {"help-center": "added"}
    assert change["widens"] is True
    assert change["widening"] == ["newly shown on help-center (audience public)"]


def test_publishing_a_draft_for_its_own_audience_does_not_widen(repo: Repo):
    repo.edit("network/outage.md", "status: published", "status: draft")
    base = repo.commit("draft", "2026-11-05")
    repo.edit("network/outage.md", "status: draft", "status: published")
    repo.commit()
    result = run_cli("review", "--base", base, "--as-of", AS_OF, "--format", "json", cwd=repo.kb)
    change = only_change(result)
    assert change["channel_effects"] == {name: "added" for name in SITES}
    assert change["widens"] is False


# -- kbctl.yaml ----------------------------------------------------------------------------------
def test_config_change_reports_every_entry_whose_output_changes(repo: Repo):
    repo.write("billing/vip.md", entry_text("贵宾专线 24 小时服务。\n", id="vip-line", title="贵宾专线",
                                            category="billing", visibility="customer"))
    base = repo.commit("vip", "2026-11-05")
    config = (repo.kb / "kbctl.yaml").read_text(encoding="utf-8")
    (repo.kb / "kbctl.yaml").write_text(
        config.replace("help-center:  {kind: site, audience: public}",
                       "help-center:  {kind: site, audience: customer}"), encoding="utf-8")
    repo.commit()
    result = run_cli("review", "--base", base, "--as-of", AS_OF, "--format", "json", cwd=repo.kb)
    assert result.code == 0, result.stdout
    data = result.json()
    assert data["config_changed"] is True
    change = only_change(result)
    assert (change["id"], change["status"], change["via_config"]) == ("vip-line", "modified", True)
    assert change["channels"] == ["help-center"]
    assert change["widens"] is True


def test_new_channel_in_config(repo: Repo):
    config = (repo.kb / "kbctl.yaml").read_text(encoding="utf-8")
    (repo.kb / "kbctl.yaml").write_text(
        config + "  partner-portal: {kind: site, audience: partner}\n", encoding="utf-8")
    repo.commit()
    data = repo.review().json()
    assert data["config_changed"] is True
    assert {c["id"]: c["channels"] for c in data["changes"]} == {
        entry_id: ["partner-portal"]
        for entry_id in ("billing-cycle", "late-fee", "pay-bill-online", "report-outage")}
    assert not any(c["widens"] for c in data["changes"])


# -- a whole pull request ------------------------------------------------------------------------
def test_pull_request_with_modify_add_and_referenced_delete(repo: Repo):
    repo.edit("network/outage.md", "请重启光猫后再试。", "请重启光猫后再试，仍不行请报修。")
    repo.write("network/slow.md", entry_text("重启路由器。\n", id="slow-wifi", title="WiFi 慢怎么办？",
                                             category="network"))
    repo.remove("billing/late-fee.md")
    repo.commit()
    result = repo.review()
    assert result.code == 1
    data = result.json()
    assert [(c["id"], c["path"], c["status"], c["channels"]) for c in data["changes"]] == [
        ("late-fee", "knowledge/billing/late-fee.md", "deleted", SITES),
        ("report-outage", "knowledge/network/outage.md", "modified", SITES),
        ("slow-wifi", "knowledge/network/slow.md", "added", SITES),
    ]
    assert {(d["rule"], d["path"]) for d in errors(result)} == {
        ("broken-reference", "knowledge/billing/cycle.md"),
        ("broken-link", "knowledge/billing/pay.md"),
    }
    assert data["summary"]["errors"] == 2
    markdown = repo.review(fmt="markdown")
    assert markdown.code == 1
    for change in data["changes"]:
        assert change["id"] in markdown.stdout and change["path"] in markdown.stdout
    assert "| `late-fee` | `knowledge/billing/late-fee.md` | deleted | ✖ | ✖ | ✖ |  |" in markdown.stdout
    assert "Widened audience" not in markdown.stdout
    text = repo.review(fmt="text")
    assert text.code == 1 and "slow-wifi" in text.stdout and "broken-link" in text.stdout


def test_markdown_puts_widening_first(repo: Repo):
    repo.edit("billing/agent-notes.md", "visibility: internal", "visibility: public")
    repo.write("network/slow.md", entry_text("重启路由器。\n", id="slow-wifi", title="WiFi 慢",
                                             category="network"))
    repo.commit()
    out = repo.review(fmt="markdown").stdout
    assert out.index("⚠ Widened audience") < out.index("### Changes") < out.index("### Problems")
    assert "`agent-notes`" in out.split("### Changes")[0]


# -- what is and is not reviewed -----------------------------------------------------------------
def test_changes_are_counted_from_the_merge_base_like_a_pull_request(repo: Repo):
    git(repo.top, "checkout", "-q", "-b", "feature")
    repo.edit("network/outage.md", "请重启光猫后再试。", "请重启光猫和路由器后再试。")
    repo.commit("feature work", "2026-11-10")
    git(repo.top, "checkout", "-q", "main")
    repo.edit("billing/agent-notes.md", "先核实身份再退费。", "先核实身份，再退费。")
    main = repo.commit("meanwhile on main", "2026-11-11")
    result = run_cli("review", "--base", "main", "--head", "feature", "--format", "json",
                     "--as-of", AS_OF, cwd=repo.kb)
    data = result.json()
    assert (data["base"], data["merge_base"]) == (main, repo.base)
    assert [c["id"] for c in data["changes"]] == ["report-outage"]


def test_uncommitted_changes_are_not_reviewed(repo: Repo):
    repo.edit("network/outage.md", "请重启光猫后再试。", "未提交的修改。")
    result = run_cli("review", "--base", "HEAD", "--format", "json", "--as-of", AS_OF, cwd=repo.kb)
    assert result.code == 0
    assert result.json()["changes"] == []


def test_health_findings_are_information_only(repo: Repo):
    repo.edit("network/outage.md", "category: network", "category: network\nvalid_to: 2026-11-15")
    repo.commit()
    result = repo.review()
    assert result.code == 0
    health = [d for d in result.json()["diagnostics"] if d["source"] == "health"]
    assert [(d["rule"], d["severity"]) for d in health] == [("expired", "error")]
    assert result.json()["summary"]["errors"] == 0


def test_kb_in_a_subfolder_of_the_repository(tmp_path: Path):
    repo = Repo(tmp_path / "repo", sub="docs/kb")
    (repo.top / "README.md").write_text("outside the KB\n", encoding="utf-8")
    repo.edit("billing/pay.md", "检查支付限额", "检查支付限额和风控状态")
    repo.commit()
    result = repo.review()
    assert result.code == 0, result.stderr
    change = only_change(result)
    assert (change["path"], change["channels"]) == ("knowledge/billing/pay.md", ["agent-portal"])
    from_top = run_cli("--root", "docs/kb", "review", "--base", repo.base, "--as-of", AS_OF,
                       "--format", "json", cwd=repo.top)
    assert from_top.json()["changes"] == result.json()["changes"]


def test_kb_created_by_the_change(tmp_path: Path):
    top = tmp_path / "repo"
    top.mkdir()
    init_repo(top)
    (top / "README.md").write_text("empty\n", encoding="utf-8")
    base = commit_all(top, "empty", "2026-11-01")
    write_kb(top, base_entries())
    commit_all(top, "kb", "2026-11-02")
    result = run_cli("review", "--base", base, "--as-of", AS_OF, "--format", "json", cwd=top)
    data = result.json()
    assert data["config_changed"] is True
    assert {c["status"] for c in data["changes"]} == {"added"}
    assert len(data["changes"]) == 5


def test_entry_broken_at_head_drops_off_its_channels_and_fails(repo: Repo):
    repo.edit("network/outage.md", "title: \"宽带断网怎么办？\"", "title: [unclosed")
    repo.commit()
    result = repo.review()
    assert result.code == 1
    change = only_change(result)
    assert (change["status"], change["channels"]) == ("modified", SITES)
    assert set(change["channel_effects"].values()) == {"removed"}
    assert [d["path"] for d in errors(result)] == ["knowledge/network/outage.md"]


def test_files_outside_knowledge_that_entries_link_to_are_there(repo: Repo):
    config = repo.kb / "kbctl.yaml"  # a folder beside knowledge/ is published once declared
    config.write_text(config.read_text(encoding="utf-8") + "assets: [assets]\n", encoding="utf-8")
    (repo.kb / "assets").mkdir()
    (repo.kb / "assets" / "qr.png").write_bytes(b"\x89PNG")
    repo.edit("network/outage.md", "请重启光猫后再试。", "请重启光猫后再试。\n\n![二维码](../../assets/qr.png)")
    repo.commit()
    result = repo.review()
    assert result.code == 0, result.stdout
    assert errors(result) == []


def test_symlink_leading_out_of_the_kb_is_unreadable(repo: Repo, tmp_path: Path):
    outside = tmp_path / "secret.md"
    outside.write_text("---\nid: secret\n---\nsecret\n", encoding="utf-8")
    (repo.kb / "knowledge" / "evil.md").symlink_to(outside)
    repo.commit()
    result = repo.review()
    assert result.code == 1
    change = only_change(result)
    assert (change["path"], change["status"], change["channels"]) == ("knowledge/evil.md", "added", [])
    assert [(d["rule"], d["path"]) for d in errors(result)] == [("unreadable", "knowledge/evil.md")]


def test_the_parse_cache_is_used_but_never_written(repo: Repo):
    repo.edit("billing/pay.md", "检查支付限额", "检查支付限额和风控状态")
    repo.commit()
    fresh = repo.review().json()
    assert run_cli("validate", cwd=repo.kb).code == 0
    cache = repo.kb / ".kbctl" / "entries.json"
    before = cache.read_bytes()
    assert repo.review().json() == fresh
    assert cache.read_bytes() == before


def test_unusual_file_names(repo: Repo):
    repo.write("网络/断网 排查.md", entry_text("重启光猫。\n", id="outage-steps", title="断网排查",
                                              category="network"))
    repo.write("images/diagram.png", "not an entry")
    repo.commit()
    change = only_change(repo.review())
    assert (change["path"], change["status"]) == ("knowledge/网络/断网 排查.md", "added")


# -- usage errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("ref", ["no-such-branch", "origin/main", "-x", "HEAD~5"])
def test_bad_base_is_one_line_exit_2(repo: Repo, ref: str):
    result = run_cli("review", "--base", ref, cwd=repo.kb)
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and ref in result.stderr


def test_bad_head_is_exit_2(repo: Repo):
    result = run_cli("review", "--base", repo.base, "--head", "nope", cwd=repo.kb)
    assert result.code == 2 and "--head 'nope'" in result.stderr


def test_not_a_git_repository_is_exit_2(tmp_path: Path):
    write_kb(tmp_path / "kb", base_entries())
    result = run_cli("review", "--base", "main", cwd=tmp_path / "kb")
    assert result.code == 2
    assert "not in a git repository" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_shallow_clone_without_the_base_says_so(repo: Repo, tmp_path: Path):
    repo.edit("network/outage.md", "请重启光猫后再试。", "改。")
    repo.commit()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.top}", str(clone))
    result = run_cli("review", "--base", repo.base, cwd=clone)
    assert result.code == 2
    assert "shallow" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_git_missing_is_exit_2(repo: Repo, tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = shutil.which("python3") or shutil.which("python")
    (bin_dir / "python3").symlink_to(python)
    result = run_cli("review", "--base", "HEAD", cwd=repo.kb, env={"PATH": str(bin_dir)})
    assert result.code == 2 and "git" in result.stderr
