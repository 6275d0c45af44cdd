"""Biểu 06 workbooks as provinces fill them in: each built cell by cell with openpyxl the way
an office's spreadsheet saves it (values in the top-left cell of a merged range, the other
cells of the range empty; numbers typed as numbers, floats or text), never by the project's
own writer. Each is loaded as a user's run loads it, and checked as a user would check it:
which rows count for which agency, what was set aside and why, which totals agree, and that
per file rows read = rows loaded + rows quarantined."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import duckdb
import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from dvctt_pipeline.ingest.reports import ingest_monthly_reports
from dvctt_pipeline.models.sql_models import Window, load_models, run_model
from dvctt_pipeline.reference.agencies import load_agencies
from dvctt_pipeline.validate.quality_checks import QUALITY_CHECKS, record_results, run_check
from dvctt_pipeline.warehouse import connect

MARCH = date(2022, 3, 1)
AGENCIES = """\
agency_code,agency_name,admin_level,province_code,district_code,commune_code,valid_from,valid_to,\
aliases
000.00.12.H56,Sở Tư pháp tỉnh Khánh Hòa,province,56,,,,,
000.00.05.H56,Sở Y tế tỉnh Khánh Hòa,province,56,,,,,
000.00.40.H56,Công an tỉnh Khánh Hòa,province,56,,,,,
000.00.31.H56,UBND huyện Diên Khánh,district,56,568,,,,
000.31.25.H56,UBND xã Ninh Ích,commune,56,572,22723,,,
000.32.26.H56,UBND phường Vĩnh Hải,commune,56,568,22336,,,
"""
NUMBERS = ["(1)", "(2)", "(3)=(4)+(5)+(6)", "(4)", "(5)", "(6)", "(7)=(8)+(9)+(10)", "(8)",
           "(9)", "(10)", "(11)=(12)+(13)", "(12)", "(13)", "(14)"]


def put(sheet: Worksheet, cells: dict[str, object], merges: tuple[str, ...] = ()) -> None:
    """Type values into cells, then merge ranges as the office's spreadsheet does."""
    for address, value in cells.items():
        sheet[address] = value
    for cells_range in merges:
        sheet.merge_cells(cells_range)


def put_row(sheet: Worksheet, row: int, values: list[object], first_column: int = 1) -> None:
    for offset, value in enumerate(values):
        if value is not None:
            sheet.cell(row, first_column + offset, value)


def four_row_header(sheet: Worksheet, top: int) -> None:
    """The form's usual four merged header rows (issue: Khánh Hòa), 'Đơn vị' typed in NFD
    with a line break, and a 'Ghi chú' column."""
    r = [top + i for i in range(4)]
    put(sheet, {
        f"A{r[0]}": "STT", f"B{r[0]}": unicodedata.normalize("NFD", "Tên cơ quan,\nđơn vị"),
        f"C{r[0]}": "Số hồ sơ nhận giải quyết", f"G{r[0]}": "Kết quả giải quyết",
        f"N{r[0]}": "Ghi chú",
        f"C{r[1]}": "Tổng số", f"D{r[1]}": "Trong đó",
        f"G{r[1]}": "Số hồ sơ đã giải quyết", f"K{r[1]}": "Số hồ sơ đang giải quyết",
        f"D{r[2]}": "Từ kỳ trước", f"E{r[2]}": "Trong kỳ",
        f"G{r[2]}": "Tổng số", f"H{r[2]}": "Trước hạn", f"I{r[2]}": "Đúng hạn",
        f"J{r[2]}": "Quá hạn", f"K{r[2]}": "Tổng số", f"L{r[2]}": "Trong hạn",
        f"M{r[2]}": "Quá hạn",
        f"E{r[3]}": "Trực tuyến", f"F{r[3]}": "Trực tiếp,\ndịch vụ bưu chính",
    }, merges=(
        f"A{r[0]}:A{r[3]}", f"B{r[0]}:B{r[3]}", f"C{r[0]}:F{r[0]}", f"G{r[0]}:M{r[0]}",
        f"N{r[0]}:N{r[3]}", f"C{r[1]}:C{r[3]}", f"D{r[1]}:F{r[1]}", f"G{r[1]}:J{r[1]}",
        f"K{r[1]}:M{r[1]}", f"D{r[2]}:D{r[3]}", f"E{r[2]}:F{r[2]}",
        *(f"{c}{r[2]}:{c}{r[3]}" for c in "GHIJKLM"),
    ))


def khanh_hoa_march(path: Path) -> None:
    """Khánh Hòa's March 2022 report: a hidden old template (zeros) first, an instructions
    sheet, then the form — four merged header rows, a column-number row, the total at the top,
    sections with and without their subtotal, a report-only commune, numbers typed as text
    with thousands dots and as floats, a note, signature lines."""
    workbook = openpyxl.Workbook()
    template = workbook.active
    template.title = "Mẫu cũ"
    template.sheet_state = "hidden"
    put(template, {"A1": "Kỳ báo cáo: Tháng 3 năm 2022"})
    four_row_header(template, 3)
    put_row(template, 8, [1, "Sở Tư pháp tỉnh Khánh Hòa"] + [0] * 11)
    put_row(template, 9, [2, "UBND xã Ninh Ích"] + [0] * 11)
    guide = workbook.create_sheet("Hướng dẫn")
    put(guide, {"A1": "HƯỚNG DẪN GHI BIỂU 06",
                "A2": "Đơn vị báo cáo: ghi số liệu của từng cơ quan, đơn vị trong kỳ báo cáo.",
                "A3": "Cột (5): số hồ sơ tiếp nhận trực tuyến."})
    sheet = workbook.create_sheet("Biểu 06")
    put(sheet, {
        "A1": "UBND TỈNH KHÁNH HÒA", "K1": "Biểu số 06/VPCP/KSTT",
        "K2": "Đơn vị báo cáo: UBND tỉnh Khánh Hòa",
        "K3": "Đơn vị nhận báo cáo: Văn phòng Chính phủ",
        "A4": "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        "A5": "Kỳ báo cáo: Tháng 3 năm 2022",
    }, merges=("A1:E1", "A4:N4", "A5:N5"))
    four_row_header(sheet, 7)
    put_row(sheet, 11, NUMBERS)
    put(sheet, {"A12": "TỔNG CỘNG"}, merges=("A12:B12",))
    put_row(sheet, 12, [1565, 40, 1112, 413, 1500, 360, 1070, 70, 65, 60, 5], 3)
    put_row(sheet, 13, ["I", "CẤP TỈNH", 160, 10, 100, 50, 150, 20, 120, 10, 10, 10, 0])
    put_row(sheet, 14, [1, "Sở Tư pháp tỉnh Khánh Hòa", 100, 10, 60, 30, 95, 15, 75, 5, 5, 5,
                        0])
    put_row(sheet, 15, [2, "Sở Y tế tỉnh Khánh Hòa", "60", None, "40", "20", "55", "5", "45",
                        "5", "5", "5", None, "Số liệu tạm tính"])
    put_row(sheet, 16, ["II", "CẤP HUYỆN"])
    put_row(sheet, 17, [1, "UBND huyện Diên Khánh", 50, 0, 30, 20, 50, 10, 40, 0, 0, 0, 0])
    put_row(sheet, 18, [None, "Cộng cấp huyện", 50, 0, 30, 20, 50, 10, 40, 0, 0, 0, 0])
    put_row(sheet, 19, ["III", "CẤP XÃ"])
    # the report-only commune: 1,235 dossiers received in the month (900 online)
    put_row(sheet, 20, [1, "UBND xã Ninh Ích", "1.250", "15", "900", "335", "1.200", "300",
                        "850", "50", "50", "45", "5"])
    put_row(sheet, 21, [2, "UBND phường Vĩnh Hải", 105.0, 15.0, 82.0, 8.0, 100.0, 30.0, 60.0,
                        10.0, 5.0, 5.0, 0.0])
    put_row(sheet, 22, [None, "Cộng cấp xã", 1355, 30, 982, 343, 1300, 330, 910, 60, 55, 50, 5])
    put(sheet, {"J24": "Khánh Hòa, ngày 05 tháng 4 năm 2022", "B25": "NGƯỜI LẬP BIỂU",
                "J25": "CHỦ TỊCH", "B29": "Nguyễn Văn Lập"})
    workbook.save(path)


def six_row_header_variants(path: Path) -> None:
    """A six-row header in upper case with other wordings ('Số kỳ trước chuyển qua', 'Số mới
    tiếp nhận', 'Trả trước hạn', 'Trả đúng thời hạn', 'Chưa đến hạn'), an in-period total
    column, in person and postal as two columns, lettered sections carrying their subtotals,
    the total at the bottom typed in the STT column, the period as 'Từ ngày … đến ngày …'."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "BC thang 3"
    put(sheet, {"A2": "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT TTHC",
                "A3": "(Từ ngày 01/03/2022 đến ngày 31/03/2022)"})
    put(sheet, {
        "A5": "TT", "B5": "ĐƠN VỊ", "C5": "SỐ HỒ SƠ NHẬN GIẢI QUYẾT", "J5": "KẾT QUẢ GIẢI QUYẾT",
        "C6": "TỔNG SỐ", "D6": "TRONG ĐÓ",
        "J6": "SỐ HỒ SƠ ĐÃ GIẢI QUYẾT", "N6": "SỐ HỒ SƠ ĐANG GIẢI QUYẾT",
        "D7": "SỐ KỲ TRƯỚC CHUYỂN QUA", "E7": "SỐ MỚI TIẾP NHẬN",
        "J7": "TỔNG SỐ", "K7": "TRONG ĐÓ", "N7": "TỔNG SỐ", "O7": "TRONG ĐÓ",
        "E8": "TỔNG", "F8": "CHIA RA",
        "K8": "TRẢ TRƯỚC HẠN", "L8": "TRẢ ĐÚNG THỜI HẠN", "M8": "TRẢ QUÁ HẠN",
        "O8": "CHƯA ĐẾN HẠN", "P8": "QUÁ HẠN",
        "F9": "TRỰC TUYẾN", "G9": "TRỰC TIẾP VÀ QUA BƯU CHÍNH",
        "G10": "TRỰC TIẾP", "H10": "DỊCH VỤ BƯU CHÍNH CÔNG ÍCH",
    }, merges=(
        "A5:A10", "B5:B10", "C5:H5", "J5:P5", "C6:C10", "D6:H6", "J6:M6", "N6:P6",
        "D7:D10", "E7:H7", "J7:J10", "K7:M7", "N7:N10", "O7:P7", "E8:E10", "F8:H8",
        "K8:K10", "L8:L10", "M8:M10", "O8:O10", "P8:P10", "F9:F10", "G9:H9", "I5:I10",
    ))
    # the section labels sit in the STT column; column I is an empty spacer between groups
    put_row(sheet, 11, ["A. Cấp tỉnh", None, 160, 10, 150, 100, 30, 20, None, 150, 20, 120,
                        10, 10, 10, 0])
    put_row(sheet, 12, [1, "Sở Tư pháp tỉnh Khánh Hòa", 100, 10, 90, 60, 20, 10, None, 95,
                        15, 75, 5, 5, 5, 0])
    put_row(sheet, 13, [2, "Sở Y tế tỉnh Khánh Hòa", 60, 0, 60, 40, 10, 10, None, 55, 5, 45,
                        5, 5, 5, 0])
    put_row(sheet, 14, ["B. Cấp huyện", None, 50, 0, 50, 30, 15, 5, None, 50, 10, 40, 0, 0, 0,
                        0])
    put_row(sheet, 15, [1, "UBND huyện Diên Khánh", 50, 0, 50, 30, 15, 5, None, 50, 10, 40, 0,
                        0, 0, 0])
    put_row(sheet, 16, ["TỔNG CỘNG", None, "210", "10", "200", "130", "45", "25", None, "200",
                        "30", "160", "10", "10", "10", "0"])
    workbook.save(path)


def merged_unit_cell(path: Path) -> None:
    """Two rows with counts under one merged 'Đơn vị' cell (issue 18 item 3); a unit cell
    merged over its row and an empty one; a 2-row header."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    put(sheet, {"A1": "(Từ ngày 01/03/2022 đến ngày 31/03/2022)",
                "A3": "STT", "B3": "Đơn vị", "C3": "Số hồ sơ nhận giải quyết",
                "G3": "Đã giải quyết", "K3": "Đang giải quyết"},
        merges=("A3:A4", "B3:B4", "C3:F3", "G3:J3", "K3:M3"))
    put_row(sheet, 4, ["Tổng số", "Từ kỳ trước", "Trực tuyến", "Trực tiếp/BCCI", "Tổng số",
                       "Trước hạn", "Đúng hạn", "Quá hạn", "Tổng số", "Trong hạn", "Quá hạn"], 3)
    put_row(sheet, 5, [1, "Sở Tư pháp tỉnh Khánh Hòa", 10, 0, 5, 5, 8, 1, 6, 1, 2, 2, 0])
    put_row(sheet, 6, [None, None, 20, 0, 10, 10, 16, 2, 12, 2, 4, 4, 0])
    sheet.merge_cells("B5:B6")
    put_row(sheet, 7, [2, "Sở Y tế tỉnh Khánh Hòa", 5, 0, 5, 0, 5, 5, 0, 0, 0, 0, 0])
    put_row(sheet, 8, [3, "UBND huyện Diên Khánh", 10, 0, 5, 5, 10, 5, 5, 0, 0, 0, 0])
    sheet.merge_cells("B8:B9")
    put_row(sheet, 10, [None, "Tổng cộng", 45, 0, 25, 20, 39, 13, 23, 3, 6, 6, 0])
    workbook.save(path)


def huge_count_and_wrong_subtotal(path: Path) -> None:
    """A count of 99999999999999999999 typed as text and as a number Excel stores as 1E+20,
    and a subtotal that does not add up."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    put(sheet, {"A1": "Kỳ báo cáo: tháng 03/2022"})
    four_row_header(sheet, 3)
    put_row(sheet, 7, ["I", "CẤP TỈNH"])
    put_row(sheet, 8, [1, "Sở Tư pháp tỉnh Khánh Hòa", "99999999999999999999", 0, 5, 5, 8, 1,
                       6, 1, 2, 2, 0])
    put_row(sheet, 9, [2, "Sở Y tế tỉnh Khánh Hòa", 1e20, 0, 5, 5, 8, 1, 6, 1, 2, 2, 0])
    put_row(sheet, 10, [None, "Cộng", 20, 0, 10, 10, 16, 2, 12, 2, 4, 4, 0])
    put_row(sheet, 11, ["II", "CẤP HUYỆN"])
    put_row(sheet, 12, [1, "UBND huyện Diên Khánh", 50, 0, 30, 20, 50, 10, 40, 0, 0, 0, 0])
    put_row(sheet, 13, [None, "Cộng cấp huyện", 51, 0, 30, 20, 50, 10, 40, 0, 0, 0, 0])
    workbook.save(path)


def other_month_in_words(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    put(sheet, {"A1": "Kỳ báo cáo: Tháng 2 năm 2022", "J2": "ngày 05 tháng 3 năm 2022"})
    four_row_header(sheet, 3)
    put_row(sheet, 7, [1, "Sở Tư pháp tỉnh Khánh Hòa", 10, 0, 5, 5, 8, 1, 6, 1, 2, 2, 0])
    workbook.save(path)


def agencies_named_like_totals(path: Path) -> None:
    """'Công an tỉnh' reads like 'Cộng' without accents; a subtotal typed without them."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    put(sheet, {"A1": "Kỳ báo cáo: Tháng 3 năm 2022"})
    four_row_header(sheet, 3)
    put_row(sheet, 7, [1, "CÔNG AN TỈNH KHÁNH HÒA", 30, 0, 20, 10, 30, 0, 30, 0, 0, 0, 0])
    put_row(sheet, 8, [2, "Sở Tư pháp tỉnh Khánh Hòa", 10, 0, 5, 5, 8, 1, 6, 1, 2, 2, 0])
    put_row(sheet, 9, [None, "Cong", 40, 0, 25, 15, 38, 1, 36, 1, 2, 2, 0])
    workbook.save(path)


def row_without_unit(path: Path) -> None:
    """Column numbers typed as plain numbers below a blank row, then a row of counts whose
    unit was left blank."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    put(sheet, {"A1": "(Từ ngày 01/03/2022 đến ngày 31/03/2022)"})
    four_row_header(sheet, 3)
    put_row(sheet, 8, list(range(1, 15)))
    put_row(sheet, 9, [1, "Sở Tư pháp tỉnh Khánh Hòa", 10, 0, 5, 5, 8, 1, 6, 1, 2, 2, 0])
    put_row(sheet, 10, [2, None, 10, 0, 5, 5, 8, 1, 6, 1, 2, 2, 0])
    workbook.save(path)


def formula_over_text(path: Path) -> None:
    """A total written as a formula without a stored value (as non-Excel writers save it) over
    a cell holding a word."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    put(sheet, {"A1": "Kỳ báo cáo: Tháng 3 năm 2022"})
    four_row_header(sheet, 3)
    put_row(sheet, 7, [1, "Sở Tư pháp tỉnh Khánh Hòa", "tám", 0, 5, 5, 8, 1, 6, 1, 2, 2, 0])
    put_row(sheet, 8, [None, "Tổng cộng", "=SUM(C7:C7)", 0, 5, 5, 8, 1, 6, 1, 2, 2, 0])
    workbook.save(path)


def one_sheet_per_month(path: Path) -> None:
    """The year's workbook, one visible sheet per month: the folder's month is read."""
    workbook = openpyxl.Workbook()
    for month, received in ((2, 40), (3, 10), (4, 70)):
        sheet = workbook.create_sheet(f"T{month}")
        put(sheet, {"A1": f"Kỳ báo cáo: Tháng {month} năm 2022"})
        four_row_header(sheet, 3)
        put_row(sheet, 7, [1, "Sở Tư pháp tỉnh Khánh Hòa", received, 0, received // 2,
                           received // 2, 8, 1, 6, 1, 2, 2, 0])
    workbook.remove(workbook["Sheet"])
    workbook.save(path)


def truncated_xml(path: Path) -> None:
    """A workbook whose sheet XML was cut short in the copy (zip intact)."""
    khanh_hoa_march(path.with_suffix(".whole.xlsx"))
    with zipfile.ZipFile(path.with_suffix(".whole.xlsx")) as whole, \
            zipfile.ZipFile(path, "w") as cut:
        for member in whole.infolist():
            data = whole.read(member)
            cut.writestr(member, data[: len(data) // 2] if "worksheets/sheet3" in
                         member.filename else data)
    path.with_suffix(".whole.xlsx").unlink()


# Saved by LibreOffice Calc 7.4 (`soffice --headless --convert-to xlsx`) from the Khánh Hòa
# workbook above with the total and the communes' subtotal as formulas (=C13+C18+C22,
# =SUM(C20:C21)), so LibreOffice wrote its own XML, shared strings and the formulas' values:
# - with the commune's counts typed as numbers;
# - as the office sent it, the commune's counts typed as text ("1.250"), which SUM skips.
SAVED_BY_LIBREOFFICE = Path(__file__).parents[1] / "fixtures" / "reports"
LIBREOFFICE = "reports/2022-03/bieu06-khanh-hoa-libreoffice.xlsx"
LIBREOFFICE_TEXT_IN_SUM = "reports/2022-03/bieu06-tong-bo-qua-so-dang-chu-libreoffice.xlsx"


# The same two workbooks saved by LibreOffice Calc 7.4 as Excel 97–2003 (`soffice --headless
# --convert-to xls`), the format offices and older systems still send the form in; the second
# as an office renames it, under an .xlsx name.
EXCEL_97 = "reports/2022-03/bieu06-khanh-hoa-libreoffice.xls"
EXCEL_97_TEXT_IN_SUM = "reports/2022-03/bieu06-tong-bo-qua-so-dang-chu-excel-97.xlsx"
EXCEL_97_CUT_SHORT = "reports/2022-03/bieu06-cat-cut.xls"
EXCEL_97_ZEROS_AT_END = "reports/2022-03/bieu06-cung-ky-sector-trong.xls"
EXCEL_97_COPY_CUT_SHORT = "reports/2022-03/bieu06-sao-chep-do-dang.xls"
# The same two saved by LibreOffice Calc 7.4 in its own format (`soffice --headless
# --convert-to ods`), as offices that use LibreOffice send it; and the first cut short.
OPEN_DOCUMENT = "reports/2022-03/bieu06-khanh-hoa-libreoffice.ods"
OPEN_DOCUMENT_TEXT_IN_SUM = "reports/2022-03/bieu06-tong-bo-qua-so-dang-chu-libreoffice.ods"
OPEN_DOCUMENT_CUT_SHORT = "reports/2022-03/bieu06-ods-cat-cut.ods"


def saved_by_libreoffice(path: Path) -> None:
    shutil.copy(SAVED_BY_LIBREOFFICE / path.name, path)


def excel_97_named_xlsx(path: Path) -> None:
    shutil.copy(SAVED_BY_LIBREOFFICE / "bieu06-tong-bo-qua-so-dang-chu-libreoffice.xls", path)


def excel_97_zeros_at_end(path: Path) -> None:
    """The text-in-sum .xls with a sector of 512 zero bytes more at its end, as a compound
    file's writer may leave one unused."""
    saved = SAVED_BY_LIBREOFFICE / "bieu06-tong-bo-qua-so-dang-chu-libreoffice.xls"
    path.write_bytes(saved.read_bytes() + bytes(512))


def excel_97_copy_cut_short(path: Path) -> None:
    """At its full size, the last 5 312 bytes never written (zeros), as a copy cut short."""
    saved = (SAVED_BY_LIBREOFFICE / Path(EXCEL_97).name).read_bytes()
    path.write_bytes(saved[:8000] + bytes(len(saved) - 8000))


def open_document_cut_short(path: Path) -> None:
    path.write_bytes((SAVED_BY_LIBREOFFICE / Path(OPEN_DOCUMENT).name).read_bytes()[:9000])


def excel_97_cut_short(path: Path) -> None:
    """Its first 6 000 of 13 312 bytes, as a download stopped half-way leaves it."""
    path.write_bytes((SAVED_BY_LIBREOFFICE / Path(EXCEL_97).name).read_bytes()[:6000])


# A web system's "export to Excel": an XHTML page (an XML declaration, a comment, a DOCTYPE
# first) sent under an .xls name, the title and the period in <div>s above one table whose
# header cells span rows and columns, a <br> in a heading, counts written with thousands
# dots, &nbsp; in empty cells, cells left unclosed.
WEB_EXPORT = "reports/2022-03/bao-cao-bieu-06-xuat-tu-he-thong.xls"
WEB_EXPORT_CUT_SHORT = "reports/2022-03/bao-cao-xuat-tu-he-thong-cat-cut.xls"
# The Khánh Hòa workbook saved by LibreOffice Calc 7.4 as a web page (`soffice --headless
# --convert-to html`: each visible sheet a table under its heading), renamed .xls.
SAVED_AS_WEB_PAGE = "reports/2022-03/bieu06-khanh-hoa-trang-web.xls"
WEB_HEADER = """<tr><th rowspan="4">STT</th><th rowspan="4">Tên cơ quan,<br/>đơn vị</th>
<th colspan="4">Số hồ sơ nhận giải quyết</th><th colspan="7">Kết quả giải quyết</th>
<th rowspan="4">Ghi chú</th></tr>
<tr><th rowspan="3">Tổng số</th><th colspan="3">Trong đó</th>
<th colspan="4">Số hồ sơ đã giải quyết</th><th colspan="3">Số hồ sơ đang giải quyết</th></tr>
<tr><th rowspan="2">Từ kỳ trước</th><th colspan="2">Trong kỳ</th><th rowspan="2">Tổng số</th>
<th rowspan="2">Trước hạn</th><th rowspan="2">Đúng hạn</th><th rowspan="2">Quá hạn</th>
<th rowspan="2">Tổng số</th><th rowspan="2">Trong hạn</th><th rowspan="2">Quá hạn</th></tr>
<tr><th>Trực tuyến</th><th>Trực tiếp,<br>dịch vụ bưu chính</th></tr>
"""
WEB_ROWS = [
    ['<td colspan="2">TỔNG CỘNG', "1.565", "40", "1.112", "413", "1.500", "360", "1.070",
     "70", "65", "60", "5", "&nbsp;"],
    ["I", "CẤP TỈNH", "160", "10", "100", "50", "150", "20", "120", "10", "10", "10", "0", ""],
    ["1", "Sở Tư pháp tỉnh Khánh Hòa", "100", "10", "60", "30", "95", "15", "75", "5", "5",
     "5", "0", ""],
    ["2", "Sở Y tế tỉnh Khánh Hòa", "60", "&nbsp;", "40", "20", "55", "5", "45", "5", "5",
     "5", "&nbsp;", "Số liệu tạm tính"],
    ["II", "CẤP HUYỆN", *[""] * 12],
    ["1", "UBND huyện Diên Khánh", "50", "0", "30", "20", "50", "10", "40", "0", "0", "0",
     "0", ""],
    ["", "Cộng cấp huyện", "50", "0", "30", "20", "50", "10", "40", "0", "0", "0", "0", ""],
    ["III", "CẤP XÃ", *[""] * 12],
    ["1", "UBND xã Ninh Ích", "1.250", "15", "900", "335", "1.200", "300", "850", "50", "50",
     "45", "5", ""],
    ["2", "UBND phường Vĩnh Hải", "105", "15", "82", "8", "100", "30", "60", "10", "5", "5",
     "0", ""],
    ["", "Cộng cấp xã", "1.355", "30", "982", "343", "1.300", "330", "910", "60", "55", "50",
     "5", ""],
]


def web_export(path: Path) -> None:
    """Khánh Hòa's March report as a web system exports it (WEB_EXPORT)."""
    def row(cells: list[str]) -> str:
        first, *rest = cells
        opened = first if first.startswith("<td") else f"<td>{first}"
        return "<tr>" + opened + "".join(f'<td style="mso-number-format:\\@">{cell}'
                                         for cell in rest) + "</tr>\n"

    page = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!-- Xuất từ hệ thống báo cáo -->\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        "<title>Báo cáo</title><style>td { border: .5pt solid; }</style>\n</head>\n<body>\n"
        "<div><b>UBND TỈNH KHÁNH HÒA</b></div>\n"
        '<div style="text-align:center"><b>TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH'
        "\n CHÍNH</b></div>\n<div>Kỳ báo cáo: Tháng 3 năm 2022</div>\n"
        '<table border="1" cellspacing="0">\n' + WEB_HEADER
        + row(NUMBERS) + "".join(row(cells) for cells in WEB_ROWS)
        + "</table>\n<p>Khánh Hòa, ngày 05 tháng 4 năm 2022</p>\n</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")


def web_export_cut_short(path: Path) -> None:
    """Stopped half-way: in the table, after the district's rows."""
    web_export(path)
    page = path.read_text(encoding="utf-8")
    path.write_text(page[:page.index("III")], encoding="utf-8")


def saved_as_web_page(path: Path) -> None:
    shutil.copy(SAVED_BY_LIBREOFFICE / "bieu06-khanh-hoa-libreoffice.html", path)


# Excel 2003's XML Spreadsheet, as .NET and Java systems export to Excel and as Excel saves
# "XML Spreadsheet 2003": the two LibreOffice workbooks above written again in that format,
# the first under an .xls name, the second under .xml; and the first cut short.
XML_SPREADSHEET = "reports/2022-03/bieu06-khanh-hoa-xml-2003.xls"
XML_SPREADSHEET_TEXT_IN_SUM = "reports/2022-03/bieu06-tong-bo-qua-so-dang-chu-2003.xml"
XML_SPREADSHEET_CUT_SHORT = "reports/2022-03/bieu06-xml-2003-cat-cut.xls"


def xml_spreadsheet_cell(value: object) -> str:
    if isinstance(value, bool):
        return f'<Data ss:Type="Boolean">{int(value)}</Data>'
    if isinstance(value, int | float):
        return f'<Data ss:Type="Number">{value}</Data>'
    text = escape(str(value)).replace("\n", "&#10;")
    return f'<Data ss:Type="String">{text}</Data>'


def as_xml_spreadsheet(workbook: openpyxl.Workbook) -> str:
    """Every sheet as Excel writes XML Spreadsheet 2003: only the cells that hold a value, a
    merged range as its top-left cell with ss:MergeAcross / ss:MergeDown, ss:Index on a row
    or cell that does not follow the one written before it, a hidden sheet's Visible."""
    sheets = []
    for sheet in workbook.worksheets:
        merges = {(cells.min_row, cells.min_col): cells for cells in sheet.merged_cells.ranges}
        rows, last_row = [], 0
        for row in range(1, sheet.max_row + 1):
            cells, next_column = [], 1
            for column in range(1, sheet.max_column + 1):
                value = sheet.cell(row, column).value
                merge = merges.get((row, column))
                if value is None and merge is None:
                    continue
                index = f' ss:Index="{column}"' if column != next_column else ""
                spans = (f' ss:MergeAcross="{merge.max_col - merge.min_col}"'
                         f' ss:MergeDown="{merge.max_row - merge.min_row}"' if merge else "")
                data = "" if value is None else xml_spreadsheet_cell(value)
                cells.append(f"<Cell{index}{spans}>{data}</Cell>")
                next_column = (merge.max_col if merge else column) + 1
            if cells:
                index = f' ss:Index="{row}"' if row != last_row + 1 else ""
                rows.append(f"<Row{index}>{''.join(cells)}</Row>")
                last_row = row
        hidden = ("<Visible>SheetHidden</Visible>" if sheet.sheet_state != "visible" else "")
        sheets.append(
            f'<Worksheet ss:Name="{escape(sheet.title)}"><Table>{"".join(rows)}</Table>'
            f'<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">{hidden}'
            "</WorksheetOptions></Worksheet>")
    return (
        '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:html="http://www.w3.org/TR/REC-html40">\n' + "\n".join(sheets) + "\n</Workbook>\n")


def xml_spreadsheet_of(saved: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        # the values LibreOffice stored beside its formulas, as Excel stores them in Data
        workbook = openpyxl.load_workbook(SAVED_BY_LIBREOFFICE / saved, data_only=True)
        path.write_text(as_xml_spreadsheet(workbook), encoding="utf-8")
    return write


def xml_spreadsheet_cut_short(path: Path) -> None:
    xml_spreadsheet_of("bieu06-khanh-hoa-libreoffice.xlsx")(path)
    path.write_bytes(path.read_bytes()[:3000])


WORKBOOKS = {
    "reports/2022-03/Biểu 06 Khánh Hòa T3.xlsx": khanh_hoa_march,
    "reports/2022-03/bc-6-dong-tieu-de.xlsx": six_row_header_variants,
    "reports/2022-03/don-vi-gop-o.xlsx": merged_unit_cell,
    "reports/2022-03/so-qua-lon.xlsx": huge_count_and_wrong_subtotal,
    "reports/2022-03/thang-2-trong-thu-muc-3.xlsx": other_month_in_words,
    "reports/2022-03/cat-cut.xlsx": truncated_xml,
    "reports/2022-03/ca-nam.xlsx": one_sheet_per_month,
    "reports/2022-03/cong-an.xlsx": agencies_named_like_totals,
    "reports/2022-03/thieu-ten.xlsx": row_without_unit,
    "reports/2022-03/cong-thuc.xlsx": formula_over_text,
    LIBREOFFICE: saved_by_libreoffice,
    LIBREOFFICE_TEXT_IN_SUM: saved_by_libreoffice,
    EXCEL_97: saved_by_libreoffice,
    EXCEL_97_TEXT_IN_SUM: excel_97_named_xlsx,
    EXCEL_97_CUT_SHORT: excel_97_cut_short,
    EXCEL_97_ZEROS_AT_END: excel_97_zeros_at_end,
    EXCEL_97_COPY_CUT_SHORT: excel_97_copy_cut_short,
    OPEN_DOCUMENT: saved_by_libreoffice,
    OPEN_DOCUMENT_TEXT_IN_SUM: saved_by_libreoffice,
    OPEN_DOCUMENT_CUT_SHORT: open_document_cut_short,
    WEB_EXPORT: web_export,
    SAVED_AS_WEB_PAGE: saved_as_web_page,
    WEB_EXPORT_CUT_SHORT: web_export_cut_short,
    XML_SPREADSHEET: xml_spreadsheet_of("bieu06-khanh-hoa-libreoffice.xlsx"),
    XML_SPREADSHEET_TEXT_IN_SUM: xml_spreadsheet_of(
        "bieu06-tong-bo-qua-so-dang-chu-libreoffice.xlsx"),
    XML_SPREADSHEET_CUT_SHORT: xml_spreadsheet_cut_short,
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("workbooks")
    landing = root / "landing"
    (landing / "reference").mkdir(parents=True)
    (landing / "reference" / "agencies.csv").write_text(AGENCIES, encoding="utf-8")
    for relative, build in WORKBOOKS.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        build(landing / relative)
    with connect(root / "warehouse.duckdb") as con:
        load_agencies(con, landing)
        ingest_monthly_reports(con, landing)
        window = Window(MARCH, date(2022, 4, 1))
        for model in load_models():
            if model.table == "staging.report_rows":
                run_model(con, model, window, {})
        yield con


def file_record(con: duckdb.DuckDBPyConnection, relative: str) -> dict:
    cursor = con.execute("SELECT * FROM meta.source_files WHERE relative_path = $p",
                         {"p": relative})
    (row,) = cursor.fetchall()
    record = dict(zip([c[0] for c in cursor.description], row, strict=True))
    assert record["rows_read"] == record["rows_loaded"] + record["rows_quarantined"]
    return record


def counted(con: duckdb.DuckDBPyConnection, relative: str) -> dict[str, tuple]:
    """agency -> (received_total, carried over, online, in person, finished, early, on time),
    for the rows that count."""
    return {code: rest for code, *rest in con.execute(
        "SELECT agency_code, received_total, received_carried_over, received_online, "
        "received_in_person, finished, finished_early, finished_on_time "
        "FROM staging.report_rows WHERE relative_path = $p AND quarantine_reason IS NULL",
        {"p": relative}).fetchall()}


def totals(con: duckdb.DuckDBPyConnection, relative: str) -> dict[int, tuple]:
    """row -> (label, kind, whether every checkable column agrees)."""
    return {row: (label, kind, agree) for row, label, kind, agree in con.execute(
        "SELECT row_no, label, kind, bool_and(stated = agency_rows_sum) "
        "FROM raw.report_totals WHERE relative_path = $p GROUP BY ALL", {"p": relative},
    ).fetchall()}


def set_aside(con: duckdb.DuckDBPyConnection, relative: str) -> dict[int, str]:
    return dict(con.execute("SELECT row_no, reason FROM quarantine.report_rows "
                            "WHERE relative_path = $p", {"p": relative}).fetchall())


KHANH_HOA = "reports/2022-03/Biểu 06 Khánh Hòa T3.xlsx"


def test_the_four_row_khanh_hoa_form_is_read_by_meaning(warehouse):
    record = file_record(warehouse, KHANH_HOA)
    assert record["status"] == "loaded", record["message"]
    # five agencies, the total, section I with its subtotal, two "Cộng" rows; not the
    # headings II / III, the column numbers, the note or the signature lines
    assert (record["rows_read"], record["rows_quarantined"]) == (9, 0)
    assert counted(warehouse, KHANH_HOA) == {
        "000.00.12.H56": [100, 10, 60, 30, 95, 15, 75],
        "000.00.05.H56": [60, 0, 40, 20, 55, 5, 45],
        "000.00.31.H56": [50, 0, 30, 20, 50, 10, 40],
        "000.31.25.H56": [1250, 15, 900, 335, 1200, 300, 850],
        "000.32.26.H56": [105, 15, 82, 8, 100, 30, 60],
    }


def test_totals_and_subtotals_are_checked_against_the_rows_they_cover(warehouse):
    assert totals(warehouse, KHANH_HOA) == {
        12: ("TỔNG CỘNG", "total", True),
        13: ("CẤP TỈNH", "subtotal", True),
        18: ("Cộng cấp huyện", "subtotal", True),
        22: ("Cộng cấp xã", "subtotal", True),
    }


def test_the_visible_form_is_read_not_the_hidden_template_and_the_sheet_is_named(warehouse):
    (sheet, header, passed_over) = warehouse.execute(
        "SELECT sheet_name, header_rows, sheets_passed_over FROM raw.report_files "
        "WHERE relative_path = $p", {"p": KHANH_HOA}).fetchone()
    assert (sheet, header, passed_over) == ("Biểu 06", "7–10", "Mẫu cũ (hidden), Hướng dẫn")


def test_six_header_rows_other_wordings_and_postal_as_its_own_column(warehouse):
    relative = "reports/2022-03/bc-6-dong-tieu-de.xlsx"
    record = file_record(warehouse, relative)
    assert record["status"] == "loaded", record["message"]
    # in person = in person + postal; the in-period "Tổng" column is not the total
    assert counted(warehouse, relative) == {
        "000.00.12.H56": [100, 10, 60, 30, 95, 15, 75],
        "000.00.05.H56": [60, 0, 40, 20, 55, 5, 45],
        "000.00.31.H56": [50, 0, 30, 20, 50, 10, 40],
    }
    assert totals(warehouse, relative) == {
        11: ("A. Cấp tỉnh", "subtotal", True),
        14: ("B. Cấp huyện", "subtotal", True),
        16: ("TỔNG CỘNG", "total", True),
    }


def test_rows_under_a_merged_unit_cell_are_set_aside_together_not_dropped(warehouse):
    relative = "reports/2022-03/don-vi-gop-o.xlsx"
    record = file_record(warehouse, relative)
    assert (record["rows_read"], record["rows_loaded"], record["rows_quarantined"]) == (5, 3, 2)
    assert set_aside(warehouse, relative) == {5: "merged_unit", 6: "merged_unit"}
    # one row with counts under a merged cell is that agency's
    assert counted(warehouse, relative)["000.00.31.H56"] == [10, 0, 5, 5, 10, 5, 5]
    # the set-aside rows still count in the total they are part of: the total agrees
    assert totals(warehouse, relative) == {10: ("Tổng cộng", "total", True)}


def test_a_count_too_large_is_set_aside_as_bad_count(warehouse):
    relative = "reports/2022-03/so-qua-lon.xlsx"
    record = file_record(warehouse, relative)
    assert record["status"] == "loaded", record["message"]
    assert set_aside(warehouse, relative) == {8: "bad_count", 9: "bad_count"}


def test_a_subtotal_that_does_not_add_up_fails_the_check_naming_file_and_row(warehouse):
    relative = "reports/2022-03/so-qua-lon.xlsx"
    # "Cộng" over two unreadable rows cannot be checked in their column; the district's can
    assert warehouse.execute(
        "SELECT row_no, column_name, stated, agency_rows_sum FROM raw.report_totals "
        "WHERE relative_path = $p AND stated IS DISTINCT FROM agency_rows_sum ORDER BY ALL",
        {"p": relative}).fetchall() == [(10, "received_total", 20, None),
                                        (13, "received_total", 51, 50)]
    check = next(c for c in QUALITY_CHECKS if c.name == "report_totals_match_agency_rows")
    frame, outcome = run_check(warehouse, check, MARCH, date(2022, 4, 1))
    record_results(warehouse, check, [MARCH], frame, outcome)
    (detail,) = warehouse.execute(
        "SELECT detail FROM meta.check_results JOIN meta.source_files USING (file_id) "
        "WHERE check_name = $name AND NOT passed AND relative_path = $p",
        {"name": check.name, "p": relative}).fetchone()
    assert f"relative_path={relative}" in detail and "row_no=13" in detail
    assert "label=Cộng cấp huyện" in detail and "stated=51" in detail


def test_a_period_line_in_words_for_another_month_fails_the_file(warehouse):
    record = file_record(warehouse, "reports/2022-03/thang-2-trong-thu-muc-3.xlsx")
    assert record["status"] == "failed"
    assert "reports the period 01/02/2022–28/02/2022 but lies in reports/2022-03/" in \
        record["message"]


def test_an_agency_named_like_a_subtotal_is_an_agency(warehouse):
    relative = "reports/2022-03/cong-an.xlsx"
    assert set(counted(warehouse, relative)) == {"000.00.40.H56", "000.00.12.H56"}
    assert totals(warehouse, relative) == {9: ("Cong", "subtotal", True)}


def test_column_numbers_are_not_data_and_a_row_without_unit_is_set_aside(warehouse):
    relative = "reports/2022-03/thieu-ten.xlsx"
    record = file_record(warehouse, relative)
    assert (record["rows_read"], record["rows_loaded"], record["rows_quarantined"]) == (2, 1, 1)
    assert set_aside(warehouse, relative) == {10: "no_unit"}


def test_the_sheet_of_the_folders_month_is_read(warehouse):
    relative = "reports/2022-03/ca-nam.xlsx"
    assert counted(warehouse, relative)["000.00.12.H56"][0] == 10
    assert warehouse.execute("SELECT sheet_name, sheets_passed_over FROM raw.report_files "
                             "WHERE relative_path = $p", {"p": relative}).fetchone() == (
        "T3", "T2, T4")


def test_a_formula_over_a_word_fails_the_file_saying_which_cell(warehouse):
    record = file_record(warehouse, "reports/2022-03/cong-thuc.xlsx")
    assert record["status"] == "failed"
    assert "a formula adds C7 (not a count)" in record["message"]


def test_a_workbook_with_truncated_xml_fails_alone(warehouse):
    record = file_record(warehouse, "reports/2022-03/cat-cut.xlsx")
    assert record["status"] == "failed"
    assert "is not a readable Excel workbook (.xlsx or .xls)" in record["message"]
    assert file_record(warehouse, KHANH_HOA)["status"] == "loaded"


def test_a_workbook_saved_by_libreoffice_reads_like_the_one_typed_in(warehouse):
    assert file_record(warehouse, LIBREOFFICE)["status"] == "loaded"
    assert counted(warehouse, LIBREOFFICE) == counted(warehouse, KHANH_HOA)
    assert totals(warehouse, LIBREOFFICE) == totals(warehouse, KHANH_HOA)


@pytest.mark.parametrize(("relative", "as_xlsx"), [
    (EXCEL_97, LIBREOFFICE), (EXCEL_97_TEXT_IN_SUM, LIBREOFFICE_TEXT_IN_SUM),
    (XML_SPREADSHEET, LIBREOFFICE), (XML_SPREADSHEET_TEXT_IN_SUM, LIBREOFFICE_TEXT_IN_SUM),
    (OPEN_DOCUMENT, LIBREOFFICE), (OPEN_DOCUMENT_TEXT_IN_SUM, LIBREOFFICE_TEXT_IN_SUM),
    (EXCEL_97_ZEROS_AT_END, LIBREOFFICE_TEXT_IN_SUM)])
def test_a_workbook_of_another_format_reads_like_the_xlsx(warehouse, relative, as_xlsx):
    """Its merged header, hidden template, text counts and the values its formulas had when
    saved (the counts typed as text skipped by SUM) as in the .xlsx; what it is comes from
    its bytes, not its name."""
    assert file_record(warehouse, relative)["status"] == "loaded"
    assert counted(warehouse, relative) == counted(warehouse, as_xlsx)
    assert totals(warehouse, relative) == totals(warehouse, as_xlsx)
    assert set_aside(warehouse, relative) == set_aside(warehouse, as_xlsx)
    assert warehouse.execute(
        "SELECT sheet_name, header_rows, sheets_passed_over FROM raw.report_files "
        "WHERE relative_path = $p", {"p": relative}).fetchone() == (
        "Biểu 06", "7–10", "Mẫu cũ (hidden), Hướng dẫn")


@pytest.mark.parametrize(("relative", "header_rows"), [
    (WEB_EXPORT, "4–7"), (SAVED_AS_WEB_PAGE, "15–18")])
def test_a_web_page_saved_as_a_workbook_reads_like_the_workbook(warehouse, relative,
                                                                header_rows):
    """As Excel shows the page: one sheet named after the file, the header cells' spans as
    merged ranges, text outside the table as rows (the period line); the same rows as the
    workbook's, lower or higher on the sheet."""
    record = file_record(warehouse, relative)
    assert record["status"] == "loaded", record["message"]
    assert (record["rows_read"], record["rows_quarantined"]) == (9, 0)
    assert counted(warehouse, relative) == counted(warehouse, KHANH_HOA)
    assert sorted(totals(warehouse, relative).values()) == sorted(
        totals(warehouse, KHANH_HOA).values())
    assert warehouse.execute(
        "SELECT sheet_name, header_rows FROM raw.report_files WHERE relative_path = $p",
        {"p": relative}).fetchone() == (Path(relative).stem, header_rows)


@pytest.mark.parametrize("relative", [EXCEL_97_CUT_SHORT, EXCEL_97_COPY_CUT_SHORT,
                                      XML_SPREADSHEET_CUT_SHORT, OPEN_DOCUMENT_CUT_SHORT])
def test_a_workbook_of_another_format_cut_short_fails_alone(warehouse, relative):
    record = file_record(warehouse, relative)
    assert record["status"] == "failed"
    assert "is not a readable Excel workbook (.xlsx or .xls)" in record["message"]
    assert "copy it again if it was cut short" in record["message"]
    assert file_record(warehouse, EXCEL_97)["status"] == "loaded"


def test_a_web_page_cut_short_fails_alone_where_its_rows_would_be_missing(warehouse):
    record = file_record(warehouse, WEB_EXPORT_CUT_SHORT)
    assert record["status"] == "failed"
    assert "ends inside a table: it was cut short" in record["message"]
    assert file_record(warehouse, WEB_EXPORT)["status"] == "loaded"


def test_formula_totals_that_skipped_counts_typed_as_text_disagree(warehouse):
    """The commune's counts are text: they load, but the spreadsheet's SUM skipped them, so
    the total and the communes' subtotal the office's spreadsheet computed are short."""
    assert counted(warehouse, LIBREOFFICE_TEXT_IN_SUM)["000.31.25.H56"][0] == 1250
    assert {row: agree for row, (_, _, agree) in
            totals(warehouse, LIBREOFFICE_TEXT_IN_SUM).items()} == {
        12: False, 13: True, 18: True, 22: False}
    assert warehouse.execute(
        "SELECT stated, agency_rows_sum FROM raw.report_totals WHERE relative_path = $p "
        "AND row_no = 12 AND column_name = 'received_total'",
        {"p": LIBREOFFICE_TEXT_IN_SUM}).fetchone() == (1565 - 1250, 1565)


def test_no_report_row_is_dropped_without_a_trace(warehouse):
    """Every agency row of every loaded file is in raw.report_rows or quarantined."""
    for relative in WORKBOOKS:
        record = file_record(warehouse, relative)
        if record["status"] != "loaded":
            continue
        (stored,) = warehouse.execute(
            "SELECT (SELECT count(*) FROM raw.report_rows WHERE file_id = $id) "
            "+ (SELECT count(DISTINCT row_no) FROM raw.report_totals WHERE file_id = $id) "
            "+ (SELECT count(*) FROM quarantine.report_rows WHERE file_id = $id)",
            {"id": record["file_id"]}).fetchone()
        assert stored == record["rows_read"], relative


# ------------------------------------------------- end to end, as a user runs the pipeline

REPO = Path(__file__).resolve().parents[2]
COMMUNE, WARD = "000.31.25.H56", "000.32.26.H56"


def dossier_lines(agency: str, channels: list[int]) -> str:
    return "".join(json.dumps({
        "MaHoSo": f"{agency}-220305-{number:04d}", "MaTTHC": "1.001", "KenhThucHien": channel,
        "NgayTiepNhan": "20220305080000", "NgayHenTra": "20220315170000", "TrangThaiHoSo": 2,
    }) + "\n" for number, channel in enumerate(channels))


def khanh_hoa_landing(landing: Path, agencies: str) -> None:
    """Dossiers of the province's departments and the district (not of the two communes),
    the March report, a catalogue and the communes' 2022 target."""
    for relative, text in {
        "reference/agencies.csv": agencies,
        "catalog/services_2022-01-01.csv":
            "province_code,admin_level,MaTTHC,TenTTHC,MucDo,du_dieu_kien_toan_trinh\n"
            "56,province,1.001,Cấp phiếu lý lịch tư pháp,toàn trình,1\n",
        "targets/targets_2022.csv":
            "year,province_code,admin_level,agency_code,metric,target_min,target_stretch,"
            "decision_ref\n2022,56,commune,,online_share_all,50%,,QĐ 12/2022\n",
        "dossiers/2022-03-06/dvcqg.jsonl":
            dossier_lines("000.00.12.H56", [2, 2, 2, 1]) + dossier_lines("000.00.05.H56", [2, 1])
            + dossier_lines("000.00.31.H56", [1, 1]),
    }.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        (landing / relative).write_text(text, encoding="utf-8")
    (landing / KHANH_HOA).parent.mkdir(parents=True, exist_ok=True)
    khanh_hoa_march(landing / KHANH_HOA)


def dvctt_materialize(root: Path) -> None:
    """`dvctt materialize` for March 2022 in a new process, on a persistent Dagster home."""
    env = {**os.environ, "DAGSTER_HOME": str(root / "dagster_home"),
           "DVCTT_LANDING_DIR": str(root / "landing"),
           "DVCTT_WAREHOUSE": str(root / "warehouse.duckdb"),
           "DVCTT_SERVING": str(root / "serving" / "dvctt.duckdb")}
    env.pop("DVCTT_REPORTS_DIR", None)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "dvctt"), "materialize", "--from", "2022-03",
         "--to", "2022-03"], env=env, cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]


def serving(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "serving" / "dvctt.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


MARCH_ROWS = "period_type = 'month' AND period_start = DATE '2022-03-01'"


def march_agencies(root: Path) -> dict[str, list]:
    return {code: rest for code, *rest in serving(
        root, "SELECT agency_code, source, received, received_online "
              f"FROM marts.agency_period_rates WHERE {MARCH_ROWS}")}


def khanh_hoa_in_march(root: Path) -> tuple[int, int]:
    (province,) = serving(root, "SELECT received, received_online FROM "
                                "marts.province_period_rates WHERE province_code = '56' "
                                f"AND geography = 'as_was' AND {MARCH_ROWS}")
    return province


def report_quality(root: Path) -> tuple[str | None, str]:
    (row,) = serving(root, "SELECT report_rows_unmatched, report_sheet FROM "
                           f"marts.data_quality WHERE relative_path = '{KHANH_HOA}'")
    return row


@pytest.mark.slow
def test_a_report_only_commune_counts_and_a_later_alias_rescues_an_unknown_one(tmp_path):
    """The issue's Khánh Hòa March workbook: the report-only commune appears in the agency
    figures, the province's March total includes its 1,235 dossiers, its target is judged;
    the ward whose spelling agencies.csv lacks counts once an alias is added."""
    (tmp_path / "dagster_home").mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", tmp_path / "dagster_home")
    without_alias = AGENCIES.replace("UBND phường Vĩnh Hải", "Phường Vĩnh Hải")
    khanh_hoa_landing(tmp_path / "landing", without_alias)
    dvctt_materialize(tmp_path)

    agencies = march_agencies(tmp_path)
    assert agencies[COMMUNE] == ["report", 1235, 900]
    assert agencies["000.00.12.H56"] == ["both", 4, 3]  # the dossiers count, not the report
    assert WARD not in agencies
    assert khanh_hoa_in_march(tmp_path) == (8 + 1235, 4 + 900)
    (status,) = serving(tmp_path, "SELECT status FROM marts.target_compliance WHERE "
                        f"agency_code = '{COMMUNE}' AND as_of_month = DATE '2022-03-01'")[0]
    assert status == "met"  # 900 / 1,235 online against 50 %
    unmatched, sheet = report_quality(tmp_path)
    assert unmatched == "unknown_agency: 1"
    assert sheet.startswith('sheet "Biểu 06", header rows 7–10; passed over: Mẫu cũ (hidden)')

    with_alias = AGENCIES.replace("UBND phường Vĩnh Hải,commune,56,568,22336,,,",
                                  "Phường Vĩnh Hải,commune,56,568,22336,,,UBND phường Vĩnh Hải")
    (tmp_path / "landing" / "reference" / "agencies.csv").write_text(with_alias,
                                                                     encoding="utf-8")
    dvctt_materialize(tmp_path)

    assert march_agencies(tmp_path)[WARD] == ["report", 90, 82]
    assert khanh_hoa_in_march(tmp_path) == (8 + 1235 + 90, 4 + 900 + 82)
    assert report_quality(tmp_path)[0] is None


def test_a_warehouse_whose_report_rows_were_matched_at_load_loads_its_reports_again(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with connect(database) as con:
        con.execute("DROP TABLE raw.report_rows")
        # the table as it was when report rows were matched to agencies while loading
        con.execute("CREATE TABLE raw.report_rows (file_id BIGINT, relative_path VARCHAR, "
                    "row_no INTEGER, report_month DATE, agency_code VARCHAR NOT NULL)")
        con.execute("INSERT INTO meta.source_files (file_id, relative_path, kind, status) "
                    "VALUES (7, 'reports/2022-03/a.xlsx', 'reports', 'loaded'), "
                    "(8, 'dossiers/2022-03-02/a.jsonl', 'dossiers', 'loaded')")
    with connect(database) as con:
        assert con.execute("SELECT kind FROM meta.source_files").fetchall() == [("dossiers",)]
        assert "unit_key" in {c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'report_rows' "
            "AND schema_name = 'raw'").fetchall()}
