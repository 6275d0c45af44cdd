"""Every metric of DESIGN §4 per agency, province and nation, on hand-computed fixtures."""

from __future__ import annotations

import pytest

JANUARY = {"period_type": "month", "period_start": "2022-01-01"}


def hoa_binh_january(warehouse) -> None:
    """Hòa Bình (17): two departments and a district; Khánh Hòa (56): one department."""
    for code, level, province in (("A1", "province", "17"), ("A2", "province", "17"),
                                  ("A3", "district", "17"), ("B1", "province", "56")):
        warehouse.agency(code, level, province)
    warehouse.catalogue("2022-01-01", "17", "province", {
        "P1": ("full", True), "P2": ("partial", False), "P3": ("information", True)})
    warehouse.catalogue("2022-01-01", "17", "district", {"D1": ("full", True)})
    warehouse.catalogue("2022-01-01", "56", "province", {"P1": ("full", True)})
    warehouse.dossiers("A1", "P1", "2022-01", 4, online=3, on_time=2, late=1, with_fee=2,
                       paid_online=1)
    warehouse.dossiers("A1", "P2", "2022-01", 2)
    warehouse.dossiers("A1", "X9", "2022-01", 2, online=2)  # not in the catalogue
    warehouse.dossiers("A2", "P1", "2022-01", 1, online=1)
    warehouse.dossiers("A3", "D1", "2022-01", 1, online=1)
    warehouse.dossiers("B1", "P1", "2022-01", 1)


def agency_row(warehouse, agency: str, period_type: str, period_end: str) -> dict:
    (row,) = warehouse.rows(
        "SELECT * FROM marts.agency_period_rates WHERE agency_code = $agency "
        "AND period_type = $type AND period_end = $end",
        {"agency": agency, "type": period_type, "end": period_end},
    )
    return row


def test_an_agency_has_every_metric_with_its_counts(warehouse):
    hoa_binh_january(warehouse)
    warehouse.run("2022-01", "2022-01")
    a1 = agency_row(warehouse, "A1", "month", "2022-01-31")
    assert (a1["received"], a1["received_online"]) == (8, 5)
    assert a1["online_share_all"] == pytest.approx(5 / 8)
    # DVCTT = P1 (toàn trình) and P2 (một phần); P3 is information only, X9 not listed
    assert (a1["received_dvctt"], a1["received_online_dvctt"]) == (6, 3)
    assert a1["online_share_dvctt"] == pytest.approx(3 / 6)
    assert (a1["received_full"], a1["received_online_full"]) == (4, 3)
    assert a1["online_share_full"] == pytest.approx(3 / 4)
    # the agency used P1 online, of the two DVCTT of its province and level
    assert (a1["dvctt_with_online"], a1["dvctt_offered"]) == (1, 2)
    assert a1["dvctt_uptake_rate"] == pytest.approx(1 / 2)
    # eligible P1 and P3, P1 offered toàn trình
    assert (a1["full_online_offered"], a1["full_online_eligible"]) == (1, 2)
    assert a1["full_online_provision_rate"] == pytest.approx(1 / 2)
    assert (a1["finished_on_time"], a1["finished"]) == (2, 3)
    assert a1["on_time_rate"] == pytest.approx(2 / 3)
    assert (a1["paid_online"], a1["received_with_fee"]) == (1, 2)
    assert a1["online_payment_rate"] == pytest.approx(1 / 2)
    assert a1["source"] == "dossiers"


def test_a_rate_without_denominator_is_null(warehouse):
    hoa_binh_january(warehouse)
    warehouse.run("2022-01", "2022-01")
    b1 = agency_row(warehouse, "B1", "month", "2022-01-31")
    assert b1["on_time_rate"] is None and b1["online_payment_rate"] is None
    assert b1["online_share_all"] == 0


def test_procedure_counts_are_distinct_per_province_and_level(warehouse):
    """P1 used online by two departments of Hòa Bình counts once; levels and provinces add."""
    hoa_binh_january(warehouse)
    warehouse.run("2022-01", "2022-01")
    (hoa_binh,) = warehouse.rows(
        "SELECT * FROM marts.province_period_rates WHERE province_code = '17' "
        "AND geography = 'as_was' AND period_type = 'month'")
    # province level: P1 of {P1, P2}; district level: D1 of {D1}
    assert (hoa_binh["dvctt_with_online"], hoa_binh["dvctt_offered"]) == (2, 3)
    assert hoa_binh["dvctt_uptake_rate"] == pytest.approx(2 / 3)
    # eligible: P1, P3, D1; offered toàn trình among them: P1, D1
    assert hoa_binh["full_online_provision_rate"] == pytest.approx(2 / 3)
    # ratios of summed counts: A1 8/5, A2 1/1, A3 1/1
    assert (hoa_binh["received"], hoa_binh["received_online"]) == (10, 7)
    assert hoa_binh["online_share_all"] == pytest.approx(7 / 10)
    (nation,) = warehouse.rows(
        "SELECT * FROM marts.national_period_rates WHERE period_type = 'month'")
    # Khánh Hòa offers P1 and nobody filed it online: (2 + 0) / (3 + 1)
    assert nation["dvctt_uptake_rate"] == pytest.approx(2 / 4)
    assert nation["online_share_all"] == pytest.approx(7 / 11)
    assert nation["provinces"] == 2


def test_the_catalogue_in_force_at_the_period_end_applies(warehouse):
    """From 15 February Hòa Bình offers P1, P2 and P3 toàn trình at the province level; its
    district level keeps the January snapshot."""
    hoa_binh_january(warehouse)
    warehouse.catalogue("2022-02-15", "17", "province", {
        "P1": ("full", True), "P2": ("full", True), "P3": ("full", True)})
    warehouse.dossiers("A1", "P2", "2022-02", 2, online=2)
    warehouse.run("2022-01", "2022-02")
    january = agency_row(warehouse, "A1", "month", "2022-01-31")
    assert january["online_share_full"] == pytest.approx(3 / 4)
    ytd_february = agency_row(warehouse, "A1", "ytd", "2022-02-28")
    # P2's four dossiers (two online) are now toàn trình: (3 + 2) / (4 + 4)
    assert (ytd_february["received_full"], ytd_february["received_online_full"]) == (8, 5)
    assert ytd_february["dvctt_uptake_rate"] == pytest.approx(2 / 3)
    assert ytd_february["full_online_provision_rate"] == 1
    (district,) = warehouse.rows(
        "SELECT DISTINCT effective_date FROM core.catalog_in_force "
        "WHERE admin_level = 'district' AND period_end = DATE '2022-02-28'")
    assert str(district["effective_date"]) == "2022-01-01"


def test_report_only_agencies_fill_in_and_reports_are_reconciled(warehouse):
    hoa_binh_january(warehouse)
    warehouse.agency("R1", "province", "17")
    # carried-over dossiers are not received in the month; early + on time = on time
    warehouse.report_row("R1", "2022-01", online=3, in_person=7, carried_over=5, finished=4,
                         early=1, on_time=2)
    warehouse.report_row("A2", "2022-01", online=2, in_person=2, finished=1, on_time=1)
    warehouse.run("2022-01", "2022-01")
    r1 = agency_row(warehouse, "R1", "month", "2022-01-31")
    assert (r1["source"], r1["received"], r1["received_online"]) == ("report", 10, 3)
    assert r1["on_time_rate"] == pytest.approx(3 / 4)
    assert r1["online_share_dvctt"] is None and r1["dvctt_uptake_rate"] is None
    a2 = agency_row(warehouse, "A2", "month", "2022-01-31")
    assert (a2["source"], a2["received"], a2["received_online"]) == ("both", 1, 1)
    (hoa_binh,) = warehouse.rows(
        "SELECT received, received_online, agencies_report_only FROM marts.province_period_rates"
        " WHERE province_code = '17' AND geography = 'as_was' AND period_type = 'month'")
    assert hoa_binh == {"received": 20, "received_online": 10, "agencies_report_only": 1}
    assert warehouse.rows(
        "SELECT agency_code, report_received, dossiers_received, received_diff, "
        "received_online_diff, finished_diff FROM marts.report_reconciliation"
    ) == [{"agency_code": "A2", "report_received": 4, "dossiers_received": 1,
           "received_diff": 3, "received_online_diff": 1, "finished_diff": 1}]


def test_a_rerun_of_the_window_gives_the_same_rows(warehouse):
    hoa_binh_january(warehouse)
    warehouse.run("2022-01", "2022-01")
    before = warehouse.rows("SELECT * FROM marts.province_period_rates ORDER BY ALL")
    warehouse.run("2022-01", "2022-01")
    assert warehouse.rows("SELECT * FROM marts.province_period_rates ORDER BY ALL") == before
