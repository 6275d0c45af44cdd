"""Target compliance at every month: ytd actual against the target that applies."""

from __future__ import annotations

import pytest


def compliance(warehouse, as_of_month: str) -> dict[str, dict]:
    rows = warehouse.rows(
        "SELECT * FROM marts.target_compliance WHERE as_of_month = $month",
        {"month": as_of_month},
    )
    return {row["agency_code"]: row for row in rows}


@pytest.fixture
def khanh_hoa(warehouse):
    """Khánh Hòa: departments 45–50 %, districts 35–40 %, one department with its own 70 %."""
    for code, level in (("S1", "province"), ("S2", "province"), ("S3", "province"),
                        ("S4", "province"), ("Q1", "district")):
        warehouse.agency(code, level, "56")
    warehouse.target(2022, "56", "*", "online_share_all", 0.35, 0.40)
    warehouse.target(2022, "56", "province", "online_share_all", 0.45, 0.50)
    warehouse.target(2022, "56", "province", "online_share_all", 0.70, agency="S4")
    warehouse.dossiers("S1", "P1", "2022-01", 20, online=9)   # 45 %: equals the minimum
    warehouse.dossiers("S2", "P1", "2022-01", 10, online=5)   # 50 %: equals the stretch
    warehouse.dossiers("S3", "P1", "2022-01", 10, online=4)   # 40 %
    warehouse.dossiers("S4", "P1", "2022-01", 10, online=6)   # 60 %, own target 70 %
    # Q1 files nothing in January, 10 dossiers all online in February
    warehouse.dossiers("Q1", "P1", "2022-02", 10, online=10)
    warehouse.dossiers("S3", "P1", "2022-02", 10, online=6)   # ytd February 10/20
    warehouse.run("2022-01", "2022-02")
    return warehouse


def test_statuses_with_equality_meeting_the_target(khanh_hoa):
    january = compliance(khanh_hoa, "2022-01-01")
    statuses = {code: row["status"] for code, row in january.items()}
    assert statuses == {"S1": "met", "S2": "exceeds_stretch", "S3": "below", "S4": "below",
                        "Q1": "no_data"}
    assert january["S1"]["gap_pp"] == pytest.approx(0)
    assert january["S3"]["gap_pp"] == pytest.approx(-5)
    assert january["Q1"]["actual"] is None and january["Q1"]["gap_pp"] is None


def test_the_most_specific_target_applies(khanh_hoa):
    january = compliance(khanh_hoa, "2022-01-01")
    assert (january["S4"]["target_scope"], january["S4"]["target_min"]) == ("agency", 0.70)
    assert january["S4"]["target_stretch"] is None
    assert (january["S1"]["target_scope"], january["S1"]["target_stretch"]) == ("level", 0.50)
    assert (january["Q1"]["target_scope"], january["Q1"]["target_min"]) == ("every_level", 0.35)


def test_the_actual_is_the_year_to_date_figure(khanh_hoa):
    february = compliance(khanh_hoa, "2022-02-01")
    assert february["S3"]["actual"] == pytest.approx(10 / 20)
    assert february["S3"]["status"] == "exceeds_stretch"
    assert february["Q1"]["status"] == "exceeds_stretch"
    assert str(february["S3"]["period_start"]) == "2022-01-01"


def test_the_summary_counts_agencies_meeting_their_target(khanh_hoa):
    rows = khanh_hoa.rows(
        "SELECT admin_level, agencies, agencies_met, agencies_no_data, share_met "
        "FROM marts.target_compliance_summary WHERE as_of_month = DATE '2022-01-01' "
        "ORDER BY admin_level")
    assert rows == [
        {"admin_level": "district", "agencies": 1, "agencies_met": 0, "agencies_no_data": 1,
         "share_met": 0.0},
        {"admin_level": "province", "agencies": 4, "agencies_met": 2, "agencies_no_data": 0,
         "share_met": 0.5},
    ]
