"""Provinces ranked per metric and period, agencies ranked within their province and level."""

from __future__ import annotations

import pytest

# province → (dossiers received in January, of which online); min_dossiers is 3 in these tests
JANUARY_VOLUMES = {
    "01": (10, 9), "02": (10, 8), "04": (10, 5), "06": (10, 5), "08": (10, 4),
    "10": (10, 2), "11": (10, 1), "12": (2, 2),
}


def provinces_filing_online(warehouse, volumes: dict[str, tuple[int, int]], month: str) -> None:
    for province, (received, online) in volumes.items():
        agency = f"000.00.01.H{province}"
        if not warehouse.rows("SELECT 1 FROM core.agencies WHERE agency_code = $code",
                              {"code": agency}):
            warehouse.agency(agency, "province", province)
        warehouse.dossiers(agency, "P1", month, received, online=online)


def ranking(warehouse, period_end: str, geography: str = "as_was") -> dict[str, dict]:
    rows = warehouse.rows(
        "SELECT * FROM marts.province_rankings WHERE metric = 'online_share_all' "
        "AND period_type = 'month' AND period_end = $end AND geography = $geography",
        {"end": period_end, "geography": geography},
    )
    return {row["province_code"]: row for row in rows}


def test_ties_share_the_lowest_rank_and_small_provinces_are_listed_unranked(warehouse):
    provinces_filing_online(warehouse, JANUARY_VOLUMES, "2022-01")
    warehouse.run("2022-01", "2022-01")
    january = ranking(warehouse, "2022-01-31")
    ranks = {code: row["rank"] for code, row in january.items()}
    assert ranks == {"01": 1, "02": 2, "04": 3, "06": 3, "08": 5, "10": 6, "11": 7, "12": None}
    assert january["12"]["value"] == 1.0
    assert january["12"]["not_ranked_reason"] == "fewer than 3 dossiers received"
    assert not january["12"]["ranked"] and not january["12"]["is_top5"]
    assert {row["n_ranked"] for row in january.values()} == {7}
    top = {code for code, row in january.items() if row["is_top5"]}
    bottom = {code for code, row in january.items() if row["is_bottom5"]}
    assert top == {"01", "02", "04", "06", "08"}
    # ranked from the bottom: 11, 10, 08, then 04 and 06 tied
    assert bottom == {"11", "10", "08", "04", "06"}


def test_the_previous_period_rank_and_value_stand_beside(warehouse):
    provinces_filing_online(warehouse, JANUARY_VOLUMES, "2022-01")
    provinces_filing_online(warehouse, {"01": (10, 1), "11": (10, 10)}, "2022-02")
    warehouse.run("2022-01", "2022-02")
    february = ranking(warehouse, "2022-02-28")
    assert (february["11"]["rank"], february["11"]["rank_prev"]) == (1, 7)
    assert february["11"]["value_prev"] == pytest.approx(0.1)
    assert february["01"]["rank_prev"] == 1
    assert "04" not in february  # no dossier in February


def test_every_metric_is_ranked(warehouse):
    provinces_filing_online(warehouse, JANUARY_VOLUMES, "2022-01")
    warehouse.run("2022-01", "2022-01")
    metrics = {row["metric"] for row in warehouse.rows(
        "SELECT DISTINCT metric FROM marts.province_rankings")}
    assert metrics == {
        "online_share_all", "online_share_dvctt", "online_share_full", "dvctt_uptake_rate",
        "full_online_provision_rate", "on_time_rate", "online_payment_rate",
    }


def test_agencies_are_ranked_within_their_province_and_level(warehouse):
    for code, level, province, online in (
        ("H1", "province", "17", 6), ("H2", "province", "17", 6), ("H3", "province", "17", 2),
        ("D1", "district", "17", 9), ("K1", "province", "56", 1),
    ):
        warehouse.agency(code, level, province)
        warehouse.dossiers(code, "P1", "2022-01", 10, online=online)
    warehouse.agency("H4", "province", "17")
    warehouse.dossiers("H4", "P1", "2022-01", 9, online=9)  # under 10 dossiers
    warehouse.run("2022-01", "2022-01")
    rows = warehouse.rows(
        "SELECT agency_code, rank, n_ranked, ranked FROM marts.agency_rankings "
        "WHERE metric = 'online_share_all' AND period_type = 'month' ORDER BY agency_code")
    assert {row["agency_code"]: (row["rank"], row["n_ranked"]) for row in rows} == {
        "D1": (1, 1), "H1": (1, 3), "H2": (1, 3), "H3": (3, 3), "H4": (None, 3), "K1": (1, 1),
    }


def test_a_month_run_alone_has_the_previous_periods_ranks_of_a_run_of_both(warehouse):
    """A daily run covers one month: the previous month, the year to date one month shorter
    and the year before are ranked for its rank_prev although outside its window."""
    for code in ("H1", "H2", "H3"):
        warehouse.agency(code, "province", "17")
    for code, january, february in (("H1", 9, 2), ("H2", 5, 9), ("H3", 1, 5)):
        warehouse.dossiers(code, "P1", "2022-01", 10, online=january)
        warehouse.dossiers(code, "P1", "2022-02", 10, online=february)
    provinces_filing_online(warehouse, JANUARY_VOLUMES, "2022-01")
    provinces_filing_online(warehouse, {"01": (10, 1), "11": (10, 10)}, "2022-02")
    february = ("SELECT * EXCLUDE (rank_prev, value_prev), rank_prev, value_prev FROM {} "
                "WHERE period_start <= DATE '2022-02-28' AND period_end >= DATE '2022-02-01' "
                "ORDER BY ALL")

    warehouse.run("2022-01", "2022-02")
    together = {table: warehouse.rows(february.format(table))
                for table in ("marts.province_rankings", "marts.agency_rankings")}
    warehouse.run("2022-01", "2022-01")
    warehouse.run("2022-02", "2022-02")

    for table, rows in together.items():
        assert warehouse.rows(february.format(table)) == rows, table
    previous = {(row["agency_code"], row["period_type"]): row["rank_prev"]
                for row in together["marts.agency_rankings"]
                if row["metric"] == "online_share_all"}
    # H2 was second in January (month and year to date), H1 first
    assert previous[("H2", "month")] == 2 and previous[("H1", "ytd")] == 1
