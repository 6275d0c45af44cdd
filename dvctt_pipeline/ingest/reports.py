"""Load monthly reports (Biểu 06, reports/<YYYY-MM>/<name>.xlsx, DESIGN §3.3) into
`raw.report_rows`, their total rows into `raw.report_totals`, bad rows into
`quarantine.report_rows` (registry semantics: ingest.registry).

The sheet is read as Vietnamese provinces fill the form in: title lines, a period line
"(Từ ngày 01/03/2022 đến ngày 31/03/2022)" that must cover exactly the folder's month, a
header of 2–3 merged rows whose first row names the "Đơn vị" column, an optional row of
column numbers, then one row per agency (by name or code) and total rows ("Tổng cộng",
"Tổng số"). A blank count cell in an agency row counts 0, as forms leave zeros blank. Rows
with a unit but no count at all (section headings, signatures, notes) are not data.
Reports are a few hundred rows, so they are parsed in Python; the rules run in DuckDB.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
from unidecode import unidecode

from dvctt_pipeline.ingest.guards import UnreadableFile, check_zip, max_uncompressed_bytes
from dvctt_pipeline.ingest.landing import LandingFile, monthly_reports
from dvctt_pipeline.ingest.registry import (
    FileOutcome,
    RowCounts,
    ingest_files,
    one_file_at_a_time,
)
from dvctt_pipeline.ingest.workbook import (
    BadNumber,
    SheetValues,
    UnsupportedFormula,
    open_first_sheet,
    parse_count,
)
from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.validate.report_rules import REPORT_COLUMNS, judge_incoming_report_rows

_PERIOD = re.compile(
    r"tu ngay\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})\s*den ngay\s*(\d{1,2})\s*/\s*(\d{1,2})"
    r"\s*/\s*(\d{4})"
)
_UNIT_HEADER = re.compile(r"^(ten )?(co quan[ ,/]*)?don vi")
_COLUMN_NUMBER = re.compile(r"^\(?[0-9a-z]{1,2}\)?$")
_TOTAL_PREFIXES = ("tongcong", "tongso")
# The three column groups of the form, as they read without accents.
_HEADER_GROUPS = {
    "da giai quyet": "Đã giải quyết",
    "dang giai quyet": "Đang giải quyết",
    "truc tuyen": "Trực tuyến",
}
_HEADER_SEARCH_ROWS = 40
_HEADER_DEPTH = 3


@dataclass(frozen=True)
class ReportRow:
    row_no: int
    agency_name_in_report: str
    unit_key: str | None
    is_total: bool
    bad_number: str | None
    counts: tuple[int | None, ...]


def plain(value: object) -> str:
    """Lower-case text without accents or repeated spaces, for recognising form labels."""
    if value is None:
        return ""
    text = unidecode(unicodedata.normalize("NFC", str(value))).lower()
    return " ".join(text.split())


def _find_period(sheet: SheetValues, last_row: int) -> tuple[date, date] | None:
    for row in range(1, last_row + 1):
        for column in range(1, sheet.cached.max_column + 1):
            if match := _PERIOD.search(plain(sheet.value(row, column))):
                day1, month1, year1, day2, month2, year2 = map(int, match.groups())
                try:
                    return date(year1, month1, day1), date(year2, month2, day2)
                except ValueError:
                    return None
    return None


def check_period(sheet: SheetValues, header_row: int, path: Path, month: date) -> None:
    """The period line must cover exactly the month of the file's folder."""
    period = _find_period(sheet, header_row)
    folder = f"reports/{month:%Y-%m}/"
    if period is None:
        raise UnreadableFile(
            f"{path.name} has no readable period line above its header; add one like "
            f"'(Từ ngày 01/{month:%m/%Y} đến ngày "
            f"{calendar.monthrange(month.year, month.month)[1]}/{month:%m/%Y})'."
        )
    start, end = period
    month_end = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    if (start, end) != (month, month_end):
        raise UnreadableFile(
            f"{path.name} reports the period {start:%d/%m/%Y}–{end:%d/%m/%Y} but lies in "
            f"{folder}, whose month runs {month:%d/%m/%Y}–{month_end:%d/%m/%Y}; move it to the "
            "folder of its month or correct its period line."
        )


def find_unit_column(sheet: SheetValues, path: Path) -> tuple[int, int]:
    """(header row, column) of the 'Đơn vị' header cell."""
    for row in range(1, min(sheet.cached.max_row, _HEADER_SEARCH_ROWS) + 1):
        for column in range(1, sheet.cached.max_column + 1):
            if _UNIT_HEADER.match(plain(sheet.value(row, column))):
                return row, column
    raise UnreadableFile(
        f"{path.name} has no header with an 'Đơn vị' column; use the Biểu 06 layout: STT | Đơn "
        "vị | 11 count columns (received, finished, in progress)."
    )


def check_count_columns(sheet: SheetValues, header_row: int, unit_column: int, path: Path) -> None:
    """Eleven count columns must follow 'Đơn vị', each with a label in the header rows."""
    header_rows = range(header_row, header_row + _HEADER_DEPTH)
    header_text = " ".join(
        plain(sheet.value(row, column))
        for row in header_rows for column in range(unit_column, sheet.cached.max_column + 1)
    )
    absent_groups = [label for words, label in _HEADER_GROUPS.items() if words not in header_text]
    unlabelled = [
        name for offset, name in enumerate(REPORT_COLUMNS, start=1)
        if not any(plain(sheet.value(row, unit_column + offset)) for row in header_rows)
    ]
    if absent_groups or unlabelled:
        missing = ", ".join(absent_groups + unlabelled)
        raise UnreadableFile(
            f"{path.name} lacks the columns {missing}; the Biểu 06 form has, after 'Đơn vị', "
            "Số hồ sơ nhận giải quyết (Tổng số, Từ kỳ trước, Trực tuyến, Trực tiếp/bưu chính), "
            "Đã giải quyết (Tổng số, Trước hạn, Đúng hạn, Quá hạn) and Đang giải quyết "
            "(Tổng số, Trong hạn, Quá hạn)."
        )


def is_total_label(key: str | None) -> bool:
    """'Tổng cộng', 'Tổng số', 'TỔNG CỘNG (A+B)', 'Cộng': a total row, not an agency."""
    return bool(key) and (key == "cong" or key.startswith(_TOTAL_PREFIXES))


def _report_row(sheet: SheetValues, row: int, unit_column: int) -> ReportRow | None:
    unit = sheet.value(row, unit_column)
    unit_text = " ".join(str(unit).split()) if unit is not None else ""
    if not unit_text or _COLUMN_NUMBER.match(plain(unit_text)):
        return None
    cells = [sheet.value(row, unit_column + offset) for offset in range(1, 12)]
    if all(cell is None or not str(cell).strip() for cell in cells):
        return None
    counts: list[int | None] = []
    bad_number = None
    for name, cell in zip(REPORT_COLUMNS, cells, strict=True):
        try:
            counts.append(parse_count(cell) or 0)
        except BadNumber:
            bad_number = bad_number or name
            counts.append(None)
    key = name_key(unit_text)
    return ReportRow(row, unit_text, key, is_total_label(key), bad_number, tuple(counts))


def parse_report(path: Path, month: date) -> list[ReportRow]:
    sheet = open_first_sheet(path)
    header_row, unit_column = find_unit_column(sheet, path)
    check_period(sheet, header_row, path, month)
    check_count_columns(sheet, header_row, unit_column, path)
    try:
        rows = [
            parsed for row in range(header_row + 1, sheet.cached.max_row + 1)
            if (parsed := _report_row(sheet, row, unit_column))
        ]
    except UnsupportedFormula as error:
        raise UnreadableFile(
            f"{path.name}: {error}, which cannot be computed without Excel; open and save the "
            "workbook in Excel (so values are stored) or write the numbers."
        ) from error
    if not rows:
        raise UnreadableFile(f"{path.name} has no agency rows under its header.")
    return rows


def _incoming_frame(rows: list[ReportRow]) -> pd.DataFrame:
    frame = pd.DataFrame({
        "row_no": [row.row_no for row in rows],
        "agency_name_in_report": [row.agency_name_in_report for row in rows],
        "unit_key": [row.unit_key for row in rows],
        "is_total": [row.is_total for row in rows],
        "bad_number": [row.bad_number for row in rows],
    })
    for position, name in enumerate(REPORT_COLUMNS):
        frame[name] = pd.array([row.counts[position] for row in rows], dtype="Int64")
    return frame


def read_report(con: duckdb.DuckDBPyConnection, landing_file: LandingFile) -> RowCounts:
    check_zip(landing_file.path, max_uncompressed_bytes())
    rows = parse_report(landing_file.path, landing_file.export_date)
    con.register("parsed_report_rows", _incoming_frame(rows))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE incoming_report_rows AS SELECT * FROM parsed_report_rows"
        )
    finally:
        con.unregister("parsed_report_rows")
    judge_incoming_report_rows(con, landing_file.export_date)
    (quarantined,) = con.execute(
        "SELECT count(reason) FROM judged_report_rows"
    ).fetchone()
    return RowCounts(len(rows), len(rows) - quarantined, quarantined)


def store_report_rows(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, file_id: int
) -> None:
    params = {"file_id": file_id, "path": landing_file.relative_path,
              "month": landing_file.export_date}
    counts = ", ".join(REPORT_COLUMNS)
    con.execute(
        f"""
        INSERT INTO raw.report_rows (file_id, relative_path, row_no, report_month, agency_code,
            agency_name_in_report, {counts})
        SELECT $file_id, $path, row_no, $month, agency_code, agency_name_in_report, {counts}
        FROM judged_report_rows WHERE reason IS NULL AND NOT is_total
        """,
        params,
    )
    con.execute(
        """
        INSERT INTO raw.report_totals (file_id, relative_path, row_no, report_month, label,
            column_name, stated, agency_rows_sum)
        SELECT $file_id, $path, row_no, $month, label, column_name, stated, agency_rows_sum
        FROM report_total_checks
        """,
        params,
    )
    con.execute(
        """
        INSERT INTO quarantine.report_rows (file_id, relative_path, row_no, report_month,
            agency_name_in_report, reason)
        SELECT $file_id, $path, row_no, $month, agency_name_in_report, reason
        FROM judged_report_rows WHERE reason IS NOT NULL
        """,
        params,
    )


REPORTS = one_file_at_a_time(
    name="reports",
    row_tables=("raw.report_rows", "raw.report_totals", "quarantine.report_rows"),
    read=read_report,
    store=store_report_rows,
)


def ingest_monthly_reports(con: duckdb.DuckDBPyConnection, landing: Path) -> list[FileOutcome]:
    """Bring `raw.report_rows` up to date with every report of the landing folder."""
    return ingest_files(con, REPORTS, monthly_reports(landing))
