"""Reusable facts (CONTRACT section 6): `{{ name }}` filled in on every surface, literal in
code, spoken by the IVR, checked, reviewed, and rebuilt exactly where it shows."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import (
    BASE_CONFIG,
    REPO,
    commit_all,
    entry_text,
    run_cli,
    sample_kb_repo,
    tree,
    write_kb,
)
from test_incremental import assert_same_as_cold, build, remade

from kbctl.facts import Fact, Spoken, fill_markdown, spoken_pieces

AS_OF = "2026-11-22"
FACTS = """\
facts:
  hotline: {value: "10000", say_as: telephone}
  day-pass:
    value: {zh-CN: 每天25元, en-US: CNY 25 a day}
    spoken: {zh-CN: 每天二十五元}
    owner: billing-team
  odd: "5*2_<b>x</b>"
  unused-one: "1"
"""
BODY = """\
请拨打 {{ hotline }}，或{{hotline}}。写法是 `{{ in-code }}`。

日包 {{ day-pass }}，另有 {{ odd }}。

```
dial {{ in-code }}
```

::: ivr
请拨打 {{ hotline }}，日包{{ day-pass }}。
:::
"""
VXML = "{http://www.w3.org/2001/vxml}"


def fact_kb(root: Path, body: str = BODY, config_extra: str = FACTS, **fields) -> Path:
    meta = {"title": "热线 {{ hotline }}", "summary": "拨打 {{ hotline }} 咨询",
            "category": "billing", "channels": ["help-center", "faq-bot", "hotline"],
            "questions": ["怎么打 {{ hotline }}？"], "last_reviewed": "2026-11-01", **fields}
    return write_kb(root, {"billing/a.md": entry_text(body, **meta)}, BASE_CONFIG + config_extra)


@pytest.fixture
def built(tmp_path) -> Path:
    kb = fact_kb(tmp_path / "kb")
    out = tmp_path / "out"
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))
    assert result.code == 0, result.stdout + result.stderr
    return out


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- every surface -------------------------------------------------------------------------------

def test_site_page_shows_the_values_and_keeps_code_literal(built):
    page = read(built / "help-center/zh-CN/e1/index.html")
    assert "<title>热线 10000" in page and 'content="拨打 10000 咨询"' in page
    assert "请拨打 10000，或10000。" in page
    assert "<code>{{ in-code }}</code>" in page  # the code span keeps the braces
    assert "dial {{ in-code }}" in page  # and so does the code block
    assert "每天25元" in page
    # A value's Markdown characters are text: no emphasis, no HTML element from a fact.
    assert "5*2_&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_search_index_faq_and_sitemap_carry_the_values(built):
    index = read(built / "help-center/assets/search-index.zh-CN.js")
    assert '"热线 10000","拨打 10000 咨询"' in index and '"terms":["10000"' in index and "{{" not in index
    faq = json.loads(read(built / "faq-bot/faq.zh-CN.json"))
    [item] = faq["entries"] if "entries" in faq else faq["items"]
    flat = json.dumps(item, ensure_ascii=False)
    assert "热线 10000" in flat and "怎么打 10000？" in flat and "拨打 10000 咨询" in flat
    assert "{{ in-code }}" in flat and "{{hotline}}" not in flat and "{{ day-pass }}" not in flat


def test_no_output_holds_a_fact_use_outside_code(built):
    for path in sorted(built.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".json", ".js", ".vxml", ".xml", ".txt", ".md", ".jsonl"):
            text = read(path)
            assert not re.search(r"\{\{\s*(hotline|day-pass|odd)\s*\}\}", text), path


def test_ivr_speaks_the_spoken_form_with_say_as(built):
    root = ET.parse(built / "hotline/zh-CN/entry-e1.vxml").getroot()
    prompt = root.find(f".//{VXML}form//{VXML}prompt")
    assert prompt is not None
    said = "".join(prompt.itertext())
    assert said == "请拨打 10000，日包每天二十五元。"
    [say_as] = prompt.findall(f"{VXML}say-as")
    assert say_as.get("interpret-as") == "telephone" and say_as.text == "10000"
    menu = read(built / "hotline/zh-CN/menu-billing.vxml")
    assert '热线 <say-as interpret-as="telephone">10000</say-as>' in menu


def test_english_entry_takes_the_english_value_and_falls_back_to_value_when_spoken(tmp_path):
    kb = fact_kb(tmp_path / "kb", body="Pass {{ day-pass }}.\n\n::: ivr\nThe pass is {{ day-pass }}.\n:::\n",
                 locale="en-US", title="Roaming", summary="Day pass {{ day-pass }}")
    out = tmp_path / "out"
    assert run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out)).code == 0
    assert "Pass CNY 25 a day." in read(out / "help-center/en-US/e1/index.html")
    prompt = ET.parse(out / "hotline/en-US/entry-e1.vxml").getroot().find(f".//{VXML}form//{VXML}prompt")
    assert prompt is not None and "".join(prompt.itertext()) == "The pass is CNY 25 a day."


# -- rules -----------------------------------------------------------------------------------------

def test_unknown_fact_and_missing_locale_are_errors_at_the_line_of_the_use(tmp_path):
    config = FACTS + "  zh-only: {value: {zh-CN: 仅中文}}\n"
    body = "第一行\n\n第三行 {{ nope }}\n\n{{ zh-only }}\n\n::: ivr\n说 {{ missing-in-ivr }}\n:::\n"
    kb = fact_kb(tmp_path / "kb", body=body, config_extra=config, locale="en-US",
                 title="T {{ Hotline }}", questions=["q {{ zh-only }}?"])
    result = run_cli("--root", str(kb), "validate", "--format", "json")
    assert result.code == 1
    found = sorted((d["line"], d["message"]) for d in result.json()["diagnostics"] if d["rule"] == "unknown-fact")
    text = (kb / "knowledge/billing/a.md").read_text(encoding="utf-8").split("\n")
    line_of = {needle: text.index(next(t for t in text if needle in t)) + 1
               for needle in ("{{ Hotline }}", "q {{ zh-only }}", "{{ nope }}", "\n{{ zh-only }}"[1:], "{{ missing-in-ivr }}")}
    assert found == sorted([
        (line_of["{{ Hotline }}"], "{{ Hotline }} names no fact in kbctl.yaml"),
        (line_of["q {{ zh-only }}"], "fact 'zh-only' has no value for locale en-US"),
        (line_of["{{ nope }}"], "{{ nope }} names no fact in kbctl.yaml"),
        (next(i + 1 for i, t in enumerate(text) if t == "{{ zh-only }}"), "fact 'zh-only' has no value for locale en-US"),
        (line_of["{{ missing-in-ivr }}"], "{{ missing-in-ivr }} names no fact in kbctl.yaml"),
    ])
    assert all(d["code"] == "KB022" for d in result.json()["diagnostics"] if d["rule"] == "unknown-fact")


def test_a_use_inside_code_needs_no_fact(tmp_path):
    kb = fact_kb(tmp_path / "kb", body="`{{ nope }}`\n\n```\n{{ nope }}\n```\n\n    {{ nope }}\n",
                 title="T", summary="S", questions=["q"])
    result = run_cli("--root", str(kb), "validate")
    assert result.code == 0, result.stdout


def test_fact_unused_is_a_health_note_on_kbctl_yaml(tmp_path):
    kb = fact_kb(tmp_path / "kb")
    result = run_cli("--root", str(kb), "health", "--as-of", AS_OF, "--format", "json")
    notes = [d for d in result.json()["diagnostics"] if d["rule"] == "fact-unused"]
    config_lines = (kb / "kbctl.yaml").read_text(encoding="utf-8").split("\n")
    assert [(d["path"], d["line"], d["severity"], d["message"]) for d in notes] == [
        ("kbctl.yaml", config_lines.index('  unused-one: "1"') + 1, "info", "fact 'unused-one' is used by no entry")]


def test_rules_document_both():
    listing = run_cli("rules").stdout
    assert "unknown-fact" in listing and "fact-unused" in listing
    assert "names no fact" in run_cli("rules", "unknown-fact").stdout


@pytest.mark.parametrize("facts, message", [
    ("facts:\n  hotline: {value: \"1\", owner: nobody}\n", "owner 'nobody' is not a key of owners"),
    ("facts:\n  hotline: {value: {fr-FR: un}}\n", "locale 'fr-FR' is not in locales"),
    ("facts:\n  Hotline: \"1\"\n", "facts"),
    ("facts:\n  hotline: \"{{ other }}\"\n", "facts/hotline"),
    ("facts:\n  hotline: {spoken: \"1\"}\n", "facts/hotline"),
])
def test_bad_facts_are_one_line_usage_errors(tmp_path, facts, message):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text()}, BASE_CONFIG + facts)
    result = run_cli("--root", str(kb), "validate")
    assert result.code == 2
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("kbctl: kbctl.yaml:") or "kbctl.yaml:" in line
    assert message in line


def test_ivr_length_is_judged_after_filling_in(tmp_path):
    long = "，".join(["一二三四五六七八九十"] * 20)
    config = FACTS + f"  long-text: {{value: 短, spoken: {{zh-CN: \"{long}\"}}}}\n"
    kb = fact_kb(tmp_path / "kb", body="正文 {{ long-text }}\n\n::: ivr\n请听 {{ long-text }}\n:::\n",
                 config_extra=config)
    result = run_cli("--root", str(kb), "validate", "--format", "json")
    assert "ivr-too-long" in {d["rule"] for d in result.json()["diagnostics"]}


# -- the functions behind them ---------------------------------------------------------------------

def test_spoken_pieces_and_markdown_escapes():
    facts = {"n": Fact("n", {"*": "15"}, {}, None), "t": Fact("t", {"*": "10000"}, {}, "telephone")}
    assert spoken_pieces("拨 {{t}} 等 {{ n }} 天", "zh-CN", facts) == [
        "拨 ", Spoken("10000", "telephone"), " 等 ", Spoken("15", None), " 天"]
    # At a line start "15." would open an ordered list; the dot is escaped there only.
    assert fill_markdown("{{ n }}. 天\n再 {{ n }}. 天", "zh-CN", facts, []).text == "15\\. 天\n再 15. 天"
    # A backtick run that never closes is text, so the use after it is filled in.
    assert fill_markdown("a ` b {{ n }}", "zh-CN", facts, []).text == "a ` b 15"
    assert fill_markdown("``x {{ n }}`` {{ n }}", "zh-CN", facts, []).text == "``x {{ n }}`` 15"
    assert fill_markdown("\\`{{ n }}`", "zh-CN", facts, []).text == "\\`15`"


# -- incremental builds and review -----------------------------------------------------------------

@pytest.fixture
def sample(tmp_path) -> Path:
    return sample_kb_repo(tmp_path / "kb")


def users_of(kb: Path, name: str) -> set[str]:
    return {p.name for p in (kb / "knowledge").rglob("*.md")
            if re.search(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", p.read_text(encoding="utf-8"))}


def test_a_fact_edit_remakes_its_outputs_only_and_equals_a_cold_build(sample, tmp_path):
    out = tmp_path / "out"
    build(sample, out)
    before = tree(out)
    config = sample / "kbctl.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("spoken: {zh-CN: 每天六元}", "spoken: {zh-CN: 每天七元}")
                      .replace("value: {zh-CN: 6元/天, en-US: 6 yuan a day}", "value: {zh-CN: 7元/天, en-US: 7 yuan a day}"),
                      encoding="utf-8")
    result = build(sample, out)
    assert_same_as_cold(sample, out, tmp_path)
    changed = {path for path, digest in tree(out).items() if before.get(path) != digest}
    made = remade(result)
    assert changed <= made | {p for p in changed if p.endswith("manifest.json")}
    assert {"help-center/zh-CN/roaming-rates/index.html", "help-center/en-US/roaming-rates-en/index.html"} <= made
    # Pages of entries that do not use the fact, or show it, are not made again.
    assert "help-center/zh-CN/auto-pay/index.html" not in made
    assert not any(path.startswith("agent-portal/zh-CN/lost-phone/") for path in made)
    assert users_of(sample, "roaming-day-pass") == {"roaming-rates.md", "roaming-rates.en.md"}


def test_adding_the_missing_fact_rebuilds_what_was_refused(sample, tmp_path):
    out = tmp_path / "out"
    build(sample, out)
    page = sample / "knowledge/billing/auto-pay.md"
    page.write_text(page.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n扣款日 {{ debit-day }}。\n", 1),
                    encoding="utf-8")
    refused = run_cli("--root", str(sample), "build", "--as-of", AS_OF, "--out", str(out))
    assert refused.code == 1 and "unknown-fact" in refused.stdout + refused.stderr
    config = sample / "kbctl.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("facts:\n", "facts:\n  debit-day: 每月5日\n", 1),
                      encoding="utf-8")
    build(sample, out)
    assert "扣款日 每月5日。" in read(out / "help-center/zh-CN/auto-pay/index.html")
    assert_same_as_cold(sample, out, tmp_path)


def test_review_lists_every_entry_using_a_changed_fact(sample):
    config = sample / "kbctl.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'hotline: {value: "10000"', 'hotline: {value: "95000"'), encoding="utf-8")
    commit_all(sample, "new hotline", "2026-11-02")
    result = run_cli("--root", str(sample), "review", "--base", "HEAD~1", "--as-of", AS_OF, "--format", "json")
    assert result.code == 0, result.stderr
    data = result.json()
    using = {c["path"].rsplit("/", 1)[1] for c in data["changes"] if "hotline" in c.get("facts", [])}
    assert using == users_of(sample, "hotline")
    assert all(c["status"] == "modified" and c["channels"] for c in data["changes"] if c.get("facts"))
    channels = {ch for c in data["changes"] if c.get("facts") for ch in c["channels"]}
    assert data["facts_changed"] == [{"name": "hotline", "entries": len(using), "channels": len(channels)}]
    markdown = run_cli("--root", str(sample), "review", "--base", "HEAD~1", "--as-of", AS_OF,
                       "--format", "markdown").stdout
    assert f"fact `hotline` changed: {len(using)} entries, {len(channels)} channels" in markdown


def test_sample_kb_outputs_hold_no_fact_use(tmp_path):
    out = tmp_path / "out"
    result = run_cli("--root", str(REPO), "build", "--as-of", AS_OF, "--out", str(out))
    assert result.code == 0, result.stderr
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.suffix not in (".png", ".svg", ".ico", ".woff2"):
            assert "{{" not in path.read_text(encoding="utf-8", errors="replace"), path
    assert "工本费五元" in read(out / "hotline/zh-CN/entry-reset-service-password.vxml")


def test_an_unquoted_value_starting_with_a_fact_says_to_quote_it(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(summary="x").replace('summary: "x"', "summary: {{ hotline }} 热线")},
                  BASE_CONFIG + FACTS)
    result = run_cli("--root", str(kb), "validate")
    assert result.code == 1
    assert "a value that starts with {{ fact }} must be quoted" in result.stdout
