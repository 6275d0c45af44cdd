"""JSON-lines exports are read by DuckDB's JSON reader when every line of a file is one
record, and line by line otherwise, file by file: both ways must judge every line alike. Each
file below is written as another tool or a damaged transfer would write it, read both ways,
and compared row by row (fields, reason, position); the files the JSON reader must read are
checked to be read by it, so a change that made it never apply would fail here too."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dvctt_pipeline.ingest import readers
from dvctt_pipeline.ingest.dossiers import PIECE_BYTES_ENV, ingest_dossier_exports
from dvctt_pipeline.validate.dossier_rules import MAX_LINE_BYTES
from dvctt_pipeline.warehouse import connect, ensure_base_tables

# Each file's records with their positions (a file read again comes after the others)
JUDGED = """
    SELECT record.*, record.rowid - judged.first_row + 1 AS line
    FROM judged_records AS record JOIN judged_files AS judged USING (file_index)
    ORDER BY file_index, record.rowid
"""


def record(number: int, **fields: object) -> dict[str, object]:
    """A dossier as the national portal's sync API gives it, personal data included."""
    return {
        "MaHoSo": f"G22.99-{number:06d}",
        "MaDonViXuLy": "000.00.12.H17",
        "DonViXuLy": "Sở Tư pháp tỉnh Hòa Bình" if number % 2 else "UBND huyện Lạc Sơn",
        "MaTTHC": "1.001",
        "KenhThucHien": 2 if number % 3 else "1",
        "NgayTiepNhan": f"202203{1 + number % 28:02d}080000",
        "NgayHenTra": "2022-04-01T17:00:00+07:00" if number % 4 else "20220401170000",
        "TrangThaiHoSo": 4,
        "DuocThanhToanTrucTuyen": number % 3,
        "DanhSachLePhi": [{"Gia": 50000, "MoTa": "Lệ phí"}] if number % 2 else [],
        "ChuHoSo": "Trần Thị Bích Ngọc",
        "SoDienThoai": "0912345678",
        **fields,
    }


def lines(records: list[dict[str, object]], ensure_ascii: bool = False) -> list[str]:
    return [json.dumps(item, ensure_ascii=ensure_ascii) for item in records]


CLEAN = lines([record(number) for number in range(1, 40)])
BAD_RULES = lines([record(1, KenhThucHien=9), record(2, NgayTiepNhan="20220230080000"),
                   record(3, MaHoSo=""), record(4, TrangThaiHoSo="4.5")])


def pandas_lines() -> bytes:
    """pandas' `to_json(orient="records", lines=True)`: ASCII escapes for Vietnamese, escaped
    slashes, numbers as numbers, NaN as null, no line end after the last record."""
    frame = pd.DataFrame([record(number, NgayTra=None if number % 2 else "20220315100000")
                          for number in range(1, 30)])
    return frame.to_json(orient="records", lines=True).rstrip("\n").encode()


# name -> (file bytes, whether DuckDB's JSON reader reads it: a line it cannot read, or that is
# not an object, is judged again from the file's line, in place)
SHAPES: dict[str, tuple[bytes, bool]] = {
    "clean": ("\n".join(CLEAN + BAD_RULES) + "\n", True),
    "pandas": (pandas_lines(), True),
    "windows_line_ends": ("\r\n".join(CLEAN) + "\r\n", True),
    "ascii_escapes": ("\n".join(lines([record(7)], ensure_ascii=True) + CLEAN) + "\n", True),
    "nested_values": ("\n".join(CLEAN + [json.dumps(record(8, MaTTHC={"Ma": "1.001"},
                                                       TrangThaiHoSo=[4]))]) + "\n", True),
    "long_note": ("\n".join(CLEAN + [json.dumps(record(9, GhiChu="x" * 300_000))]), True),
    "blank_lines": ("\n".join(CLEAN[:5] + ["", "   ", "\t"] + CLEAN[5:]) + "\n\n", False),
    "null_line": ("\n".join(CLEAN[:5] + ["null"] + CLEAN[5:]), True),
    "empty_object": ("\n".join(CLEAN[:5] + ["{}"] + CLEAN[5:]), True),
    "not_objects": ("\n".join(CLEAN[:5] + ["[1, 2]", '"G22.99-1"', "42", "true"] + CLEAN[5:]),
                    True),
    "truncated": ("\n".join(CLEAN + [CLEAN[0][:70]]), True),
    "two_on_a_line": ("\n".join(CLEAN[:3] + [CLEAN[3] + CLEAN[4]] + CLEAN[5:]), True),
    "duplicate_key": ("\n".join(CLEAN[:3] + ['{"MaHoSo": "A", "MaHoSo": "B"}'] + CLEAN[3:]),
                      True),
    "odd_fee_list": ("\n".join(CLEAN[:3] + [json.dumps(record(5, DanhSachLePhi="50000")),
                                            json.dumps(record(6, DanhSachLePhi=[{"Gia": 1}, 5]))]
                               + CLEAN[3:]), True),
    "byte_order_mark": ("\ufeff" + "\n".join(CLEAN), True),
    "line_near_limit": ("\n".join(CLEAN + [json.dumps(record(10, GhiChu="x" * (MAX_LINE_BYTES
                                                                              - 400)))]), False),
    "line_too_long": ("\n".join(CLEAN + [json.dumps(record(11, GhiChu="x" * MAX_LINE_BYTES))]),
                      False),
}


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / f"{name}.jsonl"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def judged(con: duckdb.DuckDBPyConnection, read: Callable[[], None]) -> list[tuple]:
    read()
    return con.execute(JUDGED).fetchall()


def never_kept(_con: duckdb.DuckDBPyConnection, paths: list[str], _measured: object
               ) -> list[int]:
    """In place of readers._read_by_json_reader: every file is left to read line by line."""
    return list(range(len(paths)))


def judged_line_by_line(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> list[tuple]:
    """What read_json_lines gives when the JSON reader's result is never kept."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(readers, "_read_by_json_reader", never_kept)
        return judged(con, lambda: readers.read_json_lines(con, paths))


def spy_on_json_reader(patch: pytest.MonkeyPatch) -> list[list[int]]:
    """Per read by DuckDB's JSON reader, the files it left to read line by line."""
    left: list[list[int]] = []
    read_by_json_reader = readers._read_by_json_reader

    def spied(*args: object) -> list[int]:
        left.append(read_by_json_reader(*args))
        return left[-1]

    patch.setattr(readers, "_read_by_json_reader", spied)
    return left


def judged_as_read(con: duckdb.DuckDBPyConnection, paths: list[Path]
                   ) -> tuple[list[tuple], list[list[int]]]:
    """What read_json_lines gives, and the files the JSON reader left to read line by line."""
    with pytest.MonkeyPatch.context() as patch:
        left = spy_on_json_reader(patch)
        return judged(con, lambda: readers.read_json_lines(con, paths)), left


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_is_judged_alike_both_ways(tmp_path: Path, shape: str) -> None:
    content, read_directly = SHAPES[shape]
    path = write(tmp_path, shape, content)
    con = duckdb.connect()
    line_by_line = judged_line_by_line(con, [path])
    assert line_by_line, "every shape has records"
    assert judged_as_read(con, [path]) == (line_by_line, [[] if read_directly else [0]])


@pytest.mark.parametrize("odd", ["blank_lines", "line_too_long"])
def test_only_the_odd_files_of_a_batch_are_read_again_line_by_line(
        tmp_path: Path, odd: str) -> None:
    """One file of a batch that DuckDB's JSON reader cannot read as its lines say (a blank
    line; a line too long, read again from a marked copy) is read again alone: the files
    around it keep the JSON reader's records, those with a line it could not read too (that
    line judged again), and every file its positions."""
    paths = [write(tmp_path, name, SHAPES[name][0]) for name in ("clean", odd, "pandas")]
    con = duckdb.connect()
    assert judged_as_read(con, paths) == (each_judged_line_by_line(con, paths), [[1]])
    # a file whose odd lines are judged again in place, and one read again whole
    odd_ones = [write(tmp_path, name, SHAPES[name][0]) for name in ("null_line", "blank_lines")]
    batch = [odd_ones[0], *paths[::2], odd_ones[1]]
    assert judged_as_read(con, batch) == (each_judged_line_by_line(con, batch), [[3]])


def each_judged_line_by_line(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> list[tuple]:
    """The files read line by line one at a time, numbered as in the batch."""
    return [(index, *row[1:]) for index, path in enumerate(paths)
            for row in judged_line_by_line(con, [path])]


def test_gzipped_exports_are_read_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "clean.jsonl.gz"
    path.write_bytes(gzip.compress(SHAPES["clean"][0].encode()))
    con = duckdb.connect()
    assert judged_as_read(con, [path]) == (judged_line_by_line(con, [path]), [])


def stored(landing: Path, warehouse: Path) -> tuple[list[tuple], list[tuple]]:
    with connect(warehouse) as con:
        ensure_base_tables(con)
        ingest_dossier_exports(con, landing)
        return (con.execute("SELECT * EXCLUDE (file_id, export_date) FROM raw.dossier_snapshots "
                            "ORDER BY file_name, line_no").fetchall(),
                con.execute("SELECT relative_path, line_no, ma_ho_so, reason FROM "
                            "quarantine.dossier_snapshots ORDER BY ALL").fetchall())


def test_the_warehouse_gets_the_same_rows_either_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shape landed as a national day's exports: raw and quarantine hold the same rows,
    at the same lines, as when every file is read line by line; no personal data."""
    landing = tmp_path / "landing"
    day = landing / "dossiers" / "2022-03-02"
    day.mkdir(parents=True)
    for name, (content, _) in SHAPES.items():
        write(day, name, content)
    direct = stored(landing, tmp_path / "direct.duckdb")
    monkeypatch.setattr(readers, "_read_by_json_reader", never_kept)
    assert direct == stored(landing, tmp_path / "line_by_line.duckdb")
    raw, quarantine = direct
    assert {"unknown_channel", "bad_date", "missing_ma_ho_so", "invalid_json",
            "not_an_object", "line_too_long"} <= {row[-1] for row in quarantine}
    assert not any("0912345678" in str(row) or "Bích Ngọc" in str(row) for row in raw)


def test_a_file_read_in_pieces_keeps_the_json_reader_where_a_piece_allows_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A national month in one file, read in pieces inside one transaction: the pieces whose
    lines are all records are read by the JSON reader (a `{}` line judged again in place), the
    piece with a blank line and a `null` line line by line, and the warehouse gets what a
    line-by-line read gives."""
    landing = tmp_path / "landing"
    day = landing / "dossiers" / "2022-03-31"
    day.mkdir(parents=True)
    odd = CLEAN[:5] + ["", "null"] + CLEAN[5:10]
    write(day, "month",
          "\n".join(CLEAN * 2 + ["{}"] + CLEAN * 2 + odd + BAD_RULES + CLEAN * 4) + "\n")
    monkeypatch.setenv(PIECE_BYTES_ENV, "16384")
    left = spy_on_json_reader(monkeypatch)
    in_pieces = stored(landing, tmp_path / "pieces.duckdb")
    assert len(left) > 3 and left.count([0]) == 1 and left.count([]) == len(left) - 1
    monkeypatch.setattr(readers, "_read_by_json_reader", never_kept)
    assert in_pieces == stored(landing, tmp_path / "line_by_line.duckdb")
    monkeypatch.delenv(PIECE_BYTES_ENV)
    assert in_pieces == stored(landing, tmp_path / "whole.duckdb")


def test_a_file_mostly_of_lines_without_fields_is_judged_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifty thousand lines without a field (`{}`, `null`, `[1]`, a damaged line; the first
    line one, and the last, without a line end) among records keep the JSON reader's read,
    those lines judged again in place as a line-by-line read judges them. Lines are found in
    blocks smaller than a line, so that lines straddle blocks and some blocks have no line
    end."""
    fieldless = ["{}", "null", "[1]", CLEAN[0][:70]]
    content = "\n".join(CLEAN[number % len(CLEAN)] if number % 5 == 1 else fieldless[number % 4]
                        for number in range(62_500))
    paths = [write(tmp_path, "mostly_fieldless", content),
             write(tmp_path, "null_line", SHAPES["null_line"][0])]
    monkeypatch.setattr(readers, "LINE_COUNT_BLOCK", 333)
    con = duckdb.connect()
    assert judged_as_read(con, paths) == (each_judged_line_by_line(con, paths), [[]])
