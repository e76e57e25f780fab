"""`kbctl health --format html` (issue 17's report): one self-contained page, charts as inline
SVG with their figures as tables, everything from the KB escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import REPO, entry_text, run_cli, write_kb

AS_OF = "2027-02-28"


class Page(HTMLParser):
    """What the report's HTML holds: its tags (with attributes), and its text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("health") / "health.html"
    result = run_cli("--root", str(REPO), "health", "--usage", str(REPO / "examples" / "usage.jsonl"),
                     "--as-of", AS_OF, "--format", "html", "--output", str(out))
    assert result.code in (0, 1), result.stderr
    assert result.stdout == ""  # the report went to the file
    return out.read_text(encoding="utf-8")


def test_the_page_loads_nothing_from_anywhere(sample_report):
    page = Page(sample_report)
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "img", "iframe", "object"), tag
        for name in ("src", "href", "srcset", "action"):
            assert name not in attrs, (tag, name)
    assert "url(" not in sample_report and "@import" not in sample_report
    assert re.findall(r"https?://[^\s\"'<]+", sample_report) == ["http://www.w3.org/2000/svg"] * 3


def test_three_charts_each_with_a_title_and_its_table(sample_report):
    page = Page(sample_report)
    charts = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert len(charts) == 3 and all(c["role"] == "img" and c["aria-labelledby"] for c in charts)
    titles = [attrs["id"] for tag, attrs in page.tags if tag == "h2"]
    assert titles == ["owners-title", "months-title", "categories-title", "gaps-title", "findings-title"]
    assert sample_report.count("<table>") >= 3 + 1  # a table behind each chart, the gaps


def test_the_top_content_gaps_are_most_searched_first(sample_report):
    gaps = sample_report[sample_report.index('id="gaps-title"'):sample_report.index('id="findings-title"')]
    counts = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', gaps)]
    assert counts == sorted(counts, reverse=True) and min(counts) >= 3  # gap_min
    assert "携号转网 进度查询" in gaps


def test_values_from_the_kb_are_escaped_and_no_usage_means_no_usage_sections(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a", title="<script>alert(1)</script>标题",
                                                        review_by="2026-01-01")})
    result = run_cli("--root", str(kb), "health", "--as-of", "2026-11-22", "--format", "html")
    assert result.code in (0, 1), result.stderr
    assert "<script>alert" not in result.stdout and "&lt;script&gt;alert(1)&lt;/script&gt;标题" in result.stdout
    assert 'id="categories-title"' not in result.stdout and 'id="gaps-title"' not in result.stdout
    assert 'id="months-title"' in result.stdout  # the stale entry, due 2026-01
    assert "2026-01" in result.stdout


def test_an_output_that_cannot_be_written_is_a_usage_error(tmp_path):
    kb = write_kb(tmp_path / "kb", {"a.md": entry_text(id="a")})
    result = run_cli("--root", str(kb), "health", "--format", "html", "--output", str(tmp_path / "no" / "such" / "x.html"))
    assert result.code == 2 and "--output" in result.stderr and "Traceback" not in result.stderr


def test_the_report_is_deterministic(tmp_path):
    first, second = (run_cli("--root", str(REPO), "health", "--usage", str(REPO / "examples" / "usage.jsonl"),
                             "--as-of", AS_OF, "--format", "html").stdout for _ in range(2))
    assert first == second and first.startswith("<!doctype html>")


def test_the_report_template_is_found_where_kbctl_looks_for_its_data():
    from kbctl.resources import data_dir

    assert (data_dir("templates") / "report" / "health.html").is_file()
