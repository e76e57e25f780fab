"""`kbctl new`, `kbctl init` and `kbctl owners`: what they write, and what they refuse."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import BASE_CONFIG, IN_CI, entry_text, init_repo, run_cli, write_kb

from kbctl.authoring.new import NewRequest, derive_id, resolve
from kbctl.authoring.templating import yaml_scalar
from kbctl.config import load_config
from kbctl.errors import UsageError
from kbctl.load import load_kb


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_kb(tmp_path / "kb", {
        "billing/pay.md": entry_text(id="pay", title="如何缴费？", category="billing/payments"),
    })


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


# -- new ---------------------------------------------------------------------------------------

def test_new_writes_a_valid_draft(kb: Path) -> None:
    result = run_cli("new", "pay-by-card", "--title", "可以用信用卡缴费吗？", "--category",
                     "billing/payments", "--as-of", "2026-11-22", cwd=kb)
    assert result.code == 0, result.stderr
    path = kb / "knowledge/billing/pay-by-card.md"  # beside the category's other entries
    assert "knowledge/billing/pay-by-card.md" in result.stdout
    meta = front_matter(path)
    assert meta["id"] == "pay-by-card" and meta["status"] == "draft" and meta["type"] == "faq"
    assert meta["owner"] == "billing-team"  # the owner of the category's entries
    assert str(meta["last_reviewed"]) == "2026-11-22"
    body = path.read_text(encoding="utf-8")
    assert "## 简要回答" in body and "## 详细说明" in body
    check = run_cli("validate", "--format", "json", cwd=kb)
    assert check.code == 0 and check.json()["summary"]["warnings"] == 0, check.stdout


def test_new_english_titles_give_ids_and_english_headings(kb: Path) -> None:
    for entry_type, title, heading in [("case", "A customer asked twice", "## The call"),
                                       ("troubleshooting", "Why is my Internet slow?", "## Symptoms"),
                                       ("howto", "Set up auto-pay", "## Steps")]:
        result = run_cli("new", "--title", title, "--type", entry_type, "--locale", "en-US",
                         "--owner", "network-team", cwd=kb)
        assert result.code == 0, result.stderr
    path = kb / "knowledge/why-is-my-internet-slow.md"
    assert "## Symptoms" in path.read_text(encoding="utf-8")
    assert front_matter(path)["locale"] == "en-US"
    assert front_matter(kb / "knowledge/a-customer-asked-twice.md")["visibility"] == "internal"
    assert "## Steps" in (kb / "knowledge/set-up-auto-pay.md").read_text(encoding="utf-8")
    assert run_cli("validate", cwd=kb).code == 0


def test_new_never_overwrites(kb: Path) -> None:
    before = (kb / "knowledge/billing/pay.md").read_bytes()
    taken_id = run_cli("new", "pay", "--title", "另一个", cwd=kb)
    assert taken_id.code == 2 and "already used by knowledge/billing/pay.md" in taken_id.stderr
    (kb / "knowledge/other.md").write_text("not an entry yet", encoding="utf-8")
    taken_file = run_cli("new", "x1", "--title", "标题二", "--path", "knowledge/other.md",
                         "--owner", "billing-team", cwd=kb)
    assert taken_file.code == 2 and "never overwrites" in taken_file.stderr
    assert (kb / "knowledge/billing/pay.md").read_bytes() == before
    assert (kb / "knowledge/other.md").read_text(encoding="utf-8") == "not an entry yet"


@pytest.mark.parametrize("args, message", [
    (["--category", "billing/nope"], "--category 'billing/nope' is not one of: billing, billing/payments, network"),
    (["--owner", "nobody"], "--owner 'nobody' is not one of: billing-team, network-team"),
])
def test_new_rejects_bad_choices(kb: Path, args, message) -> None:
    result = run_cli("new", "x1", "--title", "标题", *args, cwd=kb)
    assert result.code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((kb / "knowledge").glob("**/x1.md"))


@pytest.mark.parametrize("changes, message", [
    ({"type": "essay", "owner": "billing-team"}, "--type 'essay' is not one of: faq, howto"),
    ({"locale": "fr-FR", "owner": "billing-team"}, "--locale 'fr-FR' is not one of: zh-CN, en-US"),
    ({"visibility": "secret", "owner": "billing-team"}, "--visibility 'secret' is not one of: public"),
    ({"entry_id": "Bad_Id", "owner": "billing-team"}, "id 'Bad_Id': use lower-case letters"),
    ({}, "--owner is required (one of: billing-team, network-team)"),
])
def test_new_checks_every_choice(kb: Path, changes, message) -> None:
    config = load_config(kb)
    request = NewRequest(**{"title": "标题", "entry_id": "x1", **changes})
    with pytest.raises(UsageError) as error:
        resolve(kb, config, load_kb(kb, config), request)
    assert message in str(error.value)


def test_new_without_id_needs_an_english_title(kb: Path) -> None:
    result = run_cli("new", "--title", "如何缴费？", "--owner", "billing-team", cwd=kb)
    assert result.code == 2 and "give one" in result.stderr


def test_derive_id() -> None:
    assert derive_id("How do I pay my bill online?") == "how-do-i-pay-my-bill-online"
    assert derive_id("Café opening hours (2026)") == "cafe-opening-hours-2026"
    long = derive_id(" ".join(["roaming"] * 20))
    assert len(long) <= 60 and not long.endswith("-")
    with pytest.raises(UsageError):
        derive_id("如何设置 eSIM")


def test_titles_that_yaml_would_misread_are_quoted() -> None:
    assert yaml_scalar("如何缴费？") == "如何缴费？"
    for text in ("Yes: no", "on", "123", "#1 tip", "[draft] title", "It's 'quoted'"):
        assert yaml.safe_load(f"k: {yaml_scalar(text)}") == {"k": text}


# -- init --------------------------------------------------------------------------------------

def test_init_creates_a_kb_that_validates_and_builds(tmp_path: Path) -> None:
    target = tmp_path / "new-kb"
    target.mkdir()  # an existing empty folder is fine
    result = run_cli("init", str(target), "--as-of", "2026-11-22", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "Next steps" in result.stdout
    for rel in ("kbctl.yaml", "knowledge/README.md", ".gitignore", ".pre-commit-config.yaml",
                ".github/workflows/kbctl.yml"):
        assert (target / rel).is_file(), rel
    workflow = yaml.safe_load((target / ".github/workflows/kbctl.yml").read_text(encoding="utf-8"))
    steps = str(workflow["jobs"])
    assert "kbctl validate --format github" in steps and "kbctl build" in steps
    hooks = yaml.safe_load((target / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert {h["language"] for r in hooks["repos"] for h in r["hooks"]} == {"system"}
    assert "dist/" in (target / ".gitignore").read_text(encoding="utf-8")
    check = run_cli("validate", "--format", "json", "--as-of", "2026-11-22", cwd=target)
    summary = check.json()["summary"]
    assert check.code == 0 and (summary["entries"], summary["errors"], summary["warnings"]) == (1, 0, 0)
    build = run_cli("build", "--as-of", "2026-11-22", cwd=target)
    assert build.code == 0, build.stdout + build.stderr
    assert (target / "dist/help-center/manifest.json").is_file()
    assert any((target / "dist/faq-bot").iterdir())
    assert (target / "dist/assistant/chunks.zh-CN.jsonl").is_file()  # the sample RAG channel
    assert any((target / "dist/assistant/bedrock").glob("*.md.metadata.json"))
    assert (target / "dist/help-center/llms.txt").is_file()


def test_init_ci_files_pass_their_linters(tmp_path: Path) -> None:
    tools = {name: shutil.which(name) for name in ("actionlint", "pre-commit")}
    if not all(tools.values()):
        if IN_CI:
            pytest.fail(f"missing in CI: {tools}")
        pytest.skip(f"not installed: {[name for name, found in tools.items() if not found]}")
    target = tmp_path / "kb"
    assert run_cli("init", str(target)).code == 0
    init_repo(target)  # actionlint looks for the repository's .github/workflows
    for command in ([tools["actionlint"], "-no-color", "-shellcheck=", "-pyflakes="],
                    [tools["pre-commit"], "validate-config", ".pre-commit-config.yaml"]):
        proc = subprocess.run(command, cwd=target, capture_output=True, text=True, timeout=60,
                              check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_init_refuses_an_existing_kb_and_existing_files(tmp_path: Path) -> None:
    existing = write_kb(tmp_path / "kb", {})
    before = (existing / "kbctl.yaml").read_text(encoding="utf-8")
    result = run_cli("init", str(existing), cwd=tmp_path)
    assert result.code == 2 and "already a knowledge base" in result.stderr
    assert (existing / "kbctl.yaml").read_text(encoding="utf-8") == before
    other = tmp_path / "other"
    (other / "knowledge").mkdir(parents=True)
    (other / "knowledge/README.md").write_text("mine", encoding="utf-8")
    result = run_cli("init", str(other), cwd=tmp_path)
    assert result.code == 2 and "would overwrite knowledge/README.md" in result.stderr
    assert sorted(p.name for p in other.rglob("*")) == ["README.md", "knowledge"]


# -- owners ------------------------------------------------------------------------------------

OWNERS_CONFIG = BASE_CONFIG.replace(
    '  network-team: {name: 网络组}\n',
    '  network-team: {name: 网络组, github: "@example/network"}\n  docs-team: {name: 文档组}\n',
)


@pytest.fixture
def owned(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    kb = write_kb(repo / "help", {
        "billing/pay.md": entry_text(id="pay", owner="billing-team"),
        "billing/refund.md": entry_text(id="refund", owner="billing-team", status="draft"),
        "network/slow.md": entry_text(id="slow", owner="network-team"),
        "network/outage.md": entry_text(id="outage", owner="billing-team"),
        "network/deep/dns.md": entry_text(id="dns", owner="network-team"),
        "misc/style guide.md": entry_text(id="style", owner="docs-team"),
        "misc/faq.md": entry_text(id="faq", owner="billing-team"),
    }, config=OWNERS_CONFIG)
    init_repo(repo)  # the KB is in a sub-folder of the repository
    return kb


EXPECTED_CODEOWNERS = """\
# Generated by kbctl from the owners in kbctl.yaml and each entry's `owner`.
# Do not edit by hand: run `kbctl owners --codeowners` (CI checks it with --check).
# kbctl.yaml is shared by every topic, so any owner team may review it.

/help/kbctl.yaml @example/billing @example/network
/help/knowledge/billing/ @example/billing
/help/knowledge/misc/faq.md @example/billing
# /help/knowledge/misc/style\\ guide.md (docs-team has no github handle in kbctl.yaml)
/help/knowledge/network/deep/ @example/network
/help/knowledge/network/outage.md @example/billing
/help/knowledge/network/slow.md @example/network
"""


def test_owners_table(owned: Path) -> None:
    result = run_cli("owners", cwd=owned)
    assert result.code == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows["billing-team"][-1] == "3/4"
    assert rows["network-team"][-2:] == ["@example/network", "2/2"]
    assert rows["docs-team"][-2:] == ["-", "1/1"]


def test_codeowners_content_and_check(owned: Path) -> None:
    path = owned.parent / ".github/CODEOWNERS"
    assert run_cli("owners", "--check", cwd=owned).code == 1  # missing
    result = run_cli("owners", "--codeowners", cwd=owned)
    assert result.code == 0, result.stderr
    assert path.read_text(encoding="utf-8") == EXPECTED_CODEOWNERS
    assert run_cli("owners", "--codeowners", "--check", cwd=owned).code == 0
    (owned / "knowledge/network/slow.md").write_text(
        entry_text(id="slow", owner="billing-team"), encoding="utf-8")
    stale = run_cli("owners", "--check", cwd=owned)
    assert stale.code == 1 and "out of date" in stale.stdout
    assert path.read_text(encoding="utf-8") == EXPECTED_CODEOWNERS  # --check writes nothing


def test_codeowners_to_a_given_file(owned: Path) -> None:
    result = run_cli("owners", "--codeowners", "CODEOWNERS", cwd=owned)
    assert result.code == 0, result.stderr
    assert (owned / "CODEOWNERS").read_text(encoding="utf-8") == EXPECTED_CODEOWNERS
