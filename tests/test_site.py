"""The site channel kind: help center and agent portal from tests/fixtures/site-kb.

The fixture is copied to a temporary folder (outside any git repository, so the dates shown
never depend on commits) and built through the real CLI with --as-of 2026-11-22.

What is pinned here:
- golden output: every file of both channels, byte for byte, and the list of files;
- the security boundary: no byte of the help center holds anything above public (CANARY
  strings in restricted blocks, ivr scripts, the internal and customer entries, drafts, expired
  entries), raw HTML and `javascript:` URLs never reach a page;
- FAQPage JSON-LD, sitemap, manifest, relative links that resolve, reproducible builds,
  and one rendering per entry per channel.

Golden files live in tests/golden/site/<channel>/. After an intended change, regenerate with
`KBCTL_UPDATE_GOLDEN=1 python -m pytest tests/test_site.py` and review the diff before committing.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from browser.sitecheck import broken_links, html_files, jsonld_blocks, page_refs, unsafe_urls
from conftest import REPO, assert_golden, entry_text, run_cli, write_kb

FIXTURE = REPO / "tests" / "fixtures" / "site-kb"
GOLDEN = REPO / "tests" / "golden" / "site"
AS_OF = "2026-11-22"
CHANNELS = ("help-center", "agent-portal")

ABOVE_PUBLIC = ("CANARY-INTERNAL-7f3a", "CANARY-PARTNER-5d1e", "CANARY-CUSTOMER-2b9c",
                "CANARY-TITLE-INTERNAL-4c2a", "CANARY-SUMMARY-INTERNAL-8b1d",
                "CANARY-BODY-INTERNAL-6e0f", "CANARY-CUSTOMER-ENTRY-0d3e", "agent-verify-secret",
                "坐席身份核验流程", "坐席专用", "vip-benefits", "星级客户权益")
NEVER = ("CANARY-IVR-9e8d", "CANARY-DRAFT-1a2b", "CANARY-EXPIRED-3c4d", "draft-refund",
         "winter-promo")
FAQ_PAGES = ("zh-CN/pay-bill/index.html", "en-US/pay-bill-en/index.html", "en-US/contact-us/index.html")


def build(kb: Path, out: Path) -> None:
    result = run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out))
    assert result.code == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    kb = tmp_path_factory.mktemp("kb") / "site-kb"
    shutil.copytree(FIXTURE, kb, ignore=shutil.ignore_patterns(".kbctl"))
    folder = tmp_path_factory.mktemp("out")
    build(kb, folder)
    return folder


COPIED_ASSETS = ("assets/site.css", "assets/search.js", "assets/favicon.svg")


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def text(out: Path, channel: str, rel: str) -> str:
    return (out / channel / rel).read_text(encoding="utf-8")


# -- golden output ---------------------------------------------------------------------------------
@pytest.mark.parametrize("channel", CHANNELS)
def test_golden(out, channel):
    assert_golden(out / channel, GOLDEN / channel, skip=COPIED_ASSETS)


@pytest.mark.parametrize("channel", CHANNELS)
def test_static_assets_are_copied_verbatim(out, channel):
    for rel in COPIED_ASSETS:
        source = REPO / "site" / rel.removeprefix("assets/")
        assert (out / channel / rel).read_bytes() == source.read_bytes()


def test_two_builds_are_byte_identical(out, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE, kb, ignore=shutil.ignore_patterns(".kbctl"))
    again = tmp_path / "again"
    build(kb, again)
    build(kb, tmp_path / "warm")  # the same KB again: caches in .kbctl/ must not change a byte
    for channel in CHANNELS:
        assert files_of(again / channel) == files_of(out / channel)
        assert files_of(tmp_path / "warm" / channel) == files_of(out / channel)


# -- the security boundary -------------------------------------------------------------------------
def test_help_center_holds_nothing_above_public(out):
    for rel, blob in files_of(out / "help-center").items():
        data = blob.decode("utf-8", "replace")
        for canary in ABOVE_PUBLIC + NEVER:
            assert canary not in data, f"help-center/{rel} leaks {canary}"


def test_agent_portal_shows_restricted_content_marked_but_never_ivr(out):
    files = files_of(out / "agent-portal")
    everything = b"".join(files.values()).decode("utf-8", "replace")
    for canary in NEVER:
        assert canary not in everything
    page = text(out, "agent-portal", "zh-CN/pay-bill/index.html")
    for level, canary, label in (("internal", "CANARY-INTERNAL-7f3a", "内部信息 · 仅限坐席"),
                                 ("partner", "CANARY-PARTNER-5d1e", "合作伙伴信息"),
                                 ("customer", "CANARY-CUSTOMER-2b9c", "客户专属信息")):
        block = re.search(rf'<section class="kb-restricted kb-restricted-{level}".*?</section>', page, re.DOTALL)
        assert block and canary in block.group(0) and label in block.group(0)
    assert "Internal — agents only" in text(out, "agent-portal", "en-US/pay-bill-en/index.html")
    internal = text(out, "agent-portal", "zh-CN/agent-verify-secret/index.html")
    assert "CANARY-BODY-INTERNAL-6e0f" in internal
    assert 'class="visibility-badge visibility-internal"' in internal
    assert '<span class="portal-badge">坐席门户</span>' in internal
    assert "Agent portal" in text(out, "agent-portal", "en-US/index.html")
    # the internal entry is linked from the public one in the portal, and links back
    assert 'href="../../zh-CN/agent-verify-secret/index.html"' in page
    assert "agent-verify-secret" in json.loads(text(out, "agent-portal", "manifest.json"))["entries"]


def test_link_to_uncarried_entry_is_plain_text(out):
    page = text(out, "help-center", "zh-CN/pay-bill/index.html")
    assert "<p>如需核对身份，坐席会按照身份核验流程处理。</p>" in page
    # related list and backlinks: only carried entries
    related = re.search(r'id="related-title".*?</section>', page, re.DOTALL).group(0)
    assert "auto-pay" in related and "verify" not in related


def test_no_raw_html_or_script_urls(out):
    for channel in CHANNELS:
        folder = out / channel
        assert unsafe_urls(folder) == []
        for rel, blob in files_of(folder).items():
            data = blob.decode("utf-8", "replace").lower()
            assert "<script>alert" not in data, f"{channel}/{rel}"
            assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", data), f"{channel}/{rel}"
        for page in html_files(folder):
            assert set(page_refs(page).scripts) <= {"", "application/ld+json"}
    page = text(out, "help-center", "zh-CN/slow-network/index.html")
    assert "<title>网速慢怎么办？&lt;script&gt;" in page  # titles are escaped, not dropped
    assert "&lt;b&gt;网络&lt;/b&gt;" in page  # and so are tags


def test_only_our_scripts_are_loaded(out):
    """Pages load scripts only from the site's own assets (no CDN, nothing from the network)."""
    for channel in CHANNELS:
        for page in html_files(out / channel):
            for tag, attr, value in page_refs(page).urls:
                if tag in ("script", "link") and attr in ("src", "href") and "://" in value:
                    assert tag == "link" and re.search(r'rel="(canonical|alternate)"', page.read_text()), value


# -- structured data, sitemap, manifest ------------------------------------------------------------
@pytest.mark.parametrize("channel", CHANNELS)
def test_faq_pages_have_one_faqpage_jsonld(out, channel):
    for rel in FAQ_PAGES:
        blocks = jsonld_blocks(out / channel / rel)
        assert len(blocks) == 1, rel
        data = blocks[0]
        assert data["@context"] == "https://schema.org" and data["@type"] == "FAQPage"
        question = data["mainEntity"][0]
        assert question["@type"] == "Question" and question["name"]
        assert question["acceptedAnswer"]["@type"] == "Answer" and question["acceptedAnswer"]["text"]
    for rel in ("zh-CN/auto-pay/index.html", "zh-CN/slow-network/index.html", "zh-CN/index.html"):
        assert jsonld_blocks(out / channel / rel) == []
    raw = text(out, channel, "zh-CN/pay-bill/index.html")
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', raw, re.DOTALL).group(1)
    assert "<" not in script  # content can never close the script element


def test_jsonld_answer_holds_no_restricted_text(out):
    answer = jsonld_blocks(out / "help-center" / "zh-CN/pay-bill/index.html")[0]
    assert "坐席提示" not in json.dumps(answer, ensure_ascii=False)
    portal = jsonld_blocks(out / "agent-portal" / "zh-CN/pay-bill/index.html")[0]
    assert portal["mainEntity"][0]["acceptedAnswer"]["text"].startswith("登录网上营业厅")


@pytest.mark.parametrize("channel, base", [("help-center", "https://help.example.com/"),
                                           ("agent-portal", "https://agents.example.com/")])
def test_sitemap_lists_absolute_urls_of_carried_entries(out, channel, base):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.fromstring((out / channel / "sitemap.xml").read_bytes())
    locs = [loc.text for loc in root.findall("s:url/s:loc", ns)]
    assert locs and all(loc.startswith(base) for loc in locs)
    listed = {loc for loc in locs if re.fullmatch(rf"{base}[a-zA-Z]+-[a-zA-Z]+/[a-z0-9-]+/", loc)}
    manifest = json.loads(text(out, channel, "manifest.json"))
    pages = {f"{base}{p.removesuffix('index.html')}" for eid, paths in manifest["entries"].items()
             for p in paths if p.endswith(f"/{eid}/index.html")}
    assert listed == pages


def test_manifest_maps_carried_entries_to_their_pages(out):
    hc = json.loads(text(out, "help-center", "manifest.json"))
    assert set(hc["entries"]) == {"auto-pay", "contact-us", "pay-bill", "pay-bill-en", "slow-network"}
    assert hc["entries"]["pay-bill"] == ["zh-CN/pay-bill/index.html", "zh-CN/pay-bill/index.md"]
    assert hc["entries"]["slow-network"] == ["files/knowledge/network/modem.svg",
                                             "zh-CN/slow-network/index.html", "zh-CN/slow-network/index.md"]
    assert "en-US/contact/index.html" in hc["entries"]["contact-us"]  # the old id redirects
    for paths in hc["entries"].values():
        assert all(p in hc["files"] for p in paths)
    ap = json.loads(text(out, "agent-portal", "manifest.json"))
    assert set(ap["entries"]) == set(hc["entries"]) | {"agent-verify-secret", "vip-benefits"}


# -- navigation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_relative_link_resolves(out, channel):
    assert broken_links(out / channel) == []


@pytest.mark.parametrize("channel", CHANNELS)
def test_folder_links_end_in_index_html(out, channel):
    for page in html_files(out / channel):
        for tag, attr, value in page_refs(page).urls:
            if tag == "a" and "://" not in value and not value.startswith(("#", "mailto:", "tel:")):
                path = value.split("#")[0]
                assert path.endswith((".html", ".svg", ".pdf", ".png")), f"{page}: {value}"


def test_entry_page_parts(out):
    page = text(out, "help-center", "zh-CN/pay-bill/index.html")
    assert '<html lang="zh-CN">' in page
    assert '<link rel="canonical" href="https://help.example.com/zh-CN/pay-bill/">' in page
    assert page.index('class="short-answer"') < page.index('class="answer"')
    assert '<time datetime="2026-09-01">2026年9月1日</time>' in page
    assert 'href="../../en-US/pay-bill-en/index.html" hreflang="en-US" lang="en-US">English' in page
    assert 'href="../../zh-CN/tag/%E8%AF%9D%E8%B4%B9/index.html">话费' in page
    assert 'id="backlinks-title"' in page and 'href="../../zh-CN/auto-pay/index.html">开通自动缴费' in page
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', page, re.DOTALL).group(0)
    assert ["首页", "账单与缴费", "缴费", "如何在线缴纳话费？"] == re.findall(r">([^<>\n]+)</(?:a|li)>", crumbs)
    en = text(out, "help-center", "en-US/pay-bill-en/index.html")
    assert '<html lang="en-US">' in en and "September 1, 2026" in en
    assert 'href="../../zh-CN/pay-bill/index.html" hreflang="zh-CN">' in en  # translation, reverse direction
    # an anchor link into another entry keeps its (percent-encoded) fragment
    assert 'href="../../zh-CN/pay-bill/index.html#%E7%BC%B4%E8%B4%B9%E6%96%B9%E5%BC%8F"' in \
        text(out, "help-center", "zh-CN/auto-pay/index.html")


def test_home_shows_only_categories_with_carried_entries(out):
    home = text(out, "help-center", "zh-CN/index.html")
    assert "账单与缴费" in home and "网络" in home
    assert "账户安全" not in home and "优惠活动" not in home  # internal-only and expired-only
    assert not (out / "help-center" / "zh-CN/category/account/index.html").exists()
    assert "账户安全" in text(out, "agent-portal", "zh-CN/index.html")
    en_home = text(out, "help-center", "en-US/index.html")
    assert "How can I contact customer service?" in en_home  # uncategorized entries are listed
    assert re.search(r'账单与缴费</a> <span class="count">2 篇</span>', home)


def test_agent_portal_is_not_for_search_engines(out):
    assert "Disallow: /" in text(out, "agent-portal", "robots.txt")
    assert '<meta name="robots" content="noindex, nofollow">' in text(out, "agent-portal", "zh-CN/index.html")
    assert "noindex" not in text(out, "help-center", "zh-CN/index.html")
    assert "Sitemap: https://help.example.com/sitemap.xml" in text(out, "help-center", "robots.txt")


def test_search_index_is_built_from_visible_text(out):
    script = text(out, "help-center", "assets/search-index.zh-CN.js")
    prefix = 'window.KBCTL_SEARCH=window.KBCTL_SEARCH||{};\nwindow.KBCTL_SEARCH["zh-CN"]='
    assert script.startswith(prefix)
    index = json.loads(script[len(prefix):].rstrip().rstrip(";"))
    urls = [doc[0] for doc in index["docs"]]
    assert urls == ["auto-pay/index.html", "pay-bill/index.html", "slow-network/index.html"]
    assert index["terms"] == sorted(index["terms"]) and len(index["post"]) == len(index["terms"])
    assert "话费" in index["terms"] and "坐席" in index["terms"]  # "坐席会按照" is public text
    assert "二线" not in index["terms"] and "canary" not in index["terms"]  # internal block only


# -- without base_url, and the one-rendering rule --------------------------------------------------
def test_without_base_url_there_is_no_sitemap_or_canonical(tmp_path):
    config = (FIXTURE / "kbctl.yaml").read_text(encoding="utf-8")
    config = config.replace("base_url: https://help.example.com\n", "").replace(
        ", base_url: https://agents.example.com", "")
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a", title="问题", category="network",
                                                        owner="service-team")}, config)
    build(kb, tmp_path / "out")
    folder = tmp_path / "out" / "help-center"
    assert not (folder / "sitemap.xml").exists()
    assert "canonical" not in (folder / "zh-CN/a/index.html").read_text(encoding="utf-8")
    assert broken_links(folder) == []


def test_each_entry_renders_once_per_channel(monkeypatch, tmp_path):
    import datetime as dt

    from kbctl.build import channel_context
    from kbctl.channels import site
    from kbctl.config import load_config
    from kbctl.load import load_kb
    from kbctl.output import ChannelWriter

    calls: list[str] = []
    real = site.render_entry
    monkeypatch.setattr(site, "render_entry", lambda entry, *a, **k: calls.append(entry.id) or real(entry, *a, **k))
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".kbctl"))
    config = load_config(root)
    kb = load_kb(root, config)
    for name in CHANNELS:
        calls.clear()
        ctx = channel_context(kb, config.channels[name], dt.date(2026, 11, 22))
        site.render(ctx, ChannelWriter(tmp_path / name))
        assert sorted(calls) == sorted(e.id for e in ctx.entries)


def test_tokens_for_chinese_and_english():
    from kbctl.channels.site_search import tokens

    assert tokens("缴纳话费") == ["缴纳", "纳话", "话费"]
    assert tokens("SIM卡") == ["sim", "卡"]
    assert tokens("How do I pay my Bills?") == ["pay", "bill"]
    assert tokens("Ｐａｙｍｅｎｔｓ　２０２６") == ["payment", "2026"]  # full-width folded by NFKC
    assert tokens("batteries status") == ["battery", "status"]
