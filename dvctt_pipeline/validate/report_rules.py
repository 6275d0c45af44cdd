"""Row rules for monthly reports (Biểu 06), run inside DuckDB.

The report reader (ingest.reports) fills the temporary table `incoming_report_rows`: one row
per agency or total row of the sheet, with its Excel row number, the unit as written, its
name key, whether it is a total row, the first column whose cell is not a count
(`bad_number`) and the eleven counts. The rules resolve each agency (by code, else by name
among the agencies in force in the report's month) and give each failing row its first
failing reason; total rows are compared with the sum of the agency rows, column by column.
"""

from __future__ import annotations

from datetime import date

import duckdb

# The count columns of the form, in the order of its columns after "Đơn vị" (DESIGN §3.3).
REPORT_COLUMNS = (
    "received_total", "received_carried_over", "received_online", "received_in_person",
    "finished", "finished_early", "finished_on_time", "finished_late",
    "in_progress", "in_progress_on_time", "in_progress_late",
)

# Reason codes, as they appear in quarantine.report_rows and marts.data_quality.
REASONS = {
    "bad_number": "a count cell holds text that is not a whole number",
    "unknown_agency": "the unit matches no agency code or name in force that month",
    "ambiguous_agency": "the unit's name matches several agencies in force that month",
    "negative_count": "a count is negative",
    "online_gt_total": "received online is more than received in total",
    "duplicate_agency": "the same agency has several rows in the report",
}

_COUNTS = ", ".join(REPORT_COLUMNS)

JUDGED_REPORT_ROWS_SQL = f"""
CREATE OR REPLACE TEMP TABLE judged_report_rows AS
WITH agency_names_in_force AS (
    SELECT agency_code, unnest(name_keys) AS name_key
    FROM core.agencies
    WHERE coalesce(valid_from, DATE '1900-01-01') <= last_day($report_month)
      AND coalesce(valid_to, DATE '9999-12-31') >= $report_month
),

by_name AS (
    SELECT report_row.row_no, min(agency.agency_code) AS agency_code,
           count(DISTINCT agency.agency_code) AS matches
    FROM incoming_report_rows AS report_row
    JOIN agency_names_in_force AS agency ON agency.name_key = report_row.unit_key
    GROUP BY report_row.row_no
),

resolved AS (
    SELECT
        report_row.*,
        coalesce(by_code.agency_code,
                 CASE WHEN by_name.matches = 1 THEN by_name.agency_code END) AS agency_code,
        by_code.agency_code IS NULL AND by_name.matches > 1 AS ambiguous
    FROM incoming_report_rows AS report_row
    LEFT JOIN core.agencies AS by_code
        ON by_code.agency_code = trim(report_row.agency_name_in_report)
    LEFT JOIN by_name USING (row_no)
)

SELECT *,
    CASE
        WHEN bad_number IS NOT NULL THEN 'bad_number'
        WHEN is_total THEN NULL
        WHEN ambiguous THEN 'ambiguous_agency'
        WHEN agency_code IS NULL THEN 'unknown_agency'
        WHEN least({_COUNTS}) < 0 THEN 'negative_count'
        WHEN received_online > received_total THEN 'online_gt_total'
        WHEN count(*) OVER (PARTITION BY agency_code) > 1 THEN 'duplicate_agency'
    END AS reason
FROM resolved
"""

# One row per total row and count column: what the report states and what its agency rows
# add up to (every agency row whose counts could be read, set aside or not).
REPORT_TOTAL_CHECKS_SQL = f"""
CREATE OR REPLACE TEMP TABLE report_total_checks AS
WITH counts_long AS (
    UNPIVOT (
        SELECT row_no, is_total, agency_name_in_report, {_COUNTS}
        FROM judged_report_rows WHERE bad_number IS NULL
    ) ON {_COUNTS} INTO NAME column_name VALUE count
),

agency_sums AS (
    SELECT column_name, sum(count) AS agency_rows_sum
    FROM counts_long WHERE NOT is_total
    GROUP BY column_name
)

SELECT
    total.row_no,
    total.agency_name_in_report AS label,
    total.column_name,
    total.count AS stated,
    coalesce(agency_sums.agency_rows_sum, 0)::BIGINT AS agency_rows_sum
FROM counts_long AS total
LEFT JOIN agency_sums USING (column_name)
WHERE total.is_total
"""


def judge_incoming_report_rows(con: duckdb.DuckDBPyConnection, report_month: date) -> None:
    """Attach to each report row its agency and first failing rule, and compare the totals."""
    con.execute(JUDGED_REPORT_ROWS_SQL, {"report_month": report_month})
    con.execute(REPORT_TOTAL_CHECKS_SQL)
