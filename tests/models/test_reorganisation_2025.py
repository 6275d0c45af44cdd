"""Periods across 1 July 2025: the geography of their time (as_was) and the 34 provinces
(current). Legacy Hòa Bình (17) and Phú Thọ (25) became the new Phú Thọ (25)."""

from __future__ import annotations

from datetime import date

import pytest

VALIDITY_2025 = (date(2025, 7, 1), None)


@pytest.fixture(scope="module")
def merged_provinces(new_module_warehouse):
    """Its tests only read it."""
    warehouse = new_module_warehouse()
    warehouse.agency("L1", "province", "17")   # exists only before 2025-07-01
    warehouse.agency("L2", "province", "25")
    warehouse.agency("L3", "district", "17")
    warehouse.agency("N1", "province", "25", validity=VALIDITY_2025)
    warehouse.catalogue("2022-01-01", "17", "province", {"P1": ("full", True)})
    warehouse.catalogue("2025-07-01", "25", "province", {"P1": ("full", True)})
    warehouse.dossiers("L1", "P1", "2025-06", 10, online=5)
    warehouse.dossiers("L2", "P1", "2025-06", 10, online=1)
    warehouse.dossiers("L3", "P1", "2025-06", 4, online=4)
    warehouse.dossiers("N1", "P1", "2025-07", 10, online=8)
    warehouse.run("2025-06", "2025-07")
    return warehouse


def provinces(warehouse, period_type: str, period_end: str, geography: str) -> dict[str, dict]:
    rows = warehouse.rows(
        "SELECT * FROM marts.province_period_rates WHERE period_type = $type "
        "AND period_end = $end AND geography = $geography",
        {"type": period_type, "end": period_end, "geography": geography},
    )
    return {row["province_code"]: row for row in rows if row["agencies"]}


def test_each_period_is_in_the_geography_of_its_time(merged_provinces):
    june = provinces(merged_provinces, "month", "2025-06-30", "as_was")
    assert {code: row["province_name"] for code, row in june.items()} == {
        "17": "Hòa Bình", "25": "Phú Thọ"}
    july = provinces(merged_provinces, "month", "2025-07-31", "as_was")
    assert {code: row["received"] for code, row in july.items()} == {"25": 10}
    # the year to date July ends after the reorganisation: everything is in the new Phú Thọ
    ytd = provinces(merged_provinces, "ytd", "2025-07-31", "as_was")
    assert {code: (row["received"], row["agencies"]) for code, row in ytd.items()} == {
        "25": (34, 4)}


def test_an_agency_of_the_former_geography_appears_in_the_current_one(merged_provinces):
    june = provinces(merged_provinces, "month", "2025-06-30", "current")
    assert {code: (row["received"], row["received_online"]) for code, row in june.items()} == {
        "25": (24, 10)}
    assert june["25"]["province_name"] == "Phú Thọ"
    # June's catalogue is the 63-province one, in which only Hòa Bình lists P1
    assert (june["25"]["dvctt_with_online"], june["25"]["dvctt_offered"]) == (1, 1)


def test_rankings_say_how_many_provinces_they_rank_among(merged_provinces):
    rows = merged_provinces.rows(
        "SELECT period_end, geography, province_code, rank, n_ranked, rank_prev "
        "FROM marts.province_rankings WHERE metric = 'online_share_all' "
        "AND period_type = 'month' AND ranked ORDER BY ALL")
    assert [tuple(row.values()) for row in rows] == [
        (date(2025, 6, 30), "as_was", "17", 1, 2, None),
        (date(2025, 6, 30), "as_was", "25", 2, 2, None),
        (date(2025, 6, 30), "current", "25", 1, 1, None),
        # in as_was, code 25 of July is not the Phú Thọ of June: no previous rank
        (date(2025, 7, 31), "as_was", "25", 1, 1, None),
        (date(2025, 7, 31), "current", "25", 1, 1, 1),
    ]


def test_a_63_province_catalogue_never_applies_after_the_reorganisation(merged_provinces):
    rows = merged_provinces.rows(
        "SELECT DISTINCT period_end, province_code, effective_date FROM core.catalog_in_force "
        "WHERE period_type = 'month' ORDER BY ALL")
    assert [tuple(row.values()) for row in rows] == [
        (date(2025, 6, 30), "17", date(2022, 1, 1)),
        (date(2025, 7, 31), "25", date(2025, 7, 1)),
    ]
