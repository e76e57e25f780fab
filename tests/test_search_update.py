"""An index updated from the last build's (kbctl/channels/site_search.py `replace_documents`)
is byte for byte the index built whole from the new records."""

from __future__ import annotations

import random

from kbctl.channels.site_search import (
    SearchIndex,
    prepare,
    read_index_script,
    replace_documents,
)

WORDS = ["bill", "payment", "roaming", "话费", "缴纳", "套餐", "reset", "sim", "card", "5g", "esim", "data"]


def _record(rng: random.Random, number: int, categories: list[str]):
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))
    title = f"{rng.choice(WORDS)} question {number}"
    category = rng.choice([None, *categories])
    return prepare(f"kb-{number}/index.html", title, rng.choice([None, "short answer"]), text,
                   [rng.choice(WORDS)] * rng.randint(0, 2), [], category)


def _whole(locale: str, records) -> str:
    index = SearchIndex(locale)
    for record in records:
        index.add_prepared(record)
    return index.script()


def _categories(records) -> list[str]:
    return list(dict.fromkeys(category for _, _, category in records if category))


def test_replacing_documents_gives_the_index_built_whole():
    rng = random.Random(7)
    for trial in range(200):
        count = rng.randint(1, 12)
        old = [_record(rng, n, ["a", "b"]) for n in range(count)]
        new = list(old)
        replaced = {}
        for doc in rng.sample(range(count), rng.randint(1, count)):
            new[doc] = _record(rng, doc, ["a", "b"])
            if trial % 5 == 0:  # a word no other document has, and one that leaves the index
                weights = dict(new[doc][0])
                weights[f"only{trial}"] = 3
                new[doc] = (weights, new[doc][1], new[doc][2])
            replaced[doc] = (old[doc], new[doc])
        index = read_index_script(_whole("en-US", old), "en-US")
        assert index is not None
        updated = replace_documents(index, replaced)
        if _categories(new) != _categories(old):
            assert updated is None  # categories numbered anew: the index is made whole
            continue
        assert updated is not None
        assert updated.script() == _whole("en-US", new), trial


def test_a_script_of_another_locale_or_shape_is_not_read():
    script = _whole("zh-CN", [prepare("kb-1/index.html", "话费", None, "缴纳话费", [], [], None)])
    assert read_index_script(script, "zh-CN") is not None
    assert read_index_script(script, "en-US") is None
    assert read_index_script(script.replace('"v":1', '"v":2'), "zh-CN") is None
    assert read_index_script(script[:-5], "zh-CN") is None
    assert read_index_script(script.replace('"post":[[', '"post":[["x",'), "zh-CN") is None
    assert read_index_script(script.replace('"terms":[', '"terms":["extra",'), "zh-CN") is None
    assert read_index_script(script.replace('"avgdl":', '"avgdl":"1"'), "zh-CN") is None


def test_a_script_read_back_is_written_again_byte_for_byte():
    rng = random.Random(3)
    records = [_record(rng, n, ["a", "b"]) for n in range(30)]
    for locale in ("zh-CN", "en-US"):
        script = _whole(locale, records)
        index = read_index_script(script, locale)
        assert index is not None and index.script() == script
    empty = _whole("en-US", [])
    assert read_index_script(empty, "en-US").script() == empty


def test_search_records_read_back_as_they_were_kept(tmp_path, monkeypatch):
    """The records cache is lines of text: a record holding characters other readers break
    lines at (U+2028, U+0085, a form feed) reads back whole; a page whose path would break a
    line is simply not kept."""
    from kbctl import cache
    from kbctl.channels.site_records import SearchRecords, load_records, save_records

    monkeypatch.setenv("KBCTL_SYNC_CACHE", "1")  # written here, not by a forked child
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    root = tmp_path / "kb"
    root.mkdir()
    records = SearchRecords()
    odd = prepare("a/index.html", "行\u2028分隔", None, "正文\u0085\x0c结束\t制表", [], [], "话费")
    records.put("a/index.html", "d1", odd)
    records.put("b/index.html", "d2", prepare("b/index.html", "b", "s", "", [], [], None))
    records.put("bad\npath/index.html", "d3", odd)
    save_records(root, "help-center", records, ["a/index.html", "b/index.html", "bad\npath/index.html"])
    cache.write_pending()
    back = load_records(root, "help-center")
    assert back.texts == {path: records.texts[path] for path in ("a/index.html", "b/index.html")}
    assert back.record("a/index.html") == records.record("a/index.html")
    assert load_records(root, "agent-portal").texts == {}
