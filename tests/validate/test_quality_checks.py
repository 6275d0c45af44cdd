"""Great Expectations suites as Dagster asset checks: visible on the staged assets, blocking
where a failure would publish wrong figures, results kept for marts.data_quality."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl

from dvctt_pipeline.cli import materialize_months
from dvctt_pipeline.definitions import defs
from dvctt_pipeline.defs.partitions import WAREHOUSE_POOL
from dvctt_pipeline.ingest.dossiers import ingest_dossier_exports
from dvctt_pipeline.validate.expectations import validate_frame
from dvctt_pipeline.validate.quality_checks import (
    QUALITY_CHECKS,
    check_rows,
    record_results,
    run_check,
)
from dvctt_pipeline.warehouse import ensure_base_tables

AGENCIES = (
    "agency_code,agency_name,admin_level,province_code,district_code,commune_code,valid_from,"
    "valid_to,aliases\n"
    "000.00.12.H17,Sở Tư pháp tỉnh Hòa Bình,province,17,,,,,\n"
    "000.00.05.H17,Sở Y tế tỉnh Hòa Bình,province,17,,,,,\n"
)
BLOCKING = {"published_dossiers_have_an_agency", "dossier_ids_are_unique",
            "month_keeps_its_dossiers", "month_has_a_readable_export",
            "report_totals_match_agency_rows"}


def test_the_checks_are_on_the_staged_assets_blocking_where_figures_would_be_wrong():
    graph = defs().resolve_asset_graph()
    checks = {key.name: key.asset_key.to_user_string() for key in graph.asset_check_keys}
    assert checks["report_totals_match_agency_rows"] == "raw/report_rows"
    assert checks["month_keeps_its_dossiers"] == "staging/dossiers"
    assert checks["dossier_ids_are_unique"] == "staging/dossiers"
    assert checks["published_dossiers_have_an_agency"] == "staging/dossiers"
    for key in graph.asset_check_keys:
        node = graph.get_check_spec(key)
        assert node.blocking == (key.name in BLOCKING), key.name
        assert node.description, key.name
    assert len(graph.asset_check_keys) == len(QUALITY_CHECKS)
    # evaluated in the SQL models' step, which holds the warehouse's one slot
    for key in graph.asset_check_keys:
        assert defs().resolve_assets_def(key.asset_key).op.pool == WAREHOUSE_POOL


def write_report(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [
        ["(Từ ngày 01/03/2022 đến ngày 31/03/2022)"],
        ["STT", "Đơn vị", "Số hồ sơ nhận giải quyết", None, None, None, "Đã giải quyết", None,
         None, None, "Đang giải quyết"],
        [None, None, "Tổng số", "Từ kỳ trước", "Trực tuyến", "Trực tiếp", "Tổng số", "Trước hạn",
         "Đúng hạn", "Quá hạn", "Tổng số", "Trong hạn", "Quá hạn"],
        *rows,
    ]:
        sheet.append(row)
    workbook.save(path)


def test_a_report_whose_total_row_is_wrong_blocks_what_depends_on_it(folders):
    (folders.landing / "reference").mkdir(parents=True)
    (folders.landing / "reference" / "agencies.csv").write_text(AGENCIES, encoding="utf-8")
    export = folders.landing / "dossiers" / "2022-03-02" / "dvcqg.jsonl"
    export.parent.mkdir(parents=True)
    export.write_text(json.dumps({
        "MaHoSo": "000.00.12.H17-1", "KenhThucHien": 2, "NgayTiepNhan": "20220302080000",
        "TrangThaiHoSo": 4}) + "\n", encoding="utf-8")
    write_report(folders.landing / "reports" / "2022-03" / "bieu 06.xlsx", [
        [1, "Sở Tư pháp tỉnh Hòa Bình", 100, 0, 60, 40, 90, 10, 70, 10, 10, 10, 0],
        [2, "Sở Y tế tỉnh Hòa Bình", 50, 0, 20, 30, 50, 5, 40, 5, 0, 0, 0],
        [None, "Tổng cộng", 160, 0, 80, 70, 140, 15, 110, 15, 10, 10, 0],
    ])

    result = materialize_months("2022-03", "2022-03")

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    failed = evaluations["report_totals_match_agency_rows"]
    assert not failed.passed
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    table = failed.metadata["failures"].value
    assert "received_total" in table and "160" in table and "150" in table
    assert evaluations["dossier_ids_are_unique"].passed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "raw/report_rows" in materialized
    assert "core/agency_report_month" not in materialized  # blocked: not built on wrong totals
    (detail,) = folders.query(
        "SELECT detail FROM meta.check_results JOIN meta.source_files USING (file_id) "
        "WHERE check_name = 'report_totals_match_agency_rows' AND NOT passed "
        "AND relative_path = 'reports/2022-03/bieu 06.xlsx'"
    )[0]
    assert "stated=160" in detail and "agency_rows_sum=150" in detail


def staged_dossiers(con: duckdb.DuckDBPyConnection, dossiers: int) -> None:
    con.execute("DROP TABLE IF EXISTS staging.dossiers")
    con.execute(
        "CREATE TABLE staging.dossiers AS SELECT 'HS-' || i AS ma_ho_so, "
        "'000.00.12.H17' AS agency_code, NULL::VARCHAR AS quarantine_reason, "
        "DATE '2022-03-01' AS received_month, false AS kenh_was_empty FROM range($n) t(i)",
        {"n": dossiers},
    )


def test_a_month_that_loses_more_than_half_of_its_dossiers_fails():
    check = next(c for c in QUALITY_CHECKS if c.name == "month_keeps_its_dossiers")
    month, next_month = date(2022, 3, 1), date(2022, 4, 1)
    with duckdb.connect() as con:
        ensure_base_tables(con)
        outcomes = []
        for dossiers in (10, 6, 2):
            staged_dossiers(con, dossiers)
            frame, outcome = run_check(con, check, month, next_month)
            record_results(con, check, [month], frame, outcome)
            outcomes.append(outcome)
        assert [o.success for o in outcomes] == [True, True, False]
        # compared with the last load that passed: 2 of 6 kept
        assert outcomes[-1].failures["kept_share"].tolist() == [2 / 6]


class CountedConnection:
    """A connection that keeps the queries it is given."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.queries = con, []

    def execute(self, sql: str, parameters: object = None) -> duckdb.DuckDBPyConnection:
        self.queries.append(sql)
        return self.con.execute(sql, parameters)


def test_the_checks_of_the_staged_dossiers_read_them_once_and_each_finds_its_fault():
    """Ten dossiers of March: one id twice, one published without an agency, half of them
    set aside for an unknown agency, 6 with an empty channel."""
    names = ("published_dossiers_have_an_agency", "dossier_ids_are_unique",
             "agencies_mostly_resolved", "channels_mostly_recorded")
    with duckdb.connect() as con:
        ensure_base_tables(con)
        con.execute(
            "CREATE TABLE staging.dossiers AS SELECT 'HS-' || (i % 9) AS ma_ho_so, "
            "CASE WHEN i <> 2 THEN '000.00.12.H17' END AS agency_code, "
            "CASE WHEN i BETWEEN 3 AND 7 THEN 'unknown_agency' END AS quarantine_reason, "
            "DATE '2022-03-01' AS received_month, i < 6 AS kenh_was_empty FROM range(10) t(i)")
        counted, shared = CountedConnection(con), {}
        frames = {name: check_rows(counted, check, date(2022, 3, 1), date(2022, 4, 1), shared)
                  for name in names
                  for check in QUALITY_CHECKS if check.name == name}

    assert len(counted.queries) == 1
    failing = {name: validate_frame(name, frame, check.expectations).failures
               for name, frame in frames.items()
               for check in QUALITY_CHECKS if check.name == name}
    assert {name: len(rows) for name, rows in failing.items()} == dict.fromkeys(names, 1)
    (month,) = failing["dossier_ids_are_unique"].to_dict("records")
    assert (month["dossiers"], month["duplicate_ids"], month["published_without_agency"],
            month["unknown_agency_share"], month["empty_channel_share"]) == (10, 1, 1, 0.5, 0.6)


def land_export(landing: Path, relative: str, received: str, dossiers: int = 2,
                cut_short: bool = False) -> None:
    """A gzipped JSON-lines export of dossiers received on `received` (yyyyMMdd); cut short,
    as a copy interrupted half way."""
    content = gzip.compress("".join(json.dumps({
        "MaHoSo": f"{relative}-{n}", "KenhThucHien": 2, "NgayTiepNhan": f"{received}080000",
        "TrangThaiHoSo": 4}) + "\n" for n in range(dossiers)).encode())
    path = landing / "dossiers" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content[: len(content) // 2] if cut_short else content)


def test_a_month_whose_exports_all_failed_is_lost_on_its_first_delivery(tmp_path):
    """February: a daily export loads. March: its one export (the portal's monthly dump)
    cannot be read. April: nothing staged, and its dump, exported on 1 May, cannot be read.
    May: a bad file beside a good one fails alone. June: no export yet, nothing failed."""
    land_export(tmp_path, "2022-02-10/dvcqg.jsonl.gz", "20220210")
    land_export(tmp_path, "2022-03-31/thang-03.jsonl.gz", "20220315", cut_short=True)
    land_export(tmp_path, "2022-05-01/thang-04.jsonl.gz", "20220415", cut_short=True)
    land_export(tmp_path, "2022-05-15/dvcqg.jsonl.gz", "20220515")
    check = next(c for c in QUALITY_CHECKS if c.name == "month_has_a_readable_export")
    with duckdb.connect() as con:
        ensure_base_tables(con)
        ingest_dossier_exports(con, tmp_path)
        con.execute("CREATE TABLE staging.dossiers AS SELECT date_trunc('month', "
                    "ngay_tiep_nhan)::DATE AS received_month FROM raw.dossier_snapshots")
        frame, outcome = run_check(con, check, date(2022, 2, 1), date(2022, 7, 1))

    assert not outcome.success
    assert outcome.failures["month"].dt.strftime("%Y-%m").tolist() == ["2022-03", "2022-04"]
    lost = {month: text if isinstance(text, str) else None
            for month, text in zip(frame["month"].dt.strftime("%Y-%m"), frame["lost"],
                                   strict=True)}
    assert lost == {
        "2022-02": None,
        "2022-03": "every dossier export dated in the month failed "
                   "(dossiers/2022-03-31/thang-03.jsonl.gz)",
        "2022-04": "no dossier staged, and exports dated in the next month failed "
                   "(dossiers/2022-05-01/thang-04.jsonl.gz)",
        "2022-05": None,
        "2022-06": None,
    }


def test_a_check_with_nothing_to_check_says_so(folders):
    """A month with dossiers and no monthly report: the report checks pass, but say they had
    nothing to check; the dossier checks count the month and its dossiers by name."""
    (folders.landing / "reference").mkdir(parents=True)
    (folders.landing / "reference" / "agencies.csv").write_text(AGENCIES, encoding="utf-8")
    export = folders.landing / "dossiers" / "2022-03-02" / "dvcqg.jsonl"
    export.parent.mkdir(parents=True)
    export.write_text("\n".join(json.dumps({
        "MaHoSo": f"000.00.12.H17-{n}", "KenhThucHien": 2, "NgayTiepNhan": "20220302080000",
        "TrangThaiHoSo": 4}) for n in range(3)) + "\n", encoding="utf-8")

    result = materialize_months("2022-03", "2022-03")

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    for name, counted in (("report_rows_add_up", "agency_rows_checked"),
                          ("report_totals_match_agency_rows", "total_cells_checked")):
        evaluation = evaluations[name]
        assert evaluation.passed
        assert evaluation.metadata[counted].value == 0
        assert evaluation.metadata["nothing_to_check"].value is True
        assert evaluation.description == (
            "Nothing to check: raw.report_rows has no rows in 2022-03; passed vacuously.")
    resolved = evaluations["agencies_mostly_resolved"]
    assert resolved.metadata["months_checked"].value == 1
    assert resolved.metadata["dossiers_checked"].value == 3
    assert resolved.metadata["nothing_to_check"].value is False
    assert resolved.description is None
