"""The data-quality checks run on staged tables, and where their results are kept.

Each check aggregates in DuckDB to a bounded frame (see validate.expectations), one row per
month, report cell or agency-month of the run's months, with a `month` column and, where a
failure belongs to one source file, a `file_id` column; a Great Expectations suite validates
the frame. Blocking checks guard against publishing wrong figures; the others warn.
Results go to `meta.check_results` (one row per month and failing file), which
`marts.data_quality` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from dvctt_pipeline.validate.expectations import ExpectationFactory, SuiteOutcome, validate_frame

# A month whose dossier count falls below this share of its previous load is held back.
MIN_KEPT_SHARE = 0.5
# Warnings: shares of a month's dossiers whose agency could not be resolved / whose channel
# was empty in the export.
MAX_UNKNOWN_AGENCY_SHARE = 0.05
MAX_EMPTY_CHANNEL_SHARE = 0.2


@dataclass(frozen=True)
class QualityCheck:
    name: str
    table: str  # the staged table the check is about (its asset carries the check)
    blocking: bool
    description: str
    sql: str  # takes $window_start and $window_end, returns a bounded frame
    expectations: ExpectationFactory
    checks_each: str = "months"  # what one row of the frame is, for the result's counts


MONTHS_OF_WINDOW = """
months AS (
    SELECT month::DATE AS month
    FROM range($window_start::TIMESTAMP, $window_end::TIMESTAMP, INTERVAL 1 MONTH) AS t(month)
)"""

# Per month of the window: staged dossiers and what four checks of staging.dossiers bound. They
# share this one query, which runs once for them (check_rows); it read the month's rows four
# times. The count of distinct ids is its costliest aggregate
STAGED_DOSSIERS_PER_MONTH = f"""
WITH {MONTHS_OF_WINDOW},
per_month AS (
    SELECT received_month AS month,
           count(*) AS dossiers,
           count(*) - count(DISTINCT ma_ho_so) AS duplicate_ids,
           count(*) FILTER (WHERE agency_code IS NULL AND quarantine_reason IS NULL)
               AS published_without_agency,
           count(*) FILTER (WHERE quarantine_reason = 'unknown_agency') / count(*)
               AS unknown_agency_share,
           count(*) FILTER (WHERE kenh_was_empty) / count(*) AS empty_channel_share
    FROM staging.dossiers
    WHERE received_month >= $window_start AND received_month < $window_end
    GROUP BY ALL
)
SELECT months.month, coalesce(dossiers, 0) AS dossiers,
       coalesce(duplicate_ids, 0) AS duplicate_ids,
       coalesce(published_without_agency, 0) AS published_without_agency,
       unknown_agency_share, empty_channel_share
FROM months LEFT JOIN per_month USING (month)
ORDER BY month
"""

# The staged dossiers of each month of the window that has any.
DOSSIERS_BY_MONTH = """
dossiers_by_month AS (
    SELECT received_month AS month, count(*) AS dossiers
    FROM staging.dossiers
    WHERE received_month >= $window_start AND received_month < $window_end
    GROUP BY ALL
)"""

MONTH_VOLUME_SQL = f"""
WITH {MONTHS_OF_WINDOW},
{DOSSIERS_BY_MONTH},
previous_load AS (
    SELECT month, arg_max(observed, checked_at) AS previous_dossiers
    FROM meta.check_results
    WHERE check_name = 'month_keeps_its_dossiers' AND passed AND observed IS NOT NULL
    GROUP BY month
)
SELECT months.month, coalesce(dossiers, 0) AS dossiers, previous_dossiers::BIGINT
           AS previous_dossiers,
       coalesce(dossiers, 0) / nullif(previous_dossiers, 0) AS kept_share,
       coalesce(dossiers, 0) AS observed
FROM months
LEFT JOIN dossiers_by_month USING (month)
LEFT JOIN previous_load USING (month)
ORDER BY month
"""

# Failed exports named in a check's result, at most (the others are counted).
SHOWN_FAILED_EXPORTS = 3

# Per month of the window: its staged dossiers and the dossier exports the registry holds now
# (superseded versions aside) by the month of their export date. A month is lost when every
# export dated in it failed, or when it has no staged dossier while an export dated in the
# next month failed (a monthly dump is often exported on the 1st of the month after).
MONTH_EXPORTS_SQL = f"""
WITH {MONTHS_OF_WINDOW},
{DOSSIERS_BY_MONTH},
exports_by_month AS (
    SELECT date_trunc('month', export_date)::DATE AS month,
           count(*) FILTER (WHERE status = 'loaded') AS loaded,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           array_to_string(list_slice(list(relative_path ORDER BY relative_path)
                                          FILTER (WHERE status = 'failed'),
                                      1, {SHOWN_FAILED_EXPORTS}), ', ')
               || CASE WHEN count(*) FILTER (WHERE status = 'failed') > {SHOWN_FAILED_EXPORTS}
                       THEN ' and ' || (count(*) FILTER (WHERE status = 'failed')
                                        - {SHOWN_FAILED_EXPORTS}) || ' more'
                       ELSE '' END AS failed_files
    FROM meta.source_files
    WHERE kind = 'dossiers' AND export_date >= $window_start
      AND export_date < $window_end::DATE + INTERVAL 1 MONTH
    GROUP BY ALL
),
months_and_exports AS (
    SELECT months.month, coalesce(dossiers_by_month.dossiers, 0) AS dossiers,
           coalesce(this_month.loaded, 0) AS exports_loaded,
           coalesce(this_month.failed, 0) AS exports_failed,
           this_month.failed_files,
           coalesce(next_month.failed, 0) AS next_month_exports_failed,
           next_month.failed_files AS next_month_failed_files
    FROM months
    LEFT JOIN dossiers_by_month USING (month)
    LEFT JOIN exports_by_month AS this_month ON this_month.month = months.month
    LEFT JOIN exports_by_month AS next_month
        ON next_month.month = months.month + INTERVAL 1 MONTH
)
SELECT month, dossiers, exports_loaded, exports_failed,
       CASE WHEN exports_failed > 0 AND exports_loaded = 0
                THEN 'every dossier export dated in the month failed (' || failed_files || ')'
            WHEN dossiers = 0 AND next_month_exports_failed > 0
                THEN 'no dossier staged, and exports dated in the next month failed ('
                     || next_month_failed_files || ')'
       END AS lost
FROM months_and_exports
ORDER BY month
"""

# a total whose agency rows have an unreadable cell in a column cannot be checked there
REPORT_TOTALS_SQL = """
SELECT report_month AS month, file_id, relative_path, row_no, label, kind, column_name,
       stated, agency_rows_sum
FROM raw.report_totals
WHERE report_month >= $window_start AND report_month < $window_end
  AND agency_rows_sum IS NOT NULL
ORDER BY file_id, row_no, column_name
"""

REPORT_ROW_PARTS_SQL = """
SELECT report_month AS month, file_id, relative_path, row_no, agency_name_in_report,
       received_total,
       received_carried_over + received_online + received_in_person AS received_parts,
       finished, finished_early + finished_on_time + finished_late AS finished_parts,
       in_progress, in_progress_on_time + in_progress_late AS in_progress_parts
FROM raw.report_rows
WHERE report_month >= $window_start AND report_month < $window_end
ORDER BY file_id, row_no
"""


def _between(
    column: str, min_value: float | None = None, max_value: float | None = None
) -> ExpectationFactory:
    """Every value of the column within the bounds (NULL, e.g. no previous load, passes)."""
    return lambda gxe: [gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=min_value, max_value=max_value)]


QUALITY_CHECKS = (
    QualityCheck(
        "published_dossiers_have_an_agency", "staging.dossiers", True,
        "Every staged dossier that is not set aside has a handling agency (else its counts "
        "would be published under no agency).",
        STAGED_DOSSIERS_PER_MONTH, _between("published_without_agency", 0, 0),
    ),
    QualityCheck(
        "dossier_ids_are_unique", "staging.dossiers", True,
        "Each MaHoSo appears once per month in staging.dossiers (else it would be counted "
        "twice).",
        STAGED_DOSSIERS_PER_MONTH, _between("duplicate_ids", 0, 0),
    ),
    QualityCheck(
        "month_keeps_its_dossiers", "staging.dossiers", True,
        f"No month loses more than {1 - MIN_KEPT_SHARE:.0%} of its dossiers against its "
        "previous load (a truncated or wrong export would otherwise replace good figures). "
        "To accept a real drop, delete the month's rows of this check from meta.check_results.",
        MONTH_VOLUME_SQL, _between("kept_share", min_value=MIN_KEPT_SHARE),
    ),
    QualityCheck(
        "month_has_a_readable_export", "staging.dossiers", True,
        "A month whose dossier exports all failed, or that has no dossier while an export "
        "dated in the next month failed, is not published: it would show no or partial "
        "figures. Its previous figures stay published until a readable export of the month "
        "lands (the failed files' messages in marts.data_quality say why they failed).",
        MONTH_EXPORTS_SQL, lambda gxe: [gxe.ExpectColumnValuesToBeNull(column="lost")],
    ),
    QualityCheck(
        "agencies_mostly_resolved", "staging.dossiers", False,
        f"At most {MAX_UNKNOWN_AGENCY_SHARE:.0%} of a month's dossiers have an agency that "
        "matches no code or name of agencies.csv (add the missing agencies or aliases).",
        STAGED_DOSSIERS_PER_MONTH,
        _between("unknown_agency_share", max_value=MAX_UNKNOWN_AGENCY_SHARE),
    ),
    QualityCheck(
        "channels_mostly_recorded", "staging.dossiers", False,
        f"At most {MAX_EMPTY_CHANNEL_SHARE:.0%} of a month's dossiers have an empty "
        "KenhThucHien (counted as in person).",
        STAGED_DOSSIERS_PER_MONTH,
        _between("empty_channel_share", max_value=MAX_EMPTY_CHANNEL_SHARE),
    ),
    QualityCheck(
        "report_totals_match_agency_rows", "raw.report_rows", True,
        "Each total row of a monthly report (Tổng cộng, Tổng số) equals the sum of its agency "
        "rows, and each subtotal (Cộng, a section row with counts) the sum of its section's, "
        "column by column (else the report's figures cannot be trusted).",
        REPORT_TOTALS_SQL,
        lambda gxe: [gxe.ExpectColumnPairValuesToBeEqual(column_A="stated",
                                                         column_B="agency_rows_sum")],
        checks_each="total_cells",
    ),
    QualityCheck(
        "report_rows_add_up", "raw.report_rows", False,
        "In each agency row of a report, Tổng số = Từ kỳ trước + Trực tuyến + Trực tiếp, "
        "Đã giải quyết = Trước hạn + Đúng hạn + Quá hạn, Đang giải quyết = Trong hạn + Quá hạn.",
        REPORT_ROW_PARTS_SQL,
        lambda gxe: [
            gxe.ExpectColumnPairValuesToBeEqual(column_A="received_total",
                                                column_B="received_parts"),
            gxe.ExpectColumnPairValuesToBeEqual(column_A="finished", column_B="finished_parts"),
            gxe.ExpectColumnPairValuesToBeEqual(column_A="in_progress",
                                                column_B="in_progress_parts"),
        ],
        checks_each="agency_rows",
    ),
)


def check_rows(
    con: duckdb.DuckDBPyConnection, check: QualityCheck, window_start: date, window_end: date,
    shared: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The bounded frame the check's suite validates. `shared`: the frames of the checks run
    before it on the same rows and window, by query; a query they share runs once."""
    if shared is None or check.sql not in shared:
        frame = con.execute(check.sql, {"window_start": window_start,
                                        "window_end": window_end}).df()
        if shared is None:
            return frame
        shared[check.sql] = frame
    return shared[check.sql].copy()


def run_check(
    con: duckdb.DuckDBPyConnection, check: QualityCheck, window_start: date, window_end: date
) -> tuple[pd.DataFrame, SuiteOutcome]:
    frame = check_rows(con, check, window_start, window_end)
    return frame, validate_frame(check.name, frame, check.expectations)


def record_results(
    con: duckdb.DuckDBPyConnection, check: QualityCheck, months: list[date],
    frame: pd.DataFrame, outcome: SuiteOutcome,
) -> None:
    """One row per month of the run and failing file (file_id NULL where not by file)."""
    failures = outcome.failures.assign(month=_dates(outcome.failures["month"]))
    observed = dict(zip(_dates(frame["month"]), frame["observed"], strict=True)) \
        if "observed" in frame.columns else {}
    rows = []
    for month in months:
        failing = failures[failures["month"] == month]
        if failing.empty:
            rows.append((month, True, None, None, observed.get(month)))
            continue
        groups = failing.groupby("file_id") if "file_id" in failing.columns else [(None, failing)]
        rows.extend(
            (month, False, None if file_id is None else int(file_id), describe_failures(group),
             observed.get(month))
            for file_id, group in groups
        )
    con.executemany(
        """
        INSERT INTO meta.check_results (check_name, asset_key, severity, month, passed,
            file_id, detail, observed)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        [(check.name, check.table.replace(".", "/"), "ERROR" if check.blocking else "WARN",
          *row) for row in rows],
    )


def _dates(column: pd.Series) -> list[date]:
    return [pd.Timestamp(value).date() for value in column]


def describe_failures(failing: pd.DataFrame, shown: int = 5, name_months: bool = False) -> str:
    """The first failing rows, each with its file and row where the check has them, and
    its month first with `name_months` (where no month column goes beside the text)."""
    columns = [c for c in failing.columns if c not in ("month", "file_id")]
    lines = [
        (f"{pd.Timestamp(row['month']):%Y-%m}: " if name_months else "")
        + ", ".join(f"{c}={row[c]}" for c in columns)
        for _, row in failing.head(shown).iterrows()
    ]
    more = f" (+{len(failing) - shown} more)" if len(failing) > shown else ""
    return "; ".join(lines) + more
