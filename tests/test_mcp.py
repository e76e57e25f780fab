"""`kbctl mcp` (CONTRACT 9), end to end with the SDK's own client: over stdio as an MCP client
launches it, and once over streamable HTTP."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import IN_CI, REPO, mcp_session, run_cli, sample_kb_repo

from kbctl.channels import site_query

AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> Path:
    return sample_kb_repo(tmp_path_factory.mktemp("mcp") / "kb")


@pytest.fixture(scope="module")
def answers(kb):
    """One session over the public help center: every tool, and the ids it must not know."""
    return mcp_session(kb, "help-center", [
        ("search", {"query": "话费"}),
        ("search", {"query": "pay bill", "locale": "en-US", "limit": 3}),
        ("get_entry", {"id": "pay-bill-online"}),
        ("get_entry", {"id": "no-such-entry"}),
        ("get_entry", {"id": INTERNAL_ID}),
        ("list_categories", {"locale": "en-US"}),
        ("search", {"query": "x", "locale": "fr-FR"}),
    ])


def internal_entry_id() -> str:
    """An entry of the sample KB that is internal: the help center must not know it."""
    for path in sorted((REPO / "knowledge").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^visibility: internal$", text, re.MULTILINE):
            return re.search(r"^id: (\S+)$", text, re.MULTILINE).group(1)
    raise AssertionError("the sample KB has no internal entry")


INTERNAL_ID = internal_entry_id()


def test_search_finds_chinese_and_english_entries_with_their_public_fields(answers):
    chinese, english = answers[0], answers[1]
    assert not chinese.is_error and not english.is_error
    first = chinese.structured["results"][0]
    assert set(first) == {"id", "title", "summary", "url", "score"}
    assert first["id"] == "pay-bill-online"
    assert first["url"] == "https://help.example.com/zh-CN/pay-bill-online/"
    assert len(chinese.structured["results"]) == 5  # the default limit
    results = english.structured["results"]
    assert len(results) == 3 and results[0]["id"] == "pay-bill-online-en"
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_get_entry_is_the_channels_markdown_copy(answers, kb):
    entry = answers[2].structured
    assert set(entry) == {"id", "title", "locale", "url", "updated", "markdown"}
    assert (entry["id"], entry["locale"]) == ("pay-bill-online", "zh-CN")
    assert entry["markdown"].startswith('---\nid: "pay-bill-online"\n')
    assert "# 如何在线缴纳话费？" in entry["markdown"]
    assert "::: ivr" not in entry["markdown"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", entry["updated"])


def test_not_found_is_worded_the_same_for_an_internal_and_a_missing_id(answers):
    missing, internal = answers[3], answers[4]
    assert missing.is_error and internal.is_error
    assert "not found" in missing.text
    assert internal.text.replace(INTERNAL_ID, "ID") == missing.text.replace("no-such-entry", "ID")
    assert internal.structured is None


def test_list_categories_counts_carried_entries_in_and_below_each_node(answers):
    categories = answers[5].structured["categories"]
    by_path = {c["path"]: c for c in categories}
    assert by_path["billing"]["title"] == "Billing and payments"
    children = [c["entries"] for path, c in by_path.items() if path.startswith("billing/")]
    assert by_path["billing"]["entries"] >= sum(children) > 0
    assert all(c["entries"] > 0 for c in categories)


def test_an_unknown_locale_is_a_tool_error(answers):
    assert answers[6].is_error and "unknown locale 'fr-FR'" in answers[6].text


def test_an_edit_is_served_without_a_restart(tmp_path):
    kb = sample_kb_repo(tmp_path / "kb")
    page = next(p for p in (kb / "knowledge").rglob("*.md") if "id: pay-bill-online\n" in p.read_text("utf-8"))

    def edit(number: int) -> None:
        if number == 1:
            text = page.read_text(encoding="utf-8")
            page.write_text(text.replace("title: 如何在线缴纳话费？", "title: 如何在线缴纳话费（新）？"),
                            encoding="utf-8")
            time.sleep(site_query_recheck() + 0.2)

    before, after = mcp_session(kb, "help-center", [("get_entry", {"id": "pay-bill-online"})] * 2,
                                between=edit)
    assert before.structured["title"] == "如何在线缴纳话费？"
    assert after.structured["title"] == "如何在线缴纳话费（新）？"


def site_query_recheck() -> float:
    from kbctl.assistant.server import RECHECK_SECONDS

    return RECHECK_SECONDS


def test_faq_and_rag_channels_are_served_with_their_sites_urls(kb):
    faq, rag = (mcp_session(kb, name, [("search", {"query": "话费", "limit": 1})])[0]
                for name in ("faq-bot", "assistant"))
    assert faq.structured["results"][0]["url"] == "https://help.example.com/zh-CN/pay-bill-online/"
    assert rag.structured["results"][0]["id"] == "pay-bill-online"


@pytest.mark.parametrize(("channel", "words"), [("hotline", "is of kind ivr"), ("nope", "not configured")])
def test_a_channel_it_cannot_serve_is_a_usage_error(kb, channel, words):
    result = run_cli("--root", str(kb), "mcp", "--channel", channel)
    assert result.code == 2 and words in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_http_address_is_a_usage_error(kb):
    result = run_cli("--root", str(kb), "mcp", "--channel", "help-center", "--http", "localhost:http")
    assert result.code == 2 and "HOST:PORT" in result.stderr


# -- the site's ranking, in Python and in search.js ---------------------------------------------

NODE_SEARCH = """
const fs = require("fs"), vm = require("vm");
global.window = {};
global.document = {readyState: "complete", getElementById: () => null};
const [script, index, queries] = process.argv.slice(1);
vm.runInThisContext(fs.readFileSync(index, "utf8"));
vm.runInThisContext(fs.readFileSync(script, "utf8"));
const idx = Object.values(window.KBCTL_SEARCH)[0];
const out = JSON.parse(queries).map(q => window.kbctlSearch.search(idx, q).hits.map(
  h => [idx.docs[h.doc][0].split("/")[0], h.score]));
console.log(JSON.stringify(out));
"""

QUERIES = {"zh-CN": ["话费", "缴纳话费", "携号转网", "密码", "卡", "国际漫游 资费", "5G套餐"],
           "en-US": ["pay bill", "password", "roaming charges", "sim", "the", "payments online"]}


def test_the_python_ranking_is_the_site_search_ranking(kb, tmp_path):
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("node is needed to run site/search.js")
        pytest.skip("node is not installed")
    out = tmp_path / "out"
    assert run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--channel", "help-center",
                   "--out", str(out)).code == 0
    calls = [("search", {"query": q, "locale": locale, "limit": 50})
             for locale, queries in QUERIES.items() for q in queries]
    answers = iter(mcp_session(kb, "help-center", calls))
    compared = 0
    for locale, queries in QUERIES.items():
        index = out / "help-center" / "assets" / f"search-index.{locale}.js"
        proc = subprocess.run([node, "-e", NODE_SEARCH, str(REPO / "site" / "search.js"), str(index),
                               json.dumps(queries)], capture_output=True, text=True, check=True)
        for query, js_hits in zip(queries, json.loads(proc.stdout), strict=True):
            ours = next(answers).structured["results"]
            assert [r["id"] for r in ours] == [doc for doc, _ in js_hits], query
            assert [r["score"] for r in ours] == [round(score, 6) for _, score in js_hits], query
            compared += len(js_hits)
    assert compared > 20  # the queries find entries: the comparison compares something


def test_the_ranking_constants_are_those_of_search_js():
    script = (REPO / "site" / "search.js").read_text(encoding="utf-8")
    for name, ours in (("K1", site_query.K1), ("B", site_query.B), ("PREFIX_FACTOR", site_query.PREFIX_FACTOR),
                       ("CHAR_FACTOR", site_query.CHAR_FACTOR), ("MAX_EXPANSIONS", site_query.MAX_EXPANSIONS),
                       ("MAX_RESULTS", site_query.MAX_RESULTS)):
        found = re.search(rf"\b{name} = ([0-9.]+)", script)
        assert found and float(found.group(1)) == ours, name
    assert f"score *= {site_query.TITLE_BONUS}" in script


# -- streamable HTTP ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_streamable_http_answers_a_call(kb):
    import anyio
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "kbctl", "--root", str(kb), "mcp", "--channel",
                               "help-center", "--as-of", AS_OF, "--http", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        found: list = []

        async def call() -> None:
            url = f"http://127.0.0.1:{port}/mcp"
            with anyio.fail_after(60):
                async with streamable_http_client(url) as streams, ClientSession(streams[0], streams[1]) as client:
                    await client.initialize()
                    found.append(await client.call_tool("search", {"query": "话费", "limit": 1}))

        anyio.run(call)
        assert found[0].structured_content["results"][0]["id"] == "pay-bill-online"
    finally:
        server.terminate()
        server.wait(timeout=10)
