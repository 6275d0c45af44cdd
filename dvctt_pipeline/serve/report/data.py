"""What the monthly report reads from the `marts` schema.

The same queries run on the working warehouse (the Dagster asset) and on the serving file (the
command line), which both hold `marts`. A table, column or metric that is not there yet (or
holds no row for the month) gives None, and the report says "chưa có số liệu" in its place
instead of failing: the report renders whatever the marts hold today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from dvctt_pipeline.months import last_day

RANKINGS = "marts.province_rankings"
NATIONAL = "marts.national_period_rates"
COMPLIANCE = "marts.target_compliance_summary"
REPORT_TABLES = (RANKINGS, NATIONAL, COMPLIANCE)

# Months of national share the trend chart shows, up to and including the report's month.
TREND_MONTHS = 24


@dataclass(frozen=True)
class Ranking:
    """Provinces ranked by one metric over one period (the geography of the time)."""

    metric: str
    period_type: str  # month | ytd
    provinces: pd.DataFrame  # ranked first, by rank; then the provinces not ranked
    national: float | None

    @property
    def ranked(self) -> pd.DataFrame:
        return self.provinces[self.provinces["ranked"]]


@dataclass(frozen=True)
class ReportData:
    month: date
    period_end: date
    rankings: dict[tuple[str, str], Ranking | None]  # (metric, period_type)
    trend: pd.DataFrame | None  # period_start, month_share, ytd_share
    compliance: pd.DataFrame | None  # province_name, admin_level, metric, agencies, …


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The table's columns; empty when the table does not exist (yet)."""
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = $schema AND table_name = $name",
        {"schema": schema, "name": name},
    ).fetchall()
    return {column for (column,) in rows}


def _national_value(
    con: duckdb.DuckDBPyConnection, metric: str, period_type: str, period_end: date
) -> float | None:
    if metric not in _columns(con, NATIONAL):
        return None
    row = con.execute(
        f"SELECT {metric} FROM {NATIONAL} WHERE period_type = $type AND period_end = $end",
        {"type": period_type, "end": period_end},
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def read_ranking(
    con: duckdb.DuckDBPyConnection, metric: str, period_type: str, period_end: date
) -> Ranking | None:
    if not _columns(con, RANKINGS):
        return None
    provinces = con.execute(
        f"""
        SELECT province_code, province_name, received, value, ranked, rank, n_ranked,
               is_top5, is_bottom5, rank_prev
        FROM {RANKINGS}
        WHERE metric = $metric AND period_type = $type AND period_end = $end
          AND geography = 'as_was'
        ORDER BY ranked DESC, rank, province_name
        """,
        {"metric": metric, "type": period_type, "end": period_end},
    ).df()
    if not provinces["ranked"].any():
        return None
    national = _national_value(con, metric, period_type, period_end)
    return Ranking(metric, period_type, provinces, national)


def read_trend(con: duckdb.DuckDBPyConnection, period_end: date) -> pd.DataFrame | None:
    """The national online share month by month, and year to date, up to the report's month."""
    if "online_share_all" not in _columns(con, NATIONAL):
        return None
    trend = con.execute(
        f"""
        SELECT month.period_start, month.online_share_all AS month_share,
               ytd.online_share_all AS ytd_share
        FROM {NATIONAL} AS month
        LEFT JOIN {NATIONAL} AS ytd
            ON ytd.period_type = 'ytd' AND ytd.period_end = month.period_end
        WHERE month.period_type = 'month' AND month.period_end <= $end
          AND month.period_start > $end - to_months({TREND_MONTHS})
        ORDER BY month.period_start
        """,
        {"end": period_end},
    ).df()
    return None if trend["month_share"].isna().all() else trend


def read_compliance(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame | None:
    """Share of agencies meeting their target, per province × level × metric, as of the month."""
    columns = _columns(con, COMPLIANCE)
    if not columns:
        return None
    # DESIGN §5 names the summary's grain by province code; a name is shown where it has one
    name = "province_name" if "province_name" in columns else "province_code"
    compliance = con.execute(
        f"""
        SELECT province_code, {name} AS province_name, admin_level, metric, agencies,
               agencies_met, share_met
        FROM {COMPLIANCE}
        WHERE year = $year AND as_of_month = $month AND agencies > 0
        ORDER BY province_name, metric, admin_level
        """,
        {"year": month.year, "month": month},
    ).df()
    return None if compliance.empty else compliance


def read_report_data(
    con: duckdb.DuckDBPyConnection, month: date, metrics: tuple[str, ...]
) -> ReportData:
    period_end = last_day(month)
    rankings = {
        (metric, period_type): read_ranking(con, metric, period_type, period_end)
        for metric in metrics
        for period_type in ("month", "ytd")
    }
    return ReportData(
        month=month,
        period_end=period_end,
        rankings=rankings,
        trend=read_trend(con, period_end),
        compliance=read_compliance(con, month),
    )
