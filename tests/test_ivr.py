"""The ivr channel: VoiceXML 2.1 valid against the W3C schema, menus and keys, escaping,
`<say-as>` rules, nothing restricted, golden output.

Builds tests/fixtures/channels-kb (copied to a temporary folder) through the real CLI.

Golden files: tests/golden/ivr/ holds the expected hotline folder. After an intended change,
regenerate with `KBCTL_UPDATE_GOLDEN=1 python -m pytest tests/test_ivr.py` and review the diff.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import BASE_CONFIG, REPO, assert_golden, entry_text, require_shared, run_cli, write_kb

from kbctl.channels.ivr import menu_files
from kbctl.channels.ssml import segments
from kbctl.ivrmenu import Menu

FIXTURE = REPO / "tests" / "fixtures" / "channels-kb"
GOLDEN = REPO / "tests" / "golden" / "ivr"
AS_OF = "2026-11-22"
V = "{http://www.w3.org/2001/vxml}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RESTRICTED_CANARIES = ("CANARY-INTERNAL-91b2", "CANARY-INTERNAL-5d20", "CANARY-DRAFT-0a9e",
                       "CANARY-EXPIRED-c3d1")


def build(kb: Path, out: Path) -> Path:
    # cwd=REPO: `python -m kbctl` finds the package even when it is not installed.
    result = run_cli("--root", str(kb), "build", "--channel", "hotline",
                     "--as-of", AS_OF, "--out", str(out), cwd=REPO)
    assert result.code == 0, result.stderr
    return out / "hotline"


@pytest.fixture(scope="module")
def hotline(tmp_path_factory) -> Path:
    kb = tmp_path_factory.mktemp("ivr") / "kb"
    shutil.copytree(FIXTURE, kb)
    return build(kb, kb / "dist")


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Path:
    """One locale with entries, and no operator configured."""
    config = BASE_CONFIG.replace(', operator: "tel:10000"', "")
    entry = entry_text(id="only", title="只有一条", category="billing/payments",
                       channels=["hotline"], summary="请拨打10086。")
    kb = write_kb(tmp_path_factory.mktemp("ivr1") / "kb", {"only.md": entry}, config)
    return build(kb, kb / "dist")


@pytest.fixture(scope="session")
def vxml_schema():
    import xmlschema  # the test extra; loading the W3C schema set takes a moment: once

    return xmlschema.XMLSchema10(str(require_shared("standards/voicexml-2.1/vxml.xsd")))


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def choices(root: ET.Element, menu_id: str = "menu") -> dict[str, str]:
    menu = root.find(f"{V}menu[@id='{menu_id}']")
    return {c.get("dtmf"): c.get("next") for c in menu.iter(f"{V}choice")}


def spoken(element: ET.Element) -> str:
    return "".join(element.itertext()).strip()


# -- validity ----------------------------------------------------------------------------

def test_every_file_is_valid_voicexml(hotline, single, vxml_schema):
    files = sorted([*hotline.rglob("*.vxml"), *single.rglob("*.vxml")])
    assert len(files) > 10
    for path in files:
        vxml_schema.validate(str(path))
        root = parse(path)
        assert (root.tag, root.get("version")) == (f"{V}vxml", "2.1")
        assert root.get(XML_LANG) in ("zh-CN", "en-US")


def test_layout(hotline):
    names = sorted(p.relative_to(hotline).as_posix() for p in hotline.rglob("*.vxml"))
    assert names == [
        "en-US/entry-no-signal-en.vxml", "en-US/entry-pay-bill-en.vxml", "en-US/main.vxml",
        "en-US/menu-billing-payments.vxml", "en-US/menu-billing.vxml", "en-US/menu-network.vxml",
        "index.vxml",
        "zh-CN/entry-auto-pay.vxml", "zh-CN/entry-hostile-title.vxml", "zh-CN/entry-no-signal.vxml",
        "zh-CN/entry-pay-bill.vxml", "zh-CN/main.vxml", "zh-CN/menu-billing-payments.vxml",
        "zh-CN/menu-billing.vxml", "zh-CN/menu-network.vxml",
    ]  # no menu-account: no hotline entry below it


# -- menus and keys ----------------------------------------------------------------------

def test_main_menu_keys(hotline):
    # billing keeps its dtmf "2"; network then the uncategorized entry get 1 and 3.
    assert choices(parse(hotline / "zh-CN" / "main.vxml")) == {
        "1": "menu-network.vxml", "2": "menu-billing.vxml", "3": "entry-hostile-title.vxml",
        "0": "#operator", "*": "#menu",
    }


def test_submenu_keys_and_way_back(hotline):
    # Child categories first, then the entries filed directly under billing.
    assert choices(parse(hotline / "zh-CN" / "menu-billing.vxml")) == {
        "1": "menu-billing-payments.vxml", "2": "entry-auto-pay.vxml",
        "0": "#operator", "*": "#menu", "#": "main.vxml",
    }


def test_a_menu_speaks_its_options_in_its_locale(hotline):
    zh = spoken(parse(hotline / "zh-CN" / "main.vxml").find(f"{V}menu/{V}prompt"))
    assert zh.startswith("网络请按1。账单与缴费请按2。")
    assert "人工服务请按0。" in zh and "重听请按星号键。" in zh
    en = spoken(parse(hotline / "en-US" / "main.vxml").find(f"{V}menu/{V}prompt"))
    assert en.startswith("For Network, press 1.For Billing, press 2.")


def test_operator_transfer(hotline):
    form = parse(hotline / "zh-CN" / "main.vxml").find(f"{V}form[@id='operator']")
    transfer = form.find(f"{V}transfer")
    assert (transfer.get("dest"), transfer.get("type")) == ("tel:10000", "blind")


def test_without_operator_key_0_says_so_and_goes_back(single):
    root = parse(single / "zh-CN" / "main.vxml")
    form = root.find(f"{V}form[@id='operator']")
    assert form.find(f".//{V}transfer") is None
    assert form.find(f".//{V}goto").get("next") == "#menu"
    assert "人工服务请按0" not in spoken(root.find(f"{V}menu/{V}prompt"))
    # The third silence ends the call politely instead of transferring.
    last = root.find(f"{V}menu/{V}noinput[@count='3']")
    assert last.find(f"{V}exit") is not None


def test_retries_then_operator(hotline):
    menu = parse(hotline / "zh-CN" / "main.vxml").find(f"{V}menu")
    for event in ("noinput", "nomatch"):
        assert menu.find(f"{V}{event}[@count='1']/{V}reprompt") is not None
        assert menu.find(f"{V}{event}[@count='3']/{V}goto").get("next") == "#operator"


def test_language_menu_with_two_locales(hotline):
    root = parse(hotline / "index.vxml")
    assert choices(root) == {"1": "zh-CN/main.vxml", "2": "en-US/main.vxml", "0": "#operator", "*": "#menu"}
    prompts = {p.get(XML_LANG): spoken(p) for p in root.findall(f"{V}menu/{V}prompt")}
    assert prompts == {"zh-CN": "普通话请按1。", "en-US": "For English, press 2."}


def test_no_language_menu_with_one_locale(single):
    root = parse(single / "index.vxml")
    assert choices(root) == {"1": "zh-CN/menu-billing.vxml", "0": "#operator", "*": "#menu"}
    assert not (single / "en-US").exists()


def test_entry_document(hotline):
    root = parse(hotline / "zh-CN" / "entry-pay-bill.vxml")
    assert root.find(f"{V}form[@id='script']/{V}block/{V}goto").get("next") == "#after"
    assert choices(root, "after") == {"0": "#operator", "*": "#script", "#": "menu-billing-payments.vxml"}


# -- content safety ----------------------------------------------------------------------

def test_a_hostile_title_is_text_not_markup(hotline):
    raw = (hotline / "zh-CN" / "main.vxml").read_text(encoding="utf-8")
    assert "<b>" not in raw
    prompt = parse(hotline / "zh-CN" / "main.vxml").find(f"{V}menu/{V}prompt")
    assert '账单<b>&"]]>说明请按3。' in spoken(prompt)
    assert {child.tag for child in prompt} == {f"{V}break"}  # the title made no element


def test_the_script_is_spoken_and_nothing_restricted(hotline):
    script = spoken(parse(hotline / "zh-CN" / "entry-pay-bill.vxml").find(f"{V}form/{V}block/{V}prompt"))
    assert script == "请在2026-12-31前缴清话费，咨询请拨打10000。CANARY-IVR-44c1"
    for path in (p for p in hotline.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        for canary in RESTRICTED_CANARIES:
            assert canary not in text, (path, canary)
        # Not opted in (refund-policy, account-faq), internal, draft, expired: nowhere.
        for absent in ("refund-policy", "account-faq", "agent-refund-process", "draft-entry", "old-promo"):
            assert absent not in text, (path, absent)


def test_summary_is_the_script_without_an_ivr_block(hotline):
    script = parse(hotline / "en-US" / "entry-no-signal-en.vxml").find(f"{V}form/{V}block/{V}prompt")
    assert spoken(script) == "Restart your phone. If there is still no signal, call 10000."


def test_say_as_in_scripts(hotline):
    def say_as(path):
        prompt = parse(path).find(f"{V}form/{V}block/{V}prompt")
        return [(e.get("interpret-as"), e.get("format"), e.text) for e in prompt.iter(f"{V}say-as")]

    assert say_as(hotline / "zh-CN" / "entry-pay-bill.vxml") == [
        ("date", "ymd", "2026-12-31"), ("telephone", None, "10000")]
    assert say_as(hotline / "en-US" / "entry-pay-bill-en.vxml") == [
        ("date", "ymd", "2026-12-31"), ("telephone", None, "10086")]
    assert say_as(hotline / "zh-CN" / "entry-no-signal.vxml") == [
        ("time", "hms24", "09:00"), ("time", "hms24", "18:00"), ("telephone", None, "10000")]


@pytest.mark.parametrize("text, expected", [
    ("2026年12月31日", [("date", "ymd", "2026-12-31")]),
    ("2026/1/5", [("date", "ymd", "2026-01-05")]),
    ("2026年3月", [("date", "ym", "2026-03")]),
    ("12月31日", [("date", "md", "12-31")]),
    ("in 2026", [("date", "y", "2026")]),
    ("拨打10086或13800138000", [("telephone", None, "10086"), ("telephone", None, "13800138000")]),
    ("400-123-4567", [("telephone", None, "400-123-4567")]),
    ("验证码123456", [("digits", None, "123456")]),
    ("1至2,000元", [("cardinal", None, "1"), ("cardinal", None, "2000")]),
    ("10000元", [("cardinal", None, "10000")]),  # an amount, not the hotline
    ("¥50, 30%", [("cardinal", None, "50"), ("cardinal", None, "30")]),
    ("12.5 GB", [("cardinal", None, "12.5")]),
    ("5G, PAY-1002, 24/7, 1.2.3", []),  # names and codes: left to the engine
    ("2026-13-45", []),  # impossible date
])
def test_say_as_rules(text, expected):
    assert [(s.interpret_as, s.format, s.text) for s in segments(text) if s.interpret_as] == expected


def test_control_characters_never_reach_the_xml():
    assert "".join(s.text for s in segments("a\x00b\x1bc\ufffe")) == "abc"


def test_menu_file_names_never_clash():
    # Taxonomy ids may hold "-": "a-b" and "a/b" must still get two files.
    nested = Menu("a", "y", None, submenus=[Menu("a/b", "z", None)])
    main = Menu("", "main", None, submenus=[Menu("a-b", "x", None), nested])
    names = menu_files(main)
    assert len(set(names.values())) == len(names) == 4
    assert names["a"] == "menu-a.vxml"


# -- manifest and golden -----------------------------------------------------------------

def test_manifest_maps_entries_to_their_files(hotline):
    manifest = json.loads((hotline / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"] == {
        "auto-pay": ["zh-CN/entry-auto-pay.vxml"], "hostile-title": ["zh-CN/entry-hostile-title.vxml"],
        "no-signal": ["zh-CN/entry-no-signal.vxml"], "no-signal-en": ["en-US/entry-no-signal-en.vxml"],
        "pay-bill": ["zh-CN/entry-pay-bill.vxml"], "pay-bill-en": ["en-US/entry-pay-bill-en.vxml"],
    }


def test_output_matches_the_golden_files(hotline):
    assert_golden(hotline, GOLDEN)