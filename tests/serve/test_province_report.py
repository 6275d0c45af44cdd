"""The province report: its agency table is `marts.target_compliance`, agency by agency; it is
one self-contained page; `dvctt report --province` prints its path last; a fee cut measured by
`marts.fee_policy_effect` shows as a chart, and nothing of it shows where none is measured."""

from __future__ import annotations

import html as html_text
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dvctt_pipeline.cli import main, materialize_months
from dvctt_pipeline.definitions import defs
from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME
from dvctt_pipeline.serve.province_report import (
    STATUS_NAMES,
    read_province,
    render_province_report,
)
from dvctt_pipeline.serve.report.data import ReportReader
from dvctt_pipeline.serve.report.vietnamese import level_name, percent, points

APRIL = date(2022, 4, 1)
HOA_BINH = "17"
PROVINCES_WITH_TARGETS = ("17", "19", "56")  # Hòa Bình, Thái Nguyên, Khánh Hòa in 2022


def sections(page: str) -> dict[str, str]:
    """The page's sections by their title (h2), each up to the next."""
    parts = re.split(r"<h2>(.*?)</h2>", page)
    return {html_text.unescape(title): body for title, body in zip(parts[1::2], parts[2::2],
                                                                     strict=True)}


def tables(section: str) -> dict[str, list[list[str]]]:
    """The section's tables by their heading (h3), as rows of cell texts."""
    found = {}
    for caption, body in re.findall(r"<h3>([^<]*)</h3>\s*<table>.*?<tbody>(.*?)</tbody>",
                                    section, re.DOTALL):
        rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL)
        found[html_text.unescape(caption)] = [
            [html_text.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in rows]
    return found


def section_named(page: str, start: str) -> str:
    matches = [body for title, body in sections(page).items() if title.startswith(start)]
    assert len(matches) == 1, (start, list(sections(page)))
    return matches[0]


def hoa_binh_april(sample_run) -> str:
    path = (sample_run.folders.reports / "2022-04" / "tinh_17"
            / "bao_cao_dvctt_2022-04_tinh_17.html")
    return path.read_text(encoding="utf-8")


def compliance_rows(warehouse: Path, province: str) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(
            "SELECT * FROM marts.target_compliance WHERE province_code = $province "
            "AND as_of_month = $month", {"province": province, "month": APRIL})
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_run_writes_a_report_for_every_province_with_targets(sample_run):
    for month in ("2022-01", "2022-04"):
        folders = sorted(path.name for path in (sample_run.folders.reports / month).iterdir()
                         if path.is_dir())
        assert folders == [f"tinh_{code}" for code in PROVINCES_WITH_TARGETS]
    materialization = sample_run.materializations("monthly_report")[-1]
    assert materialization.metadata["province_reports"].value == [
        f"2022-04/tinh_{code}/bao_cao_dvctt_2022-04_tinh_{code}.html"
        for code in PROVINCES_WITH_TARGETS]
    hoa_binh = materialization.metadata["Báo cáo tỉnh Hòa Bình"].value
    assert "`2022-04/tinh_17/bao_cao_dvctt_2022-04_tinh_17.html` in the reports folder" in hoa_binh
    assert "](data:image/png;base64," in hoa_binh


def test_the_agency_tables_are_target_compliance_agency_by_agency(sample_run):
    expected = compliance_rows(sample_run.folders.warehouse, HOA_BINH)
    assert len(expected) == 27  # 17 departments and 10 district People's Committees
    section = section_named(hoa_binh_april(sample_run), "Thực hiện chỉ tiêu của từng đơn vị")
    shown = {}
    for caption, rows in tables(section).items():
        level = caption.split(":")[0]
        for name, actual, target, gap, status in rows:
            shown[name] = (level, actual, target, gap, status)
        # those below target first
        statuses = [row[-1] for row in rows]
        assert statuses == sorted(statuses, key=lambda s: s != STATUS_NAMES["below"])
    assert shown == {
        row["agency_name"]: (level_name(row["admin_level"]), percent(row["actual"]),
                             percent(row["target_min"], 0), points(row["gap_pp"]),
                             STATUS_NAMES[row["status"]])
        for row in expected}
    assert {level for level, *_ in shown.values()} == {"Cấp tỉnh (sở, ban, ngành)", "Cấp huyện"}


def test_every_agency_below_target_is_told_what_it_still_needs(sample_run):
    expected = {row["agency_name"]: row for row in compliance_rows(
        sample_run.folders.warehouse, HOA_BINH) if row["status"] == "below"}
    assert expected, "the sample has Hòa Bình agencies below target"
    section = section_named(hoa_binh_april(sample_run), "Đơn vị chưa đạt chỉ tiêu")
    [rows] = tables(section).values()
    needs = {row[0]: row[4] for row in rows}
    assert needs == {name: percent(row["required_rest_of_year"])
                     if row["required_status"] == "reachable" else "Không thể đạt (cần hơn 100%)"
                     for name, row in expected.items()}
    header = re.search(r"<th[^>]*>(Cần đạt[^<]*)</th>", section)[1]
    assert header == "Cần đạt tháng 05–12/2022"


def test_the_page_is_self_contained_and_marks_report_only_agencies(sample_run):
    page = hoa_binh_april(sample_run)
    assert not re.findall(r"""(?:src|href)\s*=\s*["'](?!data:)""", page)
    assert page.count('src="data:image/png;base64,') == 2  # the trend, compliance by month
    assert "Chưa có số liệu" not in page
    biểu_06 = section_named(page, "Đơn vị chỉ có số liệu từ báo cáo (Biểu 06)")
    [rows] = tables(biểu_06).values()
    assert [row[:2] for row in rows] == [["UBND xã Độc Lập", "Cấp xã"]]
    monthly = section_named(page, "Tỷ lệ đơn vị đạt chỉ tiêu theo cấp")
    assert re.findall(r"<td>(\d\d/2022)</td>", monthly) == [
        month for month in ("01/2022", "02/2022", "03/2022", "04/2022") for _ in range(2)]


def test_dvctt_report_province_prints_the_path_last(sample_run, tmp_path):
    env = {**os.environ, "DVCTT_SERVING": str(sample_run.folders.serving)}
    env.pop("DAGSTER_HOME", None)
    dvctt = Path(sys.executable).parent / "dvctt"
    run = subprocess.run([dvctt, "report", "--month", "2022-04", "--province", "17", "--out",
                          str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    last = Path(run.stdout.strip().splitlines()[-1])
    assert last == tmp_path / "2022-04" / "tinh_17" / "bao_cao_dvctt_2022-04_tinh_17.html"
    assert "Hòa Bình" in last.read_text(encoding="utf-8")


def test_an_unknown_province_says_what_to_give(sample_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DVCTT_SERVING", str(sample_run.folders.serving))
    assert main(["report", "--month", "2022-04", "--province", "99", "--out",
                 str(tmp_path)]) == 2
    assert ("--province 99: no province '99' has figures for 2022-04 in the marts: give the "
            "2-digit GSO code") in capsys.readouterr().err


# ------------------------------------------------------------ a fee cut, in a hand-made table

FEE_EFFECT = """
    CREATE OR REPLACE TABLE marts.fee_policy_effect (
        province_code VARCHAR, province_name VARCHAR, decision_ref VARCHAR, valid_from DATE,
        valid_to DATE, before_start DATE, before_end DATE, after_start DATE, after_end DATE,
        covered_share_before DOUBLE, covered_share_after DOUBLE, others_share_before DOUBLE,
        others_share_after DOUBLE, did_pp DOUBLE, status VARCHAR,
        covered_before_received BIGINT, covered_after_received BIGINT,
        others_before_received BIGINT, others_after_received BIGINT)
"""


@pytest.fixture(scope="module")
def serving_with_fee_cuts(sample_run, tmp_path_factory) -> Path:
    """The sample's serving file with two fee policies of Hòa Bình measured, one of them on
    too few dossiers; and one targeted agency whose year comes from its reports alone."""
    serving = tmp_path_factory.mktemp("fees") / "dvctt.duckdb"
    shutil.copy(sample_run.folders.serving, serving)
    with duckdb.connect(str(serving)) as con:
        con.execute(FEE_EFFECT)
        con.execute("""
            INSERT INTO marts.fee_policy_effect VALUES
            ('17', 'Hòa Bình', 'Quyết định số 12/QĐ-UBND', DATE '2022-03-01', NULL,
             DATE '2022-01-01', DATE '2022-02-28', DATE '2022-03-01', DATE '2022-04-30',
             0.20, 0.45, 0.25, 0.30, 20.0, 'ok', 400, 420, 900, 950),
            ('17', 'Hòa Bình', 'Quyết định số 99/QĐ-UBND', DATE '2022-04-01', NULL,
             DATE '2022-01-01', DATE '2022-03-31', DATE '2022-04-01', DATE '2022-04-30',
             NULL, NULL, NULL, NULL, NULL, 'insufficient_data', 40, 12, 300, 100)
        """)
        con.execute("""
            UPDATE marts.agency_period_rates SET source = 'report'
            WHERE agency_name = 'UBND huyện Đà Bắc' AND period_type = 'ytd'
        """)
    return serving


def render_province(serving: Path, code: str, folder: Path) -> str:
    with duckdb.connect(str(serving), read_only=True) as con:
        data = read_province(ReportReader(con), APRIL, code)
    return render_province_report(data, folder, "test").html_path.read_text(encoding="utf-8")


def test_a_measured_fee_cut_shows_as_a_chart(serving_with_fee_cuts, tmp_path):
    page = render_province(serving_with_fee_cuts, HOA_BINH, tmp_path)
    fees = section_named(page, "Hiệu quả giảm phí")
    assert fees.count('src="data:image/png;base64,') == 2
    assert "Quyết định số 12/QĐ-UBND (từ 01/03/2022)</h3>" in fees
    assert "Quyết định số 99/QĐ-UBND (từ 01/04/2022): chưa đủ số liệu" in fees
    assert ("<td>Sau</td><td>03/2022–04/2022</td><td class=\"number\">45,00%</td>"
            "<td class=\"number\">30,00%</td><td class=\"number\">420 / 950</td>") in fees
    assert sorted(path.name for path in (tmp_path / "2022-04" / "tinh_17").glob("*.png")) == [
        "dat_chi_tieu_theo_thang.png", "giam_phi_1.png", "giam_phi_2.png",
        "xu_huong_tinh_va_toan_quoc.png"]


def test_a_report_only_agency_with_a_target_is_marked(serving_with_fee_cuts, tmp_path):
    page = render_province(serving_with_fee_cuts, HOA_BINH, tmp_path)
    section = section_named(page, "Thực hiện chỉ tiêu của từng đơn vị")
    rows = {row[0]: row for rows in tables(section).values() for row in rows}
    assert rows["UBND huyện Đà Bắc"][-1] == "Chỉ có báo cáo (Biểu 06)"
    assert rows["UBND huyện Kim Bôi"][-1] == ""


def test_a_province_without_a_measured_fee_cut_has_no_fee_section(serving_with_fee_cuts,
                                                                   tmp_path):
    page = render_province(serving_with_fee_cuts, "19", tmp_path)
    assert not [title for title in sections(page) if "giảm phí" in title]
    assert "Thái Nguyên" in page


# ------------------------------------------------- a month drawn again, with fewer provinces

def test_a_month_drawn_again_removes_the_reports_of_provinces_it_no_longer_has(
        sample_run, tmp_path, monkeypatch, capsys):
    """April as a run drew it before Hà Nội's targets were withdrawn, and a folder where an
    analyst kept a note beside an old report: the asset drawing April again removes both old
    reports, and the note stays."""
    april = tmp_path / "reports" / "2022-04"
    withdrawn, annotated = april / "tinh_01", april / "tinh_02"
    for folder in (withdrawn, annotated):
        folder.mkdir(parents=True)
        (folder / f"bao_cao_dvctt_2022-04_{folder.name}.html").write_text("<html>cũ</html>")
        (folder / "xu_huong_tinh_va_toan_quoc.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (annotated / "ghi_chu.txt").write_text("ghi chú của chuyên viên", encoding="utf-8")
    sample_run.folders.point_environment(monkeypatch)
    monkeypatch.setenv("DVCTT_REPORTS_DIR", str(tmp_path / "reports"))
    result = defs().resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        partition_key="2022-04-01", asset_selection=[dg.AssetKey("monthly_report")],
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert sorted(path.name for path in april.iterdir() if path.is_dir()) == [
        "tinh_02", *(f"tinh_{code}" for code in PROVINCES_WITH_TARGETS)]
    assert [path.name for path in annotated.iterdir()] == ["ghi_chu.txt"]
    # the run's log says what went
    assert "removed the report in 2022-04/tinh_01" in capsys.readouterr().err


def test_a_province_with_targets_but_no_dossier_of_the_month_leaves_the_other_reports(
    folders, capfd: pytest.CaptureFixture[str]
):
    """Thái Nguyên set its targets, and its exports of the month are missing: the month's
    report and Hòa Bình's are written, and the run says why Thái Nguyên's is not."""
    (folders.landing / "reference").mkdir(parents=True)
    (folders.landing / "reference" / "agencies.csv").write_text(
        "agency_code,agency_name,admin_level,province_code,district_code,commune_code,"
        "valid_from,valid_to,aliases\n"
        "000.00.12.H17,Sở Tư pháp tỉnh Hòa Bình,province,17,,,,,\n"
        "000.00.12.H19,Sở Tư pháp tỉnh Thái Nguyên,province,19,,,,,\n", encoding="utf-8")
    (folders.landing / "targets").mkdir()
    (folders.landing / "targets" / "targets_2022.csv").write_text(
        "year,province_code,admin_level,agency_code,metric,target_min,target_stretch,"
        "decision_ref\n"
        "2022,17,province,,online_share_all,0.5,,QĐ 1\n"
        "2022,19,province,,online_share_all,0.5,,QĐ 2\n", encoding="utf-8")
    export = folders.landing / "dossiers" / "2022-04-02" / "dvcqg.jsonl"
    export.parent.mkdir(parents=True)
    export.write_text("".join(
        f'{{"MaHoSo": "000.00.12.H17-{n}", "MaDonViXuLy": "000.00.12.H17", "KenhThucHien": 2, '
        f'"NgayTiepNhan": "20220402080000", "TrangThaiHoSo": 4}}\n' for n in range(5)),
        encoding="utf-8")

    result = materialize_months("2022-04", "2022-04")

    assert result.success, [event.message for event in result.get_step_failure_events()]
    month = folders.reports / "2022-04"
    assert (month / "bao_cao_dvctt_2022-04.html").exists()
    assert sorted(path.name for path in month.iterdir() if path.is_dir()) == ["tinh_17"]
    # the run's log, as the command's console shows it
    assert "province 19 set targets for 2022 but no dossier of the month is its own" in \
        capfd.readouterr().err
