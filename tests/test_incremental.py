"""Every build is one pipeline over the build environment (kbctl/env.py): after any edit, an
incremental build gives a cold build's bytes, and makes again only the files whose inputs
changed (`--explain` says which, and why).

Each test compares the output with a cold build of the same content into an empty folder
with no cache and no environment.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from conftest import Result, commit_all, git, sample_kb_repo, tree

from kbctl.cli import main
from kbctl.env import ENV_VERSION

AS_OF = "2026-11-22"
PAGE = "help-center/zh-CN/auto-pay/index.html"


def run_cli(*args: str, env: dict | None = None) -> Result:
    """kbctl's entry point, in this process: these tests build dozens of times, and a new
    interpreter for each would triple their time (tests/test_cli.py runs the real process).
    Caches are written before each build returns, so the next one sees them."""
    saved = dict(os.environ)
    os.environ.update({"KBCTL_SYNC_CACHE": "1", "NO_COLOR": "1", "COLUMNS": "200", **(env or {})})
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Result(code, out.getvalue(), err.getvalue())


def build(kb: Path, out: Path, *extra: str, env: dict | None = None):
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out), "--explain", *extra, env=env)
    assert result.code == 0, result.stdout + result.stderr
    return result


def assert_same_as_cold(kb: Path, out: Path, tmp_path: Path, *extra: str) -> None:
    cold_kb, cold_out = tmp_path / "cold-kb", tmp_path / "cold"
    for earlier in (cold_kb, cold_out):  # a test may compare more than once
        shutil.rmtree(earlier, ignore_errors=True)
    shutil.copytree(kb, cold_kb, ignore=shutil.ignore_patterns(".kbctl"))
    build(cold_kb, cold_out, *extra, env={"KBCTL_WORKERS": "1"})
    built, cold = tree(out), tree(cold_out)
    assert sorted(built) == sorted(cold)
    assert [path for path in built if built[path] != cold[path]] == []


def remade(result) -> set[str]:
    """`channel/relpath` of every file `--explain` says was made again or removed."""
    out = set()
    for line in result.stdout.splitlines():
        channel, _, rest = line.partition("] ")
        relpath = rest.split(": ", 1)[0]
        if not rest.startswith(("every file made", "up to date")):
            out.add(f"{channel.lstrip('[')}/{relpath}")
    return out


@pytest.fixture
def kb(tmp_path) -> Path:
    """The sample knowledge base in a git repository (so pages show git dates)."""
    return sample_kb_repo(tmp_path / "kb")


def edit(kb: Path, name: str, old: str, new: str) -> None:
    path = kb / "knowledge" / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


EDITS = {
    "answer": lambda kb: edit(kb, "billing/auto-pay.md", "\n---\n", "\n---\n\n补充说明：xylophonic。\n"),
    "title": lambda kb: edit(kb, "billing/auto-pay.md", "title: 如何开通自动缴费？", "title: 怎样开通自动缴费"),
    "tags": lambda kb: edit(kb, "billing/auto-pay.md", "tags: [缴费, 自动扣款, 银行卡]", "tags: [缴费, 代扣]"),
    "related": lambda kb: edit(kb, "billing/auto-pay.md", "related: [pay-bill-online, read-your-bill]",
                               "related: [change-plan]"),
    "category": lambda kb: edit(kb, "billing/auto-pay.md", "category: billing/payments", "category: plans/change"),
    "summary": lambda kb: edit(kb, "billing/auto-pay.md", "summary: 在星海通信App", "summary: 打开星海通信App"),
    "visibility": lambda kb: edit(kb, "billing/auto-pay.md", "status: published", "status: published\nvisibility: internal"),
    "added": lambda kb: (kb / "knowledge" / "billing" / "new-entry.md").write_text(
        "---\nid: new-entry\ntitle: 新的问题？\ntype: faq\nstatus: published\nowner: billing-team\n"
        "category: billing/payments\ntags: [缴费]\nsummary: 一个新的回答。\nrelated: [auto-pay]\n"
        "last_reviewed: 2026-11-01\n---\n\n新的回答，见[自动缴费](kb:auto-pay)。\n", encoding="utf-8"),
    "deleted": lambda kb: (kb / "knowledge" / "network" / "satellite-sms.md").unlink(),
    "config": lambda kb: edit(kb, "../kbctl.yaml", "账单与缴费", "账单和缴费"),
    # Edits that change what other, unchanged entries' pages show (kbctl/channels/site_reads.py):
    # a backlink gained, a backlink lost, a translation moved from one group to another.
    "link added": lambda kb: edit(kb, "billing/auto-pay.md", "\n---\n", "\n---\n\n另见[变更套餐](kb:change-plan)。\n"),
    "link removed": lambda kb: edit(kb, "network/no-mobile-data.md", "[免费换新卡](kb:replace-sim)", "免费换新卡"),
    "translation moved": lambda kb: edit(kb, "billing/auto-pay.en.md", "translation_of: auto-pay",
                                         "translation_of: read-your-bill"),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_every_edit_kind_builds_like_a_cold_build_before_and_after_its_commit(kb, tmp_path, kind):
    out = tmp_path / "out"
    build(kb, out)
    EDITS[kind](kb)
    build(kb, out)
    assert_same_as_cold(kb, out, tmp_path)
    commit_all(kb, f"edit: {kind}", "2026-11-20")
    build(kb, out)
    assert_same_as_cold(kb, out, tmp_path)


def test_an_answer_edit_makes_its_pages_faq_and_search_again_and_nothing_else(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    EDITS["answer"](kb)
    result = build(kb, out)
    assert remade(result) == {
        "help-center/zh-CN/auto-pay/index.html", "help-center/assets/search-index.zh-CN.js",
        "agent-portal/zh-CN/auto-pay/index.html", "agent-portal/assets/search-index.zh-CN.js",
        "faq-bot/faq.zh-CN.json",
        # the Markdown copies for AI assistants (CONTRACT 8): llms.txt lists titles and summaries only
        "help-center/zh-CN/auto-pay/index.md", "help-center/llms-full.txt",
        "agent-portal/zh-CN/auto-pay/index.md", "agent-portal/llms-full.txt",
        "faq-bot/faq.zh-CN.csv", "faq-bot/faq.zh-CN.tsv",
        "assistant/chunks.zh-CN.jsonl", "assistant/bedrock/auto-pay.md",  # its sidecar: the same bytes
    }
    assert "[help-center] zh-CN/auto-pay/index.html: changed: knowledge/billing/auto-pay.md" in result.stdout
    assert "[hotline] up to date" in result.stdout or "hotline: up to date" in result.stderr
    assert "xylophonic" in (out / PAGE).read_text("utf-8")


def test_a_retitled_entry_names_it_on_the_pages_that_list_it(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    EDITS["title"](kb)
    result = build(kb, out)
    lines = result.stdout.splitlines()
    # pay-bill-online lists auto-pay among its backlinks or related entries
    assert any(line.startswith("[help-center] zh-CN/") and "card of knowledge/billing/auto-pay.md" in line
               for line in lines), result.stdout
    assert "怎样开通自动缴费" in (out / PAGE).read_text("utf-8")


def test_a_commit_of_an_edit_already_built_remakes_only_what_shows_its_date(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    EDITS["answer"](kb)
    build(kb, out)
    commit_all(kb, "answer", "2026-11-20")
    result = build(kb, out)
    made = remade(result)
    assert "help-center/zh-CN/auto-pay/index.html" in made  # it shows the new git date
    assert "help-center/zh-CN/change-plan/index.html" not in made
    assert len(made) < 12, result.stdout
    assert_same_as_cold(kb, out, tmp_path)


@pytest.mark.parametrize("kind", ["answer", "added", "visibility"])
def test_the_output_an_incremental_build_leaves_is_known_to_the_next(kb, tmp_path, kind):
    """The snapshot taken after writing in place (only the files written or removed looked at
    again) is the one the next build's output check takes of every file."""
    out = tmp_path / "out"
    build(kb, out)
    EDITS[kind](kb)
    assert remade(build(kb, out))
    again = build(kb, out)
    assert "every file made" not in again.stdout
    assert remade(again) == set()


def test_no_change_is_up_to_date_and_writes_nothing(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    before = {path: path.stat().st_mtime_ns for path in out.rglob("*")}
    result = build(kb, out)
    assert remade(result) == set()
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*")} == before


def test_edits_in_a_row_and_a_revert_stay_equal_to_a_cold_build(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    original = (kb / "knowledge/billing/auto-pay.md").read_bytes()
    for kind in ("answer", "title", "tags", "category"):
        EDITS[kind](kb)
        build(kb, out)
        assert_same_as_cold(kb, out, tmp_path)
    (kb / "knowledge/billing/auto-pay.md").write_bytes(original)
    build(kb, out)
    assert_same_as_cold(kb, out, tmp_path)


@pytest.mark.parametrize("change, finding", [
    (lambda kb: edit(kb, "billing/auto-pay.md", "title: 如何开通自动缴费？", "title: ''"), "schema"),
    (lambda kb: edit(kb, "billing/auto-pay.md", "related: [pay-bill-online", "related: [no-such-entry"),
     "broken-reference"),
    (lambda kb: edit(kb, "billing/auto-pay.md", "last_reviewed: 2026-09-03", "last_reviewed: 2026-02-30"), "schema"),
])
def test_a_refused_edit_leaves_the_output_untouched(kb, tmp_path, change, finding):
    out = tmp_path / "out"
    build(kb, out)
    before = tree(out)
    change(kb)
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))
    assert result.code == 1 and finding in result.stdout
    assert tree(out) == before
    assert not [p for p in out.rglob("*") if ".kbctl-new" in p.name]


def test_a_hand_edited_output_is_made_again_whole(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    (out / PAGE).write_text("defaced", encoding="utf-8")
    result = build(kb, out)
    assert "[help-center] every file made: the output folder is not as the last build left it" in result.stdout
    assert_same_as_cold(kb, out, tmp_path)


def test_a_changed_linked_file_is_copied_again(kb, tmp_path):
    out = tmp_path / "out"
    (kb / "knowledge" / "billing" / "steps.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    edit(kb, "billing/auto-pay.md", "\n---\n", "\n---\n\n![步骤](steps.png)\n")
    build(kb, out)
    (kb / "knowledge" / "billing" / "steps.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\1" * 32)
    result = build(kb, out)
    assert "help-center/files/knowledge/billing/steps.png" in remade(result)
    assert_same_as_cold(kb, out, tmp_path)


def test_the_environment_is_data_and_a_forged_one_is_a_cold_build(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out)
    env_file = kb / ".kbctl" / "env.json"
    blob = env_file.read_bytes()
    assert b"pickle" not in blob
    data = json.loads(blob[32:])  # after its seal
    assert data["version"] == ENV_VERSION and "help-center" in data["channels"]
    # Forged: every page claims inputs that match nothing; unsealed, so never believed.
    env_file.write_bytes(json.dumps(data).encode())
    EDITS["answer"](kb)
    result = build(kb, out)
    assert "[help-center] every file made: no earlier build recorded" in result.stdout
    assert_same_as_cold(kb, out, tmp_path)


def test_a_build_of_one_channel_then_all_equals_a_cold_build(kb, tmp_path):
    out = tmp_path / "out"
    build(kb, out, "--channel", "help-center")
    EDITS["title"](kb)
    build(kb, out, "--channel", "help-center")
    build(kb, out)
    assert_same_as_cold(kb, out, tmp_path)


def test_an_edit_built_into_one_channel_is_built_into_the_next_one_built(kb, tmp_path):
    """The other channel's output is older than the sources the environment last recorded:
    what changed since is not known from them, and every page of it is planned again."""
    out = tmp_path / "out"
    build(kb, out)
    EDITS["title"](kb)
    build(kb, out, "--channel", "faq-bot")
    build(kb, out, "--channel", "help-center")
    assert "怎样开通自动缴费" in (out / PAGE).read_text(encoding="utf-8")
    build(kb, out)
    assert_same_as_cold(kb, out, tmp_path)


def test_a_shallow_clone_change_of_history_is_seen(kb, tmp_path):
    """A new commit that touches no entry still makes the build look (HEAD moved), and
    finds nothing to make again."""
    out = tmp_path / "out"
    build(kb, out)
    (kb / "README.md").write_text("notes\n", encoding="utf-8")
    git(kb, "add", "README.md")
    git(kb, "commit", "-q", "-m", "notes", date="2026-11-21")
    result = build(kb, out)
    assert "up to date" in result.stderr
    assert remade(result) == set()


# -- theming (CONTRACT 10): every theme input is an input of the channel's pages -------------------

THEME_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "theme-kb"


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


THEME_EDITS = {
    "logo": lambda kb: _replace(kb / "brand/logo.svg", 'fill="#b5121b"', 'fill="#0b5fb5"'),
    "css": lambda kb: _replace(kb / "brand/brand.css", "4px solid", "6px dashed"),
    "override template": lambda kb: _replace(kb / "brand/templates/root.html", "brand-welcome", "brand-hello"),
    "new override template": lambda kb: (kb / "brand/templates/404.html").write_text(
        '{% extends "base.html" %}\n{% block main %}<h1>{{ title }}</h1>{% endblock %}\n', encoding="utf-8"),
    "footer fact": lambda kb: _replace(kb / "kbctl.yaml", 'hotline: {value: "10000"', 'hotline: {value: "95555"'),
    "footer text": lambda kb: _replace(kb / "kbctl.yaml", "Hotline {{ hotline }}", "Call us: {{ hotline }}"),
    "colour": lambda kb: _replace(kb / "kbctl.yaml", '"#b5121b"', '"#0b5fb5"'),
}


@pytest.mark.parametrize("kind", sorted(THEME_EDITS))
def test_a_theme_edit_builds_like_a_cold_build(tmp_path, kind):
    kb = tmp_path / "theme-kb"
    shutil.copytree(THEME_FIXTURE, kb)
    out = tmp_path / "out"
    build(kb, out)
    before = tree(out)
    THEME_EDITS[kind](kb)
    result = build(kb, out)
    assert "theme" in result.stdout, result.stdout  # --explain names what changed
    assert tree(out) != before
    assert_same_as_cold(kb, out, tmp_path)
    assert "up to date" in build(kb, out).stdout  # and then nothing is left to do


def test_channels_made_side_by_side_build_like_a_cold_build(kb, tmp_path):
    """Two workers at least, whatever the machine: every channel is made in place in a child."""
    out = tmp_path / "out"
    build(kb, out, env={"KBCTL_WORKERS": "2"})
    edit(kb, "billing/auto-pay.md", "title: 如何开通自动缴费？", "title: 怎样开通自动缴费？")
    result = build(kb, out, env={"KBCTL_WORKERS": "2"})
    assert {line.split("/")[0] for line in remade(result)} >= {"help-center", "agent-portal", "faq-bot"}
    assert_same_as_cold(kb, out, tmp_path)


def test_a_channel_refused_beside_others_leaves_every_output_untouched(kb, tmp_path, monkeypatch):
    """A refusal in one channel's child: the others made theirs side by side; none is put in place."""
    from kbctl.channels import faq
    from kbctl.errors import BuildRefused

    out = tmp_path / "out"
    build(kb, out)
    before = tree(out)
    made = faq.render

    def made_then_refused(ctx, writer):
        made(ctx, writer)
        raise BuildRefused("refused after its files were staged")

    monkeypatch.setattr(faq, "render", made_then_refused)
    edit(kb, "billing/auto-pay.md", "title: 如何开通自动缴费？", "title: 怎样开通自动缴费？")
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out), env={"KBCTL_WORKERS": "2"})
    assert result.code == 1 and "refused after its files were staged" in result.stderr + result.stdout
    assert tree(out) == before
    assert not [p for p in out.rglob("*") if ".kbctl-new" in p.name]


# -- a long-running process (kbctl serve) keeps its parses between builds ------------------------

def test_builds_that_keep_their_parses_in_memory_build_like_cold_ones(kb, tmp_path, monkeypatch):
    """As `kbctl serve` builds: the entries parsed by earlier builds come from memory, not from
    the entries cache; an edited file alone is parsed again, and every build equals a cold one,
    before and after a commit (git dates are set on every entry again)."""
    import datetime as dt

    from kbctl import cache
    from kbctl.build import BuildMemory
    from kbctl.build import build as build_in_process
    from kbctl.config import load_config

    monkeypatch.setenv("KBCTL_SYNC_CACHE", "1")
    out, memory = tmp_path / "out", BuildMemory()
    read_caches: list[str] = []
    real_load = cache.load
    monkeypatch.setattr(cache, "load", lambda root, name, key: read_caches.append(name) or real_load(root, name, key))

    def build_kept():
        return build_in_process(kb, load_config(kb), dt.date.fromisoformat(AS_OF), out, memory=memory).kb

    first = build_kept()
    assert "entries" in read_caches
    for kind in ("title", "related", "added", "visibility", "deleted"):
        read_caches.clear()
        EDITS[kind](kb)
        loaded = build_kept()
        assert "entries" not in read_caches, kind
        assert loaded.by_path["knowledge/billing/read-your-bill.md"] is first.by_path["knowledge/billing/read-your-bill.md"]
        assert_same_as_cold(kb, out, tmp_path)
    commit_all(kb, "edits", "2026-11-21")
    build_kept()
    assert_same_as_cold(kb, out, tmp_path)


def _planned_on_rebuild(kb: Path, out: Path, monkeypatch, change) -> set[str]:
    """The entries whose page a help-center rebuild after `change` plans (site.plan_page)."""
    from kbctl.channels import site

    planned: list[str] = []
    real_plan = site.plan_page
    monkeypatch.setattr(site, "plan_page", lambda ctx, info, entry, cards: planned.append(entry.path)
                        or real_plan(ctx, info, entry, cards))
    change(kb)
    build(kb, out, "--channel", "help-center")
    monkeypatch.setattr(site, "plan_page", real_plan)
    return {path.removeprefix("knowledge/") for path in planned}


def test_a_rebuild_plans_only_the_pages_an_edit_reaches(kb, tmp_path, monkeypatch):
    """The pages planned again after an edit are the edited entry's and those showing it or
    shown by it; every other page is taken as the last build recorded it, and the output
    equals a cold build's."""
    out = tmp_path / "out"
    build(kb, out, "--channel", "help-center")
    planned = _planned_on_rebuild(kb, out, monkeypatch, EDITS["answer"])
    assert planned == {
        "billing/auto-pay.md",  # edited
        "billing/pay-bill-online.md", "billing/read-your-bill.md",  # its related entries: their backlinks
        "billing/overdue-suspension.md",  # links to it
        "billing/auto-pay.en.md",  # its translation
    }
    assert_same_as_cold(kb, out, tmp_path, "--channel", "help-center")
    # What the page of an entry read is remembered as it was: a link removed takes its target.
    planned = _planned_on_rebuild(kb, out, monkeypatch, EDITS["link removed"])
    assert {"network/no-mobile-data.md", "account/replace-sim.md"} <= planned
    assert "billing/auto-pay.md" not in planned
    assert_same_as_cold(kb, out, tmp_path, "--channel", "help-center")


def test_a_translation_given_a_new_id_is_linked_so_by_every_entry_of_its_group(tmp_path):
    """With three locales, an entry links to a translation that is not its source: a new id
    for that translation makes the entry's page again, though neither names the other."""
    from conftest import BASE_CONFIG, entry_text, write_kb

    config = BASE_CONFIG.replace("locales: [zh-CN, en-US]", "locales: [zh-CN, en-US, ja-JP]")
    kb = write_kb(tmp_path / "kb", {
        "s.md": entry_text(id="s", title="来源"),
        "s.en.md": entry_text(id="s-en", title="Source", locale="en-US", translation_of="s"),
        "s.ja.md": entry_text(id="s-ja", title="ソース", locale="ja-JP", translation_of="s"),
    }, config)
    out = tmp_path / "out"
    build(kb, out, "--channel", "help-center")
    page = out / "help-center/en-US/s-en/index.html"
    assert "../../ja-JP/s-ja/index.html" in page.read_text(encoding="utf-8")
    edit(kb, "s.ja.md", "id: s-ja", "id: s-jp")
    build(kb, out, "--channel", "help-center")
    assert "../../ja-JP/s-jp/index.html" in page.read_text(encoding="utf-8")
    assert_same_as_cold(kb, out, tmp_path, "--channel", "help-center")


def test_a_moved_alias_takes_the_links_naming_it_to_its_new_entry(kb, tmp_path):
    """A link by a former id (an alias) goes where the alias is now, though the linking entry
    did not change."""
    out = tmp_path / "out"
    edit(kb, "billing/auto-pay.md", "related:", "aliases: [autopay-legacy]\nrelated:")
    edit(kb, "network/report-outage.md", "\n---\n", "\n---\n\n缴费问题见[旧页面](kb:autopay-legacy)。\n")
    build(kb, out, "--channel", "help-center")
    page = out / "help-center/zh-CN/report-outage/index.html"
    assert "../../zh-CN/auto-pay/index.html" in page.read_text(encoding="utf-8")
    edit(kb, "billing/auto-pay.md", "aliases: [autopay-legacy]\n", "")
    edit(kb, "billing/read-your-bill.md", "related:", "aliases: [autopay-legacy]\nrelated:")
    build(kb, out, "--channel", "help-center")
    assert "../../zh-CN/read-your-bill/index.html" in page.read_text(encoding="utf-8")
    assert_same_as_cold(kb, out, tmp_path, "--channel", "help-center")


def test_a_site_built_again_in_memory_keeps_its_search_records_there(kb, tmp_path, monkeypatch):
    """As `kbctl serve` builds one site channel: the search records of the last build are
    taken from memory, not read back from the cache, and every build, its search indexes
    included, equals a cold one."""
    import datetime as dt

    from kbctl.build import BuildMemory
    from kbctl.build import build as build_in_process
    from kbctl.channels import site
    from kbctl.config import load_config

    monkeypatch.setenv("KBCTL_SYNC_CACHE", "1")
    out, memory = tmp_path / "out", BuildMemory()
    read: list[str] = []
    real_load = site.load_records
    monkeypatch.setattr(site, "load_records",  # the cold builds compared with read theirs
                        lambda root, name: (root == kb and read.append(name)) or real_load(root, name))

    def build_kept():
        build_in_process(kb, load_config(kb), dt.date.fromisoformat(AS_OF), out, ["help-center"], memory=memory)

    build_kept()
    assert read == ["help-center"]
    for kind in ("answer", "title", "added", "visibility", "deleted"):
        EDITS[kind](kb)
        build_kept()
        assert read == ["help-center"], kind
        assert_same_as_cold(kb, out, tmp_path, "--channel", "help-center")
    assert memory.channels["help-center"].search_records is not None


def test_the_entries_cache_a_kept_build_writes_is_whole(kb, tmp_path, monkeypatch):
    """The cache a build with its parses in memory writes holds every entry, as parsed (no git
    date), so a later `kbctl build` parses nothing again."""
    import datetime as dt

    from kbctl import cache
    from kbctl.build import BuildMemory
    from kbctl.build import build as build_in_process
    from kbctl.config import load_config
    from kbctl.load import loader

    monkeypatch.setenv("KBCTL_SYNC_CACHE", "1")
    out, memory = tmp_path / "out", BuildMemory()
    for kind in (None, "title"):
        if kind:
            EDITS[kind](kb)
        build_in_process(kb, load_config(kb), dt.date.fromisoformat(AS_OF), out, memory=memory)
    parsed: list[str] = []
    real_parse = loader._parse_all
    monkeypatch.setattr(loader, "_parse_all", lambda todo, *rest: parsed.extend(t[0] for t in todo) or real_parse(todo, *rest))
    warm = loader.load_kb(kb)
    assert parsed == []
    assert warm.entries == loader.load_kb(kb, use_cache=False).entries
    assert all(entry.git_date is None for entry in warm.entries)
    key = cache.cache_key(load_config(kb).default_locale)
    assert len(cache.load(kb, loader.CACHE_NAME, key)) == len(warm.entries)


def test_a_rebuild_reads_only_the_entry_files_whose_stat_changed(kb, tmp_path, monkeypatch):
    """The others' parses are found by the content hash the last build recorded; a fact
    edited in kbctl.yaml makes every file be read again (a hash holds the facts it names)."""
    from kbctl.load import discover, loader

    out = tmp_path / "out"
    build(kb, out)
    read: list[str] = []
    real_read = discover.read_entry_file

    def counted(found):
        read.append(found.path)
        return real_read(found)

    monkeypatch.setattr(discover, "read_entry_file", counted)
    monkeypatch.setattr(loader, "read_entry_file", counted)
    EDITS["title"](kb)
    build(kb, out)
    assert read == ["knowledge/billing/auto-pay.md"]
    assert_same_as_cold(kb, out, tmp_path)
    read.clear()
    edit(kb, "../kbctl.yaml", 'hotline: {value: "10000"', 'hotline: {value: "10086"')
    build(kb, out)
    assert sorted(read) == sorted(found.path for found in discover.discover(kb))
    assert_same_as_cold(kb, out, tmp_path)


def test_a_file_changed_again_within_its_clock_tick_is_read_again(kb, tmp_path):
    """Rewritten to the same size with the same modification time (two saves within one tick
    of the file system's clock), a file made just before the last build is read again: its
    stat was taken too close to its change to prove anything ("racily clean", as git says)."""
    out = tmp_path / "out"
    path = kb / "knowledge" / "billing" / "auto-pay.md"
    path.write_text(path.read_text(encoding="utf-8").replace("如何开通自动缴费？", "如何开通自动缴费甲"),
                    encoding="utf-8")
    build(kb, out)
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("自动缴费甲", "自动缴费乙"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns, path.stat().st_ino) == \
        (before.st_size, before.st_mtime_ns, before.st_ino)
    build(kb, out)
    assert "自动缴费乙" in (out / PAGE).read_text(encoding="utf-8")
    assert_same_as_cold(kb, out, tmp_path)


@pytest.mark.parametrize("failing", ["copies", "pages"])
def test_a_failure_beside_the_markdown_copies_leaves_the_output_untouched(kb, tmp_path, monkeypatch, failing):
    """In place, a site's Markdown copies are made in a forked child beside its pages: a
    failure in either, once both have staged files, puts nothing in place and leaves no
    staged file behind."""
    from kbctl.channels import site
    from kbctl.errors import BuildRefused

    out = tmp_path / "out"
    build(kb, out, "--channel", "help-center")
    before = tree(out)
    target = "write_llms" if failing == "copies" else "_write_pages"
    real = getattr(site, target)

    def made_then_refused(*args):
        real(*args)
        raise BuildRefused(f"refused after the {failing} were staged")

    monkeypatch.setattr(site, target, made_then_refused)
    EDITS["title"](kb)
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out), "--channel", "help-center",
                     env={"KBCTL_WORKERS": "2"})
    assert result.code == 1 and f"refused after the {failing} were staged" in result.stderr + result.stdout
    assert tree(out) == before
    assert not [p for p in out.rglob("*") if ".kbctl-new" in p.name]
