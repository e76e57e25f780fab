"""The rag channel kind (CONTRACT 8): chunks.<locale>.jsonl against schemas/chunk.schema.json,
the chunking rules, URLs to the site, Bedrock files, golden output, and incremental builds.

Fixture: tests/fixtures/rag-kb (channels `assistant`, internal, and `public-bot`, public).
Golden files: tests/golden/rag/<channel>/; after an intended change regenerate with
`KBCTL_UPDATE_GOLDEN=1 python -m pytest tests/test_rag.py` and review the diff.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest
from conftest import BASE_CONFIG, REPO, assert_golden, built_fixture, entry_text, run_cli, write_kb
from test_incremental import assert_same_as_cold, build, remade

FIXTURE = REPO / "tests" / "fixtures" / "rag-kb"
GOLDEN = REPO / "tests" / "golden" / "rag"
AS_OF = "2026-11-22"
SCHEMA = json.loads((REPO / "schemas" / "chunk.schema.json").read_text("utf-8"))
CHANNELS = ("assistant", "public-bot")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = built_fixture(tmp_path_factory, "rag-kb", AS_OF)
    return folder


def chunks_of(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("chunks.*.jsonl"))
            for line in path.read_text("utf-8").splitlines()]


@pytest.mark.parametrize("channel", CHANNELS)
def test_output_matches_the_golden_files(out, channel):
    assert_golden(out / channel, GOLDEN / channel)


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_chunk_is_valid_against_the_schema(out, channel):
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    found = chunks_of(out / channel)
    assert found
    for chunk in found:
        validator.validate(chunk)
        assert list(chunk) == list(SCHEMA["required"])  # every field, in the contract's order


def test_chunks_split_at_headings_with_their_paths_and_anchors(out):
    guide = [c for c in chunks_of(out / "assistant") if c["entry"] == "pay-guide"]
    assert [c["id"] for c in guide] == [f"pay-guide#{n}" for n in range(len(guide))]
    assert [c["headings"] for c in guide] == [[], ["缴费方式"], ["常见问题"], ["常见问题", "查询余额"], ["缴费方式"]]
    page = (out / "agent-portal" / "zh-CN" / "pay-guide" / "index.html").read_text("utf-8")
    for chunk in guide[1:]:
        url, _, anchor = chunk["url"].partition("#")
        assert url == "https://agents.example.com/zh-CN/pay-guide/"
        assert f'id="{unquote(anchor)}"' in page  # the anchor is the page's heading id
    assert guide[4]["url"].endswith("-1")  # a repeated heading, numbered as the page numbers it
    assert guide[0]["url"] == "https://agents.example.com/zh-CN/pay-guide/"


def test_chunk_zero_starts_with_title_and_summary(out):
    for chunk in chunks_of(out / "assistant"):
        if chunk["id"].endswith("#0"):
            assert chunk["text"].startswith(f"# {chunk['title']}\n\n")
    guide = next(c for c in chunks_of(out / "assistant") if c["id"] == "pay-guide#0")
    assert guide["text"].startswith("# 如何缴纳话费？\n\n登录 App，选择“缴费”即可。\n\n缴费前")


def test_fields_follow_the_entry(out):
    guide = next(c for c in chunks_of(out / "assistant") if c["id"] == "pay-guide#0")
    assert guide["category_titles"] == ["账单与缴费", "缴费"] and guide["category"] == "billing/payments"
    assert (guide["type"], guide["owner"], guide["tags"]) == ("howto", "billing-team", ["缴费", "话费"])
    assert (guide["updated"], guide["review_due"], guide["valid_to"]) == ("2026-09-01", "2027-02-28", "2027-06-30")
    assert guide["visibility"] == "internal"  # it holds an internal block
    levels = {c["id"]: c["visibility"] for c in chunks_of(out / "assistant")}
    assert levels["pay-guide#1"] == "public" and levels["pay-guide#3"] == "partner"
    assert levels["agent-secret#0"] == "internal"  # the entry's own level


def test_links_point_to_the_site_or_become_text(out):
    public = next(c for c in chunks_of(out / "public-bot") if c["id"] == "pay-guide#0")
    assert "[网络故障](https://help.example.com/zh-CN/no-signal/)" in public["text"]
    assert "内部流程" in public["text"] and "agent-secret" not in public["text"]
    internal = next(c for c in chunks_of(out / "assistant") if c["id"] == "pay-guide#0")
    assert "[内部流程](https://agents.example.com/zh-CN/agent-secret/)" in internal["text"]


def test_no_site_means_no_urls(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text("## H\n\n[b](kb:b)\n", id="a", title="A"),
                                    "b.md": entry_text("x\n", id="b", title="B")},
                  config=_config("bot: {kind: rag, audience: public}"))
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert result.code == 0, result.stderr
    found = chunks_of(tmp_path / "out" / "bot")
    assert found and all(c["url"] is None for c in found)
    assert not (tmp_path / "out" / "bot" / "bedrock").exists()  # formats default to [jsonl]
    assert "](" not in "".join(c["text"] for c in found)


def _config(channel_line: str) -> str:
    return BASE_CONFIG.replace("channels:\n", f"channels:\n  {channel_line}\n")


# -- sizes: split between blocks, never inside a table, list item or code block ----------------
ITEMS = [f"- 第{n}项：" + "内容" * 30 for n in range(8)]
TABLE = "| a | b |\n| --- | --- |\n" + "\n".join(f"| 行{n} | " + "格" * 40 + " |" for n in range(8))
CODE = "```\n" + "\n".join("code line " * 5 for _ in range(8)) + "\n```"
LONG_PARAGRAPH = "长句。" * 120
SIZED_BODY = "\n\n".join(["开头。", *ITEMS, TABLE, "中间的段落。" * 10, CODE, LONG_PARAGRAPH,
                          "## 小节", "短。", "1. 一\n2. 二\n3. 三"]) + "\n"


@pytest.fixture(scope="module")
def sized(tmp_path_factory) -> list[dict]:
    root = tmp_path_factory.mktemp("sized")
    kb = write_kb(root / "kb", {"s.md": entry_text(SIZED_BODY, id="s", title="尺寸", summary="摘要。")},
                  config=_config("bot: {kind: rag, audience: public, max_chunk_chars: 200}"))
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(root / "out"))
    assert result.code == 0, result.stderr
    return chunks_of(root / "out" / "bot")


def test_chunks_stay_under_the_limit_unless_one_block_is_longer(sized):
    units = [*ITEMS, TABLE, CODE, LONG_PARAGRAPH]
    for chunk in sized:
        if len(chunk["text"]) > 200:
            assert chunk["text"] in units, chunk["text"][:80]
    assert len(sized) > 8


def test_no_table_list_item_or_code_block_is_cut(sized):
    texts = [c["text"] for c in sized]
    for unit in [*ITEMS, TABLE, CODE]:
        assert sum(unit in text for text in texts) == 1, unit[:40]
    for text in texts:
        assert text.count("```") % 2 == 0
    assert "## 小节\n\n短。\n\n1. 一\n2. 二\n3. 三" in texts  # a heading starts a chunk; tight lists stay tight


def test_every_block_is_in_some_chunk_in_order(sized):
    joined = "\n\n".join(c["text"] for c in sized)
    positions = [joined.index(piece) for piece in ["开头。", ITEMS[0], ITEMS[-1], TABLE, CODE, LONG_PARAGRAPH, "## 小节"]]
    assert positions == sorted(positions)


# -- Bedrock ---------------------------------------------------------------------------------
@pytest.mark.parametrize("channel", CHANNELS)
def test_bedrock_files_are_documents_with_flat_metadata_sidecars(out, channel):
    folder = out / channel / "bedrock"
    documents = sorted(p.name for p in folder.glob("*.md"))
    sidecars = sorted(p.name for p in folder.glob("*.md.metadata.json"))
    assert documents and sidecars == [f"{name}.metadata.json" for name in documents]
    for sidecar in sidecars:
        data = json.loads((folder / sidecar).read_text("utf-8"))
        assert list(data) == ["metadataAttributes"]
        attributes = data["metadataAttributes"]
        assert set(attributes) <= {"id", "locale", "category", "tags", "type", "visibility", "updated", "valid_to", "url"}
        assert {"id", "locale", "type", "visibility"} <= set(attributes)
        for value in attributes.values():
            assert value is not None and value != []
            assert isinstance(value, str | int | float | bool) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value))
    no_signal = json.loads((folder / "no-signal.md.metadata.json").read_text("utf-8"))["metadataAttributes"]
    assert "valid_to" not in no_signal and "tags" not in no_signal  # no value: left out


# -- the audience boundary -----------------------------------------------------------------------
ABOVE_PUBLIC = ("CANARY-RAG-INTERNAL-51aa", "CANARY-RAG-PARTNER-3b9d", "CANARY-RAG-TITLE-INT-90ff",
                "CANARY-RAG-SUMMARY-INT-1d2e", "CANARY-RAG-BODY-INT-44ab", "agent-secret")
NEVER = ("CANARY-RAG-IVR-7c0e", "CANARY-RAG-DRAFT-6a6a", "CANARY-RAG-EXPIRED-8e8e", "draft-thing", "old-promo")


def _bytes(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.relative_to(folder).as_posix(), p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()]


def test_public_rag_carries_nothing_above_public(out):
    for name, data in _bytes(out / "public-bot"):
        for canary in ABOVE_PUBLIC + NEVER:
            assert canary.encode() not in data and canary not in name, (name, canary)


def test_internal_rag_never_carries_ivr_drafts_or_expired(out):
    files = _bytes(out / "assistant")
    for name, data in files:
        for canary in NEVER:
            assert canary.encode() not in data and canary not in name, (name, canary)
    everything = b"".join(data for _, data in files)
    assert b"CANARY-RAG-INTERNAL-51aa" in everything and b"CANARY-RAG-PARTNER-3b9d" in everything


# -- incremental builds ------------------------------------------------------------------------
def test_an_entry_edit_remakes_its_chunks_and_bedrock_files_only(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE, kb, ignore=shutil.ignore_patterns(".kbctl"))
    out = tmp_path / "out"
    build(kb, out)
    guide = kb / "knowledge" / "pay-guide.md"
    guide.write_text(guide.read_text("utf-8").replace("重复的标题", "改过的重复标题"), "utf-8")
    made = {path for path in remade(build(kb, out)) if re.match(r"(assistant|public-bot)/", path)}
    # (its metadata sidecar is made again to the same bytes, so it stays as it is)
    assert made == {f"{channel}/{path}" for channel in CHANNELS
                    for path in ("chunks.zh-CN.jsonl", "bedrock/pay-guide.md")}
    assert_same_as_cold(kb, out, tmp_path)
    unpublished = kb / "knowledge" / "no-signal.md"
    unpublished.write_text(unpublished.read_text("utf-8").replace("status: published", "status: archived"), "utf-8")
    build(kb, out)
    assert not (out / "assistant" / "bedrock" / "no-signal.md").exists()
    assert_same_as_cold(kb, out, tmp_path)


def test_max_chunk_chars_is_checked(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a")},
                  config=_config("bot: {kind: rag, audience: public, max_chunk_chars: 10}"))
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert result.code == 2 and "kbctl.yaml" in result.stdout + result.stderr
