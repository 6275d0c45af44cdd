"""The province report: for the office of a province that set targets, whom to call.

For one province and month, in Vietnamese: the province's online share and DVCTT uptake (the
month and the year to date) with its rank among provinces and the move since the previous
period, its online share month by month beside the national one; every agency with a target,
by level, those below target first; the share of agencies meeting their target per level
month by month; what each agency below target still needs over the rest of the year
(`required_rest_of_year` of `marts.target_compliance`); the agencies known from Biểu 06
reports only; and, where `marts.fee_policy_effect` measures a fee cut of the province, its
effect. Built from the same pieces as the national report (`report/document.py`), written to
`<reports dir>/<YYYY-MM>/tinh_<code>/` as one self-contained HTML file and one PNG per chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from dvctt_pipeline.serve.report.charts import (
    LEVEL_ORDER,
    compliance_by_month_figure,
    fee_effect_figure,
    province_trend_figure,
)
from dvctt_pipeline.serve.report.data import (
    RANKED_METRICS,
    ProvinceData,
    ReportReader,
    Standing,
)
from dvctt_pipeline.serve.report.document import (
    Column,
    Report,
    Section,
    Table,
    draw_chart,
    integer,
    write_report,
)
from dvctt_pipeline.serve.report.vietnamese import (
    NO_DATA,
    in_sentence,
    level_name,
    metric_title,
    percent,
    period_label,
    points,
)

STATUS_NAMES = {
    "below": "Chưa đạt",
    "no_data": "Chưa có số liệu",
    "met": "Đạt",
    "exceeds_stretch": "Đạt mức phấn đấu",
}
# the order of the agency tables: those below target first, so the office knows whom to call
STATUS_ORDER = {status: position for position, status in enumerate(STATUS_NAMES)}
REPORT_ONLY = "Chỉ có báo cáo (Biểu 06)"
UNREACHABLE = "Không thể đạt (cần hơn 100%)"
NEED_TEXT = {"unreachable": UNREACHABLE, "no_months_left": "Hết năm, không còn tháng nào",
             "not_applicable": "Không áp dụng (chỉ số đếm thủ tục)"}
TREND_LABEL = "Tỷ lệ hồ sơ trực tuyến của tỉnh và toàn quốc theo tháng"


@dataclass(frozen=True)
class ProvinceReport(Report):
    province_code: str
    province_name: str


def province_folder(reports_dir: Path, month: date, code: str) -> Path:
    return reports_dir / f"{month:%Y-%m}" / f"tinh_{code}"


def _is_report_file(path: Path) -> bool:
    """A file a province report writes: its page, a chart, or either half-written."""
    return path.is_file() and (path.suffix == ".png" or path.name.startswith("bao_cao_dvctt_")
                               or path.name.endswith(".building"))


def remove_other_province_reports(reports_dir: Path, month: date,
                                  codes: set[str]) -> list[Path]:
    """Remove the month's province reports other than those of `codes`: a province whose
    targets were withdrawn, or whose code the month no longer has, must not keep a report
    that looks current. Only report files go; a folder holding anything else stays with it.
    Returns the folders emptied of their report."""
    removed = []
    for folder in sorted((reports_dir / f"{month:%Y-%m}").glob("tinh_[0-9][0-9]")):
        if not folder.is_dir() or folder.name.removeprefix("tinh_") in codes:
            continue
        for path in folder.iterdir():
            if _is_report_file(path):
                path.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
        removed.append(folder)
    return removed


# ------------------------------------------------------------------- the province's place

def _movement(standing: Standing) -> str:
    """The rank's move since the previous period, in words."""
    if not standing.ranked or standing.rank_prev is None or pd.isna(standing.rank_prev):
        return "–"
    change = int(standing.rank_prev) - int(standing.rank)
    if change == 0:
        return "Giữ nguyên"
    return f"Tăng {change} bậc" if change > 0 else f"Giảm {-change} bậc"


def _rank(standing: Standing) -> str:
    return f"{standing.rank}/{standing.n_ranked}" if standing.ranked else "Không xếp hạng"


def _headline(data: ProvinceData) -> list[dict[str, str]]:
    figures = []
    for metric in RANKED_METRICS:
        for period_type in ("ytd", "month"):
            standing = data.standings[(metric, period_type)]
            when = "lũy kế" if period_type == "ytd" else f"tháng {data.month:%m/%Y}"
            label = f"{metric_title(metric)}, {when}"
            if standing is None:
                figures.append({"label": label, "value": NO_DATA, "note": ""})
                continue
            movement = _movement(standing)
            figures.append({
                "label": label,
                "value": percent(standing.value),
                "note": f"Hạng {_rank(standing)}"
                + ("" if movement == "–" else f" ({in_sentence(movement)})")
                + f"; toàn quốc {percent(standing.national)}",
            })
    return figures


def _standings_table(data: ProvinceData) -> Table:
    rows = []
    for metric in RANKED_METRICS:
        for period_type in ("month", "ytd"):
            standing = data.standings[(metric, period_type)]
            if standing is None:
                continue
            rows.append([metric_title(metric), period_label(period_type, data.month),
                         percent(standing.value), percent(standing.national),
                         _rank(standing), percent(standing.value_prev),
                         integer(standing.rank_prev), _movement(standing)])
    columns = [Column("Chỉ số"), Column("Kỳ"), Column("Tỉnh", True), Column("Toàn quốc", True),
               Column("Hạng", True), Column("Kỳ trước", True), Column("Hạng kỳ trước", True),
               Column("Thay đổi hạng")]
    return Table("Giá trị và thứ hạng của tỉnh", columns, rows)


def _trend_section(data: ProvinceData) -> Section:
    trend = data.trend
    build = None if trend is None else (lambda: province_trend_figure(trend, data.province_name))
    table = None if trend is None else Table("Số liệu", [
        Column("Tháng"), Column(data.province_name, True), Column("Toàn quốc", True)], [
        [f"{row.period_start:%m/%Y}", percent(row.province_share), percent(row.national_share)]
        for row in trend.itertuples()])
    chart = draw_chart("xu_huong_tinh_va_toan_quoc", "Theo tháng", TREND_LABEL, build, table)
    return Section("Tỷ lệ hồ sơ trực tuyến và DVCTT phát sinh hồ sơ: tỉnh so với toàn quốc",
                   [chart], [_standings_table(data)])


# --------------------------------------------------------------------- agencies and targets

def target_range(target_min: float, target_stretch: float | None) -> str:
    """"55%", or "45–50%" where a stretch target is set, as the decisions write them."""
    def whole(value: float) -> str:
        return percent(value, 0 if round(value * 100, 6).is_integer() else 1)
    if pd.isna(target_stretch):
        return whole(target_min)
    return f"{whole(target_min).removesuffix('%')}–{whole(target_stretch)}"


def _ordered(agencies: pd.DataFrame) -> pd.DataFrame:
    """Below target first, the furthest below on top; then no data, met, stretch reached."""
    return agencies.assign(
        status_order=agencies["status"].map(STATUS_ORDER),
        level_order=agencies["admin_level"].map(LEVEL_ORDER).fillna(len(LEVEL_ORDER)),
    ).sort_values(["level_order", "status_order", "gap_pp", "agency_name"],
                  na_position="last")


def _note(source: str | None) -> str:
    """Marks an agency whose figures come from its Biểu 06 reports alone."""
    return REPORT_ONLY if source == "report" else ""


def _agency_tables(agencies: pd.DataFrame, month: date) -> list[Table]:
    with_metric = agencies["metric"].nunique() > 1
    with_note = bool((agencies["source"] == "report").any())
    tables = []
    for _, rows in _ordered(agencies).groupby("level_order", sort=True):
        level_rows = list(rows.itertuples(index=False))
        met = sum(row.status in ("met", "exceeds_stretch") for row in level_rows)
        columns = [Column("Đơn vị"), *([Column("Chỉ số")] if with_metric else []),
                   Column(f"Thực hiện lũy kế đến {month:%m/%Y}", True),
                   Column("Chỉ tiêu", True), Column("Chênh lệch (điểm %)", True),
                   Column("Tình trạng"), *([Column("Ghi chú")] if with_note else [])]
        tables.append(Table(
            f"{level_name(level_rows[0].admin_level)}: {len(level_rows)} đơn vị, {met} đạt",
            columns,
            [[row.agency_name, *([metric_title(row.metric)] if with_metric else []),
              percent(row.actual), target_range(row.target_min, row.target_stretch),
              points(row.gap_pp), STATUS_NAMES.get(row.status, row.status),
              *([_note(row.source)] if with_note else [])]
             for row in level_rows],
            row_classes=[row.status for row in level_rows],
        ))
    return tables


def _metrics_note(agencies: pd.DataFrame) -> str:
    metrics = ", ".join(in_sentence(metric_title(m)) for m in sorted(agencies["metric"].unique()))
    return (f"Chỉ số được giao: {metrics}. Thực hiện là giá trị lũy kế từ đầu năm; chênh lệch "
            "so với chỉ tiêu tối thiểu; đơn vị chưa đạt được xếp trước.")


def _agencies_section(data: ProvinceData) -> Section:
    title = f"Thực hiện chỉ tiêu của từng đơn vị, {in_sentence(period_label('ytd', data.month))}"
    if data.agencies is None:
        return Section(title, note=f"Tỉnh chưa giao chỉ tiêu cho năm {data.month.year}.")
    return Section(title, tables=_agency_tables(data.agencies, data.month),
                   note=_metrics_note(data.agencies))


def need_text(agency: pd.Series) -> str:
    """What an agency below target still needs: a share, or why there is none."""
    if agency["required_status"] == "reachable":
        return percent(agency["required_rest_of_year"])
    return NEED_TEXT.get(agency["required_status"], "–")


def _needs_section(data: ProvinceData) -> Section | None:
    if data.agencies is None:
        return None
    below = data.agencies[data.agencies["status"] == "below"]
    title = "Đơn vị chưa đạt chỉ tiêu: cần đạt bao nhiêu trong các tháng còn lại"
    if below.empty:
        return Section(title, note="Mọi đơn vị có số liệu đều đã đạt chỉ tiêu.")
    rest = (f"tháng {data.month.month + 1:02d}–12/{data.month.year}" if data.month.month < 12
            else "các tháng còn lại")
    below = below.sort_values(["required_rest_of_year", "gap_pp"], ascending=[False, True],
                              na_position="first")
    with_note = bool((below["source"] == "report").any())
    rows = [[agency.agency_name, level_name(agency.admin_level), percent(agency.actual),
             target_range(agency.target_min, None), need_text(agency),
             *([_note(agency.source)] if with_note else [])]
            for _, agency in below.iterrows()]
    columns = [Column("Đơn vị"), Column("Cấp"), Column("Thực hiện lũy kế", True),
               Column("Chỉ tiêu tối thiểu", True), Column(f"Cần đạt {rest}", True),
               *([Column("Ghi chú")] if with_note else [])]
    note = ("Tỷ lệ đơn vị cần đạt trong mỗi tháng còn lại của năm, với số hồ sơ mỗi tháng bằng "
            "bình quân từ đầu năm, để cả năm đạt chỉ tiêu tối thiểu. "
            f"\"{UNREACHABLE}\": dù mọi hồ sơ còn lại đều trực tuyến, cả năm vẫn chưa đạt.")
    return Section(title, tables=[Table(f"{len(rows)} đơn vị chưa đạt", columns, rows)],
                   note=note)


def _compliance_section(data: ProvinceData) -> Section:
    by_month = data.compliance_by_month
    title = f"Tỷ lệ đơn vị đạt chỉ tiêu theo cấp, từng tháng từ 01/{data.month.year}"
    with_metric = by_month is not None and by_month["metric"].nunique() > 1
    build = None if by_month is None else (
        lambda: compliance_by_month_figure(by_month, with_metric))
    table = None if by_month is None else Table("Số liệu", [
        Column("Tháng"), Column("Cấp"), *([Column("Chỉ số")] if with_metric else []),
        Column("Số đơn vị", True), Column("Số đơn vị đạt", True), Column("Tỷ lệ đạt", True)], [
        [f"{row.as_of_month:%m/%Y}", level_name(row.admin_level),
         *([metric_title(row.metric)] if with_metric else []), integer(row.agencies),
         integer(row.agencies_met), percent(row.share_met, 0)]
        for row in by_month.assign(level_order=by_month["admin_level"].map(LEVEL_ORDER))
        .sort_values(["as_of_month", "metric", "level_order"]).itertuples()],
        open=True)
    chart = draw_chart("dat_chi_tieu_theo_thang", "Lũy kế đến hết từng tháng",
                       "Tỷ lệ đơn vị đạt chỉ tiêu theo cấp, từng tháng", build, table)
    return Section(title, [chart])


def _report_only_section(data: ProvinceData) -> Section | None:
    agencies = data.report_only
    if agencies is None:
        return None
    with_target = set() if data.agencies is None else set(data.agencies["agency_code"])
    rows = [[agency.agency_name, level_name(agency.admin_level), integer(agency.received),
             integer(agency.received_online), percent(agency.online_share_all),
             "Có" if agency.agency_code in with_target else "Không"]
            for agency in agencies.itertuples()]
    columns = [Column("Đơn vị"), Column("Cấp"), Column("Hồ sơ tiếp nhận", True),
               Column("Trực tuyến", True), Column("Tỷ lệ trực tuyến", True),
               Column("Được giao chỉ tiêu")]
    return Section(
        "Đơn vị chỉ có số liệu từ báo cáo (Biểu 06)",
        tables=[Table(f"{len(rows)} đơn vị, lũy kế từ đầu năm", columns, rows)],
        note="Các đơn vị này chưa có hồ sơ đồng bộ lên Cổng dịch vụ công: số liệu lấy từ "
        "báo cáo tháng (Biểu 06); các chỉ số theo thủ tục không tính được.")


# ---------------------------------------------------------------------------- fee policies

def _window(start: object, end: object) -> str:
    return "–" if pd.isna(start) else f"{start:%m/%Y}–{end:%m/%Y}"


def _fee_table(effect: pd.Series) -> Table:
    counts = {"before": "–", "after": "–"}
    for period in counts:
        names = (f"covered_{period}_received", f"others_{period}_received")
        if all(name in effect for name in names):
            counts[period] = " / ".join(integer(effect[name]) for name in names)
    rows = [["Trước", _window(effect["before_start"], effect["before_end"]),
             percent(effect["covered_share_before"]), percent(effect["others_share_before"]),
             counts["before"]],
            ["Sau", _window(effect["after_start"], effect["after_end"]),
             percent(effect["covered_share_after"]), percent(effect["others_share_after"]),
             counts["after"]]]
    columns = [Column("Giai đoạn"), Column("Các tháng"), Column("Thủ tục được giảm phí", True),
               Column("Thủ tục có phí khác", True),
               Column("Hồ sơ có phí (giảm phí / khác)", True)]
    return Table("Số liệu", columns, rows, open=True)


def _fee_section(data: ProvinceData) -> Section | None:
    effects = data.fee_effects
    if effects is None:
        return None
    charts = []
    for position, (_, effect) in enumerate(effects.iterrows(), start=1):
        insufficient = effect["status"] != "ok"
        title = f"{effect['decision_ref']} (từ {effect['valid_from']:%d/%m/%Y})" + (
            ": chưa đủ số liệu (một ô dưới 100 hồ sơ)" if insufficient else "")
        charts.append(draw_chart(
            f"giam_phi_{position}", title, f"Hiệu quả giảm phí: {effect['decision_ref']}",
            lambda effect=effect: fee_effect_figure(effect), _fee_table(effect)))
    return Section(
        "Hiệu quả giảm phí, lệ phí khi nộp hồ sơ trực tuyến", charts,
        note="Tỷ lệ hồ sơ có phí nộp trực tuyến của các thủ tục được giảm phí, trước và sau khi "
        "áp dụng, so với các thủ tục có phí khác của tỉnh; chênh lệch kép = thay đổi của thủ "
        "tục được giảm phí trừ thay đổi của thủ tục khác, tính bằng điểm phần trăm.")


# ---------------------------------------------------------------------------- the report

def build_province_sections(data: ProvinceData) -> list[Section]:
    sections = [
        _trend_section(data),
        _agencies_section(data),
        _needs_section(data),
        _compliance_section(data) if data.agencies is not None else None,
        _report_only_section(data),
        _fee_section(data),
    ]
    return [section for section in sections if section is not None]


def render_province_report(data: ProvinceData, reports_dir: Path,
                           source: str) -> ProvinceReport:
    sections = build_province_sections(data)
    html_path = write_report(
        province_folder(reports_dir, data.month, data.province_code),
        f"bao_cao_dvctt_{data.month:%Y-%m}_tinh_{data.province_code}.html",
        title=f"Báo cáo dịch vụ công trực tuyến tỉnh {data.province_name}, "
        f"tháng {data.month:%m/%Y}",
        subtitle=f"Số liệu tháng {data.month:%m/%Y} và lũy kế từ đầu năm {data.month.year}; "
        "thứ hạng trong các tỉnh, thành phố theo địa giới hành chính tại thời điểm báo cáo.",
        headline=_headline(data), sections=sections, source=source)
    return ProvinceReport(data.month, html_path, sections, data.province_code,
                          data.province_name)


class UnknownProvince(ValueError):
    """A province code the marts hold no figures of for the month."""


def read_province(reader: ReportReader, month: date, code: str) -> ProvinceData:
    """The province's figures for the month; UnknownProvince when the marts do not know it."""
    name = reader.province_name(code, month)
    if name is None:
        raise UnknownProvince(
            f"no province {code!r} has figures for {month:%Y-%m} in the marts: give the 2-digit "
            "GSO code of a province of that month, e.g. 17 (Hòa Bình before July 2025).")
    return reader.province_data(month, code, name)


def read_target_provinces(reader: ReportReader, month: date
                          ) -> tuple[list[ProvinceData], list[str]]:
    """The figures of every province that set targets for the month's year and has figures
    in the month; and the codes of those that have none (no dossier of the month is theirs:
    their exports are missing or failed), whose reports are not written rather than failing
    every other report of the month."""
    with_figures, without = [], []
    for code in reader.provinces_with_targets(month):
        if (name := reader.province_name(code, month)) is None:
            without.append(code)
        else:
            with_figures.append(reader.province_data(month, code, name))
    return with_figures, without
