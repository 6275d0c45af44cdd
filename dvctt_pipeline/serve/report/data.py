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
# and for the province reports
PROVINCE_RATES = "marts.province_period_rates"
AGENCY_RATES = "marts.agency_period_rates"
TARGETS = "marts.target_compliance"
FEE_EFFECT = "marts.fee_policy_effect"
REPORT_TABLES = (RANKINGS, NATIONAL, COMPLIANCE, PROVINCE_RATES, AGENCY_RATES, TARGETS,
                 FEE_EFFECT)

# The columns of each of REPORT_TABLES; none for a table that is not there (yet).
ReportColumns = dict[str, set[str]]
# The nation's value of each ranked metric by (metric, period_type): month | ytd.
NationalValues = dict[tuple[str, str], float | None]

# The metrics the reports rank provinces by and open with.
RANKED_METRICS = ("online_share_all", "dvctt_uptake_rate")
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
    national: NationalValues  # also in a month that ranks no province
    trend: pd.DataFrame | None  # period_start, month_share, ytd_share
    compliance: pd.DataFrame | None  # province_name, admin_level, metric, agencies, …


# The counts of the fee effect's four cells, shown beside its chart where the table has them.
FEE_EFFECT_COUNTS = ("covered_before_received", "covered_after_received",
                     "others_before_received", "others_after_received")


@dataclass(frozen=True)
class Standing:
    """The province's value and place among provinces for one metric over one period."""

    metric: str
    period_type: str  # month | ytd
    value: float | None
    ranked: bool
    rank: int | None
    n_ranked: int | None
    rank_prev: int | None
    value_prev: float | None
    national: float | None


@dataclass(frozen=True)
class ProvinceData:
    month: date
    province_code: str
    province_name: str
    standings: dict[tuple[str, str], Standing | None]  # (metric, period_type)
    trend: pd.DataFrame | None  # period_start, province_share, national_share
    agencies: pd.DataFrame | None  # marts.target_compliance of the month, with `source`
    compliance_by_month: pd.DataFrame | None  # as_of_month, admin_level, metric, share_met…
    report_only: pd.DataFrame | None  # agencies known from Biểu 06 only, year to date
    fee_effects: pd.DataFrame | None  # marts.fee_policy_effect of the province


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The table's columns; empty when the table does not exist (yet).

    Asked of the table itself rather than of `duckdb_columns()`, which lists every column of
    the warehouse: that listing took most of the time of reading a month's reports."""
    try:
        description = con.execute(f"SELECT * FROM {table} LIMIT 0").description
    except duckdb.CatalogException:
        return set()
    return {column for column, *_ in description}


def _shares_by_month(con: duckdb.DuckDBPyConnection, table: str, share: str,
                     national_period_type: str, national_share: str, period_end: date,
                     rows: str = "", parameters: dict[str, object] | None = None,
                     ) -> pd.DataFrame | None:
    """The online share of `table`'s `rows` month by month over the trend's months (named
    `share`), beside the national one of the period of `national_period_type` that ends with
    each month (named `national_share`); None when no month has a share."""
    trend = con.execute(
        f"""
        SELECT shares.period_start, shares.online_share_all AS {share},
               nation.online_share_all AS {national_share}
        FROM {table} AS shares
        LEFT JOIN {NATIONAL} AS nation
            ON nation.period_type = $national_type AND nation.period_end = shares.period_end
        WHERE shares.period_type = 'month' AND shares.period_end <= $end
          AND shares.period_start > $end - to_months({TREND_MONTHS}) {rows}
        ORDER BY shares.period_start
        """,
        {"end": period_end, "national_type": national_period_type, **(parameters or {})},
    ).df()
    return None if trend[share].isna().all() else trend


def _optional(frame: pd.DataFrame) -> pd.DataFrame | None:
    return None if frame.empty else frame


class ReportReader:
    """Reads the figures of the national and province reports from the marts of one
    connection.

    The report tables' columns are read once, when the reader is built: the national report
    and each province's ask of them some fifty times a month. The nation's values are read
    once a month: the national report shows them, and every province's report beside its own.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.columns: ReportColumns = {table: _table_columns(con, table)
                                       for table in REPORT_TABLES}
        self._national_by_month: dict[date, NationalValues] = {}

    # -------------------------------------------------------------- the national report

    def national_values(self, month: date) -> NationalValues:
        """The nation's value of each ranked metric over the month and the year to date."""
        if month not in self._national_by_month:
            period_end = last_day(month)
            self._national_by_month[month] = {
                (metric, period_type): self._national_value(metric, period_type, period_end)
                for metric in RANKED_METRICS for period_type in ("month", "ytd")}
        return self._national_by_month[month]

    def _national_value(self, metric: str, period_type: str, period_end: date) -> float | None:
        if metric not in self.columns[NATIONAL]:
            return None
        row = self.con.execute(
            f"SELECT {metric} FROM {NATIONAL} WHERE period_type = $type AND period_end = $end",
            {"type": period_type, "end": period_end},
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def report_data(self, month: date) -> ReportData:
        """The national report's figures for the month."""
        period_end = last_day(month)
        national = self.national_values(month)
        return ReportData(
            month=month,
            period_end=period_end,
            rankings={(metric, period_type): self._ranking(metric, period_type, period_end,
                                                           value)
                      for (metric, period_type), value in national.items()},
            national=national,
            trend=self._trend(period_end),
            compliance=self._compliance(month),
        )

    def _ranking(self, metric: str, period_type: str, period_end: date,
                 national: float | None) -> Ranking | None:
        """The provinces ranked by the metric over the period, beside the nation's value (which
        the report shows also where no province is ranked)."""
        if not self.columns[RANKINGS]:
            return None
        provinces = self.con.execute(
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
        return Ranking(metric, period_type, provinces, national)

    def _trend(self, period_end: date) -> pd.DataFrame | None:
        """The national online share month by month, and year to date, up to the report's
        month."""
        if "online_share_all" not in self.columns[NATIONAL]:
            return None
        return _shares_by_month(self.con, NATIONAL, "month_share", "ytd", "ytd_share",
                                period_end)

    def _compliance(self, month: date) -> pd.DataFrame | None:
        """Share of agencies meeting their target, per province × level × metric, as of the
        month."""
        columns = self.columns[COMPLIANCE]
        if not columns:
            return None
        # DESIGN §5 names the summary's grain by province code; a name is shown where it has one
        name = "province_name" if "province_name" in columns else "province_code"
        compliance = self.con.execute(
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

    # -------------------------------------------------------------- one province's report

    def provinces_with_targets(self, month: date) -> list[str]:
        """The provinces that set targets for the month's year, by code."""
        if not self.columns[TARGETS]:
            return []
        rows = self.con.execute(
            f"SELECT DISTINCT province_code FROM {TARGETS} WHERE year = $year AND as_of_month "
            "= $month ORDER BY province_code", {"year": month.year, "month": month}).fetchall()
        return [code for (code,) in rows]

    def province_name(self, code: str, month: date) -> str | None:
        """The province's name in the geography of the month; None when the marts do not know
        it."""
        if not self.columns[PROVINCE_RATES]:
            return None
        row = self.con.execute(
            f"SELECT province_name FROM {PROVINCE_RATES} WHERE province_code = $code AND "
            "geography = 'as_was' AND period_type = 'month' AND period_end = $end",
            {"code": code, "end": last_day(month)}).fetchone()
        return None if row is None else row[0]

    def province_data(self, month: date, code: str, name: str) -> ProvinceData:
        """The province's figures for the month beside the nation's, for the ranked metrics."""
        period_end = last_day(month)
        return ProvinceData(
            month=month,
            province_code=code,
            province_name=name,
            standings={
                (metric, period_type): self._standing(code, metric, period_type, period_end,
                                                      value)
                for (metric, period_type), value in self.national_values(month).items()
            },
            trend=self._province_trend(code, period_end),
            agencies=self._agencies_with_targets(code, month),
            compliance_by_month=self._compliance_by_month(code, month),
            report_only=self._report_only_agencies(code, period_end),
            fee_effects=self._fee_effects(code),
        )

    def _standing(self, code: str, metric: str, period_type: str, period_end: date,
                  national: float | None) -> Standing | None:
        if not self.columns[RANKINGS]:
            return None
        row = self.con.execute(
            f"""
            SELECT value, ranked, rank, n_ranked, rank_prev, value_prev
            FROM {RANKINGS}
            WHERE province_code = $code AND metric = $metric AND period_type = $type
              AND period_end = $end AND geography = 'as_was'
            """,
            {"code": code, "metric": metric, "type": period_type, "end": period_end},
        ).fetchone()
        if row is None:
            return None
        value, ranked, rank, n_ranked, rank_prev, value_prev = row
        return Standing(metric, period_type, value, bool(ranked), rank, n_ranked, rank_prev,
                        value_prev, national)

    def _province_trend(self, code: str, period_end: date) -> pd.DataFrame | None:
        """The province's online share month by month beside the national one."""
        if not self.columns[PROVINCE_RATES] or "online_share_all" not in self.columns[NATIONAL]:
            return None
        return _shares_by_month(
            self.con, PROVINCE_RATES, "province_share", "month", "national_share", period_end,
            rows="AND shares.province_code = $code AND shares.geography = 'as_was'",
            parameters={"code": code})

    def _agencies_with_targets(self, code: str, month: date) -> pd.DataFrame | None:
        """Every agency of the province with a target, as of the month, and where its figures
        come from (dossiers, Biểu 06 reports or both)."""
        if not self.columns[TARGETS]:
            return None
        # a warehouse made before the column existed still shows its agencies
        required = ("target.required_rest_of_year, target.required_status"
                    if "required_status" in self.columns[TARGETS]
                    else "NULL AS required_rest_of_year, NULL AS required_status")
        agencies = self.con.execute(
            f"""
            SELECT target.agency_code, target.agency_name, target.admin_level, target.metric,
                   target.target_min, target.target_stretch, target.actual, target.gap_pp,
                   target.status, {required}, rates.source
            FROM {TARGETS} AS target
            LEFT JOIN {AGENCY_RATES} AS rates
                ON rates.agency_code = target.agency_code AND rates.period_type = 'ytd'
                AND rates.period_end = target.period_end
            WHERE target.province_code = $code AND target.year = $year
              AND target.as_of_month = $month
            ORDER BY target.agency_name
            """,
            {"code": code, "year": month.year, "month": month},
        ).df()
        return _optional(agencies)

    def _compliance_by_month(self, code: str, month: date) -> pd.DataFrame | None:
        """The share of the province's agencies meeting their target per level, each month of
        the year up to the report's."""
        if not self.columns[COMPLIANCE]:
            return None
        return _optional(self.con.execute(
            f"""
            SELECT as_of_month, admin_level, metric, agencies, agencies_met, share_met
            FROM {COMPLIANCE}
            WHERE province_code = $code AND year = $year AND as_of_month <= $month
              AND agencies > 0
            ORDER BY metric, admin_level, as_of_month
            """,
            {"code": code, "year": month.year, "month": month},
        ).df())

    def _report_only_agencies(self, code: str, period_end: date) -> pd.DataFrame | None:
        """The province's agencies whose year to date comes from Biểu 06 reports alone."""
        if "source" not in self.columns[AGENCY_RATES]:
            return None
        return _optional(self.con.execute(
            f"""
            SELECT agency_code, agency_name, admin_level, received, received_online,
                   online_share_all
            FROM {AGENCY_RATES}
            WHERE province_code = $code AND period_type = 'ytd' AND period_end = $end
              AND source = 'report'
            ORDER BY admin_level, agency_name
            """,
            {"code": code, "end": period_end},
        ).df())

    def _fee_effects(self, code: str) -> pd.DataFrame | None:
        """The province's fee policies and their effect, where the marts measure it."""
        columns = self.columns[FEE_EFFECT]
        if not columns:
            return None
        counts = [column for column in FEE_EFFECT_COUNTS if column in columns]
        return _optional(self.con.execute(
            f"""
            SELECT decision_ref, valid_from, valid_to, before_start, before_end, after_start,
                   after_end, covered_share_before, covered_share_after, others_share_before,
                   others_share_after, did_pp, status{''.join(f', {c}' for c in counts)}
            FROM {FEE_EFFECT}
            WHERE province_code = $code
            ORDER BY valid_from, decision_ref
            """,
            {"code": code},
        ).df())
