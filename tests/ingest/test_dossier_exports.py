"""Loading dossier exports: bad records set aside with a reason, bad files failing alone,
files loaded once, nothing personal kept."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import unicodedata
from pathlib import Path

import pytest

from dvctt_pipeline.ingest import readers
from dvctt_pipeline.ingest.dossiers import ingest_dossier_exports
from dvctt_pipeline.validate.dossier_rules import MAX_LINE_BYTES
from dvctt_pipeline.warehouse import connect

PERSONAL = {
    "ChuHoSo": "Trần Thị Bích Ngọc",
    "SoGiayToChuHoSo": "001190012345",
    "SoDienThoai": "0912345678",
    "Email": "ngoc.tran@example.vn",
    "DiaChi": "12 Lê Lợi, phường Phương Lâm, Hòa Bình",
}


def record(ma_ho_so: str, **fields: object) -> dict[str, object]:
    base = {
        "MaHoSo": ma_ho_so, "MaDonViXuLy": "000.00.01.H17", "MaTTHC": "1.001234",
        "KenhThucHien": 2, "NgayTiepNhan": "20220105080000", "NgayHenTra": "20220110170000",
        "NgayKetThucXuLy": "", "TrangThaiHoSo": 4, "DuocThanhToanTrucTuyen": 0,
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "Gia": 50000}], **PERSONAL,
    }
    return {**base, **fields}


def write_export(landing: Path, day: str, name: str, lines: list[object]) -> Path:
    path = landing / "dossiers" / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
                for line in lines),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def con(tmp_path: Path):
    with connect(tmp_path / "warehouse.duckdb") as connection:
        yield connection


def test_bad_records_are_set_aside_with_their_reason_and_position(tmp_path, con):
    write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [
        record("A-1"),
        '{"MaHoSo": "A-2", "NgayTiep',
        [1, 2, 3],
        record("", NgayTiepNhan="20220105080000"),
        record("A-5", NgayTiepNhan=""),
        record("A-6", NgayTiepNhan="20220230080000"),
        record("A-7", KenhThucHien=7),
        record("A-8", NgayHenTra="20220101080000"),
        record("A-9", KenhThucHien=""),
    ])
    (outcome,) = ingest_dossier_exports(con, tmp_path)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (9, 2, 7)
    assert con.execute(
        "SELECT line_no, reason FROM quarantine.dossier_snapshots ORDER BY line_no"
    ).fetchall() == [
        (2, "invalid_json"), (3, "not_an_object"), (4, "missing_ma_ho_so"),
        (5, "missing_ngay_tiep_nhan"), (6, "bad_date"), (7, "unknown_channel"),
        (8, "due_before_received"),
    ]
    # an empty channel counts as in person, and is remembered for data quality
    assert con.execute(
        "SELECT kenh_thuc_hien, kenh_was_empty FROM raw.dossier_snapshots WHERE ma_ho_so = 'A-9'"
    ).fetchall() == [(1, True)]


def test_fees_are_summed_and_dates_typed(tmp_path, con):
    write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [record(
        "A-1", DanhSachLePhi=[{"TenPhiLePhi": "Phí", "Gia": 20000}, {"TenPhiLePhi": "Lệ phí",
                                                                       "Gia": "30000"}],
        NgayKetThucXuLy="2022-01-07T09:30:00",
    )])
    ingest_dossier_exports(con, tmp_path)
    fee, finished = con.execute(
        "SELECT fee_total, ngay_ket_thuc_xu_ly FROM raw.dossier_snapshots"
    ).fetchone()
    assert fee == 50000
    assert finished.isoformat() == "2022-01-07T09:30:00"


def test_fields_padded_with_spaces_are_stored_trimmed(tmp_path, con):
    """Spreadsheets and web pages pad values with spaces, no-break spaces among them
    (U+00A0, U+3000); codes and names are stored without them, a name of spaces alone as
    none, a decomposed name composed, and the names in neither case as they are."""
    nbsp, wide = "\u00a0", "\u3000"
    write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [
        record(f" A-1{nbsp}", DonViXuLy=f"{wide}Sở Tư pháp tỉnh Hòa Bình ",
               MaTTHC=f"1.001234{nbsp}", NgayTiepNhan=" 20220105080000"),
        record("A-2", DonViXuLy=f" {nbsp} ", MaDonViXuLy=" "),
        record("A-3", DonViXuLy=unicodedata.normalize("NFD", "Sở Tư pháp tỉnh Hòa Bình")),
        record("A-4", DonViXuLy="UBND xã Đồng Phú"),
    ])
    ingest_dossier_exports(con, tmp_path)
    assert con.execute(
        "SELECT ma_ho_so, ma_don_vi_xu_ly, don_vi_xu_ly, ma_tthc, ngay_tiep_nhan::VARCHAR "
        "FROM raw.dossier_snapshots ORDER BY line_no"
    ).fetchall() == [
        ("A-1", "000.00.01.H17", "Sở Tư pháp tỉnh Hòa Bình", "1.001234", "2022-01-05 08:00:00"),
        ("A-2", None, None, "1.001234", "2022-01-05 08:00:00"),
        ("A-3", "000.00.01.H17", "Sở Tư pháp tỉnh Hòa Bình", "1.001234", "2022-01-05 08:00:00"),
        ("A-4", "000.00.01.H17", "UBND xã Đồng Phú", "1.001234", "2022-01-05 08:00:00"),
    ]


def test_a_file_is_loaded_once_and_a_copy_is_recognised(tmp_path, con):
    path = write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [record("A-1"), record("A-2")])
    assert [o.status for o in ingest_dossier_exports(con, tmp_path)] == ["loaded"]
    os.utime(path)  # touched, same content
    assert [o.status for o in ingest_dossier_exports(con, tmp_path)] == ["unchanged"]
    write_export(tmp_path, "2022-01-06", "copy.jsonl", [record("A-1"), record("A-2")])
    assert [o.status for o in ingest_dossier_exports(con, tmp_path)] == [
        "unchanged", "duplicate"]
    assert con.execute("SELECT count(*) FROM raw.dossier_snapshots").fetchone()[0] == 2


def test_files_read_together_keep_their_own_positions(tmp_path, con):
    """Exports of one run are read in one statement; positions still count within a file."""
    write_export(tmp_path, "2022-01-05", "a.jsonl", [record("A-1"), "", record("A-3")])
    write_export(tmp_path, "2022-01-06", "b.jsonl", [record("B-1"), "not json", record("B-3")])
    outcomes = ingest_dossier_exports(con, tmp_path)
    assert [(o.rows_read, o.rows_loaded, o.rows_quarantined) for o in outcomes] == [
        (2, 2, 0), (3, 2, 1)]
    assert con.execute(
        "SELECT file_name, line_no, ma_ho_so FROM raw.dossier_snapshots ORDER BY ma_ho_so"
    ).fetchall() == [("a.jsonl", 1, "A-1"), ("a.jsonl", 3, "A-3"), ("b.jsonl", 1, "B-1"),
                     ("b.jsonl", 3, "B-3")]
    assert con.execute(
        "SELECT relative_path, line_no, reason FROM quarantine.dossier_snapshots"
    ).fetchall() == [("dossiers/2022-01-06/b.jsonl", 2, "invalid_json")]


def test_two_new_copies_in_one_run_load_once(tmp_path, con):
    write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [record("A-1")])
    write_export(tmp_path, "2022-01-05", "resent.jsonl", [record("A-1")])
    assert [o.status for o in ingest_dossier_exports(con, tmp_path)] == ["loaded", "duplicate"]
    assert con.execute("SELECT count(*) FROM raw.dossier_snapshots").fetchone()[0] == 1


def test_a_changed_file_supersedes_its_earlier_version(tmp_path, con):
    write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [record("A-1"), "not json"])
    ingest_dossier_exports(con, tmp_path)
    write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [record("A-1"), record("A-2")])
    ingest_dossier_exports(con, tmp_path)
    assert con.execute(
        "SELECT ma_ho_so FROM raw.dossier_snapshots ORDER BY 1").fetchall() == [("A-1",), ("A-2",)]
    assert con.execute("SELECT count(*) FROM quarantine.dossier_snapshots").fetchone()[0] == 0
    assert con.execute(
        "SELECT status FROM meta.source_files ORDER BY file_id").fetchall() == [
        ("superseded",), ("loaded",)]


def test_the_files_about_to_be_read_are_told_before_any_is_read(tmp_path, con):
    """What the run starts its Great Expectations worker by (defs/gx_worker.py): the new and
    changed exports, none of the unchanged ones, before a row is stored."""
    write_export(tmp_path, "2022-01-05", "kept.jsonl", [record("A-1")])
    write_export(tmp_path, "2022-01-05", "changed.jsonl", [record("A-2")])
    ingest_dossier_exports(con, tmp_path)
    write_export(tmp_path, "2022-01-05", "changed.jsonl", [record("A-2"), record("A-3")])
    write_export(tmp_path, "2022-01-06", "new.jsonl", [record("A-4")])
    told = []

    def before_reading(files):
        stored = con.execute("SELECT count(*) FROM raw.dossier_snapshots").fetchone()[0]
        told.append(([file.relative_path for file in files], stored))

    ingest_dossier_exports(con, tmp_path, before_reading=before_reading)

    assert told == [(["dossiers/2022-01-05/changed.jsonl", "dossiers/2022-01-06/new.jsonl"], 2)]
    assert con.execute("SELECT count(*) FROM raw.dossier_snapshots").fetchone()[0] == 4


def test_an_unreadable_file_fails_alone_without_quoting_its_content(tmp_path, con):
    bad = tmp_path / "dossiers" / "2022-01-05" / "broken.jsonl.gz"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"this is not gzip " + PERSONAL["ChuHoSo"].encode())
    write_export(tmp_path, "2022-01-05", "good.jsonl", [record("A-1")])
    outcomes = {o.relative_path: o for o in ingest_dossier_exports(con, tmp_path)}
    failed = outcomes["dossiers/2022-01-05/broken.jsonl.gz"]
    assert failed.status == "failed"
    assert "broken.jsonl.gz is not a gzip file" in failed.message
    assert PERSONAL["ChuHoSo"] not in failed.message
    assert outcomes["dossiers/2022-01-05/good.jsonl"].status == "loaded"
    assert con.execute("SELECT count(*) FROM raw.dossier_snapshots").fetchone()[0] == 1


def test_personal_data_never_reaches_the_warehouse(tmp_path, con):
    write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [
        record("A-1"), record("", NgayTiepNhan="x"), '{"ChuHoSo": "' + PERSONAL["ChuHoSo"]])
    ingest_dossier_exports(con, tmp_path)
    text_columns = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR'"
    ).fetchall()
    for schema, table, column in text_columns:
        values = {v for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM {schema}.{table}')
                  .fetchall()}
        assert not values & set(PERSONAL.values()), f"{schema}.{table}.{column}"


RAW_FIELDS = ("SELECT ma_ho_so, line_no, kenh_thuc_hien, trang_thai, fee_total "
              "FROM raw.dossier_snapshots ORDER BY file_name, line_no")


def test_a_record_with_a_50_mb_attachment_loads_with_the_files_read_with_it(tmp_path, con):
    """A portal export that embeds 50 MB of scanned documents in a record, before and after
    the fields the metrics use: its line is longer than DuckDB reads, so it is read cut to those
    fields. The record loads at its line with its values, and so do the file's other lines and
    the other exports of the batch, as they would without the attachment."""
    attachment = [{"TenTep": "ho-so.pdf", "NoiDung": "JVBERi0xLjQK" * (25 * 1024 * 1024 // 12)}]
    plain = [[record("A-1"), record("A-2")],
             [record("B-1"), record("B-2", TrangThaiHoSo=5, DanhSachLePhi=[{"Gia": 15000}]),
              record("B-3")],
             [record("C-1")]]
    for landing, attached in ((tmp_path / "plain", None), (tmp_path / "attached", attachment)):
        b_lines = [*plain[1]]
        if attached:
            b_lines[1] = {"TepDinhKem": attached, **plain[1][1], "TepKetQua": attached}
        for name, lines in zip(("a.jsonl", "b.jsonl", "c.jsonl"),
                               (plain[0], b_lines, plain[2]), strict=True):
            write_export(landing, "2022-01-05", name, lines)
    outcomes = ingest_dossier_exports(con, tmp_path / "attached")
    assert [(o.status, o.rows_read, o.rows_loaded, o.rows_quarantined) for o in outcomes] == [
        ("loaded", 2, 2, 0), ("loaded", 3, 3, 0), ("loaded", 1, 1, 0)]
    attached_rows = con.execute(RAW_FIELDS).fetchall()
    assert ("B-2", 2, 2, 5, 15000) in attached_rows
    with connect(tmp_path / "plain.duckdb") as plain_con:
        ingest_dossier_exports(plain_con, tmp_path / "plain")
        assert attached_rows == plain_con.execute(RAW_FIELDS).fetchall()
    assert con.execute("SELECT count(*) FROM quarantine.dossier_snapshots").fetchone() == (0,)


def test_a_gzipped_export_with_a_long_line_keeps_its_line_numbers(tmp_path, con):
    path = write_export(tmp_path, "2022-01-05", "d.jsonl", [
        record("D-1"), "", record("D-3", Ghi_chu="x" * 3_000_000), record("D-4")])
    path.with_name("d.jsonl.gz").write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    (outcome,) = ingest_dossier_exports(con, tmp_path)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (3, 3, 0)
    assert con.execute("SELECT ma_ho_so, line_no FROM raw.dossier_snapshots ORDER BY 2"
                       ).fetchall() == [("D-1", 1), ("D-3", 3), ("D-4", 4)]


def padded_to(ma_ho_so: str, size: int, field: str = "GhiChu") -> str:
    """A record whose JSON line has exactly `size` bytes, padded in `field`."""
    line = json.dumps(record(ma_ho_so, **{field: ""}), ensure_ascii=False)
    return json.dumps(record(ma_ho_so, **{field: "x" * (size - len(line.encode()))}),
                      ensure_ascii=False)


def test_the_line_limits_are_exact(tmp_path, con, monkeypatch):
    """A line of MAX_LINE_BYTES or more is read cut to its used fields, up to the longest line
    the pipeline reads (made small here: the same code reads a line of 256 MB); from that
    length on, or when the used fields alone reach MAX_LINE_BYTES, it is set aside."""
    monkeypatch.setattr(readers, "LONGEST_LINE_BYTES", MAX_LINE_BYTES + 1_000_000)
    write_export(tmp_path, "2022-01-05", "edge.jsonl", [
        padded_to("A-1", MAX_LINE_BYTES - 1), padded_to("A-2", MAX_LINE_BYTES),
        padded_to("A-3", MAX_LINE_BYTES + 999_999), padded_to("A-4", MAX_LINE_BYTES + 1_000_000),
        padded_to("A-5", MAX_LINE_BYTES - 1, "DonViXuLy"),
        padded_to("A-6", MAX_LINE_BYTES + 10_000, "DonViXuLy")])
    (outcome,) = ingest_dossier_exports(con, tmp_path)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (6, 4, 2)
    assert con.execute("SELECT ma_ho_so FROM raw.dossier_snapshots ORDER BY 1").fetchall() == [
        ("A-1",), ("A-2",), ("A-3",), ("A-5",)]
    assert con.execute("SELECT line_no, reason FROM quarantine.dossier_snapshots ORDER BY 1"
                       ).fetchall() == [(4, "line_too_long"), (6, "line_too_long")]


def test_an_export_whose_fields_are_named_in_another_case_loads_with_its_names(tmp_path, con):
    """A database's export names the fields as its columns, in lower case (PostgreSQL's
    row_to_json), an API's in camel case: read with their names, as a CSV header is, they load
    as the portal's spelling does. A file that spells MaHoSo as the portal does keeps that
    spelling: its odd record is set aside."""
    def renamed(number: str, rename) -> dict[str, object]:
        return {rename(key): value for key, value in record(number).items()}

    lower_case = [renamed(f"L-{n}", str.lower) for n in (1, 2)]
    write_export(tmp_path, "2022-01-05", "a.jsonl", [record("A-1")])
    write_export(tmp_path, "2022-01-05", "b.jsonl", lower_case)
    write_export(tmp_path, "2022-01-05", "c.jsonl", [record("C-1"), lower_case[0]])
    (tmp_path / "dossiers" / "2022-01-05" / "d.json").write_text(json.dumps(
        [renamed("D-1", lambda key: key[0].lower() + key[1:])]), encoding="utf-8")
    outcomes = {o.relative_path.rsplit("/", 1)[1]: o for o in ingest_dossier_exports(con, tmp_path)}
    assert [(o.status, o.rows_loaded, o.rows_quarantined) for o in outcomes.values()] == [
        ("loaded", 1, 0), ("loaded", 2, 0), ("loaded", 1, 1), ("loaded", 1, 0)]
    columns = "* EXCLUDE (file_id, file_name, line_no, ma_ho_so, dossier_key)"
    assert con.execute(f"SELECT DISTINCT {columns} FROM raw.dossier_snapshots").fetchall() == \
        con.execute(f"SELECT {columns} FROM raw.dossier_snapshots WHERE ma_ho_so = 'A-1'"
                    ).fetchall()
    assert con.execute("SELECT reason FROM quarantine.dossier_snapshots").fetchall() == [
        ("missing_ma_ho_so",)]


def test_a_registry_of_bare_sha256_digests_names_them_and_loads_on(tmp_path, con):
    """A warehouse registered before content hashes said their algorithm: its digests are
    kept, named, and a file registered then still counts as loaded, its copy too once the
    file is read again."""
    path = write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [record("A-1"), record("A-2")])
    ingest_dossier_exports(con, tmp_path)
    old_digest = hashlib.sha256(path.read_bytes()).hexdigest()
    con.execute("ALTER TABLE meta.source_files RENAME COLUMN content_hash TO content_sha256")
    con.execute("UPDATE meta.source_files SET content_sha256 = $digest", {"digest": old_digest})
    con.close()

    with connect(tmp_path / "warehouse.duckdb") as reopened:
        assert reopened.execute("SELECT content_hash FROM meta.source_files").fetchall() == [
            (f"sha256:{old_digest}",)]
        assert [o.status for o in ingest_dossier_exports(reopened, tmp_path)] == ["unchanged"]
        os.utime(path)  # touched: its digest is made again, with today's algorithm
        write_export(tmp_path, "2022-01-06", "copy.jsonl", [record("A-1"), record("A-2")])
        assert [o.status for o in ingest_dossier_exports(reopened, tmp_path)] == [
            "loaded", "duplicate"]
        assert reopened.execute(
            "SELECT count(*) FROM raw.dossier_snapshots").fetchone()[0] == 2
        (digest,) = reopened.execute(
            "SELECT content_hash FROM meta.source_files "
            "WHERE relative_path = $path AND status = 'loaded'",
            {"path": "dossiers/2022-01-05/dvcqg.jsonl"}).fetchone()
        assert digest.startswith("blake3:")


def test_snapshots_loaded_before_dossier_keys_get_theirs_when_the_warehouse_opens(tmp_path, con):
    """A warehouse loaded before snapshots carried their dossier's key (the staging ranks on
    it): the key is added and filled when it is opened, and new snapshots get theirs."""
    write_export(tmp_path, "2022-01-05", "dvcqg.jsonl", [record("A-1"), record("A-2")])
    ingest_dossier_exports(con, tmp_path)
    con.execute("ALTER TABLE raw.dossier_snapshots DROP COLUMN dossier_key")
    con.close()

    with connect(tmp_path / "warehouse.duckdb") as reopened:
        write_export(tmp_path, "2022-01-06", "dvcqg.jsonl", [record("A-1"), record("A-3")])
        ingest_dossier_exports(reopened, tmp_path)
        assert reopened.execute(
            "SELECT ma_ho_so, count(*), count(DISTINCT dossier_key), "
            "bool_and(dossier_key = md5_number(ma_ho_so)) FROM raw.dossier_snapshots "
            "GROUP BY ma_ho_so ORDER BY ma_ho_so").fetchall() == [
            ("A-1", 2, 1, True), ("A-2", 1, 1, True), ("A-3", 1, 1, True)]
