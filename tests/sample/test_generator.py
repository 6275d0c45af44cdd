"""The sample generator, checked from the files it writes, independently of the pipeline.

The seed-report checks read the JSON lines of January–April 2022 at scale 0.5 (the
smallest scale the picture is promised for) and recompute the metrics of DESIGN §4 on the
latest snapshot of each dossier with pandas.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.sample import SampleSummary, generate_landing, seed_2022
from dvctt_pipeline.sample.catalog import build_catalogue
from dvctt_pipeline.sample.generator import month_range
from dvctt_pipeline.sample.plan import Planner, build_design

SEED_SCALE = 0.5
# The fields the checks need, in the generator's key order. Bad lines (truncated, without
# MaHoSo or NgayTiepNhan) do not match, as a pipeline would quarantine them.
RECORD = re.compile(
    r'^\{"MaHoSo":"([^"]+)",(?:"MaDonViXuLy":"([^"]+)",)?"DonViXuLy":"(?:[^"\\]|\\.)*",'
    r'"MaTTHC":"([^"]+)".*?"KenhThucHien":(""|\d),"NgayTiepNhan":"(\d{14})",'
    r'"NgayHenTra":"(\d{14})","NgayKetThucXuLy":"(\d{14}|)".*?"TrangThaiHoSo":(\d+),'
    r'"DuocThanhToanTrucTuyen":(\d),"DanhSachLePhi":(\[[^\]]*\])',
    re.MULTILINE,
)
RECORD_COLUMNS = ["MaHoSo", "MaDonViXuLy", "MaTTHC", "KenhThucHien", "NgayTiepNhan",
                  "NgayHenTra", "NgayKetThucXuLy", "TrangThaiHoSo", "DuocThanhToanTrucTuyen",
                  "DanhSachLePhi"]


def read_registry(landing: Path) -> pd.DataFrame:
    return pd.read_csv(landing / "reference" / "agencies.csv", dtype=str, keep_default_na=False)


def read_snapshots(landing: Path) -> pd.DataFrame:
    frames = []
    for path in sorted((landing / "dossiers").glob("*/*.jsonl")):
        matches = RECORD.findall(path.read_text(encoding="utf-8"))
        frame = pd.DataFrame(matches, columns=RECORD_COLUMNS)
        frame["export_day"], frame["file"] = path.parent.name, path.name
        frame["position"] = range(len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def latest_records(landing: Path, snapshots: pd.DataFrame | None = None) -> pd.DataFrame:
    """The truth: each dossier's snapshot in the latest export (folder, file, position)."""
    if snapshots is None:
        snapshots = read_snapshots(landing)
    ordered = snapshots.sort_values(["export_day", "file", "position"])
    latest = ordered.drop_duplicates("MaHoSo", keep="last").copy()
    prefix = latest["MaHoSo"].str.split("-").str[0]
    latest["agency_code"] = latest["MaDonViXuLy"].mask(latest["MaDonViXuLy"] == "", prefix)
    registry = read_registry(landing)[["agency_code", "province_code", "admin_level"]]
    return latest.merge(registry, on="agency_code", how="left", validate="many_to_one")


@pytest.fixture(scope="module")
def seed_landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    landing = tmp_path_factory.mktemp("seed")
    return landing, generate_landing(landing, "2022-01", "2022-04", scale=SEED_SCALE)


@pytest.fixture(scope="module")
def seed_snapshots(seed_landing: tuple[Path, SampleSummary]) -> pd.DataFrame:
    return read_snapshots(seed_landing[0])


@pytest.fixture(scope="module")
def seed_latest(seed_landing: tuple[Path, SampleSummary],
                seed_snapshots: pd.DataFrame) -> pd.DataFrame:
    return latest_records(seed_landing[0], seed_snapshots)


@pytest.fixture(scope="module")
def seed_received(seed_latest: pd.DataFrame) -> pd.DataFrame:
    records = seed_latest
    in_period = records["NgayTiepNhan"].between("20220101000000", "20220430235959")
    received = records[in_period & (records["TrangThaiHoSo"] != "3")].copy()
    received["online"] = received["KenhThucHien"] == "2"
    return received


@pytest.fixture(scope="module")
def seed_catalogue(seed_landing: tuple[Path, SampleSummary]) -> pd.DataFrame:
    (snapshot,) = (seed_landing[0] / "catalog").glob("services_*.csv")
    return pd.read_csv(snapshot, dtype=str)


@pytest.fixture(scope="module")
def reorganisation_pair(tmp_path_factory: pytest.TempPathFactory
                        ) -> tuple[Path, Path, SampleSummary, SampleSummary]:
    """The same small range, across 2025-07-01, generated twice."""
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    return (first, second, generate_landing(first, "2025-06", "2025-07", scale=0.03, seed=7),
            generate_landing(second, "2025-06", "2025-07", scale=0.03, seed=7))


def ranked(values: pd.Series) -> list[str]:
    return values.sort_values(ascending=False, kind="stable").index.tolist()


def test_same_arguments_give_identical_files(reorganisation_pair) -> None:
    first, second, summary_first, summary_second = reorganisation_pair
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative
    assert summary_first.snapshots == summary_second.snapshots
    assert summary_first.files == len([f for f in files if f.parts[0] == "dossiers"])


def test_national_online_share_is_the_seed_figure(seed_received: pd.DataFrame) -> None:
    share = seed_received["online"].mean()
    assert abs(share - seed_2022.NATIONAL_ONLINE_SHARE_ALL) <= 0.0015


def test_monthly_shares_rise_at_each_province_s_own_pace(seed_received: pd.DataFrame) -> None:
    received = seed_received.assign(month=seed_received["NgayTiepNhan"].str[:6])
    national = received.groupby("month")["online"].mean()
    assert national.is_monotonic_increasing and national.iloc[-1] - national.iloc[0] > 0.01
    by_province = received.groupby(["province_code", "month"])["online"].mean().unstack()
    rise = by_province["202204"] - by_province["202201"]
    assert (rise > 0).mean() > 0.8  # most provinces rise, not all alike
    assert rise.quantile(0.9) - rise.quantile(0.1) > 0.01


def test_fee_cuts_move_their_procedures_online(seed_landing,
                                               seed_received: pd.DataFrame) -> None:
    """Difference-in-differences of the online share of dossiers with a fee: the covered
    procedures against the province's other ones, before and after valid_from."""
    fees = pd.read_csv(seed_landing[0] / "fees" / "fee_policies.csv", dtype=str)
    with_fee = seed_received[seed_received["DanhSachLePhi"] != "[]"]
    for (province, valid_from), policy in fees.groupby(["province_code", "valid_from"]):
        dossiers = with_fee[with_fee["province_code"] == province]
        covered = dossiers["MaTTHC"].isin(policy["MaTTHC"])
        after = dossiers["NgayTiepNhan"] >= valid_from.replace("-", "")
        change = {group: dossiers[in_group & after]["online"].mean()
                  - dossiers[in_group & ~after]["online"].mean()
                  for group, in_group in (("covered", covered), ("others", ~covered))}
        assert change["covered"] - change["others"] > 0.03, province
    assert set(fees["valid_from"]) == {"2022-02-01", "2022-03-01"}  # inside the demo's months


def test_online_share_rankings_match_the_report(seed_received: pd.DataFrame) -> None:
    counts = seed_received.groupby("province_code")["online"].agg(["sum", "size"])
    share = counts["sum"] / counts["size"]
    order = ranked(share)
    assert order[:5] == list(seed_2022.ONLINE_SHARE_ALL_TOP5)
    assert order[-5:] == list(seed_2022.ONLINE_SHARE_ALL_BOTTOM5)
    # Wide gaps at the edges: sampling noise cannot swap a listed province with another.
    assert share[order[4]] - share[order[5]] >= 0.01
    assert share[order[-6]] - share[order[-5]] >= 0.01
    assert share["44"] == pytest.approx(0.0272, abs=0.003)
    assert share["33"] == pytest.approx(0.0576, abs=0.003)


def test_dvctt_uptake_rankings_match_the_report(seed_received: pd.DataFrame,
                                                seed_catalogue: pd.DataFrame) -> None:
    dvctt = seed_catalogue[seed_catalogue["MucDo"].isin(["3", "4"])]
    keys = ["province_code", "admin_level", "MaTTHC"]
    online = seed_received[seed_received["online"]].merge(dvctt[keys], on=keys)
    with_online = online.drop_duplicates(keys).groupby("province_code").size()
    uptake = (with_online / dvctt.groupby("province_code").size()).fillna(0.0)
    order = ranked(uptake)
    assert order[:5] == list(seed_2022.DVCTT_UPTAKE_TOP5)
    assert order[-5:] == list(seed_2022.DVCTT_UPTAKE_BOTTOM5)
    assert uptake[order[4]] - uptake[order[5]] >= 0.01
    assert uptake[order[-6]] - uptake[order[-5]] >= 0.01
    assert uptake["22"] == pytest.approx(0.868, abs=0.01)
    assert uptake["27"] == pytest.approx(0.5525, abs=0.01)


def test_nearly_all_eligible_procedures_are_offered_end_to_end(
        seed_catalogue: pd.DataFrame) -> None:
    full = seed_catalogue[seed_catalogue["MucDo"] == "4"].groupby("province_code").size()
    eligible = seed_catalogue[seed_catalogue["du_dieu_kien_toan_trinh"] == "1"]
    eligible_count = eligible.groupby("province_code").size()
    assert full.sum() / eligible_count.sum() > seed_2022.FULL_ONLINE_PROVISION_NATIONAL_MIN
    assert ((full / eligible_count).between(0.95, 1.0)).all()


def test_other_rates_are_plausible(seed_latest: pd.DataFrame,
                                   seed_received: pd.DataFrame) -> None:
    with_fee = seed_received[seed_received["DanhSachLePhi"] != "[]"]
    assert 0.10 <= with_fee["DuocThanhToanTrucTuyen"].isin(["1", "2"]).mean() <= 0.40
    records = seed_latest
    finished = records[records["NgayKetThucXuLy"].between("20220101", "20220430999999")]
    on_time = (finished["NgayKetThucXuLy"] <= finished["NgayHenTra"]).mean()
    assert 0.85 <= on_time <= 0.98


def test_later_exports_update_earlier_months(seed_latest: pd.DataFrame) -> None:
    records = seed_latest
    finished_later = records["export_day"].str[:7].str.replace("-", "") > (
        records["NgayTiepNhan"].str[:6])
    assert finished_later.mean() > 0.05
    late = records[(records["NgayKetThucXuLy"] != "")
                   & (records["NgayKetThucXuLy"] > records["NgayHenTra"])]
    assert len(late) > 0


def test_every_province_receives_enough_dossiers_at_scale_one() -> None:
    planner = Planner(build_design(build_catalogue(["legacy", "2025"], 2022), 2022), 1.0)
    for month in month_range("2021-01", "2026-12"):
        received = planner.counts(month).groupby("province_code")["received"].sum()
        assert received.min() >= 250, month
        if month == date(2022, 1, 1):
            assert 35_000 <= received.sum() <= 40_000
            assert received.nlargest(2).index.tolist() in (["79", "01"], ["01", "79"])


def test_agency_codes_are_unique_and_name_every_dossier(seed_landing,
                                                       seed_snapshots: pd.DataFrame) -> None:
    landing, summary = seed_landing
    registry = read_registry(landing)
    assert registry["agency_code"].is_unique and len(registry) == summary.agencies
    hoa_binh = registry[registry["province_code"] == seed_2022.HOA_BINH_CODE]
    assert (hoa_binh["admin_level"] == "province").sum() == 17
    assert (hoa_binh["admin_level"] == "district").sum() == 10
    snapshots = seed_snapshots
    prefixes = set(snapshots["MaHoSo"].str.split("-").str[0])
    assert prefixes <= set(registry["agency_code"])
    assert 0.75 <= (snapshots["MaDonViXuLy"] != "").mean() <= 0.85
    assert summary.snapshots == len(snapshots)


def test_bad_lines_are_recorded_as_written(reorganisation_pair) -> None:
    landing, _, summary, _ = reorganisation_pair
    found = dict.fromkeys(summary.bad_lines, 0)
    valid = 0
    for path in (landing / "dossiers").glob("*/*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                found["truncated_json"] += 1
                continue
            if "MaHoSo" not in record:
                found["missing_ma_ho_so"] += 1
            elif "NgayTiepNhan" not in record:
                found["missing_ngay_tiep_nhan"] += 1
            else:
                valid += 1
                assert {"ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email"} <= set(record)
    assert found == summary.bad_lines == {r: 4 for r in found}
    assert valid == summary.snapshots


def test_months_after_reorganisation_use_the_new_geography(reorganisation_pair) -> None:
    landing = reorganisation_pair[0]
    records = latest_records(landing)
    july = records[records["NgayTiepNhan"] >= "20250701"]
    assert set(july["province_code"]) <= set(admin_units.provinces("2025")["province_code"])
    assert len(set(july["province_code"])) == 34
    assert "district" not in set(july["admin_level"])
    registry = read_registry(landing)
    current = registry[registry["valid_from"] == "2025-07-01"]
    assert "district" not in set(current["admin_level"])
    assert set(current.loc[current["admin_level"] == "commune", "commune_code"]) == set(
        admin_units.communes("2025")["commune_code"])
    catalogue = pd.read_csv(landing / "catalog" / "services_2025-07-01.csv", dtype=str)
    assert {"một phần", "toàn trình"} <= set(catalogue["MucDo"])
    assert catalogue["province_code"].nunique() == 34


def test_targets_and_fee_policies_follow_the_report(seed_landing) -> None:
    landing = seed_landing[0]
    targets = pd.read_csv(landing / "targets" / "targets_2022.csv", dtype=str,
                          keep_default_na=False)
    hoa_binh = targets[(targets["province_code"] == "17") & (targets["agency_code"] == "")]
    assert set(hoa_binh["admin_level"]) == {"province", "district"}
    assert (hoa_binh["target_min"] == "0.55").all()
    khanh_hoa = targets[targets["province_code"] == "56"].set_index("admin_level")
    assert khanh_hoa.loc["district", ["target_min", "target_stretch"]].tolist() == [
        "0.35", "0.4"]
    assert targets[targets["province_code"] == "19"]["admin_level"].tolist() == ["*"]
    assert (targets["agency_code"] != "").sum() == 1
    fees = pd.read_csv(landing / "fees" / "fee_policies.csv", dtype=str)
    assert fees["province_code"].value_counts().to_dict() == {"49": 13, "79": 6}


def workbook_rows(path: Path) -> list[tuple]:
    """The rows of a workbook's sheet as Excel shows them (openpyxl, not the project's reader)."""
    return list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))


def test_monthly_reports_are_laid_out_like_the_form_and_add_up(seed_landing) -> None:
    landing, summary = seed_landing
    workbooks = sorted((landing / "reports").glob("*/*.xlsx"))
    assert summary.report_files == len(workbooks) == 8  # two a month
    for path in workbooks:
        rows = workbook_rows(path)
        month = pd.Timestamp(path.parent.name + "-01")
        assert rows[2][0] == (f"(Từ ngày 01/{month:%m/%Y} đến ngày "
                              f"{month + pd.offsets.MonthEnd(0):%d/%m/%Y})")
        assert rows[4][:3] == ("STT", "Đơn vị", "Số hồ sơ nhận giải quyết")
        assert "E6:F6" in {str(r) for r in openpyxl.load_workbook(path).active.merged_cells}
        agencies, total = rows[7:-1], rows[-1]
        assert total[1] == "Tổng cộng"
        assert [a[0] for a in agencies] == list(range(1, len(agencies) + 1))
        counts = [[cell or 0 for cell in row[2:]] for row in agencies]
        assert [sum(column) for column in zip(*counts, strict=True)] == [
            cell or 0 for cell in total[2:]]
        for c in counts:  # received = carried over + online + in person, and so on
            assert c[0] == c[1] + c[2] + c[3] and c[4] == sum(c[5:8]) and c[8] == sum(c[9:11])


def test_the_report_only_commune_has_a_report_and_no_dossier(seed_landing,
                                                              seed_snapshots) -> None:
    landing, _ = seed_landing
    registry = read_registry(landing)
    rows = workbook_rows(landing / "reports" / "2022-03" / "bieu06_cap_xa.xlsx")
    units = {row[1]: row[2:] for row in rows[7:-1]}
    # the report names each commune as one of its registry aliases, so it resolves
    by_alias = registry.set_index("aliases")["agency_code"]
    assert set(units) <= set(by_alias.index)
    report_only = by_alias[rows[-2][1]]
    assert units[rows[-2][1]][0] > 0
    handled = set(seed_snapshots["MaHoSo"].str.split("-").str[0]) | set(
        seed_snapshots["MaDonViXuLy"])
    assert report_only not in handled
    communes = registry[registry["aliases"].isin(units)]["agency_code"]
    assert len(set(communes) & handled) > 0  # its neighbours do have dossiers
