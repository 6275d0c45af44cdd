"""marts.province_latest answers "how is each province doing now" in one row per province and
geography: no period_type to filter, no latest period to look up."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest


@pytest.fixture(scope="module")
def serving(sample_run):
    with duckdb.connect(str(sample_run.folders.serving), read_only=True) as con:
        yield con


def test_one_row_per_province_and_geography_at_the_latest_month(serving):
    rows = serving.execute(
        "SELECT geography, count(*), count(DISTINCT province_code), min(month), max(month), "
        "min(ytd_start), max(period_end) FROM marts.province_latest GROUP BY ALL ORDER BY 1"
    ).fetchall()
    # the sample's last month is April 2022: 63 provinces of the time, 34 of today
    assert rows == [
        ("as_was", 63, 63, date(2022, 4, 1), date(2022, 4, 1), date(2022, 1, 1),
         date(2022, 4, 30)),
        ("current", 34, 34, date(2022, 4, 1), date(2022, 4, 1), date(2022, 1, 1),
         date(2022, 4, 30)),
    ]


def test_its_figures_are_those_of_the_month_and_year_to_date_rows(serving):
    compared, mismatches = serving.execute("""
        SELECT count(*), count(*) FILTER (
            WHERE latest.received_month <> month.received OR latest.received_ytd <> ytd.received
               OR latest.online_share_all_month IS DISTINCT FROM month.online_share_all
               OR latest.online_share_all_ytd IS DISTINCT FROM ytd.online_share_all
               OR latest.dvctt_uptake_rate_rank_ytd IS DISTINCT FROM ranking.rank)
        FROM marts.province_latest AS latest
        JOIN marts.province_period_rates AS month
            ON month.geography = latest.geography AND month.province_code = latest.province_code
            AND month.period_type = 'month' AND month.period_start = DATE '2022-04-01'
        JOIN marts.province_period_rates AS ytd
            ON ytd.geography = latest.geography AND ytd.province_code = latest.province_code
            AND ytd.period_type = 'ytd' AND ytd.period_end = DATE '2022-04-30'
        JOIN marts.province_rankings AS ranking
            ON ranking.geography = latest.geography
            AND ranking.province_code = latest.province_code
            AND ranking.metric = 'dvctt_uptake_rate' AND ranking.period_type = 'ytd'
            AND ranking.period_end = DATE '2022-04-30'
    """).fetchone()
    assert (compared, mismatches) == (63 + 34, 0)
    top = serving.execute(
        "SELECT province_name FROM marts.province_latest WHERE geography = 'as_was' "
        "AND online_share_all_rank_ytd <= 5 ORDER BY online_share_all_rank_ytd").fetchall()
    assert len(top) == 5
