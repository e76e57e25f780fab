"""`kbctl health --format html`: one self-contained page people look at (CONTRACT 7's report).

No network: the stylesheet is inline and the charts are inline SVG drawn from the figures
below, each with the same figures as a table beside it (screen readers, copy and paste). Every
value from the KB (owners, titles, queries) is escaped by jinja's autoescape: kbctl.yaml and
the usage files arrive in pull requests. kbctl's own template, not a theme's: it is not
overridable, so it needs no sandbox.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import TextIO

import jinja2

from kbctl.report import Summary
from kbctl.report import health as health_text
from kbctl.resources import data_dir

MAX_GAPS = 10
BAR_AREA = 100.0  # bar lengths are percentages of the chart's bar area


@dataclass(frozen=True)
class Bar:
    """One bar: a value, and its length as a share of the chart's largest value."""

    value: int
    share: float  # 0..BAR_AREA


@dataclass(frozen=True)
class Row:
    """One row of a chart: a label and its bars (one per series, in the chart's order)."""

    label: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    series: tuple[str, ...]  # the names of the bars of each row, in order
    rows: tuple[Row, ...]

    @property
    def height(self) -> int:
        return 24 + 28 * len(self.rows) * max(1, len(self.series))


@dataclass(frozen=True)
class Gap:
    query: str
    count: int


@dataclass(frozen=True)
class HealthPage:
    """What the template shows."""

    name: str
    as_of: str
    entries: int
    errors: int
    warnings: int
    notes: int
    charts: tuple[Chart, ...]
    gaps: tuple[Gap, ...]
    usage_events: int | None  # None: no usage data given
    findings: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...]  # owner, rows


def chart(chart_id: str, title: str, series: tuple[str, ...], rows: list[tuple[str, tuple[int, ...]]]) -> Chart:
    top = max((value for _, values in rows for value in values), default=0) or 1
    return Chart(chart_id, title, series, tuple(
        Row(label, tuple(Bar(value, round(BAR_AREA * value / top, 2)) for value in values))
        for label, values in rows))


def owners_chart(report) -> Chart:
    counts: dict[str, Counter] = {}
    for owner, findings in health_text.groups(report):  # the owner's name: the table says who
        counts[owner or health_text.KB_GROUP] = Counter(f.diagnostic.severity.value for f in findings)
    return chart("owners", "Findings per owner", ("errors", "warnings", "notes"),
                 [(label, (c["error"], c["warning"], c["info"])) for label, c in counts.items()])


def months_chart(report) -> Chart:
    months: dict[str, Counter] = {}
    for finding in report.findings:
        if finding.diagnostic.rule in ("stale", "expiring") and finding.due is not None:
            months.setdefault(finding.due.strftime("%Y-%m"), Counter())[finding.diagnostic.rule] += 1
    return chart("months", "Reviews due, by month: stale (passed) and expiring (soon)", ("stale", "expiring"),
                 [(month, (c["stale"], c["expiring"])) for month, c in sorted(months.items())])


def categories_chart(report) -> Chart | None:
    """Views and votes per top-level category, where usage data was given."""
    if report.usage is None:
        return None
    config = report.config
    totals: dict[str, Counter] = {}
    for entry_id, counts in report.usage.entries.items():
        category = report.categories.get(entry_id)
        top = category.split("/")[0] if category else None
        node = config.nodes.get(top) if top else None
        label = node.title(config.default_locale, config.default_locale) if node else "(no category)"
        total = totals.setdefault(label, Counter())
        total.update({"views": counts.views + counts.serves, "helpful": counts.helpful,
                      "unhelpful": counts.unhelpful})
    rows = sorted(totals.items(), key=lambda item: (-item[1]["views"], item[0]))
    return chart("categories", "Views (and chatbot or IVR serves) and votes per category",
                 ("views", "helpful", "unhelpful"),
                 [(label, (c["views"], c["helpful"], c["unhelpful"])) for label, c in rows])


def top_gaps(report) -> tuple[Gap, ...]:
    """The most searched queries without a result, as the content-gap rule counts them."""
    if report.usage is None:
        return ()
    counted = [gap for gap in report.usage.gaps if gap.count >= report.config.usage.gap_min]
    return tuple(Gap(gap.text or gap.query, gap.count)
                 for gap in sorted(counted, key=lambda g: (-g.count, g.query))[:MAX_GAPS])


def page(report) -> HealthPage:
    summary = Summary.of(report.diagnostics, report.entries)
    charts = [owners_chart(report), months_chart(report)]
    by_category = categories_chart(report)
    if by_category is not None:
        charts.append(by_category)
    gaps = top_gaps(report)
    findings = tuple((health_text.owner_label(report, owner),
                      tuple((f.diagnostic.rule, f.diagnostic.entry or "", f.title, f.diagnostic.message)
                            for f in rows))
                     for owner, rows in health_text.groups(report))
    return HealthPage(report.config.name, report.as_of.isoformat(), summary.entries, summary.errors,
                      summary.warnings, summary.infos, tuple(c for c in charts if c.rows), gaps,
                      report.usage.events if report.usage else None, findings)


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates") / "report")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    return environment.get_template("health.html")


def write_html(report, out: TextIO) -> None:
    out.write(_template().render(page=page(report)))
