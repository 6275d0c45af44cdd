"""The catalogue, targets and fee-policy files: one vocabulary, bad rows set aside with a
reason, files of the wrong shape refused with a message saying what to fix."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.reference.agencies import ReferenceFileError
from dvctt_pipeline.reference.catalog import load_catalog
from dvctt_pipeline.reference.fees import load_fee_policies
from dvctt_pipeline.reference.targets import load_targets
from dvctt_pipeline.warehouse import ensure_base_tables

CATALOG_HEADER = "province_code,admin_level,MaTTHC,TenTTHC,MucDo,du_dieu_kien_toan_trinh\n"
TARGETS_HEADER = ("year,province_code,admin_level,agency_code,metric,target_min,"
                  "target_stretch,decision_ref\n")


def write(landing: Path, relative: str, text: str, encoding: str = "utf-8") -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


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
        "17,province,1.1,A,2,0\n17,province,1.2,B,3,0\n17,province,1.3,C,4,1\n"
        "17,province,1.4,D,Một phần,0\n17,province,1.5,E,toàn trình,1\n"
        "17,province,1.6,F,Mức độ 4,1\n"))
    assert load_catalog(con, tmp_path) == {
        "core.service_catalog": 6, "quarantine.service_catalog": 0}
    assert con.execute(
        "SELECT ma_tthc, service_level, eligible_full_online FROM core.service_catalog "
        "ORDER BY ma_tthc").fetchall() == [
        ("1.1", "information", False), ("1.2", "partial", False), ("1.3", "full", True),
        ("1.4", "partial", False), ("1.5", "full", True), ("1.6", "full", True)]


def test_bad_catalogue_rows_are_set_aside_with_their_line_and_reason(tmp_path, con):
    write(tmp_path, "catalog/services_2025-07-01.csv", CATALOG_HEADER + (
        "25,province,1.1,A,4,1\n"       # kept
        "17,province,1.2,B,4,1\n"       # Hòa Bình no longer exists
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


def windows_1258(text: str) -> str:
    """Windows-1258 has the base letters (â, ă, ơ...) but writes tones as combining marks."""
    def spelled(character: str) -> str:
        try:
            character.encode("cp1258")
            return character
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", character)
            return unicodedata.normalize("NFC", decomposed[:-1]) + decomposed[-1]
    return "".join(map(spelled, text))


def test_a_windows_1258_catalogue_reads_as_vietnamese(tmp_path, con):
    row = windows_1258("17,province,1.1,Đăng ký khai sinh,toàn trình,1\n")
    write(tmp_path, "catalog/services_2022-01-01.csv", CATALOG_HEADER + row, "cp1258")
    load_catalog(con, tmp_path)
    assert con.execute("SELECT ten_tthc, service_level FROM core.service_catalog").fetchall() == [
        ("Đăng ký khai sinh", "full")]


@pytest.mark.parametrize(("relative", "text", "message"), [
    ("catalog/services_jan.csv", CATALOG_HEADER, "name it services_<%Y-%m-%d>.csv"),
    ("catalog/services_2022-01-01.csv", "province_code,MaTTHC\n17,1.1\n",
     "lacks the columns admin_level, TenTTHC, MucDo, du_dieu_kien_toan_trinh"),
])
def test_a_catalogue_file_of_the_wrong_shape_is_refused(tmp_path, con, relative, text, message):
    write(tmp_path, relative, text)
    with pytest.raises(ReferenceFileError, match=message) as error:
        load_catalog(con, tmp_path)
    assert relative.split("/")[1] in str(error.value)


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
