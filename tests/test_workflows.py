"""The GitHub workflows lint clean, and the pre-commit hook works in a knowledge-base repository.

actionlint and pre-commit are test tools: where one is missing the test skips, except in CI
(CI=true), where a missing tool is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import GIT_ENV, IN_CI, REPO, commit_all, entry_text, init_repo, write_kb

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
# What `pip install .` needs of the kbctl repository (pyproject's wheel and force-include).
PACKAGE_PATHS = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "kbctl", "schemas",
                 "templates", "site", "LICENSE", "CHANGELOG.md")


def require_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed, and CI must run this test")
        pytest.skip(f"{name} is not installed")
    return found


# -- workflows ------------------------------------------------------------------------------------
def test_there_are_workflows():
    names = {path.name for path in WORKFLOWS}
    assert {"pr.yml", "publish.yml"} <= names


def test_actionlint_passes_on_every_workflow():
    actionlint = require_tool("actionlint")
    # shellcheck and pyflakes are used only where installed: leave them out, so the result does
    # not depend on the machine.
    command = [actionlint, "-no-color", "-shellcheck=", "-pyflakes=", *map(str, WORKFLOWS)]
    done = subprocess.run(command, check=False, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def load(name: str) -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_no_workflow_splices_untrusted_text_into_a_script():
    """Branch names, titles and bodies reach scripts through env, never through ${{ }}."""
    untrusted = ("github.base_ref", "github.head_ref", "github.event.pull_request",
                 "github.event.issue", "github.event.comment", "github.event.head_commit")
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for step in steps(workflow):
            script = step.get("run", "")
            assert not any(name in script for name in untrusted), f"{path.name}: {script}"


def test_pr_workflow_reviews_against_the_base_branch_with_full_history():
    workflow = load("pr.yml")
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    all_steps = steps(workflow)
    checkout = next(s for s in all_steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    review = next(s for s in all_steps if "kbctl review" in s.get("run", ""))
    assert review["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert '--base "origin/${BASE_REF}"' in review["run"] and "$GITHUB_STEP_SUMMARY" in review["run"]
    assert 'exit "$status"' in review["run"]  # the summary is written, then the step fails
    runs = " ".join(s.get("run", "") for s in all_steps)
    assert "kbctl validate --format github" in runs and "kbctl build --out dist" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in all_steps)


def test_publish_workflow_deploys_the_help_center_to_pages():
    workflow = load("publish.yml")
    assert workflow[True]["push"]["branches"] == ["main"] and "workflow_dispatch" in workflow[True]
    assert workflow["concurrency"]["group"]
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    uses = {s.get("uses", "").split("@")[0]: s for s in steps(workflow)}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "dist/help-center"
    assert "actions/deploy-pages" in uses and "actions/configure-pages" in uses
    per_channel = uses["actions/upload-artifact"]
    assert per_channel["with"]["path"] == "dist/${{ matrix.channel }}"


# -- pre-commit -----------------------------------------------------------------------------------
def test_hook_definition_validates_the_whole_kb():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "kbctl-validate")
    assert hook["entry"] == "kbctl validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is False  # cross-entry checks need every file
    assert hook["always_run"] is True  # deleting an entry breaks links in unchanged files


def test_fmt_hook_exists_only_where_kbctl_fmt_does():
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert hooks["kbctl-fmt-check"]["entry"] == "kbctl fmt --check"
    assert hooks["kbctl-fmt-check"]["pass_filenames"] is True  # formatting is per file


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True,
                   capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """This checkout's package and hook file, committed to a repository of their own, so
    pre-commit sees exactly the working tree (try-repo would leave out untracked files)."""
    require_tool("pre-commit")
    repo = tmp_path_factory.mktemp("kbctl-hook-repo")
    for name in PACKAGE_PATHS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.is_file():
            shutil.copy2(source, repo / name)
    init_repo(repo)
    commit_all(repo, "kbctl for the hook test", "2026-11-01")
    return repo


def _sample_kb(root: Path, body: str) -> Path:
    write_kb(root, {
        "billing/pay.md": entry_text(body, id="pay-bill-online", title="如何缴费？", category="billing"),
        "billing/cycle.md": entry_text("账单每月生成。\n", id="billing-cycle", title="账单周期？",
                                       category="billing"),
    })
    init_repo(root)
    commit_all(root, "kb", "2026-11-01")
    return root


def _try_repo(hook_repo: Path, hook: str, kb: Path, home: Path) -> subprocess.CompletedProcess:
    # try-repo installs kbctl from `hook_repo` into a fresh virtualenv each time (~10-60 s).
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        ["pre-commit", "try-repo", str(hook_repo), hook, "--all-files", "--color", "never"],
        check=False, cwd=kb, env=env, capture_output=True, text=True, timeout=900,
    )


def test_validate_hook_passes_a_clean_kb_and_fails_a_broken_link(hook_repo, tmp_path):
    home = tmp_path / "pre-commit-home"
    clean = _sample_kb(tmp_path / "clean", "详见 [账单周期](kb:billing-cycle)。\n")
    done = _try_repo(hook_repo, "kbctl-validate", clean, home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kbctl validate" in done.stdout and "Passed" in done.stdout

    broken = _sample_kb(tmp_path / "broken", "详见 [账单周期](kb:no-such-entry)。\n")
    done = _try_repo(hook_repo, "kbctl-validate", broken, home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout
    assert "broken-link" in done.stdout and "no-such-entry" in done.stdout


def test_fmt_hook_fails_on_front_matter_out_of_order(hook_repo, tmp_path):
    kb = _sample_kb(tmp_path / "kb", "正文。\n")
    (kb / "knowledge" / "billing" / "messy.md").write_text(
        "---\ntitle: 乱序\nid: messy\ntype: faq\nstatus: draft\nowner: billing-team\n---\n正文。\n",
        encoding="utf-8")
    commit_all(kb, "messy", "2026-11-02")
    done = _try_repo(hook_repo, "kbctl-fmt-check", kb, tmp_path / "pre-commit-home")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "knowledge/billing/messy.md" in done.stdout
    assert "knowledge/billing/pay.md" not in done.stdout  # the tidy entries pass
