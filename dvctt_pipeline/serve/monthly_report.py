"""The monthly report analysts show provincial leaders: charts rather than tables.

For one month, in Vietnamese: provinces ranked by `online_share_all` and by
`dvctt_uptake_rate` (the month and the year to date), the national online share month by
month, and the share of agencies meeting their targets per administrative level. Written to
`<reports dir>/<YYYY-MM>/` as one self-contained HTML file (charts embedded, tables beside
them) and one PNG per chart; the Dagster asset shows smaller copies of the same charts.
A chart whose table or metric is missing from the marts says "Chưa có số liệu" in its place.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import repeat
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from dvctt_pipeline.serve.province_report import (
    TREND_LABEL as PROVINCE_TREND_LABEL,
)
from dvctt_pipeline.serve.province_report import (
    ProvinceReport,
    read_target_provinces,
    remove_other_province_reports,
    render_province_report,
)
from dvctt_pipeline.serve.report.charts import compliance_figure, ranking_figure, trend_figure
from dvctt_pipeline.serve.report.data import (
    RANKED_METRICS,
    ProvinceData,
    Ranking,
    ReportData,
    ReportReader,
)
from dvctt_pipeline.serve.report.document import (
    Chart,
    Column,
    Report,
    Section,
    Table,
    draw_chart,
    integer,
    ui_picture,
    write_report,
)
from dvctt_pipeline.serve.report.vietnamese import (
    NO_DATA,
    in_sentence,
    level_name,
    metric_title,
    moment,
    percent,
    period_label,
)
from dvctt_pipeline.settings import TIMEZONE

NATIONAL_TREND_LABEL = "Tỷ lệ hồ sơ trực tuyến toàn quốc theo tháng"


@dataclass(frozen=True)
class MonthlyReport(Report):
    # the reports of the provinces that set targets for the year, where they were drawn too
    provinces: list[ProvinceReport] = field(default_factory=list)
    # the folders of province reports the month no longer has, emptied when it was drawn
    removed_provinces: list[Path] = field(default_factory=list)

    @property
    def png_paths(self) -> list[Path]:
        return [self.html_path.parent / chart.filename for chart in self.charts if chart.png]


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
        [integer(province["rank"]), province["province_name"], percent(province["value"]),
         integer(province["rank_prev"]), integer(province["received"]), _ranking_note(province)]
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
             integer(row.agencies), integer(row.agencies_met), percent(row.share_met, 0)]
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
        return draw_chart(name, title, label, None)
    return draw_chart(name, title, label, lambda: ranking_figure(ranking, data.month),
                      _ranking_table(ranking))


def _trend_chart(data: ReportData) -> Chart:
    trend = data.trend
    build = None if trend is None else (lambda: trend_figure(trend))
    return draw_chart("xu_huong_online_share_all", "Trong tháng và lũy kế từ đầu năm",
                      NATIONAL_TREND_LABEL, build,
                      None if trend is None else _trend_table(trend))


def _compliance_chart(data: ReportData) -> Chart:
    compliance = data.compliance
    build = None if compliance is None else (lambda: compliance_figure(compliance, data.month))
    return draw_chart("dat_chi_tieu_theo_cap", "Tỷ lệ đơn vị đạt chỉ tiêu, "
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

def _national_text(value: float | None) -> str:
    return NO_DATA if value is None else percent(value)


def _headline(data: ReportData) -> list[dict[str, str]]:
    """The national figure of each ranked metric, year to date and for the month: the nation's
    own, so a month whose provinces all received too few dossiers to be ranked still has it."""
    return [{"label": f"{metric_title(metric)} toàn quốc, lũy kế",
             "value": _national_text(data.national[(metric, "ytd")]),
             "note": f"Tháng {data.month:%m/%Y}: "
             + _national_text(data.national[(metric, "month")]).lower()}
            for metric in RANKED_METRICS]


def render_monthly_report(data: ReportData, reports_dir: Path, source: str) -> MonthlyReport:
    """Draw the charts and write the report under reports_dir/YYYY-MM/.

    `source` names the copy of the figures, for the report's footer.
    """
    sections = build_sections(data)
    html_path = write_report(
        reports_dir / f"{data.month:%Y-%m}", f"bao_cao_dvctt_{data.month:%Y-%m}.html",
        title=f"Báo cáo dịch vụ công trực tuyến tháng {data.month:%m/%Y}",
        subtitle=f"Số liệu tháng {data.month:%m/%Y} và lũy kế từ đầu năm {data.month.year}; "
        "xếp hạng theo địa giới hành chính tại thời điểm báo cáo.",
        headline=_headline(data), sections=sections, source=source)
    return MonthlyReport(data.month, html_path, sections)


@dataclass(frozen=True)
class MonthFigures:
    """What a month's reports show: the nation's, and each province with targets; and the
    provinces with targets that have no figures in the month, by code."""

    national: ReportData
    provinces: list[ProvinceData]
    without_figures: list[str]


def read_month_figures(con: duckdb.DuckDBPyConnection, month: date) -> MonthFigures:
    """The month's figures from `marts`: quick, so the database can be let go before drawing."""
    reader = ReportReader(con)
    return MonthFigures(reader.report_data(month), *read_target_provinces(reader, month))


def render_month(figures: MonthFigures, reports_dir: Path, source: str) -> MonthlyReport:
    """The month's national report and the reports of its provinces with targets, and of
    those only: a province report the month no longer has is removed."""
    report = render_monthly_report(figures.national, reports_dir, source)
    provinces = [render_province_report(province, reports_dir, source)
                 for province in figures.provinces]
    removed = remove_other_province_reports(
        reports_dir, report.month, {province.province_code for province in provinces})
    return replace(report, provinces=provinces, removed_provinces=removed)


def render_monthly_reports(
    figures: Sequence[MonthFigures], reports_dir: Path, source: str
) -> list[MonthlyReport]:
    """The reports of several months, drawn in parallel: a backfill draws one a month, and
    matplotlib holds one core per process (24 months: 80 s on one core)."""
    if len(figures) <= 1:
        return [render_month(month, reports_dir, source) for month in figures]
    workers = min(len(figures), os.cpu_count() or 1)
    # spawn, not fork: the parent holds DuckDB's and Dagster's threads
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(render_month, figures, repeat(reports_dir), repeat(source)))


def ui_markdown(report: MonthlyReport) -> dict[str, str]:
    """One markdown entry per chart for the Dagster UI, named by its label, the small PNGs
    embedded inline; the national trend first, the chart a reader looks for first."""
    entries = {}
    for section in report.sections:
        for chart in section.charts:
            entries[chart.label] = f"**{section.title}: {chart.title}**\n\n{ui_picture(chart)}"
    national = entries.pop(NATIONAL_TREND_LABEL)
    return {NATIONAL_TREND_LABEL: national, **entries}


def ui_description(report: MonthlyReport, relative_path: str, folder_variable: str) -> str:
    """The month's materialization in the Dagster UI: the report's place and its national
    chart (the UI cannot serve the report's file, so the text says where it is)."""
    trend = next(chart for chart in report.charts if chart.label == NATIONAL_TREND_LABEL)
    return (
        f"**Báo cáo tháng {report.month:%m/%Y}**: `{relative_path}` in the reports folder "
        f"(`${folder_variable}`, default `data/reports`); open it in a browser, or write it "
        f"again with `dvctt report --month {report.month:%Y-%m}`.\n\n"
        f"**{trend.label}**\n\n{ui_picture(trend)}"
    )


def ui_province_markdown(report: MonthlyReport, reports_dir: Path) -> dict[str, str]:
    """One markdown entry per province report for the Dagster UI: where it is within the
    reports folder and its trend chart, named "Báo cáo tỉnh <name>"."""
    entries = {}
    for province in report.provinces:
        relative = province.html_path.relative_to(reports_dir).as_posix()
        trend = next(chart for chart in province.charts if chart.label == PROVINCE_TREND_LABEL)
        entries[f"Báo cáo tỉnh {province.province_name}"] = (
            f"`{relative}` in the reports folder; `dvctt report --month {report.month:%Y-%m} "
            f"--province {province.province_code}` writes it again.\n\n"
            f"**{trend.label}**\n\n{ui_picture(trend)}")
    return entries


def publication(serving: Path) -> str:
    """The serving file as a report's footer names it: when it was published."""
    published = datetime.fromtimestamp(serving.stat().st_mtime, ZoneInfo(TIMEZONE))
    return f"bản công bố lúc {moment(published)}"
