"""The reference files: one vocabulary, bad rows set aside with a reason, a file of the wrong
shape failing alone with a message saying what to fix; and the files as a provincial office
makes them (tests/fixtures/manifest.yaml, `reference_cases`)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import duckdb
import pytest
import yaml
from office_files import windows_1258

from dvctt_pipeline.reference.agencies import load_agencies
from dvctt_pipeline.reference.catalog import load_catalog
from dvctt_pipeline.reference.fees import load_fee_policies
from dvctt_pipeline.reference.rows import ReferenceFileError
from dvctt_pipeline.reference.targets import load_targets
from dvctt_pipeline.warehouse import ensure_base_tables

CATALOG_HEADER = "province_code,admin_level,MaTTHC,TenTTHC,MucDo,du_dieu_kien_toan_trinh\n"
TARGETS_HEADER = ("year,province_code,admin_level,agency_code,metric,target_min,"
                  "target_stretch,decision_ref\n")
MANIFEST = yaml.safe_load(
    (Path(__file__).parents[1] / "fixtures" / "manifest.yaml").read_text(encoding="utf-8"))
CASES = {case["id"]: case for case in MANIFEST["reference_cases"]}
REGISTRY_CASES = [key for key, case in CASES.items() if case["file"].startswith("reference/")]
OTHER_CASES = [key for key in CASES if key not in REGISTRY_CASES]
# where each folder's rows go, and the column that finds a row of `loaded_as`
TABLES = {"reference": ("core.agencies", "agency_code"), "catalog": ("core.service_catalog",
          "row_no"), "targets": ("core.targets", "row_no"), "fees": ("core.fee_policies", "row_no")}


def write(landing: Path, relative: str, text: str) -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        ensure_base_tables(connection)
        connection.execute(
            "INSERT INTO core.agencies VALUES ('000.00.01.H17', 'Sở Tư pháp tỉnh Hòa Bình', "
            "'province', '17', NULL, NULL, NULL, NULL, [])")
        yield connection


def test_muc_do_of_both_vocabularies_becomes_one(tmp_path, con):
    write(tmp_path, "catalog/services_2022-01-01.csv", CATALOG_HEADER + (
        "17,province,1.001101,A,2,0\n17,province,1.001102,B,3,0\n17,province,1.001103,C,4,1\n"
        "17,province,1.001104,D,Một phần,0\n17,province,1.001105,E,toàn trình,1\n"
        "17,province,1.001106,F,Mức độ 4,1\n"))
    assert load_catalog(con, tmp_path) == {
        "core.service_catalog": 6, "quarantine.service_catalog": 0}
    assert con.execute(
        "SELECT ma_tthc, service_level, eligible_full_online FROM core.service_catalog "
        "ORDER BY ma_tthc").fetchall() == [
        ("1.001101", "information", False), ("1.001102", "partial", False),
        ("1.001103", "full", True), ("1.001104", "partial", False), ("1.001105", "full", True),
        ("1.001106", "full", True)]


def test_bad_catalogue_rows_are_set_aside_with_their_line_and_reason(tmp_path, con):
    write(tmp_path, "catalog/services_2025-07-01.csv", CATALOG_HEADER + (
        "25,province,1.1,A,4,1\n"       # kept
        "17,province,1.001102,B,4,1\n"       # Hòa Bình no longer exists
        "25,district,1.3,C,4,1\n"       # no district level from 2025-07-01
        "25,commune,,D,4,1\n"
        "25,commune,1.5,E,5,1\n"
        "25,commune,1.6,F,4,yes\n"
        "25,province,1.1,A,3,1\n"))     # same procedure twice
    assert load_catalog(con, tmp_path) == {
        "core.service_catalog": 1, "quarantine.service_catalog": 6}
    assert con.execute(
        "SELECT row_no, reason FROM quarantine.service_catalog ORDER BY row_no").fetchall() == [
        (3, "unknown_province"), (4, "level_not_in_geography"), (5, "missing_ma_tthc"),
        (6, "unknown_muc_do"), (7, "bad_du_dieu_kien_toan_trinh"), (8, "duplicate_row")]
    (row_values,) = con.execute(
        "SELECT row_values FROM quarantine.service_catalog WHERE row_no = 6").fetchone()
    assert '"MucDo": "5"' in row_values


def test_a_windows_1258_catalogue_reads_as_vietnamese(tmp_path, con):
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "services_2022-01-01.csv").write_bytes(
        windows_1258(CATALOG_HEADER + "17,province,1.001101,Đăng ký khai sinh,toàn trình,1\n"))
    load_catalog(con, tmp_path)
    assert con.execute("SELECT ten_tthc, service_level FROM core.service_catalog").fetchall() == [
        ("Đăng ký khai sinh", "full")]


@pytest.mark.parametrize(("relative", "text", "message"), [
    ("catalog/services_jan.csv", CATALOG_HEADER, "name it services_<YYYY-MM-DD>.csv"),
    ("catalog/services_2022-01-01.csv", "province_code,MaTTHC\n17,1.1\n",
     "lacks the columns admin_level, TenTTHC, MucDo, du_dieu_kien_toan_trinh"),
])
def test_a_catalogue_file_of_the_wrong_shape_fails_alone(tmp_path, con, relative, text, message):
    write(tmp_path, relative, text)
    write(tmp_path, "catalog/services_2021-01-01.csv",
          CATALOG_HEADER + "17,province,1.001101,A,4,1\n")
    assert load_catalog(con, tmp_path) == {
        "core.service_catalog": 1, "quarantine.service_catalog": 0}
    (status, failure), (other_status, _) = con.execute(
        "SELECT status, message FROM meta.reference_files WHERE kind = 'service_catalog' "
        "ORDER BY relative_path = 'catalog/services_2021-01-01.csv'").fetchall()
    assert (status, other_status) == ("failed", "loaded")
    assert message in failure and relative in failure


def test_targets_are_read_as_fractions_and_checked(tmp_path, con):
    write(tmp_path, "targets/targets_2022.csv", TARGETS_HEADER + (
        "2022,17,*,,online_share_all,55%,,QĐ 01\n"
        "2022,56,province,,online_share_dvctt,\"0,45\",0.50,QĐ 02\n"
        "2022,17,province,000.00.01.H17,online_share_all,0.6,,\n"
        "2021,17,*,,online_share_all,0.5,,\n"
        "2022,17,*,,share_of_happiness,0.5,,\n"
        "2022,17,*,,on_time_rate,55,,\n"
        "2022,56,district,,online_share_dvctt,0.40,0.35,\n"
        "2022,17,province,000.00.99.H17,online_share_all,0.6,,\n"
        "2022,56,province,000.00.01.H17,online_share_all,0.6,,\n"
        "2022,17,*,,online_share_all,0.5,,\n"))
    assert load_targets(con, tmp_path) == {"core.targets": 3, "quarantine.targets": 7}
    assert con.execute(
        "SELECT province_code, admin_level, agency_code, target_min, target_stretch "
        "FROM core.targets ORDER BY row_no").fetchall() == [
        ("17", "*", None, 0.55, None), ("56", "province", None, 0.45, 0.5),
        ("17", "province", "000.00.01.H17", 0.6, None)]
    assert con.execute(
        "SELECT row_no, reason FROM quarantine.targets ORDER BY row_no").fetchall() == [
        (5, "year_not_file_year"), (6, "unknown_metric"), (7, "target_min_not_a_rate"),
        (8, "stretch_below_min"), (9, "unknown_agency"), (10, "agency_not_in_province"),
        (11, "duplicate_target")]


def test_fee_policies_are_optional_and_checked(tmp_path, con):
    assert load_fee_policies(con, tmp_path) == {
        "core.fee_policies": 0, "quarantine.fee_policies": 0}
    write(tmp_path, "fees/fee_policies.csv",
          "province_code,MaTTHC,reduction_pct,valid_from,valid_to,decision_ref\n"
          "79,1.1,50,2021-07-01,,QĐ 1\n"
          "49,1.2,150,2022-01-01,2022-12-31,\n"
          "49,1.3,50,2022-13-01,,\n"
          "49,1.4,50,2022-12-31,2022-01-01,\n")
    assert load_fee_policies(con, tmp_path) == {
        "core.fee_policies": 1, "quarantine.fee_policies": 3}
    assert con.execute(
        "SELECT reason FROM quarantine.fee_policies ORDER BY row_no").fetchall() == [
        ("reduction_pct_not_a_percentage",), ("bad_valid_from",),
        ("valid_to_before_valid_from",)]


def case_bytes(case: dict) -> bytes:
    if "bytes" in case:
        return ast.literal_eval(case["bytes"])
    text = case["text"].replace("\n", "\r\n") if case.get("crlf") else case["text"]
    if case.get("encoding") == "cp1258":
        return windows_1258(text)
    if case.get("encoding") == "utf-16":
        return text.encode("utf-16")
    return ("\ufeff" if case.get("bom") else "").encode() + text.encode("utf-8")


def land(landing: Path, case: dict) -> None:
    path = landing / case["file"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case_bytes(case))


def load_everything(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """The reference assets' loads, in the order of the asset graph."""
    load_agencies(con, landing)
    for load in (load_catalog, load_targets, load_fee_policies):
        load(con, landing)


@pytest.fixture(scope="module")
def office_files(tmp_path_factory):
    """One landing folder holding every case but the registries, beside a good registry."""
    landing = tmp_path_factory.mktemp("office")
    write(landing, "reference/agencies.csv", MANIFEST["agencies"])
    for key in OTHER_CASES:
        land(landing, CASES[key])
    with duckdb.connect() as connection:
        ensure_base_tables(connection)
        load_everything(connection, landing)
        yield connection


def assert_outcome(con: duckdb.DuckDBPyConnection, case: dict) -> None:
    expect = case["expect"]
    cursor = con.execute("SELECT * FROM meta.reference_files WHERE relative_path = $path",
                         {"path": case["file"]})
    (row,) = [dict(zip([c[0] for c in cursor.description], values, strict=True))
              for values in cursor.fetchall()]
    assert row["status"] == expect["status"], row["message"]
    assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"]
    assert expect.get("message", "") in (row["message"] or "")
    if expect["status"] == "failed":
        return
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (
        expect["read"], expect["loaded"], expect["quarantined"])
    folder = case["file"].split("/")[0]
    quarantine = TABLES[folder][0].replace("core.", "quarantine.")
    assert dict(con.execute(
        f"SELECT row_no, reason FROM {quarantine} WHERE relative_path = $path",
        {"path": case["file"]}).fetchall()) == expect.get("reasons", {})
    table, key = TABLES[folder]
    for value, columns in expect.get("loaded_as", {}).items():
        where = "" if folder == "reference" else " AND relative_path = $path"
        cursor = con.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = $key{where}",
            {"key": value, **({} if folder == "reference" else {"path": case["file"]})})
        (stored,) = cursor.fetchall()
        assert {column: str(cell) if hasattr(cell, "isoformat") else cell
                for column, cell in zip(columns, stored, strict=True)} == columns


@pytest.mark.parametrize("case_id", OTHER_CASES)
def test_each_office_file_gets_its_outcome_and_fails_alone(office_files, case_id):
    assert_outcome(office_files, CASES[case_id])


def test_the_good_files_beside_the_bad_ones_load(office_files):
    assert office_files.execute(
        "SELECT kind, count(*) FILTER (status = 'loaded'), count(*) FILTER (status = 'failed') "
        "FROM meta.reference_files GROUP BY kind ORDER BY kind").fetchall() == [
        ("agencies", 1, 0), ("fee_policies", 1, 0), ("service_catalog", 3, 3),
        ("targets", 2, 1)]


@pytest.mark.parametrize("case_id", REGISTRY_CASES)
def test_an_office_registry_loads_its_good_rows_or_stops_with_a_message(tmp_path, case_id):
    case = CASES[case_id]
    land(tmp_path, case)
    with duckdb.connect() as connection:
        ensure_base_tables(connection)
        if "error" in case["expect"]:
            with pytest.raises(ReferenceFileError) as error:
                load_agencies(connection, tmp_path)
            assert case["expect"]["error"] in str(error.value)
            return
        load_everything(connection, tmp_path)
        assert_outcome(connection, case)


def test_a_rejected_agency_is_named_with_its_line_and_its_row_kept(tmp_path):
    land(tmp_path, CASES["agencies_saved_by_vietnamese_excel"])
    with duckdb.connect() as connection:
        ensure_base_tables(connection)
        load_agencies(connection, tmp_path)
        assert connection.execute(
            "SELECT agency_code FROM core.agencies ORDER BY ALL").fetchall() == [
            ("000.00.05.H17",), ("000.00.12.H17",), ("000.01.02.H01",)]
        (row_values,) = connection.execute(
            "SELECT row_values FROM quarantine.agencies WHERE row_no = 5").fetchone()
        assert json.loads(row_values)["agency_name"] == "UBND huyện Lạc Sơn"
        (message,) = connection.execute("SELECT message FROM meta.reference_files").fetchone()
        assert "line 4 (agency_code 000.00.12.H17): duplicate_agency_code" in message
        assert "its dossiers are set aside as unknown_agency" in message
