"""The catalogue of bad or odd landing files (tests/fixtures/manifest.yaml): each file is
loaded as the manifest says, set aside with the reason it names, or failed with a message
saying what to fix; and for every file, rows read = rows loaded + rows quarantined."""

from __future__ import annotations

import ast
import gzip
import os
import unicodedata
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from dvctt_pipeline.ingest.dossiers import PIECE_BYTES_ENV, ingest_dossier_exports
from dvctt_pipeline.ingest.guards import MAX_UNCOMPRESSED_ENV
from dvctt_pipeline.ingest.reports import ingest_monthly_reports
from dvctt_pipeline.models.sql_models import Window, load_models, run_model
from dvctt_pipeline.reference.agencies import load_agencies
from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.warehouse import connect

MANIFEST = yaml.safe_load(
    (Path(__file__).parents[1] / "fixtures" / "manifest.yaml").read_text(encoding="utf-8")
)
CASES = {case["id"]: case for case in MANIFEST["cases"]}
BOMB_LIMIT = 1_000_000
PERSONAL = ("Trần Thị Bích Ngọc", "0912345678", "Nguyễn Văn An, con", "0987654321", "Lê Thị Hoa")


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 keeps base letters (ơ, ư, ă...) precomposed and tone marks combining."""
    encoded = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            encoded += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            encoded += unicodedata.normalize("NFC", parts[:-1]).encode("cp1258")
            encoded += parts[-1].encode("cp1258")
    return encoded


def case_bytes(case: dict) -> bytes:
    if "bytes" in case:
        return ast.literal_eval(case["bytes"])
    text = unicodedata.normalize("NFD", case["text"]) if case.get("nfd") else case["text"]
    text = text.replace("{PAD}", "QUJD" * (case.get("pad", 0) // 4))
    if case.get("encoding") == "cp1258":
        return encode_cp1258(text)
    if case.get("encoding") == "utf-16":
        return "\ufeff".encode("utf-16-le") + text.replace("\n", "\r\n").encode("utf-16-le")
    content = ("\ufeff" if case.get("bom") else "").encode() + text.encode("utf-8")
    if case.get("gzip"):
        content = gzip.compress(content)
    content = content[: case["truncate"]] if "truncate" in case else content
    return content + bytes(case.get("zeros", 0))


def write_workbook(path: Path, spec: dict) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (row for group in spec["rows"] for row in group):
        sheet.append(row or [None])
    for cells in spec.get("merge", []):
        sheet.merge_cells(cells)
    workbook.save(path)


def case_path(landing: Path, case: dict) -> Path:
    if "name_encoding" not in case:
        return landing / case["file"]
    name = case["file"].encode(case["name_encoding"])
    return Path(os.fsdecode(os.fsencode(landing) + b"/" + name))


def write_case(landing: Path, outside: Path, case: dict) -> None:
    path = case_path(landing, case)
    path.parent.mkdir(parents=True, exist_ok=True)
    if "xlsx" in case:
        write_workbook(path, case["xlsx"])
    elif "gzip_bomb" in case:
        with gzip.open(path, "wb") as stream:
            stream.write(bytes(case["gzip_bomb"]))
    elif case.get("symlink_outside"):
        target = outside / Path(case["file"]).name
        target.write_bytes(case_bytes(case))
        path.symlink_to(target)
    elif case.get("symlink_loop"):
        path.symlink_to(path.name)
    elif case.get("fifo"):
        os.mkfifo(path)
    else:
        path.write_bytes(case_bytes(case))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("catalogue")
    landing, outside = root / "landing", root / "outside"
    outside.mkdir()
    (landing / "reference").mkdir(parents=True)
    (landing / "reference" / "agencies.csv").write_text(MANIFEST["agencies"], encoding="utf-8")
    for case in CASES.values():
        write_case(landing, outside, case)
    with connect(root / "warehouse.duckdb") as con:
        con.create_function("name_key", name_key, [str], str)
        load_agencies(con, landing)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(MAX_UNCOMPRESSED_ENV, str(BOMB_LIMIT))
            patch.setenv(PIECE_BYTES_ENV, str(MANIFEST["piece_bytes"]))
            ingest_dossier_exports(con, landing)
            ingest_monthly_reports(con, landing)
        month = date.fromisoformat(f"{MANIFEST['month']}-01")
        window = Window(month, date(month.year, month.month + 1, 1))
        for model in load_models():
            if model.table in ("staging.dossiers", "quarantine.dossiers",
                               "staging.report_rows"):
                run_model(con, model, window, {})
        yield con


def registry_row(con: duckdb.DuckDBPyConnection, case: dict) -> dict:
    cursor = con.execute(
        "SELECT * FROM meta.source_files WHERE relative_path = $path AND status <> 'superseded'",
        {"path": case.get("recorded_as", case["file"])},
    )
    (row,) = cursor.fetchall()
    return dict(zip([column[0] for column in cursor.description], row, strict=True))


def test_the_catalogue_has_at_least_30_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case_id", list(CASES))
def test_every_file_gets_the_outcome_the_manifest_states(warehouse, case_id):
    case, expect = CASES[case_id], CASES[case_id]["expect"]
    row = registry_row(warehouse, case)
    assert row["status"] == expect["status"], row["message"]
    assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"]
    if expect["status"] in ("failed", "skipped"):
        assert expect["message"] in row["message"]
        assert not warehouse.execute(
            "SELECT ma_ho_so FROM raw.dossier_snapshots WHERE ma_ho_so IN $ids "
            "UNION ALL SELECT ma_ho_so FROM quarantine.dossier_snapshots WHERE ma_ho_so IN $ids",
            {"ids": expect.get("absent", [])}).fetchall()
        return
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"]) == (
        expect["read"], expect["loaded"], expect["quarantined"])
    assert set_aside(warehouse, row) == expect.get("reasons", {})
    assert rows_stored(warehouse, row) == (expect["loaded"], expect["quarantined"])


def set_aside(con: duckdb.DuckDBPyConnection, row: dict) -> dict[int, str]:
    table, position = (
        ("quarantine.dossier_snapshots", "line_no") if row["kind"] == "dossiers"
        else ("quarantine.report_rows", "row_no")
    )
    return dict(con.execute(
        f"SELECT {position}, reason FROM {table} WHERE file_id = $id", {"id": row["file_id"]}
    ).fetchall())


def rows_stored(con: duckdb.DuckDBPyConnection, row: dict) -> tuple[int, int]:
    """Rows of the file in its raw tables and in its quarantine table."""
    if row["kind"] == "dossiers":
        sql = """SELECT (SELECT count(*) FROM raw.dossier_snapshots WHERE file_id = $id),
                        (SELECT count(*) FROM quarantine.dossier_snapshots WHERE file_id = $id)"""
    else:
        sql = """SELECT (SELECT count(*) FROM raw.report_rows WHERE file_id = $id)
                      + (SELECT count(DISTINCT row_no) FROM raw.report_totals WHERE file_id = $id),
                        (SELECT count(*) FROM quarantine.report_rows WHERE file_id = $id)"""
    return con.execute(sql, {"id": row["file_id"]}).fetchone()


@pytest.mark.parametrize("case_id", [c for c in CASES if "unmatched" in CASES[c]["expect"]])
def test_report_rows_of_no_single_agency_are_flagged_not_counted(warehouse, case_id):
    row = registry_row(warehouse, CASES[case_id])
    assert dict(warehouse.execute(
        "SELECT row_no, quarantine_reason FROM staging.report_rows "
        "WHERE file_id = $id AND quarantine_reason IS NOT NULL", {"id": row["file_id"]},
    ).fetchall()) == CASES[case_id]["expect"]["unmatched"]


STAGED = [(case_id, ma_ho_so, agency) for case_id, case in CASES.items()
          for ma_ho_so, agency in case["expect"].get("staged", {}).items()]


@pytest.mark.parametrize(("case_id", "ma_ho_so", "agency"), STAGED)
def test_dossiers_are_staged_under_the_agency_their_spelling_names(
    warehouse, case_id, ma_ho_so, agency
):
    (staged,) = warehouse.execute(
        "SELECT agency_code, quarantine_reason FROM staging.dossiers WHERE ma_ho_so = $id",
        {"id": ma_ho_so},
    ).fetchall()
    assert staged == (agency, None if agency else "unknown_agency"), case_id


def test_the_latest_snapshot_of_a_repeated_dossier_counts_once(warehouse):
    for ma_ho_so, status in CASES["duplicate_ma_ho_so_in_one_file"]["expect"][
            "staged_status"].items():
        assert warehouse.execute(
            "SELECT trang_thai, snapshots FROM staging.dossiers WHERE ma_ho_so = $id",
            {"id": ma_ho_so},
        ).fetchall() == [(status, 3)]


LOADED_AS = [(case_id, key, values) for case_id, case in CASES.items()
             for key, values in case["expect"].get("loaded_as", {}).items()]


@pytest.mark.parametrize(("case_id", "key", "values"), LOADED_AS)
def test_values_are_loaded_as_typed_values(warehouse, case_id, key, values):
    row = registry_row(warehouse, CASES[case_id])
    table, key_column = (
        ("raw.dossier_snapshots", "ma_ho_so") if row["kind"] == "dossiers"
        # report rows are matched to their agency by staging.report_rows
        else ("raw.report_rows JOIN staging.report_rows USING (file_id, row_no)",
              "agency_code")
    )
    columns = ", ".join(f"{table.split()[0]}.{column}::VARCHAR" for column in values)
    (loaded,) = warehouse.execute(
        f"SELECT {columns} FROM {table} WHERE file_id = $id AND {key_column} = $key",
        {"id": row["file_id"], "key": key},
    ).fetchall()
    expected = tuple(str(value).lower() if isinstance(value, bool) else str(value)
                     for value in values.values())
    assert tuple(value.removesuffix(".00") for value in loaded) == expected


@pytest.mark.parametrize("case_id", [c for c in CASES if "totals_match" in CASES[c]["expect"]])
def test_report_total_rows_are_compared_with_the_agency_rows(warehouse, case_id):
    row = registry_row(warehouse, CASES[case_id])
    (all_match, cells) = warehouse.execute(
        "SELECT bool_and(stated = agency_rows_sum), count(*) FROM raw.report_totals "
        "WHERE file_id = $id", {"id": row["file_id"]},
    ).fetchone()
    assert cells == 11
    assert all_match == CASES[case_id]["expect"]["totals_match"]


def test_no_personal_data_in_any_table(warehouse):
    columns = warehouse.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE data_type = 'VARCHAR' AND NOT internal AND database_name = current_database()"
    ).fetchall()
    for schema, table, column in columns:
        (hits,) = warehouse.execute(
            f'SELECT count(*) FROM {schema}.{table} WHERE "{column}" IN $values',
            {"values": list(PERSONAL)},
        ).fetchone()
        assert hits == 0, f"{schema}.{table}.{column}"


def test_the_symlinked_file_is_never_read(warehouse):
    row = registry_row(warehouse, CASES["symlink_outside_landing"])
    assert row["content_hash"] is None
