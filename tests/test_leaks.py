"""Visibility is a security boundary: canary strings planted in every place content can hide
must never reach a channel whose audience is below them — in any byte of any file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, entry_text, mcp_session, run_cli, write_kb

# Every channel kind and format (CONTRACT 8 included: Markdown copies, llms.txt, chunks,
# Bedrock files, Dialogflow CSV, Azure TSV), so that every file they write is searched.
CONFIG = BASE_CONFIG.replace(
    "faq-bot:      {kind: faq,  audience: public, site: help-center}",
    "faq-bot:      {kind: faq,  audience: public, site: help-center, formats: [json, dialogflow-csv, azure-qna-tsv]}\n"
    "  faq-agents:   {kind: faq,  audience: internal, site: agent-portal, formats: [json, dialogflow-csv, azure-qna-tsv]}\n"
    "  public-rag:   {kind: rag,  audience: public, site: help-center, formats: [jsonl, bedrock]}\n"
    "  assistant:    {kind: rag,  audience: internal, site: agent-portal, formats: [jsonl, bedrock]}")
NEW_FILES = {  # channel -> files CONTRACT 8 adds, which the tests below must have searched
    "help-center": ["llms.txt", "llms-full.txt", "zh-CN/public-entry/index.md"],
    "agent-portal": ["llms.txt", "llms-full.txt", "zh-CN/public-entry/index.md", "zh-CN/canary-internal-entry/index.md"],
    "faq-bot": ["faq.zh-CN.csv", "faq.zh-CN.tsv"],
    "faq-agents": ["faq.zh-CN.csv", "faq.zh-CN.tsv"],
    "public-rag": ["chunks.zh-CN.jsonl", "bedrock/public-entry.md", "bedrock/public-entry.md.metadata.json"],
    "assistant": ["chunks.zh-CN.jsonl", "bedrock/public-entry.md", "bedrock/canary-internal-entry.md.metadata.json"],
}

INTERNAL = ["CANARY-ENTRY-TITLE-INT", "CANARY-ENTRY-BODY-INT", "CANARY-ENTRY-SUMMARY-INT",
            "CANARY-ENTRY-TAG-INT", "CANARY-ENTRY-QUESTION-INT", "CANARY-BLOCK-INT",
            "CANARY-ATTACHMENT-INT", "canary-internal-entry"]
PARTNER = ["CANARY-BLOCK-PARTNER"]
CUSTOMER = ["CANARY-BLOCK-CUSTOMER", "CANARY-ENTRY-CUSTOMER"]
IVR_ONLY = ["CANARY-IVR-SCRIPT"]
UNPUBLISHED = ["CANARY-DRAFT", "CANARY-EXPIRED"]

PUBLIC_BODY = """\
公开内容 [内部条目](kb:canary-internal-entry) 与 [客户条目](kb:customer-entry)。

::: internal
CANARY-BLOCK-INT 坐席提示，附件见[说明](files/CANARY-ATTACHMENT-INT.pdf)。
:::

::: partner
CANARY-BLOCK-PARTNER 代理商提示。
:::

::: customer
CANARY-BLOCK-CUSTOMER 登录客户可见。
:::

::: ivr
CANARY-IVR-SCRIPT 请拨打10000。
:::

<script>alert("CANARY-SCRIPT")</script> [点我](javascript:alert(1))
"""


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("leaks")
    kb = write_kb(root / "kb", {
        "public.md": entry_text(PUBLIC_BODY, id="public-entry", title="公开问题", summary="公开摘要。",
                                related=["canary-internal-entry", "draft-entry"], category="billing/payments",
                                channels=["help-center", "agent-portal", "faq-bot", "hotline", "faq-agents",
                                          "public-rag", "assistant"]),
        "internal.md": entry_text("CANARY-ENTRY-BODY-INT 内部流程。\n", id="canary-internal-entry",
                                  title="CANARY-ENTRY-TITLE-INT", summary="CANARY-ENTRY-SUMMARY-INT",
                                  tags=["CANARY-ENTRY-TAG-INT"], questions=["CANARY-ENTRY-QUESTION-INT"],
                                  visibility="internal", category="billing"),
        "customer.md": entry_text("CANARY-ENTRY-CUSTOMER 客户内容。\n", id="customer-entry",
                                  title="客户问题", visibility="customer"),
        "draft.md": entry_text("CANARY-DRAFT\n", id="draft-entry", title="草稿", status="draft"),
        "expired.md": entry_text("CANARY-EXPIRED\n", id="expired-entry", title="过期活动",
                                 valid_to="2026-01-31"),
    }, config=CONFIG)
    files = kb / "knowledge" / "files"
    files.mkdir()
    (files / "CANARY-ATTACHMENT-INT.pdf").write_bytes(b"%PDF-1.4 CANARY-ATTACHMENT-INT")
    result = run_cli("--root", str(kb), "build", "--as-of", "2026-11-22", "--out", str(root / "out"))
    assert result.code == 0, result.stdout + result.stderr
    return root / "out"


def all_bytes(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.relative_to(folder).as_posix(), p.read_bytes()) for p in sorted(folder.rglob("*"))
            if p.is_file()] + [(p.relative_to(folder).as_posix(), b"") for p in folder.rglob("*")]


def leaks(folder: Path, canaries: list[str]) -> list[tuple[str, str]]:
    """(file, canary) for every canary found in a file's bytes or in a file's name."""
    found = []
    for name, data in all_bytes(folder):
        for canary in canaries:
            if canary.encode() in data or canary in name:
                found.append((name, canary))
    return sorted(set(found))


@pytest.mark.parametrize("channel", sorted(NEW_FILES))
def test_the_new_files_are_there_to_be_searched(out, channel):
    for name in NEW_FILES[channel]:
        assert (out / channel / name).is_file(), f"{channel}/{name}"


@pytest.mark.parametrize("channel", ["help-center", "faq-bot", "hotline", "public-rag"])
def test_public_channels_carry_nothing_above_public(out, channel):
    assert leaks(out / channel, INTERNAL + PARTNER + CUSTOMER + UNPUBLISHED) == []


@pytest.mark.parametrize("channel", ["help-center", "agent-portal", "faq-bot", "faq-agents", "public-rag", "assistant"])
def test_ivr_scripts_reach_only_the_voice_channel(out, channel):
    assert leaks(out / channel, IVR_ONLY) == []


@pytest.mark.parametrize("channel", ["agent-portal", "faq-agents", "assistant"])
def test_internal_channels_carry_no_draft_or_expired_entry(out, channel):
    assert leaks(out / channel, UNPUBLISHED) == []


@pytest.mark.parametrize("channel", ["faq-agents", "assistant"])
def test_internal_ai_channels_carry_internal_content(out, channel):
    found = {canary for _, canary in leaks(out / channel, INTERNAL + PARTNER + CUSTOMER)}
    assert {"CANARY-BLOCK-INT", "CANARY-ENTRY-TITLE-INT", "CANARY-BLOCK-PARTNER"} <= found


def test_the_voice_channel_speaks_the_script(out):
    assert leaks(out / "hotline", IVR_ONLY)


def test_the_agent_portal_carries_internal_content(out):
    found = {canary for _, canary in leaks(out / "agent-portal", INTERNAL + PARTNER + CUSTOMER)}
    assert {"CANARY-BLOCK-INT", "CANARY-ENTRY-TITLE-INT", "CANARY-BLOCK-PARTNER",
            "CANARY-BLOCK-CUSTOMER", "CANARY-ENTRY-CUSTOMER"} <= found
    assert leaks(out / "agent-portal", UNPUBLISHED) == []


@pytest.mark.parametrize("channel", ["help-center", "agent-portal", "faq-bot", "hotline", "faq-agents",
                                     "public-rag", "assistant"])
def test_no_content_script_is_ever_emitted(out, channel):
    for name, data in all_bytes(out / channel):
        text = data.decode("utf-8", errors="replace").lower()
        assert "canary-script" not in text, name
        assert "javascript:" not in text, name


# -- a theme's override templates (CONTRACT 10) see only what the page shows -------------------

DUMP_ALL = """{% extends "base.html" %}
{% block main %}
<pre>{{ entry }} {{ entry.id }} {{ entry.title }} {{ entry.summary }} {{ entry.questions }} {{ entry.tags }}
{{ related }} {{ backlinks }} {{ translations }} {{ tags }} {{ crumbs }} {{ answer }} {{ jsonld }} {{ theme }}</pre>
{% endblock %}
"""
THEMED = CONFIG.replace(
    "help-center:  {kind: site, audience: public}",
    "help-center:  {kind: site, audience: public, theme: {templates: brand, footer: \"Hotline {{ hotline }}\"}}")


@pytest.fixture(scope="module")
def themed_out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("themed-leaks")
    kb = write_kb(root / "kb", {
        "public.md": entry_text(PUBLIC_BODY, id="public-entry", title="公开问题", summary="公开摘要。",
                                related=["canary-internal-entry"], category="billing/payments"),
        "internal.md": entry_text("CANARY-ENTRY-BODY-INT [公开](kb:public-entry)\n", id="canary-internal-entry",
                                  title="CANARY-ENTRY-TITLE-INT", summary="CANARY-ENTRY-SUMMARY-INT",
                                  visibility="internal", category="billing"),
        "customer.md": entry_text("CANARY-ENTRY-CUSTOMER 客户内容。\n", id="customer-entry",
                                  title="客户问题", visibility="customer"),
    }, config=THEMED.replace("channels:", 'facts:\n  hotline: {value: "10000"}\nchannels:'))
    (kb / "knowledge" / "files").mkdir()
    (kb / "knowledge" / "files" / "CANARY-ATTACHMENT-INT.pdf").write_bytes(b"%PDF-1.4 CANARY-ATTACHMENT-INT")
    (kb / "brand").mkdir()
    (kb / "brand" / "entry.html").write_text(DUMP_ALL, encoding="utf-8")
    result = run_cli("--root", str(kb), "build", "--as-of", "2026-11-22", "--out", str(root / "out"),
                     "--channel", "help-center")
    assert result.code == 0, result.stdout + result.stderr
    return root / "out" / "help-center"


def test_an_override_that_prints_every_value_shows_nothing_above_public(themed_out):
    page = (themed_out / "zh-CN" / "public-entry" / "index.html").read_text(encoding="utf-8")
    assert "EntryValues(" in page and "Hotline 10000" in page  # the dump did run
    assert leaks(themed_out, INTERNAL + PARTNER + CUSTOMER + IVR_ONLY + UNPUBLISHED) == []


# -- kbctl mcp (CONTRACT 9): every answer, error and listing ---------------------------------

ASKED_IDS = ["public-entry", "canary-internal-entry", "customer-entry", "draft-entry", "expired-entry"]
CANARY_QUERIES = [*INTERNAL, *PARTNER, *CUSTOMER, *IVR_ONLY, *UNPUBLISHED, "公开", "内部流程", "草稿"]


def mcp_answers(out: Path, channel: str) -> list[tuple[str, str]]:
    """(what was asked, the whole answer as text) for every tool over channel's MCP server."""
    calls = [("search", {"query": query, "limit": 50}) for query in CANARY_QUERIES]
    calls += [("get_entry", {"id": entry_id}) for entry_id in ASKED_IDS]
    calls += [("list_categories", {}), ("list_categories", {"locale": "zh-CN"})]
    answers = mcp_session(out.parent / "kb", channel, calls)
    return [(json.dumps(args, ensure_ascii=False),
             answer.text + json.dumps(answer.structured, ensure_ascii=False))
            for (_, args), answer in zip(calls, answers, strict=True)]


def mcp_leaks(out: Path, channel: str, canaries: list[str]) -> list[tuple[str, str]]:
    """(call, canary) for each canary in an answer; an id the client asked for, echoed in the
    "not found" error, is the client's own words and no leak."""
    return sorted((asked, canary) for asked, answer in mcp_answers(out, channel) for canary in canaries
                  if canary in answer.replace(f"'{json.loads(asked).get('id')}'", "''"))


@pytest.mark.parametrize("channel", ["help-center", "faq-bot", "public-rag"])
def test_public_mcp_servers_answer_nothing_above_public(out, channel):
    assert mcp_leaks(out, channel, INTERNAL + PARTNER + CUSTOMER + UNPUBLISHED + IVR_ONLY) == []


@pytest.mark.parametrize("channel", ["agent-portal", "assistant"])
def test_internal_mcp_servers_answer_internal_content_but_no_script_draft_or_expired(out, channel):
    assert mcp_leaks(out, channel, UNPUBLISHED + IVR_ONLY) == []
    found = {canary for _, canary in mcp_leaks(out, channel, INTERNAL)}
    assert {"CANARY-BLOCK-INT", "CANARY-ENTRY-TITLE-INT"} <= found
