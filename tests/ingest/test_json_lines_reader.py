"""JSON-lines exports are read by DuckDB's JSON reader when every line of a file is one
record, and line by line otherwise, file by file: both ways must judge every line alike. Each
file below is written as another tool or a damaged transfer would write it, read both ways,
and compared row by row (fields, reason, position); the files the JSON reader must read are
checked to be read by it, so a change that made it never apply would fail here too."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import unicodedata
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dvctt_pipeline.ingest import readers
from dvctt_pipeline.ingest.dossiers import PIECE_BYTES_ENV, ingest_dossier_exports
from dvctt_pipeline.ingest.long_records import cut_to_fields, line_text
from dvctt_pipeline.ingest.readers import USED_FIELDS
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
    # LF line ends, then a CRLF one (a file appended to by another tool): DuckDB's CSV reader,
    # which splits the lines, took a CR after a first LF for a line end too, an empty line more
    "mixed_line_ends": ("\n".join(CLEAN[:3]) + "\r\n" + "\n".join(CLEAN[3:5]), True),
    # ... so that every later line was one too far even when all are read line by line
    "mixed_line_ends_blank_line": ("\n".join(CLEAN[:3]) + "\r\n\n" + CLEAN[3], False),
    # ... and lines judged again from their lines took the verdict of the line before: `42`
    # counted as a blank line, set aside nowhere
    "fieldless_mixed_line_ends": (CLEAN[0] + "\nnull\n{}\r\n42\n" + CLEAN[1], True),
    # a record over several lines (json.dumps with indent): DuckDB's JSON reader fails on it,
    # ignore_errors or not, so the file is read line by line, each of its lines set aside
    "pretty_printed_record": ("\n".join(CLEAN[:3] + [json.dumps(record(12), indent=2)]
                                        + CLEAN[3:6]), False),
    "line_near_limit": ("\n".join(CLEAN + [json.dumps(record(10, GhiChu="x" * (MAX_LINE_BYTES
                                                                              - 400)))]), False),
    # documents embedded in a record: a line longer than DuckDB reads, read cut to its fields
    "long_line": ("\n".join(CLEAN + [json.dumps(record(11, GhiChu="x" * MAX_LINE_BYTES))]),
                  False),
    # ... unless a field the readers read is that long itself: set aside as line_too_long
    "read_field_too_long": ("\n".join(CLEAN + [json.dumps(record(13, DonViXuLy="x"
                                                                  * MAX_LINE_BYTES))]), False),
}


def physical_lines(content: str | bytes) -> int:
    """A file's lines: its LF line ends, and a last line without one."""
    newline = "\n" if isinstance(content, str) else b"\n"
    return content.count(newline) + bool(content and not content.endswith(newline))


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
    assert [row[-1] for row in line_by_line] == list(range(1, physical_lines(content) + 1))
    assert judged_as_read(con, [path]) == (line_by_line, [[] if read_directly else [0]])


def cut_copy(folder: Path, name: str, content: str | bytes) -> Path:
    """The file with each line cut to the members the readers read, as a line too long for
    DuckDB is (readers._long_lines_cut)."""
    text = content.encode() if isinstance(content, str) else content
    cut = [cut_to_fields(line_text(line.removesuffix(b"\r")), readers.READ_MEMBERS_BY_KEY)
           for line in text.split(b"\n")]
    return write(folder, f"{name}.cut", b"\n".join(cut))


@pytest.mark.parametrize("shape", [shape for shape in SHAPES if shape != "read_field_too_long"])
def test_a_line_cut_to_its_read_members_is_judged_as_the_whole_line(
        tmp_path: Path, shape: str) -> None:
    """Every line of every shape cut as a long line is: the same fields, reason and position
    as the line itself (a field's spelling, escapes, a repeated key, an odd fee list, a value
    that is not an object, a blank or damaged line), and no personal data left in the copy."""
    content, _ = SHAPES[shape]
    con = duckdb.connect()
    whole = judged_line_by_line(con, [write(tmp_path, shape, content)])
    cut = cut_copy(tmp_path, shape, content)
    assert judged_line_by_line(con, [cut]) == whole
    assert "0912345678" not in cut.read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("odd", ["blank_lines", "long_line"])
def test_only_the_odd_files_of_a_batch_are_read_again_line_by_line(
        tmp_path: Path, odd: str) -> None:
    """One file of a batch that DuckDB's JSON reader cannot read as its lines say (a blank
    line; a line too long, read again from a cut copy) is read again alone: the files
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
    assert "G22.99-000011" in {row[2] for row in raw}  # the long line's record
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


# Files mixed at random from the line kinds of SHAPES and more that another tool or a damaged
# transfer writes, a few hundred lines each: every seed gives the same files.
SEEDS = range(30)
BLANKS = ["", "   "]
FIELDLESS_LINES = ["null", "{}", "[1, 2]", '"G22.99-1"', "42", "true", CLEAN[0][:70],
                   CLEAN[1] + CLEAN[2], '{"MaHoSo": "A", "MaHoSo": "B"}', "{", "}", "{} x",
                   '{"GhiChu": "không có trường nào"}']
# DonViXuLy composed (NFC) or decomposed (NFD); a record in five is written with \u escapes
UNIT_NAMES = ["Sở Tư pháp tỉnh Hòa Bình", unicodedata.normalize("NFD", "Sở Tư pháp tỉnh Hòa Bình"),
              "UBND xã Đồng Phú", unicodedata.normalize("NFD", "Ủy ban nhân dân phường Đống Đa")]


def mixed_record(rng: random.Random, number: int) -> str:
    """A record line as some tool writes it: keys in any order, numbers as numbers or text,
    null or missing fields, names composed or not, Vietnamese escaped or not, spaces around."""
    item = record(number, DonViXuLy=rng.choice(UNIT_NAMES))
    for field in ("KenhThucHien", "TrangThaiHoSo", "DuocThanhToanTrucTuyen"):
        item[field] = rng.choice([item[field], str(item[field]), float(item[field])])
    for field in rng.sample(sorted(USED_FIELDS), rng.choice([0, 0, 0, 1, 2])):
        if rng.random() < 0.5:
            item[field] = None
        else:
            item.pop(field, None)
    if rng.random() < 0.1:
        item[rng.choice(["KenhThucHien", "NgayTiepNhan", "TrangThaiHoSo"])] = rng.choice(
            ["9", "20220230080000", "4.5", "", " ", 20220301080000, True, [4], {"Ma": 1}])
    if rng.random() < 0.1:
        item["DanhSachLePhi"] = rng.choice(["50000", [{"Gia": "1.5"}, 5], [{"Gia": None}], {}])
    if rng.random() < 0.2:
        keys = list(item)
        rng.shuffle(keys)
        item = {key: item[key] for key in keys}
    line = json.dumps(item, ensure_ascii=rng.random() < 0.2,
                      separators=rng.choice([(", ", ": "), (",", ":")]))
    if rng.random() < 0.1:
        line = rng.choice([" ", "\t", "  \t"]) + line
    if rng.random() < 0.1:
        line += rng.choice([" ", "\t", " \t "])
    return line


def mixed_file(rng: random.Random) -> bytes:
    """A few hundred lines: records and, at a rate of its own, lines without fields, blank
    lines, CRLF line ends; perhaps a byte order mark, perhaps no line end after the last."""
    shape = rng.random()
    if shape < 0.05:
        return rng.choice([b"", b"\n", b"\r\n", b"\n  \n\n"])  # no records
    fieldless, blank, crlf = (rng.choice([0, 0, 0.01, 0.05, 0.3]),
                              rng.choice([0, 0, 0.02, 0.1]), rng.choice([0, 0, 0.1, 0.5, 1]))
    chosen = []
    for number in range(rng.randint(1, 300)):
        kind = rng.random()
        chosen.append(rng.choice(BLANKS) if kind < blank else
                      rng.choice(FIELDLESS_LINES) if kind < blank + fieldless else
                      mixed_record(rng, number))
    text = "".join(line + ("\r\n" if rng.random() < crlf else "\n") for line in chosen)
    if rng.random() < 0.3:
        text = text.rstrip("\r\n")
    return (("\ufeff" if rng.random() < 0.1 else "") + text).encode()


def mixed_files(seed: int, count: int = 4) -> list[bytes]:
    rng = random.Random(seed)
    return [mixed_file(rng) for _ in range(count)]


def blank_lines(content: bytes) -> int:
    """Lines of spaces or nothing, a CR of the line end and a byte order mark apart."""
    return sum(line.rstrip(b"\r").strip(b" \xef\xbb\xbf") == b""
               for line in content.split(b"\n")[:physical_lines(content)])


def read_directly(content: bytes) -> bool:
    """Whether DuckDB's JSON reader reads a mixed file one record per line: no blank line, and
    no line `{` before a line `}` (one record to the reader, which goes on to the next line for
    the rest of an object: the file is read again line by line)."""
    lines = content.replace(b"\r", b"").split(b"\n")
    return not blank_lines(content) and (b"{", b"}") not in itertools.pairwise(lines)


@pytest.mark.parametrize("seed", SEEDS)
def test_files_of_mixed_lines_are_judged_alike_both_ways(tmp_path: Path, seed: int) -> None:
    """Each file alone and the files as one batch: the same judged rows as line by line, one
    per line of the file; the JSON reader's kept for the files without a blank line."""
    contents = mixed_files(seed)
    paths = [write(tmp_path, f"mixed_{seed}_{index}", content)
             for index, content in enumerate(contents)]
    con = duckdb.connect()
    for path, content in zip(paths, contents, strict=True):
        line_by_line = judged_line_by_line(con, [path])
        assert [row[-1] for row in line_by_line] == list(range(1, physical_lines(content) + 1))
        assert judged_as_read(con, [path]) == (
            line_by_line, [[] if read_directly(content) else [0]]), path.name
    assert judged_as_read(con, paths)[0] == each_judged_line_by_line(con, paths)


# (the files of seed 15 have a record over several lines: a line `{` then `}`)
@pytest.mark.parametrize("seed", SEEDS[::5])
def test_mixed_files_give_the_warehouse_every_record_once(tmp_path: Path, seed: int) -> None:
    """Mixed files landed as a day's exports: per file, every line that is not blank is a row
    read, and rows read = rows loaded (in raw) + rows quarantined, the same rows whether read
    whole or in pieces; a file without records is set aside whole."""
    day = tmp_path / "landing" / "dossiers" / "2022-03-02"
    day.mkdir(parents=True)
    contents = dict.fromkeys(mixed_files(seed))  # a copy would be a duplicate
    for index, content in enumerate(contents):
        write(day, f"mixed_{index}", content)
    direct = stored(tmp_path / "landing", tmp_path / "direct.duckdb")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PIECE_BYTES_ENV, "8192")  # a file's pieces start at any of its lines
        assert direct == stored(tmp_path / "landing", tmp_path / "pieces.duckdb")
    with duckdb.connect(str(tmp_path / "direct.duckdb"), read_only=True) as con:
        files = con.execute("""
            SELECT relative_path, status, rows_read, rows_loaded, rows_quarantined,
                   (SELECT count(*) FROM raw.dossier_snapshots AS raw
                    WHERE raw.file_id = file.file_id),
                   (SELECT count(*) FROM quarantine.dossier_snapshots AS quarantine
                    WHERE quarantine.file_id = file.file_id)
            FROM meta.source_files AS file ORDER BY relative_path""").fetchall()
    expected = []
    for content in contents:
        records = physical_lines(content) - blank_lines(content)
        expected.append(("loaded", records) if records else ("failed", 0))
    assert len(files) == len(expected)
    for (name, status, read, loaded, quarantined, in_raw, set_aside), file_expected in zip(
            files, expected, strict=True):
        assert (status, read or 0) == file_expected, name
        assert (read or 0) == (loaded or 0) + (quarantined or 0), name
        assert (loaded or 0, quarantined or 0) == (in_raw, set_aside), name


def test_a_record_over_several_lines_in_a_file_read_in_pieces(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A month in one file with a pretty-printed record: read in pieces, the warehouse gets what
    reading it whole gives, that record's lines set aside. DuckDB's JSON reader fails on such a
    record even when told to ignore errors, and a piece is read inside the transaction its
    file is stored in, which the failure aborts: the file is loaded again, line by line."""
    landing = tmp_path / "landing"
    day = landing / "dossiers" / "2022-03-31"
    day.mkdir(parents=True)
    write(day, "month", "\n".join(CLEAN * 4) + "\n" + SHAPES["pretty_printed_record"][0])
    whole = stored(landing, tmp_path / "whole.duckdb")
    assert len(whole[0]) == len(CLEAN) * 4 + 6
    monkeypatch.setenv(PIECE_BYTES_ENV, "16384")
    assert stored(landing, tmp_path / "pieces.duckdb") == whole
