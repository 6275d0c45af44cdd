"""Dossier exports kept as a workbook: a CSV export an office opened and saved in LibreOffice
Calc (as .xlsx, Excel 97–2003 .xls and .ods, made by Calc 7.4 from
tests/fixtures/dossiers/ho-so-thang-3.csv with `soffice --headless --infilter="CSV:44,34,76,1,
,1066,false,true" --convert-to …`: UTF-8, Vietnamese locale, special numbers detected, so its
ISO dates became date cells, its 14-digit dates and codes numbers), and a list exported from a
screen, written cell by cell with openpyxl."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from dvctt_pipeline.ingest import readers
from dvctt_pipeline.ingest.dossiers import PIECE_BYTES_ENV, ingest_dossier_exports
from dvctt_pipeline.ingest.workbook_exports import workbook_as_csv
from dvctt_pipeline.warehouse import connect

SAVED = Path(__file__).parents[1] / "fixtures" / "dossiers"
DAY = "2022-03-06"
ROWS = ("SELECT ma_ho_so, line_no, ma_don_vi_xu_ly, don_vi_xu_ly, ma_tthc, kenh_thuc_hien, "
        "ngay_tiep_nhan, ngay_hen_tra, ngay_ket_thuc_xu_ly, ngay_tra, trang_thai, "
        "thanh_toan_truc_tuyen FROM raw.dossier_snapshots WHERE file_name = $name ORDER BY 1")
SET_ASIDE = ("SELECT line_no, reason FROM quarantine.dossier_snapshots "
             "WHERE relative_path LIKE '%/' || $name ORDER BY 1")


def load(tmp_path: Path, names: list[str], piece_bytes: str | None = None,
         monkeypatch: pytest.MonkeyPatch | None = None) -> dict[str, tuple]:
    """Each file as loaded into its own warehouse: status, rows, records set aside."""
    if piece_bytes:
        monkeypatch.setenv(PIECE_BYTES_ENV, piece_bytes)
    folder = tmp_path / "landing" / "dossiers" / DAY
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(SAVED / name, folder / name)
    with connect(tmp_path / "warehouse.duckdb") as con:
        outcomes = {Path(outcome.relative_path).name: outcome
                    for outcome in ingest_dossier_exports(con, tmp_path / "landing")}
        return {name: (outcomes[name].status,
                       con.execute(ROWS, {"name": name}).fetchall(),
                       con.execute(SET_ASIDE, {"name": name}).fetchall())
                for name in names}


@pytest.mark.parametrize("workbook", ["ho-so-thang-3.xlsx", "ho-so-thang-3.xls",
                                      "ho-so-thang-3.ods"])
def test_an_export_saved_as_a_workbook_loads_as_the_csv_it_was_saved_from(tmp_path, workbook):
    """The same dossiers, values and positions, the same records set aside: the dates the
    spreadsheet made date cells or numbers, the channel and status it made numbers."""
    loaded = load(tmp_path, ["ho-so-thang-3.csv", workbook])
    status, rows, set_aside = loaded[workbook]
    assert status == "loaded"
    assert [row[:1] + row[2:] for row in rows] == [
        row[:1] + row[2:] for row in loaded["ho-so-thang-3.csv"][1]]
    assert [row[1] for row in rows] == [1, 2, 3]
    assert set_aside == loaded["ho-so-thang-3.csv"][2] == [
        (4, "unknown_channel"), (6, "due_before_received")]


def test_a_workbook_read_in_pieces_loads_the_same(tmp_path, monkeypatch):
    whole = load(tmp_path / "whole", ["ho-so-thang-3.xlsx"])
    in_pieces = load(tmp_path / "pieces", ["ho-so-thang-3.xlsx"], "300", monkeypatch)
    assert in_pieces == whole
    status, rows, set_aside = whole["ho-so-thang-3.xlsx"]
    assert (status, len(rows), len(set_aside)) == ("loaded", 3, 2)


CITIZEN = "Trần Thị Bích Ngọc"


def screen_export(path: Path) -> None:
    """A list of dossiers as a portal's screen exports it: a title and a filter line above
    a header in Vietnamese, dates as date cells, codes as numbers, a second sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách hồ sơ"
    sheet.append(["DANH SÁCH HỒ SƠ TIẾP NHẬN"])
    sheet.append(["Từ ngày 06/03/2022 đến ngày 06/03/2022"])
    sheet.append([])
    sheet.append(["Mã hồ sơ", "Chủ hồ sơ", "Mã đơn vị xử lý", "Mã TTHC", "Kênh thực hiện",
                  "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái hồ sơ"])
    sheet.append(["000.00.12.H17-220306-0101", CITIZEN, "000.00.12.H17", 1.00437, 2,
                  datetime(2022, 3, 6, 8, 30), datetime(2022, 3, 10, 17), 4])
    sheet.append(["000.00.12.H17-220306-0102", CITIZEN, "000.00.12.H17", "1.004370", 1.0,
                  datetime(2022, 3, 6, 14, 5, 30), None, 2])
    workbook.create_sheet("Thống kê").append(["Tổng số", 2])
    workbook.save(path)


def test_a_screens_export_loads_from_its_header_under_the_title(tmp_path):
    folder = tmp_path / "landing" / "dossiers" / DAY
    folder.mkdir(parents=True)
    screen_export(folder / "danh-sach-ho-so.xlsx")
    with connect(tmp_path / "warehouse.duckdb") as con:
        (outcome,) = ingest_dossier_exports(con, tmp_path / "landing")
        assert outcome.status == "loaded", outcome.message
        assert con.execute(
            "SELECT ma_ho_so, line_no, ma_tthc, kenh_thuc_hien, ngay_tiep_nhan, ngay_hen_tra, "
            "trang_thai FROM raw.dossier_snapshots ORDER BY 1").fetchall() == [
            ("000.00.12.H17-220306-0101", 1, "1.004370", 2, datetime(2022, 3, 6, 8, 30),
             datetime(2022, 3, 10, 17), 4),
            ("000.00.12.H17-220306-0102", 2, "1.004370", 1, datetime(2022, 3, 6, 14, 5, 30),
             None, 2),
        ]


def test_the_sheets_copy_holds_only_the_columns_read(tmp_path):
    """The CSV the sheet is read from keeps no personal data: not the owner's name."""
    screen_export(tmp_path / "danh-sach-ho-so.xlsx")
    with workbook_as_csv(tmp_path / "danh-sach-ho-so.xlsx", readers._columns_read) as copy:
        text = copy.read_text(encoding="utf-8")
    assert CITIZEN not in text
    assert text.splitlines()[0] == ("Mã hồ sơ,Mã đơn vị xử lý,Mã TTHC,Kênh thực hiện,"
                                    "Ngày tiếp nhận,Ngày hẹn trả,Trạng thái hồ sơ")


def test_a_table_that_does_not_start_at_a1_loads(tmp_path):
    """A sheet whose export starts at C3, nothing above or left of it."""
    folder = tmp_path / "landing" / "dossiers" / DAY
    folder.mkdir(parents=True)
    workbook = openpyxl.Workbook()
    for row, values in enumerate([["MaHoSo", "KenhThucHien", "NgayTiepNhan", "TrangThaiHoSo"],
                                  ["000.00.12.H17-220306-0201", 2, 20220306080000, 4]], start=3):
        for column, value in enumerate(values, start=3):
            workbook.active.cell(row, column, value)
    workbook.save(folder / "tu-o-c3.xlsx")
    with connect(tmp_path / "warehouse.duckdb") as con:
        (outcome,) = ingest_dossier_exports(con, tmp_path / "landing")
        assert outcome.status == "loaded", outcome.message
        assert con.execute("SELECT ma_ho_so, line_no, ngay_tiep_nhan FROM "
                           "raw.dossier_snapshots").fetchall() == [
            ("000.00.12.H17-220306-0201", 1, datetime(2022, 3, 6, 8))]


def test_a_damaged_workbook_fails_alone_saying_what_to_do(tmp_path):
    folder = tmp_path / "landing" / "dossiers" / DAY
    folder.mkdir(parents=True)
    (folder / "hong.xlsx").write_bytes((SAVED / "ho-so-thang-3.xlsx").read_bytes()[:2000])
    shutil.copy(SAVED / "ho-so-thang-3.ods", folder / "ho-so-thang-3.ods")
    with connect(tmp_path / "warehouse.duckdb") as con:
        outcomes = {Path(o.relative_path).name: o
                    for o in ingest_dossier_exports(con, tmp_path / "landing")}
    assert outcomes["ho-so-thang-3.ods"].status == "loaded"
    assert outcomes["hong.xlsx"].status == "failed"
    assert "hong.xlsx is not a readable workbook" in outcomes["hong.xlsx"].message
    assert "save it as 'Excel Workbook (.xlsx)'" in outcomes["hong.xlsx"].message
