"""The site's "was this helpful?" control and usage beacon (CONTRACT 7): present, escaped and
wired only where the channel has `feedback.endpoint`; refused endpoints; builds stay
deterministic and follow a change of the endpoint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_cli

AS_OF = "2026-11-22"
ENDPOINT = "https://events.example.com/kb?src=site&v=1"
SITE_LINE = "  help-center:                                                       # public website\n    kind: site\n    audience: public\n"  # the sample's help center, as kbctl.yaml writes it


def _kb(tmp_path: Path, feedback: str | None) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(REPO / "knowledge", kb / "knowledge")
    shutil.copytree(REPO / "assets", kb / "assets")  # the sample's theme files
    text = (REPO / "kbctl.yaml").read_text(encoding="utf-8")
    assert SITE_LINE in text
    if feedback is not None:
        text = text.replace(SITE_LINE, f"{SITE_LINE}    feedback: {feedback}\n")
    (kb / "kbctl.yaml").write_text(text, encoding="utf-8")
    return kb


def feedback_line() -> int:
    """The line of kbctl.yaml where `_kb` puts `feedback:` (right after SITE_LINE)."""
    text = (REPO / "kbctl.yaml").read_text(encoding="utf-8")
    return text[:text.index(SITE_LINE) + len(SITE_LINE)].count("\n") + 1


def _build(kb: Path, out: Path):
    return run_cli("--root", str(kb), "build", "--as-of", AS_OF, "--out", str(out), "--channel", "help-center")


def _page(out: Path, path: str = "zh-CN/pay-bill-online/index.html") -> str:
    return (out / "help-center" / path).read_text(encoding="utf-8")


def test_without_endpoint_no_control_and_nothing_sends(tmp_path):
    out = tmp_path / "out"
    assert _build(_kb(tmp_path, None), out).code == 0
    site = out / "help-center"
    assert not (site / "assets" / "feedback.js").exists()
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert 'id="feedback"' not in html and "feedback.js" not in html and "data-endpoint" not in html, page
    assert "sendBeacon" not in (site / "assets" / "search.js").read_text(encoding="utf-8")


def test_with_endpoint_entry_pages_ask_and_send(tmp_path):
    out = tmp_path / "out"
    result = _build(_kb(tmp_path, f'{{endpoint: "{ENDPOINT}"}}'), out)
    assert result.code == 0, result.stderr
    zh, en = _page(out), _page(out, "en-US/pay-bill-online-en/index.html")
    assert "这篇内容有帮助吗？" in zh and 'lang="zh-CN"' in zh
    assert "Was this helpful?" in en
    assert zh.count('aria-pressed="false"') == 2 and 'aria-live="polite"' in zh
    escaped = ENDPOINT.replace("&", "&amp;")
    assert (f'<script src="../../assets/feedback.js" data-endpoint="{escaped}" '
            'data-channel="help-center" data-entry="pay-bill-online"></script>') in zh
    search = _page(out, "zh-CN/search.html")
    assert f'data-endpoint="{escaped}"' in search and "data-entry" not in search
    assert search.index("feedback.js") < search.index("search.js")  # listens before the first search
    assert "feedback.js" not in _page(out, "zh-CN/index.html")
    assert "sendBeacon" in (out / "help-center" / "assets" / "feedback.js").read_text(encoding="utf-8")


@pytest.mark.parametrize("endpoint", ["javascript:alert(1)", "http://collector.example.com/e",
                                      'https://a.example/"><script>', "data:text/html,x"])
def test_unsafe_endpoint_is_a_config_error(tmp_path, endpoint):
    kb = _kb(tmp_path, "{endpoint: " + repr(endpoint).replace("'", "'") + "}")
    result = _build(kb, tmp_path / "out")
    assert result.code == 2, result.stdout + result.stderr
    assert f"kbctl.yaml:{feedback_line()}:" in result.stderr and "Traceback" not in result.stderr


def test_changing_the_endpoint_remakes_pages_like_a_cold_build(tmp_path):
    kb = _kb(tmp_path, '{endpoint: "https://one.example/e"}')
    out = tmp_path / "out"
    assert _build(kb, out).code == 0
    config = kb / "kbctl.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("https://one.example/e", "https://two.example/e"),
                      encoding="utf-8")
    assert _build(kb, out).code == 0
    cold = tmp_path / "cold"
    shutil.rmtree(kb / ".kbctl", ignore_errors=True)
    assert _build(kb, cold).code == 0
    warm_files = {p.relative_to(out): p.read_bytes() for p in (out / "help-center").rglob("*") if p.is_file()}
    cold_files = {p.relative_to(cold): p.read_bytes() for p in (cold / "help-center").rglob("*") if p.is_file()}
    assert warm_files == cold_files
    assert "https://two.example/e" in _page(out)
