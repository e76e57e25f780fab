"""The build pipeline: refusal, atomic output, manifest, up-to-date detection, and caches.

A cached build (entries and renderings from `.kbctl/`, pages rendered in parallel workers)
must be byte-identical to a cold one: that is the cache's whole contract.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO, entry_text, run_cli, tree, write_kb

sys.path.insert(0, str(REPO / "bench"))
from generate import generate

AS_OF = "2026-11-22"



def build(kb: Path, out: Path, *extra: str, env: dict | None = None):
    return run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out), *extra, env=env)


def forget_cache(kb: Path) -> None:
    """Delete kbctl's caches (not the trash a detached `rm` may be deleting at this moment)."""
    for path in (kb / ".kbctl").glob("*.json"):
        path.unlink()


@pytest.fixture(scope="module")
def big_kb(tmp_path_factory) -> Path:
    """Large enough (≥ 300 entries) for loading and site pages to run in forked workers."""
    kb = tmp_path_factory.mktemp("big") / "kb"
    generate(kb, 360, commits=3)
    return kb


def test_cached_and_parallel_builds_are_byte_identical_to_a_cold_one(big_kb, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(big_kb, kb)
    assert build(kb, tmp_path / "first").code == 0  # fills .kbctl/ (entries, renderings)
    edited = next((kb / "knowledge").rglob("kb-00008.md"))
    edited.write_text(edited.read_text(encoding="utf-8").replace("## 常见问题", "## 常见问题与解答"),
                      encoding="utf-8")
    cached = build(kb, tmp_path / "cached")
    assert cached.code == 0, cached.stderr
    assert (kb / ".kbctl" / "renderings-help-center.json").exists()
    forget_cache(kb)
    cold = build(kb, tmp_path / "cold", env={"KBCTL_WORKERS": "1"})
    assert cold.code == 0, cold.stderr
    assert tree(tmp_path / "cached") == tree(tmp_path / "cold")
    page = (tmp_path / "cached" / "help-center" / "zh-CN" / "kb-00008" / "index.html").read_text("utf-8")
    assert "常见问题与解答" in page


def test_unchanged_input_is_up_to_date_and_a_touched_output_is_rebuilt(big_kb, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(big_kb, kb)
    out = tmp_path / "out"
    assert build(kb, out, "--channel", "help-center").code == 0
    before = tree(out)
    again = build(kb, out, "--channel", "help-center")
    assert again.code == 0 and "up to date" in again.stderr
    assert tree(out) == before
    (out / "help-center" / "index.html").write_text("tampered", encoding="utf-8")
    repaired = build(kb, out, "--channel", "help-center")
    assert "up to date" not in repaired.stderr
    assert tree(out) == before


def test_deleting_the_cache_never_changes_the_output(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a", title="问题一", body="答案 [b](kb:b)。\n"),
                                    "b.md": entry_text(id="b", title="问题二")})
    assert build(kb, tmp_path / "one").code == 0
    forget_cache(kb)
    assert build(kb, tmp_path / "two").code == 0
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_a_refused_build_leaves_the_previous_output_exactly_as_it_was(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a", title="问题一")})
    out = tmp_path / "out"
    assert build(kb, out).code == 0
    before = tree(out)
    (kb / "knowledge" / "a.md").write_text(entry_text(id="a", title="问题一", body="[x](kb:missing)\n"),
                                           encoding="utf-8")
    refused = build(kb, out)
    assert refused.code == 1
    assert "broken-link" in refused.stdout and "Traceback" not in refused.stderr
    assert tree(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted(before_names(before))


def before_names(files: dict[str, str]) -> set[str]:
    return {name.split("/")[0] for name in files}


def test_manifest_lists_every_file_with_its_digest(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a", title="问题一")})
    out = tmp_path / "out"
    assert build(kb, out).code == 0
    for channel in ("help-center", "agent-portal", "faq-bot", "hotline"):
        folder = out / channel
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["channel"] == channel and manifest["as_of"] == AS_OF
        files = tree(folder)
        del files["manifest.json"]
        assert manifest["files"] == files
    assert json.loads((out / "help-center" / "manifest.json").read_text())["entries"] == {
        "a": ["zh-CN/a/index.html", "zh-CN/a/index.md"]}


def test_unknown_channel_is_a_usage_error(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a")})
    result = build(kb, tmp_path / "out", "--channel", "nope")
    assert result.code == 2 and "nope" in result.stderr
    assert not (tmp_path / "out").exists()


def test_no_staging_or_old_folders_are_left_in_the_output(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a", title="问题一")})
    out = tmp_path / "out"
    for title in ("问题一", "问题二"):
        (kb / "knowledge" / "a.md").write_text(entry_text(id="a", title=title), encoding="utf-8")
        assert build(kb, out, env={"KBCTL_SYNC_DELETE": "1"}).code == 0
    assert sorted(p.name for p in out.iterdir()) == ["agent-portal", "faq-bot", "help-center", "hotline"]


def test_pages_reused_in_place_match_a_cold_build(big_kb, tmp_path):
    """Rebuilding into the same output reuses unchanged pages (same inode: hard-linked), and
    re-renders every page that shows what changed: the result is a cold build's, byte for byte."""
    kb = tmp_path / "kb"
    shutil.copytree(big_kb, kb)
    out = tmp_path / "out"
    assert build(kb, out, "--channel", "help-center").code == 0
    site = out / "help-center" / "zh-CN"
    target = next((kb / "knowledge").rglob("kb-00016.md"))
    text = target.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title: "))
    showing = [p.parent.name for p in site.glob("kb-*/index.html")
               if title[7:] in p.read_text("utf-8") and p.parent.name != "kb-00016"]
    assert showing, "some other page must show kb-00016's title (related, backlinks)"
    untouched = site / "kb-00100" / "index.html"
    inode = untouched.stat().st_ino
    target.write_text(text.replace(title, "title: 全新的标题用于测试"), encoding="utf-8")
    assert build(kb, out, "--channel", "help-center").code == 0
    assert untouched.stat().st_ino == inode  # reused, not rewritten
    for name in showing:
        assert "全新的标题用于测试" in (site / name / "index.html").read_text("utf-8")
    forget_cache(kb)
    assert build(kb, tmp_path / "cold", "--channel", "help-center", env={"KBCTL_WORKERS": "1"}).code == 0
    assert tree(out / "help-center") == tree(tmp_path / "cold" / "help-center")


@pytest.mark.parametrize("sync", ["", "1"])
def test_caches_written_in_the_background_arrive_whole(tmp_path, monkeypatch, sync):
    import time

    from kbctl import cache

    monkeypatch.setenv("KBCTL_SYNC_CACHE", sync)
    items = {f"k{i}": "x" * 100 for i in range(1000)}
    cache.save_later(tmp_path, "later", "key", items)
    cache.write_pending()
    deadline = time.monotonic() + 20
    while not (tmp_path / ".kbctl" / "later.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.load(tmp_path, "later", "key") == items
