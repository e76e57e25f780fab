"""Usage data and the usage rules (CONTRACT 7), through `kbctl health` on small git KBs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, commit_all, entry_text, git, init_repo, run_cli, write_kb

AS_OF = "2026-11-30"
# 90 days: the dates after 2026-09-01 (= 2026-11-30 - 90 days), up to and with 2026-11-30.


def ev(event: str, entry: str | None = None, *, time: str = "2026-11-20T08:00:00Z",
       channel: str = "help-center", query: str | None = None, results: int | None = None) -> dict:
    out: dict = {"time": time, "channel": channel, "event": event}
    if entry is not None:
        out["entry"] = entry
    if query is not None:
        out["query"] = query
        out["results"] = results
    return out


def jsonl(path: Path, events: list, extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(e, ensure_ascii=False) for e in events] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """Entries `old` and `draft` committed long before the window; `fresh` committed inside it;
    `later` committed early but valid only from inside the window."""
    root = write_kb(tmp_path / "kb", {
        "old.md": entry_text(id="old", title="Old", category="billing"),
        "draft.md": entry_text(id="draft", title="Draft", status="draft", category="billing"),
        "later.md": entry_text(id="later", title="Later", category="billing", valid_from="2026-10-01"),
    })
    init_repo(root)
    commit_all(root, "first", "2026-03-01")
    (root / "knowledge" / "fresh.md").write_text(
        entry_text(id="fresh", title="Fresh", category="billing"), encoding="utf-8")
    commit_all(root, "fresh", "2026-10-15")
    return root


def health(root: Path, *args: str, cwd: Path | None = None):
    return run_cli("--root", str(root), "health", "--as-of", AS_OF, "--fail-on", "never",
                   *args, cwd=cwd)


def health_json(root: Path, *usage: Path | str) -> dict:
    args = [a for u in usage for a in ("--usage", str(u))]
    result = health(root, "--format", "json", *args)
    assert result.code == 0, result.stderr
    return result.json()


def found(data: dict, name: str) -> list[dict]:
    return [d for d in data["diagnostics"] if d["rule"] == name]


def entries_of(data: dict, name: str) -> set[str]:
    return {d["entry"] for d in found(data, name)}


# -- window ---------------------------------------------------------------------------------
def test_window_boundaries_are_utc_dates(kb, tmp_path):
    times = [
        "2026-09-01T23:59:59Z",        # as-of minus the window: out
        "2026-09-02T00:00:00Z",        # first day: in
        "2026-09-01T20:00:00-05:00",   # 2026-09-02 01:00 UTC: in
        "2026-09-02T07:00:00+08:00",   # 2026-09-01 23:00 UTC: out
        "2026-11-30T23:59:59Z",        # the as-of date: in
        "2026-12-01T07:59:59+08:00",   # 2026-11-30 23:59 UTC: in
        "2026-12-01T00:00:00Z",        # after: out
        "2026-11-30T20:00:00.125-05:00",  # 2026-12-01 01:00 UTC: out
    ]
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", [ev("view", "old", time=t) for t in times]))
    assert data["usage"] == {"events": 4, "entries": {"old": {"views": 4, "helpful": 0, "unhelpful": 0, "serves": 0}}}


def test_window_setting_is_read(kb, tmp_path):
    config = kb / "kbctl.yaml"
    config.write_text(BASE_CONFIG + "usage: {window: 10d}\n", encoding="utf-8")
    events = [ev("view", "old", time="2026-11-20T12:00:00Z"), ev("view", "old", time="2026-11-21T12:00:00Z")]
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", events))
    assert data["usage"]["entries"]["old"]["views"] == 1


# -- unused ---------------------------------------------------------------------------------
def test_unused_only_for_published_entries_available_before_the_window(kb, tmp_path):
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", [ev("view", "draft")]))
    assert entries_of(data, "unused") == {"old"}  # not fresh (first committed inside), later, draft
    unused = found(data, "unused")[0]
    assert unused["code"] == "KB110" and unused["severity"] == "warning"
    assert unused["path"] == "knowledge/old.md"
    assert "2026-09-02 to 2026-11-30" in unused["message"]


def test_a_serve_or_a_view_in_any_channel_is_use(kb, tmp_path):
    events = [ev("serve", "old", channel="hotline")]
    assert "old" not in entries_of(health_json(kb, jsonl(tmp_path / "u.jsonl", events)), "unused")
    events = [ev("view", "old", channel="faq-bot")]
    assert "old" not in entries_of(health_json(kb, jsonl(tmp_path / "u.jsonl", events)), "unused")
    events = [ev("helpful", "old"), ev("view", "old", time="2026-09-01T12:00:00Z")]
    assert "old" in entries_of(health_json(kb, jsonl(tmp_path / "u.jsonl", events)), "unused")


def test_first_commit_follows_renames(kb, tmp_path):
    # Renamed inside the window, first committed long before: still old enough to be unused.
    git(kb, "mv", "knowledge/old.md", "knowledge/old-renamed.md")
    commit_all(kb, "rename", "2026-11-01")
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", [ev("view", "draft")]))
    assert [d["path"] for d in found(data, "unused")] == ["knowledge/old-renamed.md"]


def test_first_commit_follows_a_rename_that_also_edits(kb, tmp_path):
    git(kb, "mv", "knowledge/old.md", "knowledge/moved.md")
    moved = kb / "knowledge" / "moved.md"
    moved.write_text(moved.read_text(encoding="utf-8") + "More text.\n", encoding="utf-8")
    commit_all(kb, "rename and edit", "2026-11-01")
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", [ev("view", "draft")]))
    assert [d["path"] for d in found(data, "unused")] == ["knowledge/moved.md"]


def test_an_edit_inside_the_window_does_not_make_an_entry_new(kb, tmp_path):
    old = kb / "knowledge" / "old.md"
    old.write_text(old.read_text(encoding="utf-8") + "Reviewed and extended.\n", encoding="utf-8")
    commit_all(kb, "edit", "2026-11-01")
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", [ev("view", "draft")]))
    assert entries_of(data, "unused") == {"old"}  # first committed 2026-03-01, edited since


def test_without_git_valid_from_alone_decides(kb, tmp_path):
    import shutil

    shutil.rmtree(kb / ".git")
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", [ev("view", "draft")]))
    assert entries_of(data, "unused") == {"old", "fresh"}  # `later` is valid only from inside


def test_an_entry_not_committed_yet_is_not_unused(kb, tmp_path):
    (kb / "knowledge" / "new.md").write_text(entry_text(id="new", title="New", category="billing"), encoding="utf-8")
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", [ev("view", "draft")]))
    assert "new" not in entries_of(data, "unused")


def test_without_usage_data_the_rules_do_not_run(kb):
    result = health(kb, "--format", "json")
    assert result.code == 0
    data = result.json()
    assert "usage" not in data
    assert not {d["rule"] for d in data["diagnostics"]} & {"unused", "unhelpful", "content-gap", "usage-skipped"}


# -- unhelpful ------------------------------------------------------------------------------
def votes(entry: str, helpful: int, unhelpful: int) -> list[dict]:
    return [ev("helpful", entry)] * helpful + [ev("unhelpful", entry)] * unhelpful


@pytest.mark.parametrize(("helpful", "unhelpful", "flagged"), [
    (0, 4, False),   # 4 votes: below min_votes 5
    (2, 3, True),    # 5 votes, 40 %
    (3, 3, False),   # 50 %: not below 0.5
    (4, 5, True),    # 44 %
])
def test_unhelpful_needs_min_votes_and_a_share_below(kb, tmp_path, helpful, unhelpful, flagged):
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", votes("old", helpful, unhelpful)))
    assert (entries_of(data, "unhelpful") == {"old"}) is flagged
    if flagged:
        message = found(data, "unhelpful")[0]["message"]
        assert f"{helpful} of {helpful + unhelpful} votes helpful" in message


def test_unhelpful_thresholds_from_kbctl_yaml(kb, tmp_path):
    (kb / "kbctl.yaml").write_text(BASE_CONFIG + "usage:\n  min_votes: 2\n  helpful_below: 0.75\n", encoding="utf-8")
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", votes("old", 2, 1) + votes("later", 1, 0)))
    assert entries_of(data, "unhelpful") == {"old"}  # 67 % < 75 %; `later` has one vote


def test_votes_outside_the_window_do_not_count(kb, tmp_path):
    events = votes("old", 0, 4) + [ev("unhelpful", "old", time="2026-09-01T12:00:00Z")]
    assert not found(health_json(kb, jsonl(tmp_path / "u.jsonl", events)), "unhelpful")


# -- content-gap ----------------------------------------------------------------------------
def search(query: str, results: int = 0, **kw) -> dict:
    return ev("search", query=query, results=results, **kw)


def test_content_gap_normalizes_queries_as_questions(kb, tmp_path):
    events = [search("携号转网"), search("携号 转网？"), search("携号转网", channel="faq-bot"),
              search("Port my number"), search("port my NUMBER!"), search("ｐｏｒｔ ｍｙ ｎｕｍｂｅｒ"),
              search("eSIM"), search("esim"),  # twice: below gap_min 3
              search("roaming", results=2), search("roaming", results=1), search("roaming", results=3),
              search("???"), search("???"), search("???")]  # nothing left to ask
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", events))
    gaps = found(data, "content-gap")
    # Equal counts: in code-point order of the normalized query ("portmynumber" < "携号转网").
    assert [g["message"] for g in gaps] == [
        "'Port my number' searched 3 times with no result from 2026-09-02 to 2026-11-30",
        "'携号转网' searched 3 times with no result from 2026-09-02 to 2026-11-30"]
    for gap in gaps:
        assert gap["path"] == "kbctl.yaml" and gap["entry"] is None
        assert gap["severity"] == "info" and gap["code"] == "KB112"
    assert data["usage"]["events"] == len(events)


def test_content_gap_quotes_the_spelling_searched_most(kb, tmp_path):
    events = [search("Port my number"), search("port my number?"), search("port my number?")]
    (gap,) = found(health_json(kb, jsonl(tmp_path / "u.jsonl", events)), "content-gap")
    assert gap["message"] == "'port my number?' searched 3 times with no result from 2026-09-02 to 2026-11-30"


def test_gap_min_and_the_usage_line(kb, tmp_path):
    (kb / "kbctl.yaml").write_text(BASE_CONFIG + "usage:\n  gap_min: 1\n", encoding="utf-8")
    (gap,) = found(health_json(kb, jsonl(tmp_path / "u.jsonl", [search("fax")])), "content-gap")
    assert "'fax' searched once" in gap["message"]
    assert gap["line"] == BASE_CONFIG.count("\n") + 1


# -- skipped --------------------------------------------------------------------------------
def test_unknown_entries_channels_and_bad_lines_are_counted_in_one_note(kb, tmp_path):
    events = [ev("view", "old"), ev("view", "no-such-entry"), ev("view", "old", channel="no-such-channel"),
              search("fax", channel="no-such-channel")]
    bad = ("not json", "[1, 2]", '{"time": 5, "channel": "help-center", "event": "view", "entry": "old"}',
           '{"time": "2026-11-20", "channel": "help-center", "event": "view", "entry": "old"}',
           '{"time": "2026-11-20T08:00:00Z", "channel": "help-center", "event": "click", "entry": "old"}',
           '{"time": "2026-11-20T08:00:00Z", "channel": "help-center", "event": "view"}',
           '{"time": "2026-11-20T08:00:00Z", "channel": "help-center", "event": "search", "query": "x"}',
           '{"time": "2026-11-20T08:00:00Z", "channel": "help-center", "event": "search", "query": "x", "results": 0.5}',
           '{"time": "2026-11-20T08:00:00Z", "channel": "help-center", "event": "view", "entry": "old"',
           "")
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", events, bad))
    (note,) = found(data, "usage-skipped")
    assert note["path"] is None and note["severity"] == "info" and note["code"] == "KB113"
    assert note["message"] == ("12 usage events skipped (9 unreadable lines, 1 for an unknown entry, "
                               "2 for unknown channels); 1 counted")
    assert data["usage"]["events"] == 1


def test_no_note_when_nothing_is_skipped(kb, tmp_path):
    assert not found(health_json(kb, jsonl(tmp_path / "u.jsonl", [ev("view", "old")])), "usage-skipped")


# -- formats and paths ----------------------------------------------------------------------
CSV_HEADER = "time,channel,event,entry,query,results\n"


def test_csv_with_any_column_order_and_bad_lines_counted(kb, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(
        "event,time,channel,entry,query,results\n"
        "view,2026-11-20T08:00:00Z,help-center,old,,\n"
        'search,2026-11-20T08:00:00+08:00,help-center,,"fax, please",0\n'
        'search,2026-11-20T08:00:00+08:00,help-center,,"fax please",0\n'
        'search,2026-11-20T08:00:00+08:00,help-center,,"Fax please!",0\n'
        "view,too,few\n"
        "view,2026-11-20T08:00:00Z,help-center,old,,,extra\n"
        "view,yesterday,help-center,old,,\n", encoding="utf-8")
    data = health_json(kb, path)
    assert data["usage"]["entries"]["old"]["views"] == 1
    assert "3 unreadable lines" in found(data, "usage-skipped")[0]["message"]
    assert "searched 3 times" in found(data, "content-gap")[0]["message"]


def _parquet(path: Path, time_sql: str) -> Path:
    import duckdb

    con = duckdb.connect()
    con.execute(f"""COPY (SELECT {time_sql} AS time, 'help-center' AS channel, 'view' AS event,
                 'old' AS entry, CAST(NULL AS VARCHAR) AS query, CAST(NULL AS INTEGER) AS results
                 UNION ALL SELECT {time_sql}, 'help-center', 'search', NULL, 'fax', 0
                 UNION ALL SELECT {time_sql}, 'help-center', 'search', NULL, 'fax', 0
                 UNION ALL SELECT {time_sql}, 'help-center', 'search', NULL, 'fax', 0
                 UNION ALL SELECT {time_sql}, 'help-center', 'search', NULL, 'fax', 4)
                 TO '{path}' (FORMAT parquet)""")
    con.close()
    return path


@pytest.mark.parametrize("time_sql", [
    "'2026-12-01T07:00:00+08:00'",                       # a string, 2026-11-30 in UTC
    "TIMESTAMP '2026-11-30 23:00:00'",                   # a timestamp, taken as UTC
    "TIMESTAMPTZ '2026-12-01 07:00:00+08:00'",           # with time zone
])
def test_parquet_time_as_string_or_timestamp(kb, tmp_path, time_sql):
    data = health_json(kb, _parquet(tmp_path / "u.parquet", time_sql))
    assert data["usage"]["entries"] == {"old": {"views": 1, "helpful": 0, "unhelpful": 0, "serves": 0}}
    assert data["usage"]["events"] == 5
    assert "'fax' searched 3 times" in found(data, "content-gap")[0]["message"]


def test_a_glob_and_repeated_usage_add_up(kb, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for day in ("01", "02", "03"):
        jsonl(logs / f"2026-11-{day}.jsonl", [ev("view", "old", time=f"2026-11-{day}T10:00:00Z")])
    jsonl(tmp_path / "more.jsonl", [ev("serve", "old")])
    data = health_json(kb, logs / "*.jsonl", tmp_path / "more.jsonl", logs / "2026-11-01.jsonl")
    assert data["usage"]["entries"]["old"] == {"views": 3, "helpful": 0, "unhelpful": 0, "serves": 1}


def test_kbctl_yaml_paths_are_relative_to_the_kb_root(kb, tmp_path):
    (kb / "usage").mkdir()
    jsonl(kb / "usage" / "a.jsonl", [ev("view", "old")])
    (kb / "kbctl.yaml").write_text(BASE_CONFIG + "usage:\n  paths: [usage/*.jsonl]\n", encoding="utf-8")
    result = health(kb, "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.json()["usage"]["entries"]["old"]["views"] == 1


@pytest.mark.parametrize(("given", "message"), [
    ("nothing-*.jsonl", "--usage: usage path 'nothing-*.jsonl' matches no file"),
    ("missing.jsonl", "--usage: usage path 'missing.jsonl' matches no file"),
    ("notes.txt", "--usage: usage file 'notes.txt': not .jsonl, .csv or .parquet"),
])
def test_bad_usage_paths_are_usage_errors(kb, tmp_path, given, message):
    (tmp_path / "notes.txt").write_text("x\n", encoding="utf-8")
    result = health(kb, "--usage", given, cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [f"kbctl: error: {message}"]
    assert "Traceback" not in result.stderr


def test_a_corrupt_parquet_file_is_a_usage_error(kb, tmp_path):
    (tmp_path / "u.parquet").write_bytes(b"PAR1 not really")
    result = health(kb, "--usage", str(tmp_path / "u.parquet"))
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot read usage data" in result.stderr


# -- kbctl.yaml -----------------------------------------------------------------------------
@pytest.mark.parametrize(("setting", "words"), [
    ("  window: 90\n", "usage/window"),
    ("  window: 90x\n", "usage/window"),
    ("  min_votes: 0\n", "usage/min_votes"),
    ("  helpful_below: 1.5\n", "usage/helpful_below"),
    ("  gap_min: many\n", "usage/gap_min"),
    ("  colour: blue\n", "usage"),
    ("  paths: [/var/log/usage.jsonl]\n", "outside the knowledge base"),
    ("  paths: [../usage.jsonl]\n", "outside the knowledge base"),
])
def test_bad_usage_settings_name_the_line(kb, setting, words):
    (kb / "kbctl.yaml").write_text(BASE_CONFIG + "usage:\n" + setting, encoding="utf-8")
    result = health(kb)
    assert result.code == 2
    line = BASE_CONFIG.count("\n") + 2
    (only,) = result.stderr.strip().splitlines()
    assert only.startswith(f"kbctl: error: kbctl.yaml:{line}: ") and words in only, only


def test_a_link_out_of_the_kb_is_refused(kb, tmp_path):
    outside = jsonl(tmp_path / "outside.jsonl", [ev("view", "old")])
    (kb / "usage.jsonl").symlink_to(outside)
    (kb / "kbctl.yaml").write_text(BASE_CONFIG + "usage:\n  paths: [usage.jsonl]\n", encoding="utf-8")
    result = health(kb)
    assert result.code == 2
    assert "kbctl.yaml:" in result.stderr and "leads outside the knowledge base" in result.stderr


def test_cli_paths_may_be_anywhere(kb, tmp_path):
    outside = jsonl(tmp_path / "outside.jsonl", [ev("view", "old")])
    assert health_json(kb, outside)["usage"]["events"] == 1


# -- reports --------------------------------------------------------------------------------
def test_text_and_markdown_show_the_findings(kb, tmp_path):
    path = jsonl(tmp_path / "u.jsonl", votes("fresh", 0, 5) + [search("fax")] * 3)
    text = health(kb, "--usage", str(path))
    assert text.code == 0
    for words in ("unused", "unhelpful", "content-gap", "'fax' searched 3 times"):
        assert words in text.stdout
    markdown = health(kb, "--usage", str(path), "--format", "markdown")
    assert "`unhelpful`" in markdown.stdout and "`content-gap`" in markdown.stdout


def test_output_is_deterministic(kb, tmp_path):
    path = jsonl(tmp_path / "u.jsonl", votes("old", 1, 5) + [search("b")] * 3 + [search("a")] * 3)
    first = health(kb, "--usage", str(path), "--format", "json").stdout
    assert first == health(kb, "--usage", str(path), "--format", "json").stdout
    gaps = [d["message"] for d in json.loads(first)["diagnostics"] if d["rule"] == "content-gap"]
    assert [g[:3] for g in gaps] == ["'a'", "'b'"]


def test_fail_on_warning_counts_usage_findings(kb, tmp_path):
    path = jsonl(tmp_path / "u.jsonl", [ev("view", "draft")])
    result = run_cli("--root", str(kb), "health", "--as-of", AS_OF, "--usage", str(path), "--fail-on", "warning")
    assert result.code == 1


# -- the event schema -----------------------------------------------------------------------
EVENT_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "usage-event.schema.json"
CONTRACT_SAMPLES = [
    {"time": "2026-11-20T08:15:00Z", "channel": "help-center", "event": "view", "entry": "pay-bill-online"},
    {"time": "2026-11-20T08:16:10Z", "channel": "help-center", "event": "unhelpful", "entry": "pay-bill-online"},
    {"time": "2026-11-20T08:17:00Z", "channel": "help-center", "event": "search", "query": "携号转网", "results": 0},
    {"time": "2026-11-20T16:17:00.5+08:00", "channel": "hotline", "event": "serve", "entry": "report-outage"},
]
NOT_EVENTS = [
    {"time": "2026-11-20", "channel": "help-center", "event": "view", "entry": "x"},
    {"time": "2026-11-20T08:15:00", "channel": "help-center", "event": "view", "entry": "x"},
    {"time": "2026-11-20T08:15:00Z", "channel": "help-center", "event": "click", "entry": "x"},
    {"time": "2026-11-20T08:15:00Z", "channel": "help-center", "event": "view"},
    {"time": "2026-11-20T08:15:00Z", "channel": "help-center", "event": "search", "query": "x"},
    {"time": "2026-11-20T08:15:00Z", "channel": "help-center", "event": "search", "query": "x", "results": -1},
    {"time": "2026-11-20T08:15:00Z", "event": "view", "entry": "x"},
]


def _validator():
    import jsonschema

    schema = json.loads(EVENT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("sample", CONTRACT_SAMPLES)
def test_contract_samples_fit_the_event_schema(sample):
    assert not list(_validator().iter_errors(sample))


@pytest.mark.parametrize("sample", NOT_EVENTS)
def test_the_schema_refuses_what_health_skips(sample, kb, tmp_path):
    assert list(_validator().iter_errors(sample))
    data = health_json(kb, jsonl(tmp_path / "u.jsonl", [sample]))
    assert data["usage"]["events"] == 0 and "1 unreadable line" in found(data, "usage-skipped")[0]["message"]


def test_the_example_events_fit_the_schema():
    validator = _validator()
    lines = (EVENT_SCHEMA.parent.parent / "examples" / "usage.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 1000
    for line in lines:
        assert not list(validator.iter_errors(json.loads(line))), line


def test_the_readme_example_shows_every_usage_rule():
    root = EVENT_SCHEMA.parent.parent
    result = run_cli("health", "--usage", "examples/usage.jsonl", "--as-of", "2027-02-28",
                     "--format", "json", cwd=root)
    rules = {d["rule"] for d in result.json()["diagnostics"]}
    assert {"unused", "unhelpful", "content-gap", "usage-skipped"} <= rules
    gaps = [d["message"] for d in result.json()["diagnostics"] if d["rule"] == "content-gap"]
    assert any("携号转网" in g for g in gaps) and any("5G home router" in g for g in gaps)
