"""What `dvctt demo` prints: the seed report's figures, read back from the serving file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

# The three provinces whose 2022 targets the seed report quotes: Hòa Bình, Khánh Hòa,
# Thái Nguyên.
SEEDED_TARGET_PROVINCES = ("17", "56", "19")


def national_rate(con: duckdb.DuckDBPyConnection, metric: str, period_end: date) -> float | None:
    row = con.execute(
        f"SELECT {metric} FROM marts.national_period_rates "
        "WHERE period_type = 'ytd' AND period_end = $end",
        {"end": period_end},
    ).fetchone()
    return row[0] if row else None


def ranked_provinces(
    con: duckdb.DuckDBPyConnection, metric: str, period_end: date, flag: str
) -> list[tuple[str, float]]:
    """The provinces flagged top or bottom five (as_was geography, year to date)."""
    column = {"top": "is_top5", "bottom": "is_bottom5"}[flag]
    return con.execute(
        f"""
        SELECT province_name, value FROM marts.province_rankings
        WHERE metric = $metric AND period_type = 'ytd' AND period_end = $end
          AND geography = 'as_was' AND {column}
        ORDER BY value DESC
        """,
        {"metric": metric, "end": period_end},
    ).fetchall()


def _format_provinces(rows: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {value:.2%}" for name, value in rows)


def compliance_lines(con: duckdb.DuckDBPyConnection, as_of_month: date) -> list[str]:
    """Per seeded province, level and metric: how many agencies meet their target (ytd)."""
    rows = con.execute(
        """
        SELECT province_name, admin_level, metric, agencies_met, agencies, share_met
        FROM marts.target_compliance_summary
        WHERE as_of_month = $month AND list_contains($provinces, province_code)
        ORDER BY list_position($provinces, province_code), admin_level, metric
        """,
        {"month": as_of_month, "provinces": list(SEEDED_TARGET_PROVINCES)},
    ).fetchall()
    return [
        f"  {name}, {level}, {metric}: {met} of {agencies} agencies meet their target "
        f"({share:.0%})"
        for name, level, metric, met, agencies, share in rows
    ] or ["  no target compliance figures"]


def report_lines(con: duckdb.DuckDBPyConnection, period_end: date) -> list[str]:
    """What the monthly reports (Biểu 06) bring in: their rows, and the agencies whose
    figures come from a report alone, with their dossiers (year to date)."""
    files, loaded, quarantined, unmatched = con.execute(
        "SELECT count(*), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0), "
        "count(report_rows_unmatched) "
        "FROM marts.data_quality WHERE kind = 'reports' AND status = 'loaded'"
    ).fetchone()
    agencies = con.execute(
        """
        SELECT agency_name, received, received_online FROM marts.agency_period_rates
        WHERE source = 'report' AND period_type = 'ytd' AND period_end = $end AND received > 0
        ORDER BY agency_name
        """,
        {"end": period_end},
    ).fetchall()
    return [
        f"Monthly reports (Biểu 06): {files} workbooks, {loaded} rows loaded (agency and "
        f"total rows), {quarantined} set aside, {unmatched} workbooks with rows matched to no "
        "agency (marts.data_quality.report_rows_unmatched)",
        f"Agencies with figures from reports only (no dossier records), year to date: "
        f"{len(agencies)}",
        *(f"  {name}: {received} dossiers received, {online} online"
          for name, received, online in agencies),
    ]


def _month_span(first: date | None, last: date | None) -> str:
    if first is None:
        return "none"
    return f"{first:%Y-%m}" if (first.year, first.month) == (last.year, last.month) else (
        f"{first:%Y-%m} … {last:%Y-%m}")


def fee_policy_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Per fee policy: the difference-in-differences of the online share, or why not."""
    rows = con.execute(
        """
        SELECT province_name, decision_ref, did_pp, status, covered_share_before,
               covered_share_after, others_share_before, others_share_after, before_start,
               before_end, after_start, after_end
        FROM marts.fee_policy_effect ORDER BY province_code, decision_ref
        """
    ).fetchall()
    lines = ["Fee cuts for online filing (marts.fee_policy_effect): online share of the covered "
             "procedures against the province's other fee-bearing ones, before and after"]
    for (name, decision, did_pp, status, covered_before, covered_after, others_before,
         others_after, *months) in rows:
        if status != "ok":
            lines.append(f"  {name}, {decision}: insufficient_data (a cell has fewer than 100 "
                         f"dossiers; before {_month_span(*months[:2])}, after "
                         f"{_month_span(*months[2:])})")
            continue
        lines.append(
            f"  {name}, {decision}: did_pp {did_pp:+.1f} (covered {covered_before:.1%} → "
            f"{covered_after:.1%}, others {others_before:.1%} → {others_after:.1%}; before "
            f"{_month_span(*months[:2])}, after {_month_span(*months[2:])})")
    return lines if rows else [*lines, "  no fee policies loaded"]


def seed_report_text(serving: Path, period_end: date) -> str:
    """The national share and the top and bottom five, as the 2022 report states them."""
    with duckdb.connect(str(serving), read_only=True) as con:
        share = national_rate(con, "online_share_all", period_end)
        provision = national_rate(con, "full_online_provision_rate", period_end)
        lines = [
            f"Year to date {period_end.year}-01 … {period_end:%Y-%m}, read from {serving}",
            "National share of dossiers received online (online_share_all): "
            + ("n/a" if share is None else f"{share:.2%}"),
            "National share of eligible procedures offered end to end (level 4, "
            "full_online_provision_rate): " + ("n/a" if provision is None else f"{provision:.2%}"),
            "Top 5 provinces by online_share_all: "
            + _format_provinces(ranked_provinces(con, "online_share_all", period_end, "top")),
            "Bottom 5 provinces by online_share_all: "
            + _format_provinces(ranked_provinces(con, "online_share_all", period_end, "bottom")),
            "Top 5 provinces by dvctt_uptake_rate: "
            + _format_provinces(ranked_provinces(con, "dvctt_uptake_rate", period_end, "top")),
            "Bottom 5 provinces by dvctt_uptake_rate: "
            + _format_provinces(ranked_provinces(con, "dvctt_uptake_rate", period_end, "bottom")),
            f"Target compliance, year to date {period_end:%Y-%m}:",
            *compliance_lines(con, period_end.replace(day=1)),
            *report_lines(con, period_end),
            *fee_policy_lines(con),
        ]
    return "\n".join(lines)
