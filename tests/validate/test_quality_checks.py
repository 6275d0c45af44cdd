"""Great Expectations suites as Dagster asset checks: visible on the staged assets, blocking
where a failure would publish wrong figures, results kept for marts.data_quality."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import duckdb
import openpyxl

from dvctt_pipeline.cli import materialize_months
from dvctt_pipeline.definitions import defs
from dvctt_pipeline.defs.partitions import WAREHOUSE_POOL
from dvctt_pipeline.validate.quality_checks import QUALITY_CHECKS, record_results, run_check
from dvctt_pipeline.warehouse import ensure_base_tables

AGENCIES = (
    "agency_code,agency_name,admin_level,province_code,district_code,commune_code,valid_from,"
    "valid_to,aliases\n"
    "000.00.12.H17,Sở Tư pháp tỉnh Hòa Bình,province,17,,,,,\n"
    "000.00.05.H17,Sở Y tế tỉnh Hòa Bình,province,17,,,,,\n"
)
BLOCKING = {"published_dossiers_have_an_agency", "dossier_ids_are_unique",
            "month_keeps_its_dossiers", "report_totals_match_agency_rows"}


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
