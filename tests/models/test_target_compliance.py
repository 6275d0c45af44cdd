"""Target compliance at every month: ytd actual against the target that applies."""

from __future__ import annotations

import pytest


def compliance(warehouse, as_of_month: str) -> dict[str, dict]:
    rows = warehouse.rows(
        "SELECT * FROM marts.target_compliance WHERE as_of_month = $month",
        {"month": as_of_month},
    )
    return {row["agency_code"]: row for row in rows}


@pytest.fixture(scope="module")
def khanh_hoa(new_module_warehouse):
    """Khánh Hòa: departments 45–50 %, districts 35–40 %, one department with its own 70 %;
    its tests only read it."""
    warehouse = new_module_warehouse()
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


# ------------------------------------------------ what an agency below target still needs

def year_end_share(row: dict, share_rest_of_year: float) -> float:
    """The second computation: the rest of the year simulated month by month at the
    year-to-date monthly volume and the given share, then the year's ratio of sums."""
    months_elapsed = row["as_of_month"].month
    monthly_volume = row["ytd_received"] / months_elapsed
    received, counted = row["ytd_received"], row["ytd_counted"]
    for _ in range(months_elapsed, 12):
        received += monthly_volume
        counted += monthly_volume * share_rest_of_year
    return counted / received


@pytest.fixture(scope="module")
def hoa_binh(new_module_warehouse):
    """Four months of Hòa Bình: 10 dossiers a month per agency, different targets and
    metrics; its tests only read it."""
    warehouse = new_module_warehouse()
    warehouse.catalogue("2022-01-01", "17", "province", {"P1": ("full", True),
                                                          "P2": ("information", False)})
    for code in ("S1", "S2", "S3", "S4", "S5"):
        warehouse.agency(code, "province", "17")
    warehouse.target(2022, "17", "province", "online_share_all", 0.55, 0.60)
    warehouse.target(2022, "17", "province", "online_share_all", 0.80, agency="S2")
    warehouse.target(2022, "17", "province", "online_share_dvctt", 0.50, agency="S3")
    warehouse.target(2022, "17", "province", "dvctt_uptake_rate", 0.90, agency="S4")
    for month in ("2022-01", "2022-02", "2022-03", "2022-04"):
        warehouse.dossiers("S1", "P1", month, 10, online=3)   # 30 % against 55 %
        warehouse.dossiers("S2", "P1", month, 10, online=0)   # 0 % against 80 %
        warehouse.dossiers("S3", "P1", month, 10, online=2)   # DVCTT: 20 % against 50 %
        warehouse.dossiers("S3", "P2", month, 10, online=10)  # all: 60 %, not the target's
        warehouse.dossiers("S4", "P2", month, 10, online=0)
        warehouse.dossiers("S5", "P1", month, 10, online=7)   # 70 %: above the stretch
    warehouse.run("2022-01", "2022-04")
    return warehouse


def test_an_agency_below_target_is_told_the_share_it_still_needs(hoa_binh):
    april = compliance(hoa_binh, "2022-04-01")
    s1 = april["S1"]
    # 40 dossiers, 12 online in 4 months; 80 more to come by December at 10 a month:
    # 55 % of 120 is 66 online, 54 of the 80 still to come
    assert s1["required_status"] == "reachable"
    assert s1["required_rest_of_year"] == pytest.approx(54 / 80)
    assert year_end_share({**s1, "ytd_received": 40, "ytd_counted": 12},
                          s1["required_rest_of_year"]) == pytest.approx(s1["target_min"])


def test_the_need_is_measured_on_the_metric_of_the_target(hoa_binh):
    s3 = compliance(hoa_binh, "2022-04-01")["S3"]
    # its DVCTT dossiers, 8 of 40 online, not its 48 of 80 dossiers of every procedure
    assert (s3["metric"], s3["status"], s3["required_status"]) == (
        "online_share_dvctt", "below", "reachable")
    assert year_end_share({**s3, "ytd_received": 40, "ytd_counted": 8},
                          s3["required_rest_of_year"]) == pytest.approx(0.50)
    assert s3["required_rest_of_year"] == pytest.approx((0.5 * 120 - 8) / 80)


def test_a_need_above_all_dossiers_is_unreachable(hoa_binh):
    s2 = compliance(hoa_binh, "2022-04-01")["S2"]
    # 80 % of 120 is 96 online: more than the 80 dossiers still to come
    assert (s2["required_status"], s2["required_rest_of_year"]) == ("unreachable", None)
    assert year_end_share({**s2, "ytd_received": 40, "ytd_counted": 0}, 1.0) < 0.80


def test_agencies_on_target_or_without_a_volume_need_nothing(hoa_binh):
    april = compliance(hoa_binh, "2022-04-01")
    needs = {code: (row["required_status"], row["required_rest_of_year"])
             for code, row in april.items()}
    assert needs["S5"] == ("on_target", None)
    # a rate of procedures, not of dossiers: a monthly volume does not move it
    assert needs["S4"] == ("not_applicable", None)


def test_nothing_is_left_to_reach_in_december(warehouse):
    warehouse.agency("S1", "province", "17")
    warehouse.target(2022, "17", "province", "online_share_all", 0.55)
    warehouse.target(2022, "17", "district", "online_share_all", 0.55)
    warehouse.agency("Q1", "district", "17")
    warehouse.dossiers("S1", "P1", "2022-12", 10, online=3)
    warehouse.run("2022-12", "2022-12")
    december = compliance(warehouse, "2022-12-01")
    assert (december["S1"]["status"], december["S1"]["required_status"],
            december["S1"]["required_rest_of_year"]) == ("below", "no_months_left", None)
    assert (december["Q1"]["required_status"], december["Q1"]["required_rest_of_year"]) == (
        "no_data", None)
