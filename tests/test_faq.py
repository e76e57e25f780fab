"""The faq channel: `faq.<locale>.json` against its schema, content rules, URLs, golden output.

Builds tests/fixtures/channels-kb (copied to a temporary folder, outside any git repository,
so `updated` never depends on commit dates) through the real CLI.

Golden files: tests/golden/faq/ holds the expected faq-bot folder. After an intended change,
regenerate with `KBCTL_UPDATE_GOLDEN=1 python -m pytest tests/test_faq.py` and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import BASE_CONFIG, REPO, assert_golden, entry_text, run_cli, write_kb

FIXTURE = REPO / "tests" / "fixtures" / "channels-kb"
GOLDEN = REPO / "tests" / "golden" / "faq"
AS_OF = "2026-11-22"
CANARIES = ("CANARY-INTERNAL-91b2", "CANARY-INTERNAL-5d20", "CANARY-IVR-44c1",
            "CANARY-DRAFT-0a9e", "CANARY-EXPIRED-c3d1")


def build(kb: Path, out: Path, *channels: str) -> Path:
    args = [arg for name in channels for arg in ("--channel", name)]
    # cwd=REPO: `python -m kbctl` finds the package even when it is not installed.
    result = run_cli("--root", str(kb), "build", *args, "--as-of", AS_OF, "--out", str(out), cwd=REPO)
    assert result.code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    kb = tmp_path_factory.mktemp("faq") / "kb"
    shutil.copytree(FIXTURE, kb)
    return build(kb, kb / "dist", "faq-bot", "faq-agents")


def load(folder: Path, locale: str) -> dict:
    return json.loads((folder / f"faq.{locale}.json").read_text(encoding="utf-8"))


def records(folder: Path, locale: str) -> dict[str, dict]:
    return {record["id"]: record for record in load(folder, locale)["entries"]}


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((REPO / "schemas" / "faq.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


# -- shape -------------------------------------------------------------------------------

@pytest.mark.parametrize("channel", ["faq-bot", "faq-agents"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_files_validate_against_the_schema(out, validator, channel, locale):
    errors = [e.message for e in validator.iter_errors(load(out / channel, locale))]
    assert errors == []


@pytest.mark.parametrize("change, problem", [
    (lambda r: r.update(extra=1), "an unknown key"),
    (lambda r: r.pop("answer"), "a missing key"),
    (lambda r: r.update(updated="2026-13-01"), "an impossible date"),
    (lambda r: r.update(url="not a url"), "a url that is no URI"),
    (lambda r: r.update(summary=""), "an empty summary instead of null"),
])
def test_the_schema_is_strict(out, validator, change, problem):
    data = load(out / "faq-bot", "zh-CN")
    change(data["entries"][0])
    assert not validator.is_valid(data), problem


def test_files_are_utf8_indented_with_a_final_newline(out):
    text = (out / "faq-bot" / "faq.zh-CN.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and "\n  \"entries\"" in text
    assert "如何缴纳话费" in text  # not \u escapes


# -- which entries -----------------------------------------------------------------------

def test_exactly_the_eligible_entries_by_locale_in_id_order(out):
    zh = [r["id"] for r in load(out / "faq-bot", "zh-CN")["entries"]]
    en = [r["id"] for r in load(out / "faq-bot", "en-US")["entries"]]
    # Not: agent-refund-process (internal), draft-entry (draft), old-promo (expired).
    assert zh == ["account-faq", "auto-pay", "hostile-title", "no-signal", "pay-bill", "refund-policy"]
    assert en == ["no-signal-en", "pay-bill-en"]


def test_an_internal_faq_channel_carries_internal_content(out):
    agents = records(out / "faq-agents", "zh-CN")
    assert "agent-refund-process" in agents
    assert "CANARY-INTERNAL-91b2" in agents["pay-bill"]["answer"]
    assert agents["pay-bill"]["url"] == "https://agents.example.com/zh-CN/pay-bill/"
    assert "CANARY-IVR-44c1" not in json.dumps(agents, ensure_ascii=False)


def test_a_locale_without_entries_still_gets_its_file(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a", title="问题A")})
    data = load(build(kb, tmp_path / "out", "faq-bot") / "faq-bot", "en-US")
    assert data == {"locale": "en-US", "entries": []}


# -- content -----------------------------------------------------------------------------

def test_fields_of_an_entry(out):
    record = records(out / "faq-bot", "zh-CN")["pay-bill"]
    assert record["question"] == "如何缴纳话费？"
    assert record["questions"] == ["怎么交话费", "网上交费"]
    assert record["summary"] == "在App选择“缴费充值”即可。"
    assert record["answer"] == "缴费方式\n打开 App，选择缴费充值。也可以开通自动缴费。"
    assert (record["category"], record["category_title"]) == ("billing/payments", "缴费")
    assert record["tags"] == ["缴费", "话费"]
    assert record["updated"] == "2026-09-01"
    # related: agent-refund-process (internal) and draft-entry (draft) are not carried.
    assert record["related"] == ["auto-pay"]


def test_missing_values_are_null(out):
    zh, en = records(out / "faq-bot", "zh-CN"), records(out / "faq-bot", "en-US")
    assert zh["refund-policy"]["summary"] is None
    assert (zh["hostile-title"]["category"], zh["hostile-title"]["category_title"]) == (None, None)
    assert en["no-signal-en"]["updated"] is None


def test_the_answer_is_plain_text_without_raw_html(out):
    for record in load(out / "faq-bot", "zh-CN")["entries"]:
        assert not re.search(r"<[A-Za-z/!]", record["answer"]), record["id"]
        assert "**" not in record["answer"] and "alert" not in record["answer"]


def test_answer_html_is_sanitized(out):
    for record in load(out / "faq-bot", "zh-CN")["entries"]:
        html = record["answer_html"].lower()
        for bad in ("<script", "javascript:", "onerror", "<img"):
            assert bad not in html, (record["id"], bad)


def test_links_to_entries_not_carried_are_plain_text(out):
    html = records(out / "faq-bot", "zh-CN")["refund-policy"]["answer_html"]
    assert "<p>多缴的话费可以申请退款，具体见内部退款流程。</p>" in html
    assert 'href="https://www.example.com/refund"' in html  # external links stay


def test_no_canary_in_any_file(out):
    for path in (out / "faq-bot").iterdir():
        text = path.read_text(encoding="utf-8")
        for canary in CANARIES:
            assert canary not in text, (path.name, canary)
        assert "agent-refund-process" not in text and "agents.example.com" not in text


# -- urls --------------------------------------------------------------------------------

def test_urls_point_to_the_named_site(out):
    zh = records(out / "faq-bot", "zh-CN")
    assert zh["pay-bill"]["url"] == "https://help.example.com/zh-CN/pay-bill/"
    en = records(out / "faq-bot", "en-US")
    assert en["pay-bill-en"]["url"] == "https://help.example.com/en-US/pay-bill-en/"
    assert zh["account-faq"]["url"] is None  # help-center does not carry it


def test_links_to_carried_entries_are_absolute_with_their_anchor(out):
    html = records(out / "faq-bot", "zh-CN")["auto-pay"]["answer_html"]
    assert 'href="https://help.example.com/zh-CN/pay-bill/#%E7%BC%B4%E8%B4%B9%E6%96%B9%E5%BC%8F"' in html


@pytest.mark.parametrize("config_change, expected", [
    # No `site` option: the first public site channel.
    (lambda c: c.replace(", site: help-center", ""), "https://help.example.com/zh-CN/a/"),
    # No base_url anywhere: no URL, and links to entries become plain text.
    (lambda c: c.replace("base_url: https://help.example.com\n", ""), None),
])
def test_url_without_site_option_or_base_url(tmp_path, config_change, expected):
    entries = {"a.md": entry_text("见[B](kb:b)。\n", id="a", title="问题A"),
               "b.md": entry_text(id="b", title="问题B")}
    kb = write_kb(tmp_path / "kb", entries, config_change(BASE_CONFIG))
    record = records(build(kb, tmp_path / "out", "faq-bot") / "faq-bot", "zh-CN")["a"]
    assert record["url"] == expected
    assert ("<a href" in record["answer_html"]) is (expected is not None)


# -- manifest and golden -----------------------------------------------------------------

def test_manifest_maps_each_entry_to_its_locale_file(out):
    manifest = json.loads((out / "faq-bot" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"]["pay-bill"] == ["faq.zh-CN.json"]
    assert manifest["entries"]["pay-bill-en"] == ["faq.en-US.json"]
    assert len(manifest["entries"]) == 8
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / "faq-bot" / name).read_bytes()).hexdigest() == digest


def test_output_matches_the_golden_files(out):
    assert_golden(out / "faq-bot", GOLDEN)


