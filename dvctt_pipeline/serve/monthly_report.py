"""The monthly report analysts show provincial leaders: charts rather than tables.

For one month, in Vietnamese: provinces ranked by `online_share_all` and by
`dvctt_uptake_rate` (the month and the year to date), the national online share month by
month, and the share of agencies meeting their targets per administrative level. Written to
`<reports dir>/<YYYY-MM>/` as one self-contained HTML file (charts embedded, tables beside
them) and one PNG per chart; the Dagster asset shows smaller copies of the same charts.
A chart whose table or metric is missing from the marts says "Chưa có số liệu" in its place.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import jinja2
import pandas as pd
from matplotlib.figure import Figure

from dvctt_pipeline.serve.report.charts import (
    compliance_figure,
    png_pair,
    ranking_figure,
    report_style,
    trend_figure,
)
from dvctt_pipeline.serve.report.data import Ranking, ReportData, read_report_data
from dvctt_pipeline.serve.report.vietnamese import (
    NO_DATA,
    in_sentence,
    level_name,
    metric_title,
    percent,
    period_label,
)
from dvctt_pipeline.settings import TIMEZONE

RANKED_METRICS = ("online_share_all", "dvctt_uptake_rate")
FILE_DPI = 110  # the PNG files and the HTML: sharp enough to print
UI_SCALE = 0.55  # the Dagster UI's copies: event-log metadata should stay small
NATIONAL_TREND_LABEL = "Tỷ lệ hồ sơ trực tuyến toàn quốc theo tháng"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "report"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Column:
    name: str
    number: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    columns: list[Column]
    rows: list[list[str]]
    open: bool = False


@dataclass(frozen=True)
class Chart:
    """One chart of the report; without images when the marts have no figures for it."""

    name: str  # file stem of its PNG
    title: str
    label: str  # what it shows, in words and without the month: its name in the Dagster UI
    png: bytes | None = None
    ui_png: bytes | None = None
    table: Table | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


@dataclass(frozen=True)
class Section:
    title: str
    charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True)
class MonthlyReport:
    month: date
    html_path: Path
    sections: list[Section]

    @property
    def charts(self) -> list[Chart]:
        return [chart for section in self.sections for chart in section.charts]

    @property
    def png_paths(self) -> list[Path]:
        return [self.html_path.parent / chart.filename for chart in self.charts if chart.png]


def _integer(value: object) -> str:
    """12345 as Vietnamese write it, 12.345."""
    return "–" if pd.isna(value) else f"{int(value):,}".replace(",", ".")


def _draw(name: str, title: str, label: str, build: Callable[[], Figure] | None,
          table: Table | None = None) -> Chart:
    if build is None:
        return Chart(name, title, label)
    with report_style():
        png, ui_png = png_pair(build(), FILE_DPI, UI_SCALE)
    return Chart(name, title, label, png, ui_png, table)


# ---------------------------------------------------------------------------- tables

def _ranking_note(province: pd.Series) -> str:
    if not province["ranked"]:
        return ("Không xếp hạng: chưa có số liệu" if pd.isna(province["value"])
                else "Không xếp hạng: quá ít hồ sơ tiếp nhận")
    if province["is_top5"]:
        return "Nhóm 5 tỉnh dẫn đầu"
    return "Nhóm 5 tỉnh cuối bảng" if province["is_bottom5"] else ""


def _ranking_table(ranking: Ranking) -> Table:
    rows = [
        [_integer(province["rank"]), province["province_name"], percent(province["value"]),
         _integer(province["rank_prev"]), _integer(province["received"]), _ranking_note(province)]
        for _, province in ranking.provinces.iterrows()
    ]
    columns = [Column("Hạng", True), Column("Tỉnh, thành phố"), Column("Tỷ lệ", True),
               Column("Hạng kỳ trước", True), Column("Hồ sơ tiếp nhận", True), Column("Ghi chú")]
    return Table(f"Bảng xếp hạng đầy đủ ({len(rows)} tỉnh, thành phố)", columns, rows)


def _trend_table(trend: pd.DataFrame) -> Table:
    rows = [[f"{row.period_start:%m/%Y}", percent(row.month_share), percent(row.ytd_share)]
            for row in trend.itertuples()]
    columns = [Column("Tháng"), Column("Trong tháng", True), Column("Lũy kế từ đầu năm", True)]
    return Table("Số liệu", columns, rows)


def _compliance_table(compliance: pd.DataFrame) -> Table:
    rows = [[row.province_name, level_name(row.admin_level), metric_title(row.metric),
             _integer(row.agencies), _integer(row.agencies_met), percent(row.share_met, 0)]
            for row in compliance.itertuples()]
    columns = [Column("Tỉnh, thành phố"), Column("Cấp hành chính"), Column("Chỉ tiêu"),
               Column("Số đơn vị", True), Column("Số đơn vị đạt", True),
               Column("Tỷ lệ đạt", True)]
    return Table("Số liệu", columns, rows, open=True)


# ---------------------------------------------------------------------------- sections

def _ranking_chart(data: ReportData, metric: str, period_type: str) -> Chart:
    ranking = data.rankings[(metric, period_type)]
    name, title = f"xep_hang_{metric}_{period_type}", period_label(period_type, data.month)
    label = f"Xếp hạng tỉnh theo {in_sentence(metric_title(metric))}, " + (
        "lũy kế từ đầu năm" if period_type == "ytd" else "trong tháng")
    if ranking is None:
        return _draw(name, title, label, None)
    return _draw(name, title, label, lambda: ranking_figure(ranking, data.month),
                 _ranking_table(ranking))


def _trend_chart(data: ReportData) -> Chart:
    trend = data.trend
    build = None if trend is None else (lambda: trend_figure(trend))
    return _draw("xu_huong_online_share_all", "Trong tháng và lũy kế từ đầu năm",
                 NATIONAL_TREND_LABEL, build,
                 None if trend is None else _trend_table(trend))


def _compliance_chart(data: ReportData) -> Chart:
    compliance = data.compliance
    build = None if compliance is None else (lambda: compliance_figure(compliance, data.month))
    return _draw("dat_chi_tieu_theo_cap", "Tỷ lệ đơn vị đạt chỉ tiêu, "
                 + in_sentence(period_label("ytd", data.month)),
                 "Tỷ lệ đơn vị đạt chỉ tiêu theo cấp hành chính, lũy kế từ đầu năm", build,
                 None if compliance is None else _compliance_table(compliance))


def build_sections(data: ReportData) -> list[Section]:
    rankings = [
        Section(f"Xếp hạng tỉnh, thành phố theo {in_sentence(metric_title(metric))}",
                [_ranking_chart(data, metric, period_type) for period_type in ("month", "ytd")])
        for metric in RANKED_METRICS
    ]
    return [
        *rankings,
        Section("Xu hướng tỷ lệ hồ sơ trực tuyến toàn quốc", [_trend_chart(data)]),
        Section("Thực hiện chỉ tiêu theo cấp hành chính", [_compliance_chart(data)]),
    ]


# ---------------------------------------------------------------------------- output

def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _headline(data: ReportData) -> list[dict[str, str]]:
    """The national figure of each ranked metric, year to date and for the month."""
    figures = []
    for metric in RANKED_METRICS:
        ytd, month = data.rankings[(metric, "ytd")], data.rankings[(metric, "month")]
        figures.append({
            "label": f"{metric_title(metric)} toàn quốc, lũy kế",
            "value": NO_DATA if ytd is None else percent(ytd.national),
            "note": f"Tháng {data.month:%m/%Y}: "
            + ("–" if month is None else percent(month.national)),
        })
    return figures


def _html(data: ReportData, sections: list[Section], source: str) -> str:
    generated = datetime.now(ZoneInfo(TIMEZONE))
    return _TEMPLATES.get_template("monthly_report.html.j2").render(
        title=f"Báo cáo dịch vụ công trực tuyến tháng {data.month:%m/%Y}",
        subtitle=f"Số liệu tháng {data.month:%m/%Y} và lũy kế từ đầu năm {data.month.year}; "
        "xếp hạng theo địa giới hành chính tại thời điểm báo cáo.",
        headline=_headline(data),
        sections=[
            {"title": section.title,
             "charts": [{"title": chart.title, "table": chart.table,
                         "src": _data_uri(chart.png) if chart.png else None}
                        for chart in section.charts]}
            for section in sections
        ],
        no_data=NO_DATA,
        footer=f"Nguồn: {source}. Lập lúc {generated:%H:%M ngày %d/%m/%Y}.",
    )


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target and rename over it: an open viewer never sees half a file."""
    building = path.with_name(f".{path.name}.building")
    building.write_bytes(content)
    os.replace(building, path)


def write_report(data: ReportData, sections: list[Section], folder: Path,
                 source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    charts = [chart for section in sections for chart in section.charts if chart.png]
    for chart in charts:
        _write_atomically(folder / chart.filename, chart.png)
    # a chart with no figures any more must not leave the previous render's picture behind
    current = {chart.filename for chart in charts}
    for stale in folder.glob("*.png"):
        if stale.name not in current:
            stale.unlink()
    html_path = folder / f"bao_cao_dvctt_{data.month:%Y-%m}.html"
    _write_atomically(html_path, _html(data, sections, source).encode("utf-8"))
    return html_path


def read_month(con: duckdb.DuckDBPyConnection, month: date) -> ReportData:
    """The month's figures from `marts`: quick, so the database can be let go before drawing."""
    return read_report_data(con, month, RANKED_METRICS)


def render_monthly_report(data: ReportData, reports_dir: Path, source: str) -> MonthlyReport:
    """Draw the charts and write the report under reports_dir/YYYY-MM/.

    `source` names where the figures come from, for the report's footer.
    """
    sections = build_sections(data)
    html_path = write_report(data, sections, reports_dir / f"{data.month:%Y-%m}", source)
    return MonthlyReport(data.month, html_path, sections)


def render_monthly_reports(
    figures: Sequence[ReportData], reports_dir: Path, source: str
) -> list[MonthlyReport]:
    """The reports of several months, drawn in parallel: a backfill draws one a month, and
    matplotlib holds one core per process (24 months: 80 s on one core)."""
    if len(figures) <= 1:
        return [render_monthly_report(data, reports_dir, source) for data in figures]
    workers = min(len(figures), os.cpu_count() or 1)
    # spawn, not fork: the parent holds DuckDB's and Dagster's threads
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(render_monthly_report, figures, repeat(reports_dir),
                             repeat(source)))


def ui_markdown(report: MonthlyReport) -> dict[str, str]:
    """One markdown entry per chart for the Dagster UI, named by its label, the small PNGs
    embedded inline; the national trend first, the chart a reader looks for first."""
    entries = {}
    for section in report.sections:
        for chart in section.charts:
            heading = f"**{section.title}: {chart.title}**\n\n"
            body = (f"![{chart.title}]({_data_uri(chart.ui_png)})" if chart.ui_png
                    else f"_{NO_DATA}_")
            entries[chart.label] = heading + body
    national = entries.pop(NATIONAL_TREND_LABEL)
    return {NATIONAL_TREND_LABEL: national, **entries}


def ui_description(report: MonthlyReport, relative_path: str, folder_variable: str) -> str:
    """The month's materialization in the Dagster UI: the report's place and its national
    chart (the UI cannot serve the report's file, so the text says where it is)."""
    trend = next(chart for chart in report.charts if chart.label == NATIONAL_TREND_LABEL)
    picture = (f"![{trend.label}]({_data_uri(trend.ui_png)})" if trend.ui_png
               else f"_{NO_DATA}_")
    return (
        f"**Báo cáo tháng {report.month:%m/%Y}**: `{relative_path}` in the reports folder "
        f"(`${folder_variable}`, default `data/reports`); open it in a browser, or write it "
        f"again with `dvctt report --month {report.month:%Y-%m}`.\n\n"
        f"**{trend.label}**\n\n{picture}"
    )


def render_from_serving(serving: Path, month: date, reports_dir: Path) -> MonthlyReport:
    """The report from the published serving file, opened read-only like any BI tool."""
    with duckdb.connect(str(serving), read_only=True) as con:
        data = read_month(con, month)
    return render_monthly_report(data, reports_dir, source=f"tệp phục vụ {serving}")
