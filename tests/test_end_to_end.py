"""Four sample months through the real Dagster job, checked against the generated records."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import PipelineFolders, materialize_or_fail

PERSONAL_FIELDS = ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DiaChi")
MARTS = ("agency_period_rates", "province_period_rates", "national_period_rates",
         "province_rankings")


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


def latest_valid_dossiers(landing: Path) -> pd.DataFrame:
    frame = pd.DataFrame(export_records(landing))
    frame = frame[frame["MaHoSo"].fillna("").ne("") & frame["NgayTiepNhan"].fillna("").ne("")]
    return frame.sort_values("_order").groupby("MaHoSo").tail(1)


def expected_province_counts(landing: Path) -> pd.DataFrame:
    """Received and online dossiers per province and month, computed from the files alone."""
    agencies = pd.read_csv(landing / "reference" / "agencies.csv", dtype=str)
    province_of = dict(zip(agencies["agency_code"], agencies["province_code"], strict=True))
    dossiers = latest_valid_dossiers(landing)
    dossiers = dossiers[dossiers["TrangThaiHoSo"].astype(int) != 3]
    agency = dossiers["MaDonViXuLy"].where(
        dossiers["MaDonViXuLy"].isin(province_of), dossiers["MaHoSo"].str.split("-").str[0])
    counts = pd.DataFrame({
        "province_code": agency.map(province_of),
        "month": dossiers["NgayTiepNhan"].str[:6],
        "online": dossiers["KenhThucHien"].astype(str).eq("2"),
    })
    return counts.groupby(["province_code", "month"]).agg(
        received=("online", "size"), received_online=("online", "sum")).reset_index()


def test_province_figures_match_the_generated_records(pipeline: PipelineFolders):
    expected = expected_province_counts(pipeline.landing)
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


def test_national_share_is_a_ratio_of_sums(pipeline: PipelineFolders):
    expected = expected_province_counts(pipeline.landing)
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


def test_a_dossier_updated_in_a_later_export_counts_once_in_its_month(pipeline: PipelineFolders):
    records = export_records(pipeline.landing)
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


def personal_values(landing: Path) -> set[str]:
    return {str(record[field]) for record in export_records(landing)
            for field in PERSONAL_FIELDS if record.get(field)}


@pytest.mark.parametrize("database", ["warehouse", "serving"])
def test_no_personal_data_in_any_table(pipeline: PipelineFolders, database: str):
    values = personal_values(pipeline.landing)
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
