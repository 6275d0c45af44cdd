"""The monthly report: files an analyst can open, every ranked province in them, real images
with Vietnamese labels, and "Chưa có số liệu" where the marts have no figures yet."""

from __future__ import annotations

import io
import re
import shutil
import struct
import warnings
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from PIL import Image

from dvctt_pipeline.cli import main
from dvctt_pipeline.months import last_day
from dvctt_pipeline.serve.monthly_report import (
    MonthlyReport,
    render_monthly_report,
    ui_markdown,
)
from dvctt_pipeline.serve.report.charts import (
    BUNDLED_FONT,
    FONT_FAMILY,
    png_pair,
    report_style,
    trend_figure,
)
from dvctt_pipeline.serve.report.data import ReportReader
from dvctt_pipeline.settings import TIMEZONE

PROVINCES = {
    "79": "TP. Hồ Chí Minh", "17": "Hòa Bình", "22": "Quảng Ninh", "37": "Ninh Bình",
    "24": "Bắc Giang", "56": "Khánh Hòa", "19": "Thái Nguyên", "67": "Đắk Nông",
    "33": "Hưng Yên", "75": "Đồng Nai", "40": "Nghệ An", "95": "Bạc Liêu", "44": "Quảng Bình",
}
APRIL = date(2022, 4, 1)
# the seeded targets of 2022: province, level, metric, agencies with a target, agencies meeting it
COMPLIANCE = [
    ("17", "Hòa Bình", "province", "online_share_all", 17, 12),
    ("17", "Hòa Bình", "district", "online_share_all", 10, 4),
    ("56", "Khánh Hòa", "province", "online_share_dvctt", 20, 15),
    ("56", "Khánh Hòa", "district", "online_share_dvctt", 9, 6),
    ("56", "Khánh Hòa", "commune", "online_share_dvctt", 139, 51),
    ("19", "Thái Nguyên", "province", "online_share_full", 19, 19),
]
# the thirteenth province received too few dossiers to be ranked
RANKED = list(PROVINCES)[:-1]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's signature and IHDR chunk; fails if it is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def ranking_rows(metric: str, month: date) -> list[tuple]:
    """Provinces in PROVINCES order are ranked 1, 2, 3…; the last one is not ranked."""
    rows = []
    for period_type, start in (("month", month), ("ytd", date(month.year, 1, 1))):
        for position, (code, name) in enumerate(PROVINCES.items()):
            ranked = code in RANKED
            rank = position + 1 if ranked else None
            rows.append((
                metric, period_type, start, last_day(month), "as_was", code, name,
                5000 if ranked else 40, 0.6 - 0.04 * position, ranked, rank, len(RANKED),
                ranked and rank <= 5, ranked and rank > len(RANKED) - 5, rank,
            ))
    return rows


def build_marts(path: Path, metrics: tuple[str, ...], with_compliance: bool) -> Path:
    """A marts schema with the contract's columns, for the months January to April 2022."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("""
            CREATE TABLE marts.province_rankings (
                metric VARCHAR, period_type VARCHAR, period_start DATE, period_end DATE,
                geography VARCHAR, province_code VARCHAR, province_name VARCHAR,
                received BIGINT, value DOUBLE, ranked BOOLEAN, rank BIGINT, n_ranked BIGINT,
                is_top5 BOOLEAN, is_bottom5 BOOLEAN, rank_prev BIGINT)
        """)
        for metric in metrics:
            con.executemany("INSERT INTO marts.province_rankings VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            ranking_rows(metric, APRIL))
        national_columns = ", ".join(f"{metric} DOUBLE" for metric in metrics)
        con.execute(f"CREATE TABLE marts.national_period_rates (period_type VARCHAR, "
                    f"period_start DATE, period_end DATE, {national_columns})")
        for month in range(1, 5):
            for period_type, start in (("month", date(2022, month, 1)), ("ytd", date(2022, 1, 1))):
                values = [0.20 + 0.02 * month] * len(metrics)
                con.execute(f"INSERT INTO marts.national_period_rates VALUES "
                            f"(?, ?, ?{', ?' * len(metrics)})",
                            [period_type, start, last_day(date(2022, month, 1)), *values])
        if with_compliance:
            con.execute("CREATE TABLE marts.target_compliance_summary (province_code VARCHAR, "
                        "province_name VARCHAR, admin_level VARCHAR, year INTEGER, "
                        "as_of_month DATE, metric VARCHAR, agencies BIGINT, agencies_met BIGINT, "
                        "share_met DOUBLE)")
            con.executemany(
                "INSERT INTO marts.target_compliance_summary VALUES "
                "(?, ?, ?, 2022, DATE '2022-04-01', ?, ?, ?, ?)",
                [(*row, row[-1] / row[-2]) for row in COMPLIANCE],
            )
    return path


def render_from(serving: Path, month: date, folder: Path) -> MonthlyReport:
    with duckdb.connect(str(serving), read_only=True) as con:
        data = ReportReader(con).report_data(month)
    return render_monthly_report(data, folder / "reports", source="test")


def render(folder: Path, metrics: tuple[str, ...], with_compliance: bool) -> MonthlyReport:
    return render_from(build_marts(folder / "serving.duckdb", metrics, with_compliance), APRIL,
                       folder)


HEADLINE_FIGURE = re.compile(
    r'<div class="figure"><div>(.*?)</div><div class="value">(.*?)</div>\s*<div>(.*?)</div>')


def headline(report: MonthlyReport) -> list[tuple[str, str, str]]:
    """(label, year-to-date value, month note) of each headline figure."""
    return HEADLINE_FIGURE.findall(report.html_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[MonthlyReport, list[warnings.WarningMessage]]:
    """The report with every table and metric present, and the warnings drawing it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = render(tmp_path_factory.mktemp("full"), ("online_share_all", "dvctt_uptake_rate"),
                        with_compliance=True)
    return report, caught


@pytest.fixture(scope="module")
def partial(full, tmp_path_factory) -> MonthlyReport:
    """Rendered over a copy of the full report's folder, from marts without dvctt_uptake_rate
    nor target compliance (not built yet)."""
    folder = tmp_path_factory.mktemp("partial")
    shutil.copytree(full[0].html_path.parents[1], folder / "reports")
    return render(folder, ("online_share_all",), with_compliance=False)


def test_report_files_hold_every_province_and_real_charts(full):
    report, _ = full
    assert report.html_path.relative_to(report.html_path.parents[1]) == Path(
        "2022-04/bao_cao_dvctt_2022-04.html")
    html = report.html_path.read_text(encoding="utf-8")
    for name in PROVINCES.values():
        assert name in html
    assert "Tỷ lệ hồ sơ trực tuyến" in html
    assert "Xếp hạng tỉnh, thành phố theo tỷ lệ DVCTT phát sinh hồ sơ trực tuyến" in html
    assert "Chưa có số liệu" not in html
    # self-contained: every chart embedded, nothing fetched from elsewhere
    assert html.count('src="data:image/png;base64,') == 6
    assert "http://" not in html and "https://" not in html

    # 4 rankings (2 metrics × month, year to date), the national trend, target compliance
    assert sorted(path.name for path in report.png_paths) == sorted([
        "xep_hang_online_share_all_month.png", "xep_hang_online_share_all_ytd.png",
        "xep_hang_dvctt_uptake_rate_month.png", "xep_hang_dvctt_uptake_rate_ytd.png",
        "xu_huong_online_share_all.png", "dat_chi_tieu_theo_cap.png",
    ])
    for path in report.png_paths:
        width, height = png_size(path)
        assert 600 <= width <= 1200 and 200 <= height <= 2400, (path.name, width, height)


def test_the_ranking_table_marks_top_bottom_and_unranked_provinces(full):
    html = full[0].html_path.read_text(encoding="utf-8")
    # 2 metrics × (month, year to date)
    assert html.count("Nhóm 5 tỉnh dẫn đầu") == 4 * 5
    assert html.count("Nhóm 5 tỉnh cuối bảng") == 4 * 5
    assert "Không xếp hạng: quá ít hồ sơ tiếp nhận" in html
    assert "60,00%" in html  # Vietnamese decimal comma


def test_target_compliance_is_shown_per_province_and_level(full):
    html = full[0].html_path.read_text(encoding="utf-8")
    commune_row = ("<td>Khánh Hòa</td><td>Cấp xã</td><td>Tỷ lệ hồ sơ trực tuyến của các DVCTT"
                   '</td><td class="number">139</td><td class="number">51</td>'
                   '<td class="number">37%</td>')
    assert commune_row in html


def test_missing_tables_and_metrics_say_no_data_instead_of_failing(partial):
    html = partial.html_path.read_text(encoding="utf-8")
    # the two dvctt_uptake_rate rankings and target compliance
    assert html.count('<div class="no-data">Chưa có số liệu</div>') == 3
    assert sorted(path.name for path in partial.png_paths) == sorted([
        "xep_hang_online_share_all_month.png", "xep_hang_online_share_all_ytd.png",
        "xu_huong_online_share_all.png",
    ])
    markdown = ui_markdown(partial)
    assert markdown["Tỷ lệ đơn vị đạt chỉ tiêu theo cấp hành chính, lũy kế từ đầu năm"
                    ].endswith("_Chưa có số liệu_")
    assert "data:image/png;base64," in markdown[
        "Xếp hạng tỉnh theo tỷ lệ hồ sơ trực tuyến, lũy kế từ đầu năm"]


def test_a_month_without_a_ranked_province_heads_with_the_national_shares(tmp_path):
    serving = build_marts(tmp_path / "serving.duckdb", ("online_share_all", "dvctt_uptake_rate"),
                          with_compliance=False)
    with duckdb.connect(str(serving)) as con:
        # every province received dossiers, too few to be ranked
        con.execute("UPDATE marts.province_rankings SET ranked = false, rank = NULL, "
                    "n_ranked = 0, is_top5 = false, is_bottom5 = false, received = 40")
    report = render_from(serving, APRIL, tmp_path)

    # the nation's April value of build_marts: 0.20 + 0.02 × 4, for the month and year to date
    assert headline(report) == [
        ("Tỷ lệ hồ sơ trực tuyến toàn quốc, lũy kế", "28,00%", "Tháng 04/2022: 28,00%"),
        ("Tỷ lệ DVCTT phát sinh hồ sơ trực tuyến toàn quốc, lũy kế", "28,00%",
         "Tháng 04/2022: 28,00%"),
    ]
    # the four rankings and target compliance have no figures; the trend has
    html = report.html_path.read_text(encoding="utf-8")
    assert html.count('<div class="no-data">Chưa có số liệu</div>') == 5
    assert [path.name for path in report.png_paths] == ["xu_huong_online_share_all.png"]


def test_a_month_without_any_figure_says_so_in_its_headline(tmp_path):
    serving = build_marts(tmp_path / "serving.duckdb", ("online_share_all", "dvctt_uptake_rate"),
                          with_compliance=False)
    report = render_from(serving, date(2022, 5, 1), tmp_path)

    assert [figure[1:] for figure in headline(report)] == [
        ("Chưa có số liệu", "Tháng 05/2022: chưa có số liệu")] * 2


def test_a_new_render_removes_the_charts_that_have_no_figures_any_more(partial):
    on_disk = {path.name for path in partial.html_path.parent.glob("*")}
    assert on_disk == {partial.html_path.name, *(path.name for path in partial.png_paths)}


def test_ui_copies_are_small_enough_for_the_event_log(full):
    total = sum(len(text) for text in ui_markdown(full[0]).values())
    assert total < 250_000, total


def test_a_chart_is_drawn_once_for_both_of_its_pictures(monkeypatch):
    """Drawing the labels is most of a report's time; a layout engine, or savefig for each
    picture, drew every chart two to four times."""
    drawn = []
    draw = Figure.draw

    def counted(figure: Figure, renderer) -> None:
        drawn.append(figure)
        draw(figure, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    trend = pd.DataFrame({"period_start": pd.date_range("2022-01-01", periods=4, freq="MS"),
                          "month_share": [0.21, 0.22, 0.24, 0.25],
                          "ytd_share": [0.21, 0.215, 0.223, 0.23]})
    with report_style():
        figure = trend_figure(trend)
        png, preview = png_pair(figure, dpi=100, preview_scale=0.5)
    assert drawn == [figure]
    width, height = Image.open(io.BytesIO(png)).size
    assert Image.open(io.BytesIO(preview)).size == (width // 2, height // 2)


def test_labels_use_the_bundled_font_and_every_glyph_exists(full):
    assert Path(font_manager.findfont(FONT_FAMILY)) == BUNDLED_FONT
    # matplotlib warns "Glyph … missing from font" where it draws an empty box instead
    assert not [str(w.message) for w in full[1] if "missing from" in str(w.message)]


def test_the_bundled_font_has_every_vietnamese_letter():
    font = FT2Font(str(BUNDLED_FONT))
    for letter in "ĂăÂâĐđÊêÔôƠơƯưẠạẢảẤấẦầẨẩẪẫẬậỆệỊịỌọỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹ":
        assert font.get_char_index(ord(letter)), letter


def test_dvctt_report_writes_the_month_from_the_serving_file(tmp_path, capsys, monkeypatch):
    serving = build_marts(tmp_path / "dvctt.duckdb", ("online_share_all",), with_compliance=True)
    monkeypatch.setenv("DVCTT_SERVING", str(serving))
    assert main(["report", "--month", "2022-04", "--out", str(tmp_path / "out")]) == 0
    html_path = tmp_path / "out" / "2022-04" / "bao_cao_dvctt_2022-04.html"
    assert str(html_path) in capsys.readouterr().out
    page = html_path.read_text(encoding="utf-8")
    assert "Hòa Bình" in page
    # the footer says when the figures were published, not where this machine keeps them
    published = datetime.fromtimestamp(serving.stat().st_mtime, ZoneInfo(TIMEZONE))
    footer = re.search(r"<footer>(.*)</footer>", page)[1]
    assert f"bản công bố lúc {published:%H:%M ngày %d/%m/%Y}" in footer
    assert str(tmp_path) not in page


def test_dvctt_report_without_a_serving_file_says_what_to_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DVCTT_SERVING", str(tmp_path / "missing.duckdb"))
    assert main(["report", "--month", "2022-04"]) == 2
    assert "dvctt materialize --from 2022-04 --to 2022-04" in capsys.readouterr().err


# ---------------------------------------------------------------- the sample, end to end

SEED_TOP = {"Hồ Chí Minh", "Hòa Bình", "Quảng Ninh", "Ninh Bình", "Bắc Giang"}
SEED_BOTTOM = {"Hưng Yên", "Đồng Nai", "Nghệ An", "Bạc Liêu", "Quảng Bình"}


def table_rows(html: str, position: int) -> list[list[str]]:
    """The cells of the report's table at that position (0 = first)."""
    body = re.findall(r"<tbody>(.*?)</tbody>", html, re.DOTALL)[position]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def test_the_april_report_of_the_sample_shows_the_seed_top_and_bottom_provinces(sample_run):
    reports = sample_run.folders.reports
    html = (reports / "2022-04" / "bao_cao_dvctt_2022-04.html").read_text("utf-8")
    # the second table: online_share_all, year to date
    notes = {cells[1]: cells[-1] for cells in table_rows(html, 1)}
    assert len(notes) == 63
    assert {name for name, note in notes.items() if note == "Nhóm 5 tỉnh dẫn đầu"} == SEED_TOP
    assert {name for name, note in notes.items() if note == "Nhóm 5 tỉnh cuối bảng"} == SEED_BOTTOM
    assert "24,89%" in html  # the seed report's national share
    assert "Chưa có số liệu" not in html


def test_the_run_writes_every_month_and_shows_the_charts_in_dagster(sample_run):
    for month in ("2022-01", "2022-02", "2022-03", "2022-04"):
        assert (sample_run.folders.reports / month / f"bao_cao_dvctt_{month}.html").exists()
    materializations = sample_run.materializations("monthly_report")
    assert sorted(m.partition for m in materializations) == [
        "2022-01-01", "2022-02-01", "2022-03-01", "2022-04-01"]
    metadata = materializations[-1].metadata
    assert metadata["report_month"].value == "2022-04"
    charts = [name for name, value in metadata.items() if "](data:image/png;base64," in
              str(value.value)]
    # named in words, the national trend first
    assert charts == [
        "Tỷ lệ hồ sơ trực tuyến toàn quốc theo tháng",
        "Xếp hạng tỉnh theo tỷ lệ hồ sơ trực tuyến, trong tháng",
        "Xếp hạng tỉnh theo tỷ lệ hồ sơ trực tuyến, lũy kế từ đầu năm",
        "Xếp hạng tỉnh theo tỷ lệ DVCTT phát sinh hồ sơ trực tuyến, trong tháng",
        "Xếp hạng tỉnh theo tỷ lệ DVCTT phát sinh hồ sơ trực tuyến, lũy kế từ đầu năm",
        "Tỷ lệ đơn vị đạt chỉ tiêu theo cấp hành chính, lũy kế từ đầu năm",
        # then the trend of each province with targets, beside its report's place
        "Báo cáo tỉnh Hòa Bình", "Báo cáo tỉnh Thái Nguyên", "Báo cáo tỉnh Khánh Hòa",
    ]
    # each month's own report; the national chart shows in the materialization's description
    assert [m.metadata["report_month"].value for m in materializations] == [
        "2022-01", "2022-02", "2022-03", "2022-04"]
    description = materializations[-1].description
    assert "`2022-04/bao_cao_dvctt_2022-04.html` in the reports folder" in description
    assert "![Tỷ lệ hồ sơ trực tuyến toàn quốc theo tháng](data:image/png;base64," in description
    # the report's place within the reports folder, no folder of the machine that ran it
    assert metadata["report"].value == "2022-04/bao_cao_dvctt_2022-04.html"
    assert (sample_run.folders.reports / metadata["report"].value).exists()
    assert str(sample_run.folders.warehouse.parent) not in description + str(
        [value.value for value in metadata.values()])
    # the page's footer names the run that drew it, not the warehouse's folder either
    page = (sample_run.folders.reports / metadata["report"].value).read_text("utf-8")
    assert f"lần chạy {sample_run.result.run_id[:8]}" in page
    assert str(sample_run.folders.warehouse.parent) not in page
    # small copies: every partition of a range run stores them in the event log
    assert sum(len(value.value) for value in metadata.values() if isinstance(value.value, str)
               ) < 200_000
