"""Rebuilding after an answer-text edit (kbctl/patch.py) gives a cold build's bytes.

The fast path updates only the files that show the edited answers, from seeds the last full
build left; every test compares the result with a cold build of the same content into an
empty folder with no cache, and checks which path the build took (its report says
"answer text only" when it patched).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, commit_all, init_repo, run_cli, tree

from kbctl.channels.site_search import SearchIndex, prepare
from kbctl.output import Patch, manifest_text

AS_OF = "2026-11-22"
PATCHED = "updated in place"



def build(kb: Path, out: Path, *extra: str, env: dict | None = None):
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out), *extra, env=env)
    assert result.code == 0, result.stdout + result.stderr
    return result


def assert_same_as_cold(kb: Path, out: Path, tmp_path: Path, *extra: str) -> None:
    cold_kb = tmp_path / "cold-kb"
    for earlier in (cold_kb, tmp_path / "cold"):  # a test may compare more than once
        shutil.rmtree(earlier, ignore_errors=True)
    shutil.copytree(kb, cold_kb, ignore=shutil.ignore_patterns(".kbctl"))
    build(cold_kb, tmp_path / "cold", *extra, env={"KBCTL_WORKERS": "1"})
    built, cold = tree(out), tree(tmp_path / "cold")
    assert built.keys() == cold.keys()
    assert [path for path in built if built[path] != cold[path]] == []


@pytest.fixture
def kb(tmp_path) -> Path:
    """The sample knowledge base in a git repository (so pages show git dates)."""
    root = tmp_path / "kb"
    shutil.copytree(REPO / "knowledge", root / "knowledge")
    shutil.copy(REPO / "kbctl.yaml", root / "kbctl.yaml")
    init_repo(root)
    commit_all(root, "sample", "2026-11-01")
    return root


def edit(kb: Path, name: str, old: str, new: str) -> None:
    path = kb / "knowledge" / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(kb: Path, name: str, text: str) -> None:
    path = kb / "knowledge" / name
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_an_answer_edit_updates_its_pages_faq_and_search_like_a_cold_build(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    append(kb, "plans/winter-promo-2026.md", "\n补充说明：活动最终解释权归星海通信所有（xylophonic），咨询请拨打10000。\n")
    result = build(kb, out)
    assert PATCHED in result.stderr
    assert "ivr: up to date" not in result.stderr  # stale (new content) but nothing to change
    page = (out / "help-center" / "zh-CN" / "winter-promo-2026" / "index.html").read_text("utf-8")
    assert "最终解释权" in page
    faq = json.loads((out / "faq-bot" / "faq.zh-CN.json").read_text("utf-8"))
    record = next(r for r in faq["entries"] if r["id"] == "winter-promo-2026")
    assert "最终解释权" in record["answer"]
    assert '"xylophonic"' in (out / "help-center" / "assets" / "search-index.zh-CN.js").read_text("utf-8")
    assert_same_as_cold(kb, out, tmp_path)
    assert build(kb, out).stderr.count("up to date") == 4


def test_internal_text_edited_reaches_the_portal_only(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    text = (kb / "knowledge" / "network" / "broadband-troubleshooting.md").read_text("utf-8")
    internal = text.split("::: internal\n", 1)[1].split("\n", 1)[0]
    edit(kb, "network/broadband-troubleshooting.md", internal, "坐席备注：机密金丝雀CANARY-PATCH-7。")
    result = build(kb, out)
    assert PATCHED in result.stderr
    assert "CANARY-PATCH-7" in (out / "agent-portal" / "zh-CN" / "broadband-troubleshooting" / "index.html").read_text("utf-8")
    for channel in ("help-center", "faq-bot", "hotline"):
        folder = out / channel
        if folder.is_dir():
            assert not any(b"CANARY-PATCH-7" in p.read_bytes() for p in folder.rglob("*") if p.is_file()), channel
    assert_same_as_cold(kb, out, tmp_path)


PATCHED_EDITS = [
    # Listed by related, backlinks and translations, in a category and tags, spoken by the
    # hotline: the title moves it in lists sorted by title and in the voice menu.
    ("plans/change-plan.md", "title: 如何变更套餐？", "title: 套餐怎么换？"),
    ("plans/change-plan.en.md", "title: How do I change my plan?", "title: Changing your plan"),
    ("plans/change-plan.md", "summary: 登录", "summary: 请登录"),
    ("plans/change-plan.en.md", "questions: [Can I", "questions: [May I"),
    ("service/complaint-procedure.md", "title: 投诉处理流程与时限", "title: 投诉流程"),
    ("plans/winter-promo-2026.md", "title: 2026冬季焕新季活动规则", "title: 2026冬季焕新季活动细则"),
    # Tags: a tag page goes, one gains the entry, one is new (the sitemap follows).
    ("plans/change-plan.md", "tags: [套餐, 变更, 资费]", "tags: [套餐, 资费]"),
    ("plans/change-plan.md", "tags: [套餐, 变更, 资费]", "tags: [套餐, 变更, 资费, 国际漫游]"),
    ("plans/change-plan.md", "tags: [套餐, 变更, 资费]", "tags: [套餐, 变更, 资费, 携号转网优惠]"),
    # Review dates: the page's date, the FAQ record's, the sitemap's lastmod; the owner: none.
    ("plans/change-plan.md", "last_reviewed: 2026-10-18", "last_reviewed: 2026-11-20"),
    ("plans/change-plan.md", "owner: marketing-team", "owner: billing-team"),
    # Related: its own list, the backlinks of the entries it leaves and joins, the top
    # questions of their homes, its FAQ record.
    ("plans/change-plan.md", "related: [data-addons, read-your-bill]", "related: [data-addons]"),
    ("plans/change-plan.md", "related: [data-addons, read-your-bill]", "related: [read-your-bill, roaming-rates, data-addons]"),
    # Links to entries and the web: the answer's resolved links, the targets' backlinks.
    ("plans/winter-promo-2026.md", "[升级](kb:change-plan)", "[升级](kb:data-addons)"),
    ("plans/winter-promo-2026.md", "[升级](kb:change-plan)", "升级"),
    ("plans/change-plan.md", "需要验证服务密码。", "需要验证服务密码，详见[账单说明](kb:read-your-bill#账单的组成)。"),
    ("plans/change-plan.md", "需要验证服务密码。", "需要验证服务密码，见[官网](https://www.example.com/plans)。"),
]
FULL_BUILD_EDITS = [
    # A link the public channels cannot follow: cross-visibility-link warns.
    ("plans/change-plan.md", "需要验证服务密码。", "需要验证服务密码，见[核身](kb:identity-verification-script)。"),
    ("plans/change-plan.md", "category: plans/change", "category: plans"),
    ("plans/change-plan.en.md", "tags: [plans, change, pricing]", "tags: [plans, Change, pricing]"),
    # Related to an entry the public channels do not carry: cross-visibility-link warns.
    ("plans/change-plan.md", "related: [data-addons, read-your-bill]", "related: [data-addons, identity-verification-script]"),
    ("plans/winter-promo-2026.md", "## 活动时间", "## 活动的时间"),
    ("network/broadband-troubleshooting.md", "::: ivr\n", "::: ivr\n宽带故障请按1。\n"),
]


@pytest.mark.parametrize("change, patched", [(c, True) for c in PATCHED_EDITS] + [(c, False) for c in FULL_BUILD_EDITS])
def test_an_edit_is_patched_or_built_in_full_and_equals_a_cold_build(kb, tmp_path, change, patched):
    out = tmp_path / "out"
    build(kb, out)
    edit(kb, *change)
    result = build(kb, out)
    assert result.stderr.count(PATCHED) == (4 if patched else 0), result.stderr
    assert_same_as_cold(kb, out, tmp_path)


def test_a_reverted_edit_never_reuses_a_page_the_patch_replaced(kb, tmp_path):
    """Full builds hard-link unchanged pages by fingerprint; a page patched since must not
    pass for the page of the fingerprint the cache remembers."""
    out = tmp_path / "out"
    build(kb, out)
    original = (kb / "knowledge" / "plans" / "winter-promo-2026.md").read_text("utf-8")
    append(kb, "plans/winter-promo-2026.md", "\n临时补充。\n")
    assert PATCHED in build(kb, out).stderr
    (kb / "knowledge" / "plans" / "winter-promo-2026.md").write_text(original, encoding="utf-8")
    edit(kb, "plans/data-addons.md", "category: plans/addons", "category: plans")  # forces the full build
    assert PATCHED not in build(kb, out).stderr
    assert "临时补充" not in (out / "help-center" / "zh-CN" / "winter-promo-2026" / "index.html").read_text("utf-8")
    assert_same_as_cold(kb, out, tmp_path)


def test_a_channel_built_from_older_content_is_built_in_full(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    append(kb, "plans/winter-promo-2026.md", "\n第一次补充。\n")
    assert PATCHED in build(kb, out, "--channel", "help-center").stderr
    append(kb, "plans/winter-promo-2026.md", "\n第二次补充。\n")
    result = build(kb, out)  # faq-bot and agent-portal were built before the first edit
    assert "faq-bot: " + PATCHED not in result.stderr
    assert_same_as_cold(kb, out, tmp_path)


def test_a_hand_edited_output_makes_the_edit_build_in_full(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    (out / "help-center" / "404.html").write_text("tampered", encoding="utf-8")
    append(kb, "plans/winter-promo-2026.md", "\n补充。\n")
    result = build(kb, out)
    assert "help-center: " + PATCHED not in result.stderr
    assert_same_as_cold(kb, out, tmp_path)


def test_a_changed_linked_file_rebuilds(kb, tmp_path):
    """Files the answers link to are inputs too: replacing one is not 'up to date'."""
    (kb / "knowledge" / "plans" / "poster.png").write_bytes(b"\x89PNG first")
    append(kb, "plans/winter-promo-2026.md", "\n![活动海报](poster.png)\n")
    out = tmp_path / "out"
    build(kb, out)
    copied = out / "help-center" / "files" / "knowledge" / "plans" / "poster.png"
    assert copied.read_bytes() == b"\x89PNG first"
    (kb / "knowledge" / "plans" / "poster.png").write_bytes(b"\x89PNG second version")
    result = build(kb, out)
    assert "help-center: up to date" not in result.stderr
    assert copied.read_bytes() == b"\x89PNG second version"


def test_search_index_pieces_patch_to_the_index_of_the_new_text():
    docs = [(f"d{i}/index.html", f"标题{i}", None, text, ["怎么缴费"], ["话费"], category)
            for i, (text, category) in enumerate([
                ("缴纳话费的方法 pay bills online", "billing"), ("宽带故障 <script> & roaming", None),
                ("话费 套餐 plans", "billing"), ("停机 复机", "network")])]
    index = SearchIndex("zh-CN")
    for doc in docs:
        index.add(*doc)
    pieces = index.pieces()
    edits = {0: "全新的文字 unique words", 1: "", 3: "停机 复机 话费 pay", 2: "话费 套餐 plans plans"}
    for number, text in edits.items():
        old_weights = prepare(*docs[number])[0]
        docs[number] = (*docs[number][:3], text, *docs[number][4:])
        pieces.replace(number, old_weights, prepare(*docs[number]))
    fresh = SearchIndex("zh-CN")
    for doc in docs:
        fresh.add(*doc)
    assert pieces.script() == fresh.script()


def test_a_discarded_patch_leaves_the_files_as_they_were(tmp_path):
    folder = tmp_path / "channel"
    folder.mkdir()
    (folder / "a.html").write_text("old", encoding="utf-8")
    manifest = {"channel": "c", "entries": {"a": ["a.html"]}, "files": {"a.html": hashlib.sha256(b"old").hexdigest()}}
    (folder / "manifest.json").write_text(manifest_text(manifest), encoding="utf-8")
    patch = Patch()
    patch.stage(folder, (folder / "manifest.json").read_bytes(), {"a.html": b"new"})
    patch.discard()
    assert sorted(p.name for p in folder.iterdir()) == ["a.html", "manifest.json"]
    assert (folder / "a.html").read_text("utf-8") == "old"
    patch.stage(folder, (folder / "manifest.json").read_bytes(), {"a.html": b"new"})
    patch.commit()
    assert (folder / "a.html").read_text("utf-8") == "new"
    manifest["files"]["a.html"] = hashlib.sha256(b"new").hexdigest()
    assert (folder / "manifest.json").read_text("utf-8") == manifest_text(manifest)


def test_a_corrupt_seed_store_means_a_full_build_then_patches_again(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    for path in (kb / ".kbctl").glob("seeds.sqlite*"):
        path.write_bytes(b"not a database at all")
    append(kb, "plans/winter-promo-2026.md", "\n补充一。\n")
    result = build(kb, out)
    assert PATCHED not in result.stderr and "Traceback" not in result.stderr
    append(kb, "plans/winter-promo-2026.md", "\n补充二。\n")
    assert PATCHED in build(kb, out).stderr
    assert_same_as_cold(kb, out, tmp_path)


def test_several_answers_edited_at_once_patch_like_a_cold_build(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    for name in ("plans/winter-promo-2026.md", "plans/data-addons.md", "plans/change-plan.md"):
        append(kb, name, "\n更新：本条答案已按最新规则修订，变化以营业厅公告为准。\n")
    assert PATCHED in build(kb, out).stderr
    assert_same_as_cold(kb, out, tmp_path)


# -- edits of titles, summaries and questions --------------------------------------------------

IVR_BLOCK = "::: ivr\n您可以在星海通信App首页选择网络报修，城区宽带故障一般二十四小时内上门。现在报修请按零转人工服务。\n:::\n"


def test_a_retitled_entry_with_former_ids_updates_their_redirects(kb, tmp_path):
    edit(kb, "plans/change-plan.md", "related: [", "aliases: [old-change-plan]\nrelated: [")
    out = tmp_path / "out"
    build(kb, out)
    edit(kb, "plans/change-plan.md", "title: 如何变更套餐？", "title: 换套餐的办法")
    assert build(kb, out).stderr.count(PATCHED) == 4
    redirect = (out / "help-center" / "zh-CN" / "old-change-plan" / "index.html").read_text("utf-8")
    assert "换套餐的办法" in redirect
    assert_same_as_cold(kb, out, tmp_path)


def test_a_spoken_summary_edit_reaches_the_hotline_and_is_checked_again(kb, tmp_path):
    edit(kb, "network/report-outage.md", IVR_BLOCK, "")  # the hotline now speaks the summary
    out = tmp_path / "out"
    build(kb, out)
    edit(kb, "network/report-outage.md", "summary: 在星海通信App", "summary: 请在星海通信App")
    result = build(kb, out)
    assert "hotline: 1 files " + PATCHED in result.stderr
    assert "请在星海通信App" in (out / "hotline" / "zh-CN" / "entry-report-outage.vxml").read_text("utf-8")
    assert_same_as_cold(kb, out, tmp_path)

    before = tree(out)
    edit(kb, "network/report-outage.md", "summary: 请在星海通信App", "summary: 请访问 www.example.com 或在星海通信App")
    refused = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))
    assert refused.code == 1
    assert "ivr-unspeakable" in refused.stdout
    assert tree(out) == before


def test_a_title_another_entry_asks_takes_the_full_build_and_warns(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    edit(kb, "plans/data-addons.md", "title: 流量不够用了，怎么订购加油包？", "title: 如何变更套餐？")
    result = build(kb, out)
    assert PATCHED not in result.stderr
    assert "warnings" in result.stderr
    assert_same_as_cold(kb, out, tmp_path)
    # Back to its own title: the warning goes, for both entries, so again a full build.
    edit(kb, "plans/data-addons.md", "title: 如何变更套餐？", "title: 流量加油包怎么买？")
    result = build(kb, out)
    assert PATCHED not in result.stderr
    assert "warnings" not in result.stderr
    assert_same_as_cold(kb, out, tmp_path)


@pytest.mark.parametrize("change, finding", [
    (("title: 如何变更套餐？", 'title: ""'), "title: must not be empty"),
    (("owner: marketing-team", "owner: nobody-team"), "unknown-owner"),
    (("last_reviewed: 2026-10-18", "last_reviewed: 2026-02-30"), "last_reviewed"),
    (("related: [data-addons, read-your-bill]", "related: [data-addons, no-such-entry]"), "broken-reference"),
    (("related: [data-addons, read-your-bill]", "related: [data-addons, change-plan]"), "broken-reference"),
    (("需要验证服务密码。", "需要验证服务密码，见[它](kb:no-such-entry)。"), "broken-link"),
    (("需要验证服务密码。", "需要验证服务密码，见[它](kb:read-your-bill#no-such-heading)。"), "broken-link"),
])
def test_an_edit_the_checks_refuse_keeps_the_output(kb, tmp_path, change, finding):
    out = tmp_path / "out"
    build(kb, out)
    before = tree(out)
    edit(kb, "plans/change-plan.md", *change)
    refused = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))
    assert refused.code == 1, refused.stdout + refused.stderr
    assert finding in refused.stdout
    assert tree(out) == before


def test_patches_in_a_row_and_mixed_edits_stay_equal_to_a_cold_build(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    edit(kb, "plans/change-plan.md", "title: 如何变更套餐？", "title: 套餐变更指南")
    assert build(kb, out).stderr.count(PATCHED) == 4
    # A retitle and an answer edit of an entry that lists the retitled one, in one build.
    edit(kb, "plans/change-plan.md", "title: 套餐变更指南", "title: 变更套餐的三种方式")
    append(kb, "plans/data-addons.md", "\n加油包与套餐变更互不影响。\n")
    edit(kb, "plans/change-plan.en.md", "questions: [Can I", "questions: [Could I")
    assert build(kb, out).stderr.count(PATCHED) == 4
    assert_same_as_cold(kb, out, tmp_path)
    edit(kb, "plans/change-plan.md", "category: plans/change", "category: plans")  # structural
    assert PATCHED not in build(kb, out).stderr
    edit(kb, "plans/change-plan.md", "title: 变更套餐的三种方式", "title: 如何变更套餐？")
    assert build(kb, out).stderr.count(PATCHED) == 4
    assert_same_as_cold(kb, out, tmp_path)


def test_seeds_behind_the_build_state_mean_a_full_build(kb, tmp_path):
    """Seeds are written after the state (by a forked child): seeds that never arrived must
    not serve the next edit."""
    import sqlite3

    out = tmp_path / "out"
    build(kb, out)
    db = sqlite3.connect(kb / ".kbctl" / "seeds.sqlite")
    with db:
        db.execute("UPDATE seeds SET value = ? WHERE name = 'content'", (b"an older content",))
    db.close()
    edit(kb, "plans/change-plan.md", "title: 如何变更套餐？", "title: 套餐变更指南")
    assert PATCHED not in build(kb, out).stderr
    assert_same_as_cold(kb, out, tmp_path)


def test_a_patch_adding_and_removing_files_writes_the_manifest_a_build_would(tmp_path):
    folder = tmp_path / "channel"
    (folder / "tag" / "old").mkdir(parents=True)
    (folder / "tag" / "old" / "index.html").write_text("old tag", encoding="utf-8")
    (folder / "a.html").write_text("a", encoding="utf-8")
    files = {"a.html": hashlib.sha256(b"a").hexdigest(), "tag/old/index.html": hashlib.sha256(b"old tag").hexdigest()}
    manifest = {"channel": "c", "kind": "site", "audience": "public", "as_of": AS_OF,
                "entries": {"a": ["a.html"]}, "files": files}
    (folder / "manifest.json").write_text(manifest_text(manifest), encoding="utf-8")
    patch = Patch()
    patch.stage(folder, (folder / "manifest.json").read_bytes(),
                {"a.html": b"a2", "tag/\u65b0\"/index.html": b"new tag"}, removed={"tag/old/index.html"})
    patch.commit()
    manifest["files"] = {"a.html": hashlib.sha256(b"a2").hexdigest(),
                         "tag/\u65b0\"/index.html": hashlib.sha256(b"new tag").hexdigest()}
    assert (folder / "manifest.json").read_text("utf-8") == manifest_text(manifest)
    assert not (folder / "tag" / "old").exists()  # its folder went too, as a cold build has none
    assert (folder / "tag" / "\u65b0\"" / "index.html").read_bytes() == b"new tag"


def test_two_entries_trading_tags_in_one_edit_equal_a_cold_build(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    edit(kb, "plans/change-plan.md", "tags: [套餐, 变更, 资费]", "tags: [套餐, 资费, 换新标签]")
    edit(kb, "plans/data-addons.md", "tags: [流量包, 加油包, 流量]", "tags: [流量包, 加油包, 变更]")
    assert build(kb, out).stderr.count(PATCHED) == 4
    assert_same_as_cold(kb, out, tmp_path)
    edit(kb, "plans/change-plan.md", "tags: [套餐, 资费, 换新标签]", "tags: [套餐, 资费]")
    edit(kb, "plans/data-addons.md", "tags: [流量包, 加油包, 变更]", "tags: [流量包, 加油包, 换新标签]")
    assert build(kb, out).stderr.count(PATCHED) == 4
    assert_same_as_cold(kb, out, tmp_path)


def test_damaged_compiled_templates_are_compiled_again(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    compiled = list((kb / ".kbctl" / "templates").glob("*.cache"))
    assert compiled  # the build kept the templates' compiled code
    for path in compiled:
        path.write_bytes(b"\x00not jinja bytecode")
    edit(kb, "plans/change-plan.md", "title: 如何变更套餐？", "title: 套餐怎么换？")
    assert build(kb, out).stderr.count(PATCHED) == 4
    assert_same_as_cold(kb, out, tmp_path)
