"""Four sample months through the real Dagster job, checked against the generated records."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from conftest import PipelineFolders, materialize_or_fail

from dvctt_pipeline.serve.summary import seed_report_text

PERSONAL_FIELDS = ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DiaChi")
MARTS = ("agency_period_rates", "province_period_rates", "national_period_rates",
         "province_rankings", "fee_policy_effect")


@pytest.fixture(scope="module")
def pipeline(sample_run) -> PipelineFolders:
    return sample_run.folders


def export_records(landing: Path) -> list[dict]:
    """Every readable record of the exports, in the order the latest snapshot is chosen."""
    records = []
    for path in sorted((landing / "dossiers").glob("*/*.jsonl")):
        for position, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            records.append({**record, "_order": (path.parent.name, path.name, position)})
    return records


@pytest.fixture(scope="module")
def exported(pipeline: PipelineFolders) -> list[dict]:
    """The sample's export records, parsed once for the tests that read them."""
    return export_records(pipeline.landing)


def latest_valid_dossiers(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    frame = frame[frame["MaHoSo"].fillna("").ne("") & frame["NgayTiepNhan"].fillna("").ne("")]
    return frame.sort_values("_order").groupby("MaHoSo").tail(1)


def workbook_rows(path: Path) -> list[tuple]:
    return list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))


def report_only_rows(landing: Path, agencies: pd.DataFrame, dossier_agencies: set[str]
                     ) -> pd.DataFrame:
    """Received and online per agency and month of the Biểu 06 workbooks (read with
    openpyxl), for the agencies without any dossier record: only their reports count them."""
    names = {name: code for code, name_list in zip(
        agencies["agency_code"], agencies["agency_name"] + "|" + agencies["aliases"].fillna(""),
        strict=True) for name in name_list.split("|") if name}
    rows = []
    for path in sorted(landing.glob("reports/*/*.xlsx")):
        for row in workbook_rows(path)[7:-1]:  # under the header, above Tổng cộng
            online, in_person = row[4] or 0, row[5] or 0
            rows.append((names[row[1]], path.parent.name.replace("-", ""),
                         online + in_person, online))
    frame = pd.DataFrame(rows, columns=["agency_code", "month", "received", "received_online"])
    return frame[~frame["agency_code"].isin(dossier_agencies)]


@pytest.fixture(scope="module")
def expected_province_counts(pipeline: PipelineFolders, exported: list[dict]) -> pd.DataFrame:
    """Received and online dossiers per province and month, computed from the files alone:
    the dossier exports, and the workbooks of the agencies that have no dossier."""
    landing = pipeline.landing
    agencies = pd.read_csv(landing / "reference" / "agencies.csv", dtype=str)
    province_of = dict(zip(agencies["agency_code"], agencies["province_code"], strict=True))
    dossiers = latest_valid_dossiers(exported)
    dossiers = dossiers[dossiers["TrangThaiHoSo"].astype(int) != 3]
    agency = dossiers["MaDonViXuLy"].where(
        dossiers["MaDonViXuLy"].isin(province_of), dossiers["MaHoSo"].str.split("-").str[0])
    online = dossiers["KenhThucHien"].astype(str).eq("2")
    counts = pd.DataFrame({
        "agency_code": agency, "month": dossiers["NgayTiepNhan"].str[:6],
        "received": 1, "received_online": online.astype(int),
    })
    reports = report_only_rows(landing, agencies, set(agency))
    assert reports["received"].sum() > 0  # the sample's report-only commune
    counts = pd.concat([counts, reports], ignore_index=True)
    counts["province_code"] = counts["agency_code"].map(province_of)
    return counts.groupby(["province_code", "month"])[["received", "received_online"]].sum(
        ).reset_index()


def test_province_figures_match_the_generated_records(pipeline: PipelineFolders,
                                                      expected_province_counts: pd.DataFrame):
    expected = expected_province_counts
    actual = pd.DataFrame(
        pipeline.query(
            "SELECT province_code, strftime(period_start, '%Y%m'), received, received_online "
            "FROM marts.province_period_rates "
            "WHERE geography = 'as_was' AND period_type = 'month'"),
        columns=["province_code", "month", "received", "received_online"])
    merged = expected.merge(actual, on=["province_code", "month"], how="outer",
                            suffixes=("_files", "_marts"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert (merged["received_files"] == merged["received_marts"]).all()
    assert (merged["received_online_files"] == merged["received_online_marts"]).all()
    assert len(merged) == 4 * 63


def test_national_share_is_a_ratio_of_sums(pipeline: PipelineFolders,
                                           expected_province_counts: pd.DataFrame):
    expected = expected_province_counts
    ((received, online, share),) = pipeline.query(
        "SELECT received, received_online, online_share_all FROM marts.national_period_rates "
        "WHERE period_type = 'ytd' AND period_end = DATE '2022-04-30'")
    assert (received, online) == (expected["received"].sum(), expected["received_online"].sum())
    assert share == pytest.approx(online / received)


def test_bad_lines_are_counted_and_kept_aside(pipeline: PipelineFolders):
    reasons = dict(pipeline.query(
        "SELECT reason, count(*) FROM quarantine.dossier_snapshots GROUP BY reason"))
    assert reasons.get("invalid_json", 0) > 0
    assert reasons.get("missing_ma_ho_so", 0) > 0
    assert reasons.get("missing_ngay_tiep_nhan", 0) > 0
    for read, loaded, quarantined in pipeline.query(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM marts.data_quality"):
        assert read == loaded + quarantined


def test_a_dossier_updated_in_a_later_export_counts_once_in_its_month(pipeline: PipelineFolders,
                                                                     exported: list[dict]):
    records = exported
    months = {}
    for record in records:
        months.setdefault(record.get("MaHoSo"), set()).add(record["_order"][0][:7])
    moved = next(ma for ma, seen in months.items() if ma and len(seen) > 1)
    latest = max((r for r in records if r.get("MaHoSo") == moved), key=lambda r: r["_order"])
    rows = pipeline.query(
        "SELECT strftime(received_month, '%Y%m'), trang_thai, snapshots FROM staging.dossiers "
        "WHERE ma_ho_so = $id", {"id": moved})
    assert rows == [(latest["NgayTiepNhan"][:6], int(latest["TrangThaiHoSo"]),
                     Counter(r.get("MaHoSo") for r in records)[moved])]


def marts_content(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {table: sorted(con.execute(f"SELECT * FROM marts.{table}").fetchall(), key=str)
                for table in MARTS}


def test_rerunning_a_month_gives_identical_marts(pipeline: PipelineFolders):
    before = marts_content(pipeline.warehouse)
    with pytest.MonkeyPatch.context() as env:
        pipeline.point_environment(env)
        materialize_or_fail("2022-02", "2022-02")
    assert marts_content(pipeline.warehouse) == before
    assert marts_content(pipeline.serving) == before


def personal_values(records: list[dict]) -> set[str]:
    return {str(record[field]) for record in records
            for field in PERSONAL_FIELDS if record.get(field)}


@pytest.mark.parametrize("database", ["warehouse", "serving"])
def test_no_personal_data_in_any_table(pipeline: PipelineFolders, exported: list[dict],
                                       database: str):
    values = personal_values(exported)
    assert len(values) > 1000  # the sample does carry personal data
    with duckdb.connect(str(getattr(pipeline, database)), read_only=True) as con:
        con.execute("CREATE TEMP TABLE personal AS SELECT unnest($v) AS personal_value",
                    {"v": sorted(values)})
        text_columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE data_type = 'VARCHAR' AND NOT internal AND database_name = current_database()"
        ).fetchall()
        assert text_columns
        for schema, table, column in text_columns:
            (hits,) = con.execute(
                f'SELECT count(*) FROM {schema}.{table} '
                f'JOIN personal ON "{column}" = personal_value'
            ).fetchone()
            assert hits == 0, f"{schema}.{table}.{column} holds personal data"


def test_the_serving_file_uses_types_bi_drivers_read(pipeline: PipelineFolders):
    """Counts are BIGINT, not DuckDB's 128-bit sums, and every marts column is documented."""
    with duckdb.connect(str(pipeline.serving), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "WHERE schema_name = 'marts'").fetchall()
    assert {table for table, *_ in columns} >= set(MARTS)
    assert [(t, c) for t, c, data_type, _ in columns if data_type == "HUGEINT"] == []
    assert [(t, c) for t, c, _, comment in columns if not comment] == []


def test_the_report_checks_ran_over_the_sample_workbooks(sample_run):
    # one evaluation per check for the run's range of months
    evaluations = {e.asset_check_key.name: e.metadata
                   for e in (event.event_specific_data for event in sample_run.result.all_events
                             if event.event_type_value == "ASSET_CHECK_EVALUATION")}
    rows = evaluations["report_rows_add_up"]
    assert rows["agency_rows_checked"].value > 40 and not rows["nothing_to_check"].value
    assert evaluations["report_totals_match_agency_rows"]["total_cells_checked"].value > 0
    dossiers = evaluations["agencies_mostly_resolved"]
    assert dossiers["months_checked"].value == 4  # the run's months
    assert dossiers["dossiers_checked"].value > 10_000


def test_the_report_only_commune_counts_from_its_reports(pipeline: PipelineFolders):
    """Its dossiers in the marts are those of its four workbooks, read here with openpyxl."""
    in_person = online = 0
    for path in sorted(pipeline.landing.glob("reports/*/bieu06_cap_xa.xlsx")):
        last_agency_row = workbook_rows(path)[-2]
        online += last_agency_row[4] or 0
        in_person += last_agency_row[5] or 0
    ((name, received, received_online),) = pipeline.query(
        "SELECT agency_name, received, received_online FROM marts.agency_period_rates "
        "WHERE source = 'report' AND period_type = 'ytd' AND period_end = DATE '2022-04-30' "
        "AND received > 0")
    assert (received, received_online) == (online + in_person, online)
    assert name == workbook_rows(path)[-2][1].split(",")[0]
    assert pipeline.query("SELECT count(*) FROM quarantine.report_rows") == [(0,)]
    # every unit of the workbooks is matched to its agency, the communes' repeated names too
    assert pipeline.query("SELECT count(*) FROM staging.report_rows "
                          "WHERE agency_code IS NULL OR quarantine_reason IS NOT NULL") == [(0,)]
    assert pipeline.query("SELECT count(*) FROM marts.data_quality "
                          "WHERE kind = 'reports' AND report_rows_unmatched IS NOT NULL") == [(0,)]
    # the other agencies' rows are their dossiers' figures: nothing to reconcile
    assert pipeline.query(
        "SELECT count(*), count(*) FILTER (WHERE received_diff <> 0 OR finished_diff <> 0) "
        "FROM marts.report_reconciliation")[0][1] == 0


def test_a_month_records_its_own_rows_and_describes_every_column(pipeline: PipelineFolders):
    with pytest.MonkeyPatch.context() as env:
        pipeline.point_environment(env)
        result = materialize_or_fail("2022-04", "2022-04")
    metadata = {
        event.asset_key.to_user_string(): event.step_materialization_data.materialization.metadata
        for event in result.get_asset_materialization_events()}
    april = pipeline.query(
        "SELECT count(*) FROM marts.province_rankings "
        "WHERE period_start <= DATE '2022-04-30' AND period_end >= DATE '2022-04-01'")[0][0]
    (whole,) = pipeline.query("SELECT count(*) FROM marts.province_rankings")[0]
    assert metadata["marts/province_rankings"]["dagster/row_count"].value == april < whole
    staged = pipeline.query("SELECT count(*) FROM staging.dossiers "
                            "WHERE received_month = DATE '2022-04-01'")[0][0]
    assert metadata["staging/dossiers"]["dagster/row_count"].value == staged
    # an unpartitioned reference table records the whole of it
    (registry,) = pipeline.query("SELECT count(*) FROM core.agencies")[0]
    assert metadata["core/agencies"]["dagster/row_count"].value == registry
    # a model rewritten whole at every run is no month's: its size is named for what it is
    periods = metadata["core/reporting_periods"]
    assert "dagster/row_count" not in periods
    (every_period,) = pipeline.query("SELECT count(*) FROM core.reporting_periods")[0]
    assert periods["table_rows"].value == every_period
    # the UI describes every column of every table materialized, loaded ones too, in text it
    # shows as written (it takes `<YYYY-MM>` for an HTML tag and drops it)
    undescribed = [f"{key}.{column.name}" for key, data in metadata.items()
                   if "dagster/column_schema" in data
                   for column in data["dagster/column_schema"].value.columns
                   if not column.description or re.search(r"<[A-Za-z]", column.description)]
    assert undescribed == []
    assert "raw/dossier_snapshots" in metadata


def fee_bearing_dossiers(landing: Path, records: list[dict]) -> pd.DataFrame:
    """Received dossiers with a fee (the sum of DanhSachLePhi's Gia above 0): their
    province, procedure, month and whether they were filed online."""
    agencies = pd.read_csv(landing / "reference" / "agencies.csv", dtype=str)
    province_of = dict(zip(agencies["agency_code"], agencies["province_code"], strict=True))
    dossiers = latest_valid_dossiers(records)
    fee = dossiers["DanhSachLePhi"].map(lambda fees: sum(item["Gia"] for item in fees))
    dossiers = dossiers[(dossiers["TrangThaiHoSo"].astype(int) != 3) & (fee > 0)]
    agency = dossiers["MaDonViXuLy"].where(
        dossiers["MaDonViXuLy"].isin(province_of), dossiers["MaHoSo"].str.split("-").str[0])
    return pd.DataFrame({"province_code": agency.map(province_of),
                         "ma_tthc": dossiers["MaTTHC"],
                         "month": dossiers["NgayTiepNhan"].str[:6],
                         "online": dossiers["KenhThucHien"].astype(str).eq("2")})


def test_fee_policy_effects_count_the_generated_dossiers(pipeline: PipelineFolders,
                                                         exported: list[dict]):
    """The sample's two policies take effect on the 1st of a month of the run, so its months
    before are before, its months from then on after (all within valid_to)."""
    policies = pd.read_csv(pipeline.landing / "fees" / "fee_policies.csv", dtype=str)
    dossiers = fee_bearing_dossiers(pipeline.landing, exported)
    rows = {row[0]: row for row in pipeline.query(
        "SELECT province_code, covered_before_received, covered_before_online, "
        "covered_after_received, covered_after_online, others_before_received, "
        "others_before_online, others_after_received, others_after_online, did_pp, status "
        "FROM marts.fee_policy_effect")}
    assert set(rows) == set(policies["province_code"]) == {"49", "79"}
    for province, policy in policies.groupby("province_code"):
        in_province = dossiers[dossiers["province_code"] == province]
        covered = in_province["ma_tthc"].isin(policy["MaTTHC"])
        after = in_province["month"] >= policy["valid_from"].iloc[0].replace("-", "")[:6]
        cells = [in_province[group & side] for group in (covered, ~covered)
                 for side in (~after, after)]
        expected = [count for cell in cells for count in (len(cell), int(cell["online"].sum()))]
        assert list(rows[province][1:9]) == expected, province
        ok = min(len(cell) for cell in cells) >= 100
        assert rows[province][10] == ("ok" if ok else "insufficient_data")
        shares = [cell["online"].mean() for cell in cells]
        expected_did = 100 * ((shares[1] - shares[0]) - (shares[3] - shares[2]))
        assert rows[province][9] == (pytest.approx(expected_did) if ok else None)


def test_the_demo_prints_the_provision_rate_and_the_fee_policies(pipeline: PipelineFolders):
    text = seed_report_text(pipeline.serving, date(2022, 4, 30))
    (provision,) = re.findall(r"full_online_provision_rate\): (\d+\.\d\d)%", text)
    assert float(provision) > 97  # the seed report: more than 97 %
    policy_lines = [line for line in text.splitlines() if "Nghị quyết" in line]
    assert [line.split(",")[0].strip() for line in policy_lines] == ["Quảng Nam", "Hồ Chí Minh"]
    assert all(re.search(r"did_pp [+-]\d+\.\d|insufficient_data", line) for line in policy_lines)
