"""Load monthly reports (Biểu 06, reports/<YYYY-MM>/<name>.xlsx or .xls, DESIGN §3.3) into
`raw.report_rows` (agency rows), `raw.report_totals` (total and subtotal rows beside what
their agency rows add up to), `raw.report_files` (which sheet was read) and bad rows into
`quarantine.report_rows` (registry semantics: ingest.registry).

The form is found by what its cells say (ingest.report_form). Agency rows are stored with
the unit as written; they are matched to agencies.csv by the SQL model staging.report_rows,
so that an agency added or aliased later is matched at the next run. Rows that carry counts
are read: agency rows, totals, subtotals and section rows with counts; section headings
without counts, signature lines and notes are not data. A blank count cell counts 0, as
forms leave zeros blank. Reports are a few hundred rows, so they are parsed in Python; the
row rules run in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from dvctt_pipeline.ingest.guards import UnreadableFile
from dvctt_pipeline.ingest.landing import LandingFile, monthly_reports
from dvctt_pipeline.ingest.registry import (
    FileOutcome,
    RowCounts,
    ingest_files,
    one_file_at_a_time,
)
from dvctt_pipeline.ingest.report_form import (
    FormLayout,
    FormRow,
    choose_form,
    form_rows,
    settle_sections,
    total_scopes,
)
from dvctt_pipeline.ingest.workbook import UnsupportedFormula, open_sheets
from dvctt_pipeline.validate.report_rules import REPORT_COLUMNS, judge_incoming_report_rows


@dataclass(frozen=True)
class ParsedReport:
    layout: FormLayout
    rows: list[FormRow]  # rows carrying counts: agencies, totals, subtotals
    sheets_passed_over: list[str]


def parse_report(path: Path, month: date) -> ParsedReport:
    sheets = open_sheets(path)
    try:
        layout = choose_form(sheets, path, month)
        rows = settle_sections(list(form_rows(layout)))
    except UnsupportedFormula as error:
        raise UnreadableFile(
            f"{path.name}: {error}, which cannot be computed without Excel; open and save the "
            "workbook in Excel (so values are stored) or write the numbers."
        ) from error
    if not any(row.kind == "agency" for row in rows):
        raise UnreadableFile(
            f"{path.name} (sheet '{layout.sheet.name}') has no agency rows under its header."
        )
    passed_over = [
        f"{sheet.name} (hidden)" if sheet.hidden else sheet.name
        for sheet in sheets if sheet is not layout.sheet
    ]
    return ParsedReport(layout, rows, passed_over)


def total_checks(rows: list[FormRow]) -> pd.DataFrame:
    """One row per total or subtotal row and count column: what the report states beside
    the sum of the agency rows it covers (NULL where one of them has an unreadable cell in
    that column, so it cannot be checked)."""
    scopes = total_scopes(rows)
    checks = [
        (row.row_no, row.label or row.kind, "total" if row.kind == "total" else "subtotal",
         column, row.counts[position],
         _sum_or_none([member.counts[position] for member in scopes[row.row_no]]))
        for row in rows
        if row.kind != "agency" and row.counts is not None and row.problem is None
        for position, column in enumerate(REPORT_COLUMNS)
    ]
    return pd.DataFrame(checks, columns=["row_no", "label", "kind", "column_name", "stated",
                                         "agency_rows_sum"]).astype(
        {"stated": "Int64", "agency_rows_sum": "Int64"})


def _sum_or_none(counts: list[int | None]) -> int | None:
    return None if any(count is None for count in counts) else sum(counts)


def _incoming_frame(rows: list[FormRow]) -> pd.DataFrame:
    frame = pd.DataFrame({
        "row_no": [row.row_no for row in rows],
        "agency_name_in_report": [row.label for row in rows],
        "unit_key": [row.unit_key for row in rows],
        "is_total": [row.kind != "agency" for row in rows],
        "problem": [row.problem for row in rows],
    })
    for position, name in enumerate(REPORT_COLUMNS):
        frame[name] = pd.array([row.counts[position] for row in rows], dtype="Int64")
    return frame


def _file_frame(report: ParsedReport) -> pd.DataFrame:
    layout = report.layout
    return pd.DataFrame({
        "sheet_name": [layout.sheet.name],
        "header_rows": [f"{layout.header_row}–{layout.last_header_row}"],
        "sheets_passed_over": [", ".join(report.sheets_passed_over) or None],
    })


def _temp_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register(f"parsed_{name}", frame)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM parsed_{name}")
    finally:
        con.unregister(f"parsed_{name}")


def read_report(con: duckdb.DuckDBPyConnection, landing_file: LandingFile) -> RowCounts:
    report = parse_report(landing_file.path, landing_file.export_date)
    rows = [row for row in report.rows if row.counts is not None]
    _temp_table(con, "incoming_report_rows", _incoming_frame(rows))
    _temp_table(con, "report_total_checks", total_checks(report.rows))
    _temp_table(con, "incoming_report_file", _file_frame(report))
    judge_incoming_report_rows(con)
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
        INSERT INTO raw.report_rows (file_id, relative_path, row_no, report_month,
            agency_name_in_report, unit_key, {counts})
        SELECT $file_id, $path, row_no, $month, agency_name_in_report, unit_key, {counts}
        FROM judged_report_rows WHERE reason IS NULL AND NOT is_total
        """,
        params,
    )
    con.execute(
        """
        INSERT INTO raw.report_totals (file_id, relative_path, row_no, report_month, label,
            kind, column_name, stated, agency_rows_sum)
        SELECT $file_id, $path, row_no, $month, label, kind, column_name, stated,
               agency_rows_sum
        FROM report_total_checks
        """,
        params,
    )
    con.execute(
        """
        INSERT INTO raw.report_files (file_id, relative_path, report_month, sheet_name,
            header_rows, sheets_passed_over)
        SELECT $file_id, $path, $month, sheet_name, header_rows, sheets_passed_over
        FROM incoming_report_file
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
    row_tables=("raw.report_rows", "raw.report_totals", "raw.report_files",
                "quarantine.report_rows"),
    read=read_report,
    store=store_report_rows,
)


def ingest_monthly_reports(con: duckdb.DuckDBPyConnection, landing: Path) -> list[FileOutcome]:
    """Bring `raw.report_rows` up to date with every report of the landing folder."""
    return ingest_files(con, REPORTS, monthly_reports(landing))
