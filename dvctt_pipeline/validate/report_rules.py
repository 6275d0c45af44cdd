"""Row rules for monthly reports (Biểu 06), run inside DuckDB.

The report reader (ingest.reports) fills the temporary table `incoming_report_rows`: one row
per agency, total or subtotal row of the sheet, with its Excel row number, the unit as
written, its name key, whether it is a total row, what the reader found wrong with the row
(`problem`: a cell that is not a count, a unit merged over several rows, no unit) and the
eleven counts. The rules give each failing row its first failing reason. Matching the unit to
an agency is not a rule of the file: it is done by the SQL model staging.report_rows, against
the agencies.csv of each run.
"""

from __future__ import annotations

import duckdb

# The count columns of the form (DESIGN §3.3); ingest.report_form finds them by meaning.
REPORT_COLUMNS = (
    "received_total", "received_carried_over", "received_online", "received_in_person",
    "finished", "finished_early", "finished_on_time", "finished_late",
    "in_progress", "in_progress_on_time", "in_progress_late",
)

# Reason codes, as they appear in quarantine.report_rows and marts.data_quality.
REASONS = {
    "bad_number": "a count cell holds text that is not a whole number",
    "bad_count": "a count cell holds a number larger than any count (over 1,000,000,000)",
    "merged_unit": "the unit cell is merged over several rows, so which agency each row "
                   "belongs to is not written; give each row its own unit",
    "no_unit": "the row has counts but no unit",
    "negative_count": "a count is negative",
    "online_gt_total": "received online is more than received in total",
}

_COUNTS = ", ".join(REPORT_COLUMNS)

JUDGED_REPORT_ROWS_SQL = f"""
CREATE OR REPLACE TEMP TABLE judged_report_rows AS
SELECT *,
    CASE
        WHEN problem IS NOT NULL THEN problem
        WHEN is_total THEN NULL
        WHEN least({_COUNTS}) < 0 THEN 'negative_count'
        WHEN received_online > received_total THEN 'online_gt_total'
    END AS reason
FROM incoming_report_rows
"""


def judge_incoming_report_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Attach to each report row its first failing rule."""
    con.execute(JUDGED_REPORT_ROWS_SQL)
