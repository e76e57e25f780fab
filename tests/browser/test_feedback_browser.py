"""Feedback events from a real browser (CONTRACT 7): a site built with an endpoint at a local
recorder; the events a reader causes arrive once each and fit schemas/usage-event.schema.json."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
import time
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import jsonschema
import pytest
from conftest import REPO, run_cli
from test_site_browser import CHROMIUM, LAUNCH_ARGS, _require_tools

pytestmark = pytest.mark.browser
SITE_LINE = "  help-center:                                                       # public website\n    kind: site\n    audience: public\n"  # the sample's help center, as kbctl.yaml writes it


class _Recorder(http.server.BaseHTTPRequestHandler):
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _serve(handler) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _site(tmp: Path, endpoint: str | None) -> Path:
    kb = tmp / "kb"
    shutil.copytree(REPO / "knowledge", kb / "knowledge")
    shutil.copytree(REPO / "assets", kb / "assets")  # the sample's theme files
    text = (REPO / "kbctl.yaml").read_text(encoding="utf-8")
    if endpoint:
        text = text.replace(SITE_LINE, f'{SITE_LINE}    feedback: {{endpoint: "{endpoint}"}}\n')
    (kb / "kbctl.yaml").write_text(text, encoding="utf-8")
    out = tmp / "out"
    result = run_cli("--root", str(kb), "build", "--as-of", "2026-11-22", "--out", str(out), "--channel", "help-center")
    assert result.code == 0, result.stderr
    return out / "help-center"


def _events(wait: float = 3.0, want: int = 0) -> list[dict]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and len(_Recorder.bodies) < want:
        time.sleep(0.05)
    return [json.loads(body) for body in _Recorder.bodies]


@pytest.mark.parametrize("with_endpoint", [True, False])
def test_reader_events_reach_the_endpoint(tmp_path, with_endpoint):
    _require_tools()
    from playwright.sync_api import sync_playwright

    _Recorder.bodies = []
    recorder = _serve(_Recorder)
    site = _site(tmp_path, f"http://127.0.0.1:{recorder.server_address[1]}/events" if with_endpoint else None)
    pages = _serve(lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(site), **k))
    base = f"http://127.0.0.1:{pages.server_address[1]}"
    schema = json.loads((REPO / "schemas" / "usage-event.schema.json").read_text(encoding="utf-8"))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            tab = browser.new_page()
            tab.goto(f"{base}/zh-CN/pay-bill-online/index.html")
            if with_endpoint:
                tab.get_by_role("button", name="有帮助", exact=True).click()
                tab.get_by_role("button", name="没有帮助").click(force=True)  # aria-disabled: not sent
                assert tab.locator("#feedback-thanks").inner_text() == "感谢您的反馈！"
                assert tab.get_by_role("button", name="有帮助", exact=True).get_attribute("aria-pressed") == "true"
            else:
                assert tab.locator("#feedback").count() == 0
            tab.goto(f"{base}/zh-CN/search.html?q={quote('xylophonequartz')}")
            tab.locator("#search-status").wait_for()
            tab.fill("#q", "zzqx")
            tab.wait_for_timeout(1500)
            tab.goto("about:blank")
            browser.close()
        events = _events(want=4 if with_endpoint else 0, wait=3.0 if with_endpoint else 1.0)
    finally:
        recorder.shutdown()
        pages.shutdown()
    if not with_endpoint:
        assert events == []
        return
    for event in events:
        jsonschema.validate(event, schema)
    assert [{k: v for k, v in e.items() if k != "time"} for e in events] == [
        {"channel": "help-center", "event": "view", "entry": "pay-bill-online"},
        {"channel": "help-center", "event": "helpful", "entry": "pay-bill-online"},
        {"channel": "help-center", "event": "search", "query": "xylophonequartz", "results": 0},
        {"channel": "help-center", "event": "search", "query": "zzqx", "results": 0},
    ]
