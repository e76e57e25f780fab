"""Loading: the parse cache and the worker processes give the entries a cold, in-process load
gives, and loading leaves the garbage collector as it found it; checking leaves no reference
cycle that would keep the loaded knowledge base alive."""

from __future__ import annotations

import datetime as dt
import gc
import json
import weakref

import pytest
from conftest import BASE_CONFIG, entry_text, write_kb

from kbctl import cache
from kbctl.checks import run_validate
from kbctl.errors import UsageError
from kbctl.load import loader, records


@pytest.fixture
def kb(tmp_path, monkeypatch):
    # These tests read the entries cache right after a load: written before it returns, not
    # by the forked child that races them (tests/test_build.py covers the child).
    monkeypatch.setenv("KBCTL_SYNC_CACHE", "1")
    entries = {
        f"topic/e{n:03}.md": entry_text(
            f"## 标题 {n}\n\n见 [下一条](kb:e{n + 1:03}) 与 [上一条](#标题-{n})。\n\n"
            "::: internal\n内部说明。\n:::\n",
            id=f"e{n:03}", title=f"问题 {n}", tags=["a", "b"])
        for n in range(loader.PARALLEL_MIN_FILES + 20)  # enough for the forked workers
    }
    entries["bad.md"] = "---\nid: bad\ntitle: ''\nlast_reviewed: 2026-02-30\n---\n:::\n"
    entries["empty.md"] = ""
    return write_kb(tmp_path / "kb", entries, BASE_CONFIG)


def loaded(kb, **options):
    result = loader.load_kb(kb, **options)
    return result.entries, result.diagnostics


def test_cold_parallel_warm_and_uncached_loads_agree(kb, monkeypatch):
    cold = loaded(kb)
    assert cache.file_of(kb, loader.CACHE_NAME).is_file()
    warm = loaded(kb)
    uncached = loaded(kb, use_cache=False)
    monkeypatch.setenv("KBCTL_WORKERS", "1")
    in_process = loaded(kb, use_cache=False)
    assert cold == warm == uncached == in_process
    assert cold[1], "the broken entries are reported"
    assert len(cold[0]) == loader.PARALLEL_MIN_FILES + 21


def test_an_edited_entry_is_parsed_again_and_the_rest_come_from_the_cache(kb):
    loaded(kb)
    edited = kb / "knowledge" / "topic" / "e007.md"
    edited.write_text(entry_text("新的正文。\n", id="e007", title="新问题"), encoding="utf-8")
    entries, _ = loaded(kb)
    assert next(e for e in entries if e.id == "e007").title == "新问题"
    assert (entries, loaded(kb)[1]) == loaded(kb, use_cache=False)


def test_records_cross_processes_and_the_cache_as_json_data(kb):
    """The cache keeps each entry's record as JSON data, as the worker wrote it."""
    loaded(kb)
    key = cache.cache_key(loader.load_config(kb).default_locale)
    items = cache.load(kb, loader.CACHE_NAME, key)
    digest, record = items["knowledge/topic/e001.md"]
    assert isinstance(record, list)
    entry, diagnostics = records.parsed_from(json.loads(json.dumps(record)))
    assert (entry.id, diagnostics, entry.content_hash) == ("e001", [], digest)


@pytest.mark.parametrize(("body", "blocks"), [
    ("## 标题\n\n只有公开的正文。\n", False),
    ("## 标题\n\n只有公开的正文。\n\n::: internal\n内部说明。\n:::\n", True),
])
def test_a_record_holds_the_answer_text_once_and_reads_back_equal(body, blocks):
    """A body without blocks is its only segment: the record does not write it twice."""
    parsed = loader.parse_entry("knowledge/a.md", entry_text(body, id="a", title="问题"), "zh-CN")
    entry = parsed[0]
    assert (entry.segments != [(None, entry.body)]) is blocks
    written = records.dumps(parsed)
    assert written.count("只有公开的正文") == (2 if blocks else 1)  # the body, and its segment
    assert records.loads(written) == parsed
    assert records.parsed_from(json.loads(written)) == parsed


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_collector_as_it_found_it(kb, enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        loaded(kb)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_the_collector_comes_back_after_a_failed_load(tmp_path):
    with pytest.raises(UsageError):  # no kbctl.yaml
        loader.load_kb(tmp_path)
    assert gc.isenabled()


def test_the_checks_leave_no_cycle_holding_the_knowledge_base(kb):
    """Freed by reference counting as soon as it is dropped: a cycle through it (a recursive
    closure in a check did that) leaves 10,000 entries to the interpreter's final collection."""
    loaded_kb = loader.load_kb(kb)
    was = gc.isenabled()
    gc.disable()
    try:
        run_validate(loaded_kb, dt.date(2026, 11, 22))
        alive = weakref.ref(loaded_kb)
        del loaded_kb
        assert alive() is None
    finally:
        if was:
            gc.enable()
