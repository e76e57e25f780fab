"""The help center as customers and agents use it, tested in a real browser.

Builds the repository's sample KB (--as-of 2026-11-22), serves the output folder from a
`http.server` thread on 127.0.0.1, and drives Debian's Chromium through Playwright for Python
(no browser download: `executable_path=/usr/bin/chromium`). Accessibility is checked with
axe-core, installed by `npm install --prefix tests/browser` (tests/browser/package.json).

Needs: `apt-get install chromium fonts-noto-cjk`, `pip install playwright`, the npm install above.
Where one of them is missing the tests skip, except in CI (CI=true), where that is a failure.
Screenshots go to test-artifacts/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import IN_CI, REPO, run_cli
from sitecheck import broken_links, unsafe_urls

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = REPO / "test-artifacts" / "screenshots"
AS_OF = "2026-11-22"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HC = "help-center"


def _require_tools() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright module (pip install playwright)")
    if not AXE.exists():
        missing.append(f"{AXE} (npm install --prefix tests/browser)")
    if missing:
        message = "browser tests need " + ", ".join(missing)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical findings on the page as it is now (id, impact, where)."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations"
                               ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    _require_tools()
    out = tmp_path_factory.mktemp("sample-site")
    result = run_cli("--root", str(REPO), "build", "--as-of", AS_OF, "--out", str(out),
                     "--channel", HC, "--channel", "agent-portal")
    assert result.code == 0, result.stdout + result.stderr
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture(scope="module")
def base_url(site):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page; any console error or uncaught exception on it fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    # a request cut short by the next navigation (net::ERR_ABORTED) is not a failure of the site
    tab.on("requestfailed", lambda req: None if "ERR_ABORTED" in (req.failure or "")
           else errors.append(f"request failed: {req.url} {req.failure}"))
    yield tab
    context.close()
    assert errors == []


def url(base_url: str, path: str, channel: str = HC) -> str:
    return f"{base_url}/{channel}/{quote(path)}"


def first_result(page) -> str:
    link = page.locator("#search-results li a").first
    link.wait_for()
    return link.get_attribute("href")


# -- search ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("locale, query, expected", [
    ("zh-CN", "宽带", "broadband-troubleshooting"),          # a Chinese two-character word
    ("zh-CN", "停机", "overdue-suspension"),
    ("zh-CN", "国际漫游怎么开通", "roaming-activation"),       # a Chinese phrase
    ("zh-CN", "话费缴纳", "pay-bill-online"),                 # words in the other order ("缴纳话费")
    ("en-US", "refund", "refund-policy-en"),                 # an English word
    ("en-US", "compl", "complaint-procedure-en"),            # an English word prefix
])
def test_search_puts_the_right_entry_first(page, base_url, locale, query, expected):
    page.goto(url(base_url, f"{locale}/search.html") + f"?q={quote(query)}")
    assert first_result(page) == f"{expected}/index.html"
    assert page.locator("#search-results mark").count() > 0  # the match is highlighted


def test_results_appear_as_you_type_and_stay_in_the_url(page, base_url):
    page.goto(url(base_url, "zh-CN/search.html"))
    page.locator("#q").press_sequentially("国际漫游", delay=20)
    assert first_result(page).startswith("roaming-")
    page.wait_for_function("location.search.includes('q=')")
    assert "q=%E5%9B%BD%E9%99%85%E6%BC%AB%E6%B8%B8" in page.url
    page.reload()
    assert page.locator("#q").input_value() == "国际漫游"
    assert first_result(page).startswith("roaming-")


def test_header_search_box_leads_to_results(page, base_url):
    page.goto(url(base_url, "zh-CN/pay-bill-online/index.html"))
    page.fill("#q-header", "发票")
    page.press("#q-header", "Enter")
    page.wait_for_url(re.compile(r"/zh-CN/search\.html\?q="))
    assert first_result(page) == "e-invoice/index.html"


def test_search_index_tokens_match_python(page, base_url):
    from kbctl.channels.site_search import tokens

    page.goto(url(base_url, "zh-CN/search.html"))
    for text in ("缴纳话费", "SIM卡补办", "How do I pay my Bills?", "Ｐａｙｍｅｎｔｓ ２０２６", "batteries"):
        analyzed = page.evaluate("t => window.kbctlSearch.analyze(t).map(q => q.t)", text)
        assert set(analyzed) == set(tokens(text)), text


# -- navigation ------------------------------------------------------------------------------------
def test_knowledge_map_home_to_category_to_entry_and_back(page, base_url):
    page.goto(url(base_url, "zh-CN/index.html"))
    page.get_by_role("link", name="账单与缴费", exact=True).click()
    assert page.locator("h1").inner_text() == "账单与缴费"
    page.get_by_role("link", name="缴费与停复机").first.click()
    assert page.locator("h1").inner_text() == "缴费与停复机"
    page.locator(".entry-list a", has_text="如何在线缴纳话费").click()
    assert page.locator("h1").inner_text() == "如何在线缴纳话费？"
    assert page.url.endswith("/zh-CN/pay-bill-online/index.html")
    page.go_back()
    assert page.locator("h1").inner_text() == "缴费与停复机"
    page.locator(".breadcrumbs a", has_text="首页").click()
    assert page.locator("#map-title").is_visible()


def test_locale_switch_opens_the_translation(page, base_url):
    page.goto(url(base_url, "zh-CN/pay-bill-online/index.html"))
    page.locator(".lang-switch a", has_text="English").click()
    assert page.url.endswith("/en-US/pay-bill-online-en/index.html")
    assert page.locator("html").get_attribute("lang") == "en-US"
    assert page.locator("h1").inner_text() == "How do I pay my bill online?"
    page.locator(".translation-link").first.click()
    assert page.url.endswith("/zh-CN/pay-bill-online/index.html")


def test_related_entry_opens(page, base_url):
    page.goto(url(base_url, "zh-CN/pay-bill-online/index.html"))
    related = page.locator("#related-title + ul a").first
    title = related.inner_text()
    related.click()
    assert page.locator("h1").inner_text() == title


def test_from_disk_pages_and_search_work(page, site):
    page.goto((site / HC / "zh-CN" / "index.html").as_uri())
    page.get_by_role("link", name="网络与宽带", exact=True).click()
    assert page.url.endswith("/zh-CN/category/network/index.html")
    page.goto((site / HC / "zh-CN" / "search.html").as_uri() + "?q=" + quote("宽带"))
    assert first_result(page) == "broadband-troubleshooting/index.html"


@pytest.mark.parametrize("channel", [HC, "agent-portal"])
def test_crawl_every_page_no_broken_internal_link(site, channel):
    assert broken_links(site / channel) == []
    assert unsafe_urls(site / channel) == []


def test_agent_portal_marks_internal_content(page, base_url):
    page.goto(url(base_url, "zh-CN/pay-bill-online/index.html", "agent-portal"))
    assert page.locator(".portal-badge").inner_text() == "坐席门户"
    block = page.locator(".kb-restricted-internal")
    assert "内部信息 · 仅限坐席" in block.inner_text()
    assert block.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.goto(url(base_url, "zh-CN/pay-bill-online/index.html"))
    assert page.locator(".kb-restricted, .portal-badge").count() == 0


# -- layout, keyboard, accessibility ---------------------------------------------------------------
@pytest.mark.parametrize("path", ["zh-CN/index.html", "zh-CN/pay-bill-online/index.html",
                                  "zh-CN/search.html?q=%E8%AF%9D%E8%B4%B9", "en-US/pay-bill-online-en/index.html"])
def test_mobile_390_has_no_horizontal_scroll(browser, base_url, path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                                  is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.goto(f"{base_url}/{HC}/{path}")
    if "search" in path:
        first_result(tab)
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    if path == "zh-CN/index.html":
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / "mobile-home.png"), full_page=True)
    context.close()


def test_keyboard_reaches_search_with_visible_focus_and_enter_follows_a_result(page, base_url):
    page.goto(url(base_url, "zh-CN/index.html"))
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q-hero":
            break
    else:
        pytest.fail("Tab never reached the search box")
    outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
    assert outline[0] != "none" and outline[1] >= 2
    page.keyboard.type("停机")
    page.keyboard.press("Enter")
    first_result(page)
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('result-link')"):
            break
    else:
        pytest.fail("Tab never reached a search result")
    target = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(target) + "$"))
    assert page.locator("h1").is_visible()


@pytest.mark.parametrize("channel, path", [
    (HC, "zh-CN/index.html"),
    (HC, "zh-CN/category/billing/index.html"),
    (HC, "zh-CN/pay-bill-online/index.html"),
    (HC, "zh-CN/search.html?q=%E8%AF%9D%E8%B4%B9"),
    (HC, "en-US/pay-bill-online-en/index.html"),
    ("agent-portal", "zh-CN/pay-bill-online/index.html"),
])
def test_axe_finds_no_serious_or_critical_violation(page, base_url, channel, path):
    page.goto(f"{base_url}/{channel}/{path}")
    if "search" in path:
        first_result(page)
    assert serious_violations(page) == []


def test_screenshots(page, base_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(url(base_url, "zh-CN/index.html"))
    page.screenshot(path=str(SHOTS / "home.png"), full_page=True)
    page.goto(url(base_url, "zh-CN/pay-bill-online/index.html"))
    page.screenshot(path=str(SHOTS / "entry.png"), full_page=True)
    page.goto(url(base_url, "zh-CN/search.html") + "?q=" + quote("话费"))
    first_result(page)
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
    page.goto(url(base_url, "zh-CN/pay-bill-online/index.html", "agent-portal"))
    page.screenshot(path=str(SHOTS / "agent-entry.png"), full_page=True)
    assert all((SHOTS / f"{name}.png").stat().st_size > 10_000 for name in ("home", "entry", "search", "agent-entry"))


# -- theming (CONTRACT 10): the sample help center wears its own brand -----------------------------
THEME_SHOTS = Path("/tmp/shots")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_theme_is_applied_and_fits(browser, base_url, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1,
                                  is_mobile=width < 600, has_touch=width < 600, locale="zh-CN")
    tab = context.new_page()
    tab.goto(f"{base_url}/{HC}/zh-CN/index.html")
    logo = tab.locator("img.brand-logo")
    assert logo.is_visible() and tab.evaluate("document.querySelector('img.brand-logo').naturalWidth") > 0
    box = logo.bounding_box()
    assert box is not None and box["height"] == 32
    header = tab.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
    assert header == "rgb(0, 103, 127)"  # primary_color #00677f
    assert "客服热线 10000" in tab.locator(".theme-footer").inner_text()
    assert tab.locator(".header-links a", has_text="星海通信官网").is_visible()
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    THEME_SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(THEME_SHOTS / f"theme-{width}.png"), full_page=True)
    assert serious_violations(tab) == []
    context.close()


def test_axe_finds_nothing_on_a_themed_entry_page(page, base_url):
    page.goto(url(base_url, "en-US/pay-bill-online-en/index.html"))
    assert page.locator(".theme-footer").inner_text().startswith("Hotline 10000")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations.map(v => v.id)")
    assert violations == []
