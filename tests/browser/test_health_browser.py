"""The HTML health report in Chromium: axe finds nothing serious, and it fits a phone."""

from __future__ import annotations

import pytest
from conftest import REPO, run_cli
from test_site_browser import CHROMIUM, LAUNCH_ARGS, SHOTS, _require_tools, serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    _require_tools()
    out = tmp_path_factory.mktemp("health") / "health.html"
    result = run_cli("--root", str(REPO), "health", "--usage", str(REPO / "examples" / "usage.jsonl"),
                     "--as-of", "2027-02-28", "--format", "html", "--output", str(out))
    assert result.code in (0, 1), result.stderr
    return out


@pytest.mark.parametrize("width", [1280, 390])
def test_the_health_report_is_accessible_and_fits(report, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report.as_uri())
            assert requests == [report.as_uri()]  # self-contained: nothing else is fetched
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"health-{width}.png"), full_page=True)
            assert serious_violations(page) == []
        finally:
            browser.close()
