"""marts.fee_policy_effect: did a fee cut for online filing move dossiers online?

The figures of a hand-made case are computed a second way, with pandas on the dossier records
as loaded, and must match the model's; the windows follow the rules of issue 14.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pandas as pd
import pytest

if TYPE_CHECKING:
    from tests.models.conftest import HandMadeWarehouse

HCM, QUANG_NAM, HA_NOI = "79", "49", "01"


def fee_policy(warehouse: HandMadeWarehouse, province: str, procedures: list[str],
               valid_from: str, valid_to: str | None, decision: str) -> None:
    warehouse.con.executemany(
        "INSERT INTO core.fee_policies VALUES (?, ?, 50, ?, ?, ?, 'fees/fee_policies.csv', ?)",
        [(province, code, date.fromisoformat(valid_from),
          date.fromisoformat(valid_to) if valid_to else None, decision, row)
         for row, code in enumerate(procedures, start=2)],
    )


def effect_rows(warehouse: HandMadeWarehouse) -> dict[str, dict]:
    return {row["decision_ref"]: row for row in warehouse.rows(
        "SELECT * FROM marts.fee_policy_effect ORDER BY province_code, decision_ref")}


def months(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def expected_effect(warehouse: HandMadeWarehouse, province: str, covered: set[str],
                    excluded: set[str], valid_from: date, valid_to: date | None) -> dict:
    """The effect from the loaded records with pandas: latest snapshot of each dossier,
    received (not refused), with a fee, of the province's agencies, in the windows."""
    snapshots = warehouse.con.execute(
        "SELECT ma_ho_so, ma_don_vi_xu_ly AS agency_code, ma_tthc, kenh_thuc_hien, "
        "ngay_tiep_nhan, trang_thai, fee_total, file_id, line_no "
        "FROM raw.dossier_snapshots").df()
    agencies = warehouse.con.execute("SELECT agency_code, province_code FROM core.agencies").df()
    latest = snapshots.sort_values(["file_id", "line_no"]).groupby("ma_ho_so").tail(1)
    dossiers = latest.merge(agencies, on="agency_code")
    dossiers["month"] = dossiers["ngay_tiep_nhan"].dt.to_period("M")
    loaded = set(dossiers["month"])
    policy_month = pd.Period(valid_from, "M")
    first_after = policy_month if valid_from.day == 1 else policy_month + 1
    before = {policy_month - k for k in range(1, 7)} & loaded
    after = {m for m in (first_after + k for k in range(6))
             if valid_to is None or m.end_time.date() <= valid_to} & loaded
    fee_bearing = dossiers[(dossiers["province_code"] == province) & (dossiers["trang_thai"] != 3)
                           & (dossiers["fee_total"] > 0) & ~dossiers["ma_tthc"].isin(excluded)]
    expected: dict[str, object] = {}
    for group, in_group in (("covered", fee_bearing["ma_tthc"].isin(covered)),
                            ("others", ~fee_bearing["ma_tthc"].isin(covered))):
        for side, side_months in (("before", before), ("after", after)):
            cell = fee_bearing[in_group & fee_bearing["month"].isin(side_months)]
            online = int((cell["kenh_thuc_hien"] == 2).sum())
            expected[f"{group}_{side}_received"] = len(cell)
            expected[f"{group}_{side}_online"] = online
            expected[f"{group}_share_{side}"] = online / len(cell)
    expected["did_pp"] = 100 * (
        (expected["covered_share_after"] - expected["covered_share_before"])
        - (expected["others_share_after"] - expected["others_share_before"]))
    expected["before_start"] = min(before).start_time.date()
    expected["before_end"] = max(before).end_time.date()
    expected["after_start"] = min(after).start_time.date()
    expected["after_end"] = max(after).end_time.date()
    return expected


def test_the_effect_of_a_hand_made_fee_cut_matches_a_second_computation(
        warehouse: HandMadeWarehouse) -> None:
    department = warehouse.agency("000.00.01.H79", "province", HCM)
    district = warehouse.agency("000.00.02.H79", "district", HCM)
    elsewhere = warehouse.agency("000.00.01.H01", "province", HA_NOI)
    # the covered procedures go online faster after the cut (from 15 March: April on) than
    # the province's other fee-bearing procedures; the volumes differ month by month
    plan = {  # month: (covered received, online; others received, online)
        "2021-12": (60, 9, 90, 20), "2022-01": (50, 8, 70, 14), "2022-02": (40, 5, 80, 17),
        "2022-03": (55, 30, 85, 20),  # the month of the cut: in neither window
        "2022-04": (45, 20, 75, 19), "2022-05": (60, 31, 90, 24), "2022-06": (52, 29, 70, 19),
        "2022-07": (50, 40, 60, 30),  # after valid_to: outside
    }
    for month, (covered, covered_online, others, others_online) in plan.items():
        warehouse.dossiers(department, "1.000001", month, covered, online=covered_online,
                           with_fee=covered)
        warehouse.dossiers(district, "1.000002", month, covered // 2, online=covered_online // 3,
                           with_fee=covered // 2)
        warehouse.dossiers(department, "2.000001", month, others, online=others_online,
                           with_fee=others)
        # none of these count: no fee, a procedure of the province's other policy, another
        # province's dossiers of a covered procedure
        warehouse.dossiers(department, "2.000002", month, 30, online=25, with_fee=0)
        warehouse.dossiers(district, "3.000009", month, 20, online=19, with_fee=20)
        warehouse.dossiers(elsewhere, "1.000001", month, 40, online=2, with_fee=40)
    fee_policy(warehouse, HCM, ["1.000001", "1.000002"], "2022-03-15", "2022-06-30", "NQ 10")
    fee_policy(warehouse, HCM, ["3.000009"], "2020-01-01", None, "NQ 03")
    warehouse.run("2021-12", "2022-07")

    row = effect_rows(warehouse)["NQ 10"]
    expected = expected_effect(warehouse, HCM, {"1.000001", "1.000002"}, {"3.000009"},
                               date(2022, 3, 15), date(2022, 6, 30))
    for column, value in expected.items():
        assert row[column] == pytest.approx(value), column
    assert (row["before_start"], row["before_end"]) == (date(2021, 12, 1), date(2022, 2, 28))
    assert (row["after_start"], row["after_end"]) == (date(2022, 4, 1), date(2022, 6, 30))
    assert row["did_pp"] > 10  # the cut worked in this case
    assert (row["status"], row["province_name"]) == ("ok", "Hồ Chí Minh")
    assert (row["covered_procedures"], row["covered_procedure_count"]) == (
        ["1.000001", "1.000002"], 2)


def test_windows_follow_valid_from_valid_to_and_the_months_loaded(
        warehouse: HandMadeWarehouse) -> None:
    agency = warehouse.agency("000.00.01.H49", "province", QUANG_NAM)
    for month in months("2022-01", "2022-12"):
        warehouse.dossiers(agency, "1.000001", month, 1, with_fee=1)
    policies = {  # decision: valid_from, valid_to
        "from the 1st": ("2022-07-01", None),
        "mid-month": ("2022-07-15", None),
        "cut by valid_to": ("2022-04-01", "2022-08-20"),
        "nothing loaded before": ("2022-01-10", None),
    }
    for decision, (valid_from, valid_to) in policies.items():
        fee_policy(warehouse, QUANG_NAM, ["1.000001"], valid_from, valid_to, decision)
    warehouse.run("2022-01", "2022-12")

    windows = {
        decision: (row["before_start"], row["before_end"], row["before_months"],
                   row["after_start"], row["after_end"], row["after_months"])
        for decision, row in effect_rows(warehouse).items()}
    assert windows == {
        # six full months each side
        "from the 1st": (date(2022, 1, 1), date(2022, 6, 30), 6,
                         date(2022, 7, 1), date(2022, 12, 31), 6),
        # the month it took effect belongs to neither side; December is the last loaded
        "mid-month": (date(2022, 1, 1), date(2022, 6, 30), 6,
                      date(2022, 8, 1), date(2022, 12, 31), 5),
        # January–March are all that is loaded before; August is not a full month in force
        "cut by valid_to": (date(2022, 1, 1), date(2022, 3, 31), 3,
                            date(2022, 4, 1), date(2022, 7, 31), 4),
        "nothing loaded before": (None, None, 0, date(2022, 2, 1), date(2022, 7, 31), 6),
    }


def test_a_cell_under_100_dossiers_gives_insufficient_data(
        warehouse: HandMadeWarehouse) -> None:
    agency = warehouse.agency("000.00.01.H49", "province", QUANG_NAM)
    for month in months("2022-01", "2022-04"):
        warehouse.dossiers(agency, "1.000001", month, 50, online=10, with_fee=50)  # 100 a side
        warehouse.dossiers(agency, "2.000001", month, 60, online=10, with_fee=60)
    fee_policy(warehouse, QUANG_NAM, ["1.000001"], "2022-03-01", None, "enough")
    fee_policy(warehouse, QUANG_NAM, ["1.000001"], "2022-04-01", None, "one month after")
    warehouse.run("2022-01", "2022-04")

    rows = effect_rows(warehouse)
    assert rows["enough"]["status"] == "ok"
    assert rows["enough"]["did_pp"] == pytest.approx(0.0)
    short = rows["one month after"]
    assert (short["covered_before_received"], short["covered_after_received"]) == (150, 50)
    assert (short["status"], short["did_pp"]) == ("insufficient_data", None)
    assert short["covered_share_after"] == pytest.approx(0.2)  # the shares are still shown
