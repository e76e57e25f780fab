"""Shared test helpers: run the real CLI, write small knowledge bases, make git repositories."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI") == "true"

BASE_CONFIG = """\
name: Test Help Center
default_locale: zh-CN
locales: [zh-CN, en-US]
base_url: https://help.example.com
owners:
  billing-team: {name: 账务组, github: "@example/billing"}
  network-team: {name: 网络组}
taxonomy:
  - id: billing
    title: {zh-CN: 账单与缴费, en-US: Billing}
    dtmf: "1"
    children:
      - id: payments
        title: {zh-CN: 缴费, en-US: Payments}
  - id: network
    title: {zh-CN: 网络, en-US: Network}
review:
  default_interval: 180d
  intervals: {policy: 90d}
  warn_within: 14d
channels:
  help-center:  {kind: site, audience: public}
  agent-portal: {kind: site, audience: internal, base_url: https://agents.example.com}
  faq-bot:      {kind: faq,  audience: public, site: help-center}
  hotline:      {kind: ivr,  audience: public, select: opt-in, max_prompt_seconds: 30, operator: "tel:10000"}
"""


def entry_text(body: str = "正文。\n", **fields) -> str:
    """An entry file: front matter from `fields` (in the order given), then `body`."""
    meta = {"id": "e1", "title": "标题", "type": "faq", "status": "published", "owner": "billing-team"}
    meta.update(fields)
    lines = ["---"]
    for key, value in meta.items():
        if value is None:
            continue
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False) if not isinstance(value, str) or key in ('title', 'summary') else value}")
    lines.append("---")
    return "\n".join(lines) + "\n" + textwrap.dedent(body)


def write_kb(root: Path, entries: dict[str, str], config: str = BASE_CONFIG) -> Path:
    """A KB at `root`: kbctl.yaml plus `entries` (path under knowledge/ -> file text)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "kbctl.yaml").write_text(config, encoding="utf-8")
    for rel, text in entries.items():
        path = root / "knowledge" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> Result:
    """Run kbctl through its real entry point, in a separate process."""
    proc = subprocess.run(
        [sys.executable, "-m", "kbctl", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull,
}


def git(root: Path, *args: str, date: str | None = None) -> str:
    """Run git in `root` with a fixed identity and, if given, a fixed author/commit date."""
    env = {**os.environ, **GIT_ENV}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{date}T12:00:00+00:00"
    proc = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True)
    return proc.stdout


def commit_all(root: Path, message: str, date: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message, date=date)
    return git(root, "rev-parse", "HEAD").strip()


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the sha256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def require_shared(name: str) -> Path:
    """A file of ../shared/: skip where it is absent, except in CI, where that is a failure."""
    path = SHARED / name
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing in CI")
        pytest.skip(f"{path} is not beside the repository")
    return path


def assert_golden(built: Path, golden: Path, skip: tuple[str, ...] = ()) -> None:
    """`built` must equal the committed tree `golden` byte for byte, file list included.

    `KBCTL_UPDATE_GOLDEN=1 python -m pytest …` rewrites the golden tree from the build instead;
    review that as a diff before committing it. `skip`: files left out (verbatim copies of
    sources, checked elsewhere).
    """
    import difflib
    import shutil

    def files(folder: Path) -> dict[str, bytes]:
        return {rel: p.read_bytes() for p in sorted(folder.rglob("*"))
                if p.is_file() and (rel := p.relative_to(folder).as_posix()) not in skip}

    if os.environ.get("KBCTL_UPDATE_GOLDEN") == "1":
        shutil.rmtree(golden, ignore_errors=True)
        for rel, blob in files(built).items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_bytes(blob)
    got, want = files(built), files(golden)
    assert sorted(got) == sorted(want), f"the list of files differs from {golden} (KBCTL_UPDATE_GOLDEN=1 regenerates)"
    for rel, blob in got.items():
        if blob != want[rel]:
            diff = difflib.unified_diff(want[rel].decode("utf-8", "replace").splitlines(),
                                        blob.decode("utf-8", "replace").splitlines(),
                                        f"golden/{rel}", f"built/{rel}", lineterm="", n=2)
            pytest.fail(f"{rel} differs from the golden file:\n" + "\n".join(list(diff)[:60]))


def sample_kb_repo(root: Path) -> Path:
    """The repository's sample knowledge base copied to `root`, committed (so pages show git
    dates)."""
    shutil.copytree(REPO / "knowledge", root / "knowledge")
    shutil.copy(REPO / "kbctl.yaml", root / "kbctl.yaml")
    shutil.copytree(REPO / "assets", root / "assets")  # the sample's theme files
    init_repo(root)
    commit_all(root, "sample", "2026-11-01")
    return root


def built_fixture(tmp_path_factory, name: str, as_of: str = "2026-11-22") -> Path:
    """A copy of tests/fixtures/NAME built into a fresh output folder (returned)."""
    kb = tmp_path_factory.mktemp("kb") / name
    shutil.copytree(REPO / "tests" / "fixtures" / name, kb, ignore=shutil.ignore_patterns(".kbctl"))
    folder = tmp_path_factory.mktemp("out")
    result = run_cli("--root", str(kb), "build", "--as-of", as_of, "--out", str(folder))
    assert result.code == 0, result.stdout + result.stderr
    return folder


@dataclass
class ToolAnswer:
    """One MCP tool call's answer, as the SDK's client received it."""

    is_error: bool
    structured: dict | None
    text: str  # the text content, joined


def mcp_session(root: Path, channel: str, calls, *, as_of: str = "2026-11-22", between=None) -> list[ToolAnswer]:
    """Start `kbctl mcp` over stdio with the SDK's own client, make `calls` ((tool, args), in
    order; `between(i)` runs before call i if given), and stop it."""
    import anyio
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable, cwd=str(root),
        args=["-m", "kbctl", "--root", str(root), "mcp", "--channel", channel, "--as-of", as_of],
        env={**os.environ, "NO_COLOR": "1"})
    answers: list[ToolAnswer] = []

    async def session() -> None:
        with anyio.fail_after(90):
            await calls_over(params)

    async def calls_over(params) -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            for number, (tool, arguments) in enumerate(calls):
                if between is not None:
                    await anyio.to_thread.run_sync(between, number)
                result = await client.call_tool(tool, arguments)
                text = "".join(getattr(part, "text", "") for part in result.content)
                answers.append(ToolAnswer(result.is_error, result.structured_content, text))

    anyio.run(session)
    return answers
