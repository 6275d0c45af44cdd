"""Format readers for dossier exports: JSON lines, JSON arrays and CSV, each optionally .gz.

Each reader reads a batch of files in one statement, or one file too big for a statement
piece after piece (judged_pieces), and judges their records on the way
into the temporary table `judged_records` (see validate.dossier_rules), reading only the
fields the metrics need: personal data (ChuHoSo, SoGiayToChuHoSo, SoDienThoai, Email,
DiaChi, ...) is never selected, so it cannot reach the warehouse, its quarantine, the logs or
Dagster metadata. File paths are passed as
query parameters, never spliced into SQL text; DuckDB reads .gz files as streams.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import mmap
import os
import re
import shutil
import sys
import tempfile
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Literal, NamedTuple, TypeVar

import duckdb
import numpy as np

from dvctt_pipeline.ingest.field_names import CASE_STYLES, field_key
from dvctt_pipeline.ingest.guards import UnreadableFile, not_utf8
from dvctt_pipeline.ingest.landing import WORKBOOK_SUFFIXES
from dvctt_pipeline.ingest.long_records import cut_to_fields, line_text
from dvctt_pipeline.ingest.workbook_exports import HEADER_SEARCH_ROWS, workbook_as_csv
from dvctt_pipeline.sqltext import quote_identifier, quote_literal
from dvctt_pipeline.validate.dossier_rules import (
    LONGEST_LINE_BYTES,
    MAX_LINE_BYTES,
    SPREADSHEET_DATE_MACROS,
    TYPE_MACROS,
    judge_records,
    judge_records_again,
)

# DVCQG sync field -> column of a reader's records. Only these fields are ever read.
USED_FIELDS: dict[str, str] = {
    "MaHoSo": "ma_ho_so",
    "MaDonViXuLy": "ma_don_vi_xu_ly",
    "DonViXuLy": "don_vi_xu_ly",
    "MaTTHC": "ma_tthc",
    "MaLinhVuc": "ma_linh_vuc",
    "KenhThucHien": "kenh_thuc_hien",
    "NgayTiepNhan": "ngay_tiep_nhan",
    "NgayHenTra": "ngay_hen_tra",
    "NgayKetThucXuLy": "ngay_ket_thuc_xu_ly",
    "NgayTra": "ngay_tra",
    "TrangThaiHoSo": "trang_thai",
    "DuocThanhToanTrucTuyen": "thanh_toan_truc_tuyen",
}
# A CSV export without these columns cannot give a single valid record.
REQUIRED_CSV_COLUMNS = ("MaHoSo", "NgayTiepNhan", "KenhThucHien", "TrangThaiHoSo")
# CSV exports give the total fee of a dossier in one column instead of the DanhSachLePhi list.
CSV_FEE_COLUMN = "Gia"
DATE_FIELDS = ("NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra")
# Exports of JSON text: their date order is found after a first read (judge_again_as_written)
JSON_FORMATS = (".jsonl", ".ndjson", ".json")
# A date as a spreadsheet shows it, day and month in either order before the year (15/03/2022,
# 3/15/2022): a CSV an office opened and saved again in Excel has its dates so, and a JSON
# export from a service formatting dates in its culture. Looked for in the first bytes of an
# export before its dates are looked at (_date_order).
SPREADSHEET_DATE = re.compile(rb"\b[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}\b")
PEEK_BYTES = 1 << 16
# How an export's spreadsheet dates are read: its file shows which comes first, or does not.
DateOrder = Literal["day_first", "month_first", "unknown"]
# Legacy Vietnamese Windows code page; its text uses combining tone marks, hence NFC after.
LEGACY_ENCODING = "cp1258"
# Excel's "Unicode text" and some "CSV (UTF-16)" exports start with a UTF-16 byte-order mark.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Delimiters a spreadsheet export uses; the header line tells which one a file has.
CSV_DELIMITERS = ",;\t|"
# Stands in, in a copy of a JSON-lines file, for a line too long to read (LONGEST_LINE_BYTES).
TOO_LONG_MARK = "\x1fline_too_long\x1f"
# The csv module stops at a field over 128 kB; a checked copy keeps only the used fields, so a
# long note or an embedded attachment is read past instead (up to 1 GB a field).
csv.field_size_limit(1 << 30)


# An empty cell of a frame's column, as Python's json module writes it (_record_columns)
EMPTY_FLOAT = "NaN"
# The fields whose values are numbers or dates, not text
TYPED_FIELDS = (*DATE_FIELDS, "KenhThucHien", "TrangThaiHoSo", "DuocThanhToanTrucTuyen")
# MongoDB's Extended JSON, as mongoexport writes a collection: a date as {"$date": "<ISO
# 8601>"}, or {"$date": {"$numberLong": "<milliseconds since 1970>"}} outside 1970-9999 and in
# canonical mode, where a number is {"$numberInt": "2"} too (and a NaN {"$numberDouble":
# "NaN"}). The value inside is the field's text; an object of another kind stays as written.
EXTENDED_JSON_VALUES = ('$."$date"."$numberLong"', '$."$date"', '$."$numberInt"',
                        '$."$numberLong"', '$."$numberDouble"', '$."$numberDecimal"')
# A fee's amount in each element of DanhSachLePhi
FEE_MEMBER = "Gia"
# The used fields as one struct: from_json parses a record once, where one JSON function per
# field would parse it again each time (3x slower on a national month). Fields stay text, as
# the rules type them. from_json gives NULL for a value of another shape than asked for, so an
# odd fee list (not a list, prices as text) costs the fee, never the record.
RECORD_TYPE = json.dumps(
    {**dict.fromkeys(USED_FIELDS, "VARCHAR"), "DanhSachLePhi": f"STRUCT({FEE_MEMBER} VARCHAR)[]"}
)
# The members RECORD_TYPE reads, by their field_key: those a long line keeps
# (_long_lines_cut), and those a record may spell otherwise (fields_in_another_case).
READ_MEMBERS_BY_KEY = {field_key(member): member for member in json.loads(RECORD_TYPE)}
# JSON's whitespace before a record's first character
JSON_BLANKS = "' ' || chr(9) || chr(13)"


def _in_date_order(value: str, field: str, date_order: DateOrder | None) -> str:
    """`value`, the text of `field`, as the rules read it: a date written as a spreadsheet
    shows it (15/03/2022) written again as ISO 8601 in its file's order (_date_order)."""
    if field in DATE_FIELDS and date_order:
        return f"in_iso_order({value}, {date_order != 'month_first'})"
    return value


def _ambiguous_dates(read_error: str, value_of: Callable[[str], str],
                     date_order: DateOrder | None) -> str:
    """`read_error`, or `ambiguous_date` where a file whose date order is unknown has a date
    that reads as two different days in the two orders."""
    if date_order != "unknown":
        return read_error
    ambiguous = " OR ".join(f"order_matters({value_of(field)})" for field in DATE_FIELDS)
    return f"coalesce({read_error}, CASE WHEN {ambiguous} THEN 'ambiguous_date' END)"


def _extended_json_value(value: str) -> str:
    """The text of `value`, or of the value an Extended JSON object holds
    (EXTENDED_JSON_VALUES); DuckDB gives an object read as text as its JSON."""
    inside = ", ".join(f"json_extract_string({value}, {quote_literal(path)})"
                       for path in EXTENDED_JSON_VALUES)
    return f"CASE WHEN starts_with({value}, '{{') THEN coalesce({inside}, {value}) ELSE {value} END"


def _record_columns(record: str, date_order: DateOrder | None = None) -> str:
    """The used fields and the fee total of `record`, a struct of RECORD_TYPE. A field that
    is NaN is empty: Python's json module writes a float's NaN, pandas' empty cell, as that
    token (json.dumps of a frame's records), which DuckDB reads as the text 'NaN'. A number or
    date may be an Extended JSON object (mongoexport)."""
    def value(field: str) -> str:
        text = record + field
        if field in TYPED_FIELDS:
            text = _extended_json_value(text)
        return _in_date_order(f"nullif({text}, {EMPTY_FLOAT!r})", field, date_order)

    fields = ",\n        ".join(
        f"{value(field)} AS {column}" for field, column in USED_FIELDS.items()
    )
    fee = _extended_json_value(f"fee.{FEE_MEMBER}")
    return f"""{fields},
        list_sum(list_transform({record}DanhSachLePhi,
                                fee -> amount_in_dong({fee}))) AS fee_total"""


def _json_records(lines: str, date_order: DateOrder | None = None) -> str:
    """The records of `lines`, a query giving file_index, blank and the JSON text `line`;
    `date_order`: how their dates written as a spreadsheet shows them are read."""
    # json_valid runs on the few records that are not objects, to tell the reason
    read_error = _ambiguous_dates(f"""CASE WHEN blank OR record IS NOT NULL THEN NULL
             WHEN line = '{TOO_LONG_MARK}' THEN 'line_too_long'
             WHEN is_object OR NOT json_valid(line) THEN 'invalid_json'
             ELSE 'not_an_object' END""", lambda field: f"record.{field}", date_order)
    return f"""
    SELECT
        file_index,
        blank,
        {read_error} AS read_error,
        {_record_columns("record.", date_order)}
    FROM (
        SELECT
            file_index,
            blank,
            line,
            is_object,
            -- a line that is not JSON gives NULL instead of failing the batch
            CASE WHEN is_object THEN try(from_json(line, '{RECORD_TYPE}')) END AS record
        FROM (
            SELECT file_index, blank, line,
                   -- trimming copies the line: only for the rare line not starting with '{{'
                   CASE WHEN starts_with(line, '{{') THEN true
                        WHEN blank THEN false
                        ELSE starts_with(ltrim(line, {JSON_BLANKS}), '{{') END AS is_object
            FROM ({lines})
        )
    )
    """


# One row per physical line, blank ones included so that positions are line numbers: NUL
# never occurs in text, and quoting is off. The line end is given: left to itself, DuckDB's
# CSV reader takes it from a file's first line, and after a first LF it reads a later CRLF as
# two line ends, so a file that mixes them (an export appended to or edited by another tool)
# got an empty line more at each CRLF and every later position one too far. Told CRLF, it
# ends a line at either.
JSON_LINES_TEXT = f"""
    SELECT file_index,
           CASE WHEN starts_with(line, '{{') THEN false ELSE coalesce(trim(line) = '', true) END
               AS blank,
           line
    FROM read_csv($paths, columns = {{'line': 'VARCHAR'}}, header = false, delim = '\\0',
                  quote = '', escape = '', auto_detect = false, strict_mode = false,
                  new_line = '\\r\\n', max_line_size = {MAX_LINE_BYTES})
"""
JSON_LINES = _json_records(JSON_LINES_TEXT)

# The records of JSON-lines files read by DuckDB's JSON reader itself, one pass over the text
# where JSON_LINES splits the lines and then parses each (half the CPU on a national month).
# It skips blank lines and gives a record of NULLs for a line it cannot read (ignore_errors:
# so that one bad line does not fail the whole read), so it can neither number
# lines nor say why one is set aside: its result is kept only for files it read one record
# per line (_read_by_json_reader), else JSON_LINES reads them. A file with a line near
# MAX_LINE_BYTES is left to JSON_LINES, which alone reads it, cut when longer
# (_long_lines_cut).
FAST_READ_MAX_LINE_BYTES = MAX_LINE_BYTES // 2
JSON_RECORDS = f"""
    SELECT file_index, false AS blank, NULL::VARCHAR AS read_error, {_record_columns("")}
    FROM read_json($paths, format = 'newline_delimited', records = true,
                   columns = {{{", ".join(f"'{field}': '{kind}'" for field, kind in
                                json.loads(RECORD_TYPE).items())}}},
                   maximum_object_size = {MAX_LINE_BYTES}, ignore_errors = true)
"""

# Each element of a file's top-level array is one record, kept as JSON text so that elements
# that are not objects are set aside by the same rule as in JSON lines.
JSON_ARRAYS = _json_records("""
    SELECT file_index, false AS blank, json::VARCHAR AS line
    FROM read_json($paths, format = 'array', records = false, columns = {'json': 'JSON'})
""")
JSON_BLANKS_AT = re.compile(r"[ \t\n\r]*")
# Longer than JSON's longest token that is not a string or number: -Infinity, \uXXXX
LONGEST_JSON_TOKEN = 16
# How deep in an API's response its array of records is looked for: {"result": {"items": [...]}}
# is 2 (_ArrayElements)
RESPONSE_DEPTH = 4
# Text read at a time from an array read in pieces
TEXT_BLOCK = 1 << 20
# Bytes read at a time to measure a file's lines
LINE_COUNT_BLOCK = 8 << 20
# Bytes copied at a time into a piece of JSON lines or CSV (_copy_whole_lines)
COPY_BLOCK = FAST_READ_MAX_LINE_BYTES


# The column of a checked copy of a CSV export (_csv_with_ragged_rows_marked) that says why a
# row cannot be read.
READ_ERROR_COLUMN = "_dvctt_read_error"
# How a checked copy is written, and read back.
CHECKED_COPY_DIALECT = "delim = ',', quote = '\"', escape = '\"'"
# A CSV export read in pieces is cut where the count of quotes is even: its pieces are read
# with that quote (doubled inside a field, as Excel, pandas and the csv module write it) and
# the delimiter of its header line (_header_and_delimiter).
CSV_QUOTE = b'"'
CSV_PIECE_DIALECT = ", delim = $delim, quote = '\"', escape = '\"'"
# A field that is empty in a CSV export: nothing, or how a database tool writes a NULL
# unquoted (SQL Server Management Studio's saved results NULL, MySQL's INTO OUTFILE \N),
# which would otherwise be a date or code that does not read, or a MaHoSo 'NULL'
CSV_NULLS = "['', 'NULL', '\\N']"


def _csv_records(
    columns_present: Sequence[str], dialect: str = "", date_order: DateOrder | None = None
) -> str:
    """A field's column is the header's name whose field_key is the field's, quoted whole
    (quote_identifier): the file's text never reaches the SQL otherwise.
    `date_order`: how the spreadsheet dates of the file are read (_date_order); an unknown
    order sets their records aside as `ambiguous_date`."""
    present = {field_key(name): name for name in columns_present}

    def column(field: str) -> str:
        name = present.get(field_key(field))
        return quote_identifier(name) if name is not None else "NULL::VARCHAR"

    # in an unknown order, the dates read the same either way (03/03/2022) are read
    read_error = _ambiguous_dates(column(READ_ERROR_COLUMN), column, date_order)
    fields = ",\n        ".join(
        f"{_in_date_order(column(field), field, date_order)} AS {name}"
        for field, name in USED_FIELDS.items()
    )
    # a row whose every field read is empty is no record, as a blank line of JSON lines is
    # not: Excel writes the rows below the data that a cell was once formatted in as ;;;;
    read = ", ".join(column(field) for field in (*USED_FIELDS, CSV_FEE_COLUMN))
    return f"""
    SELECT
        0 AS file_index,
        coalesce({column(READ_ERROR_COLUMN)}, {read}) IS NULL AS blank,
        {read_error} AS read_error,
        {fields},
        amount_in_dong(nullif(trim({column(CSV_FEE_COLUMN)}), '')) AS fee_total
    FROM read_csv($path, header = true, all_varchar = true, nullstr = {CSV_NULLS}{dialect})
    """


def read_json_lines(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    """Files in one statement, by DuckDB's JSON reader; the files it cannot read as their lines
    say, and gzipped ones, line by line. A file with a line of MAX_LINE_BYTES or more is read
    again from a copy where that line keeps only the members the readers read
    (_long_lines_cut). A UTF-16 file is read from a UTF-8 copy (_utf8_paths)."""
    with _utf8_paths(paths) as utf8_paths:
        _read_utf8_json_lines(con, utf8_paths)


def _read_utf8_json_lines(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    by_lines = list(range(len(paths)))
    if not any(path.name.lower().endswith(".gz") for path in paths):
        # the lines are measured while DuckDB reads (numpy and file reads release the GIL);
        # gzipped files would be decompressed once more to measure them
        with ThreadPoolExecutor(max_workers=1) as measurer:
            by_lines = _read_by_json_reader(con, [str(path) for path in paths],
                                            measurer.map(_lines_and_longest, paths))
    if len(by_lines) == len(paths):
        _judged_line_by_line([*paths], partial(judge_records, con, JSON_LINES))
    elif by_lines:
        # only those files are read again: the others keep the JSON reader's records
        con.execute("DELETE FROM judged_records WHERE list_contains($files, file_index)",
                    {"files": by_lines})
        _judged_line_by_line([paths[index] for index in by_lines],
                             partial(judge_records, con, JSON_LINES, file_indexes=by_lines))


def _judged_line_by_line(paths: list[Path], judge: Callable[[dict[str, object]], None]) -> None:
    """`judge` the files' lines (JSON_LINES); a file whose read fails on a line too long is
    judged from a copy where that line is cut to the members the readers read."""
    try:
        judge({"paths": [str(path) for path in paths]})
    except duckdb.Error:
        if len(paths) > 1:
            raise  # the registry reads the batch again in halves, down to each file alone
        with _long_lines_cut(paths[0]) as copy:
            if copy is None:
                raise
            judge({"paths": [str(copy)]})


def _read_by_json_reader(con: duckdb.DuckDBPyConnection, paths: Sequence[str],
                         measured: Iterable[tuple[int, int]]) -> list[int]:
    """Judge the files with JSON_RECORDS into judged_records; the indexes of those it did not
    judge exactly as JSON_LINES would, to be read again line by line: a file not read one
    record per line (a blank line, and positions would not be line numbers), with a line
    near the length JSON_LINES sets aside. A file's records without any field are judged
    again from their lines. `measured`: each file's lines and longest line."""
    try:
        judge_records(con, JSON_RECORDS, {"paths": paths})
    except duckdb.InvalidInputException:
        # a line of tens of megabytes, past the reader's buffer, or a record spread over
        # several lines (pretty-printed, as jq writes by default), which the reader does not
        # set aside even when told to ignore errors: JSON_LINES sets those lines aside
        return list(range(len(paths)))
    judged_lines = dict(con.execute("SELECT file_index, lines FROM judged_files").fetchall())
    read_again = [index for index, (lines, longest) in enumerate(measured)
                  if judged_lines.get(index, 0) != lines or longest >= FAST_READ_MAX_LINE_BYTES]
    _judge_fieldless_records_again(con, paths, read_again)
    return read_again


# The records without any field of the files read one record per line: lines the JSON reader
# could not read, or that are not objects, or objects without those fields. Their files, row
# ids and positions (line numbers from 0), in the order of the files' lines.
FIELDLESS_RECORDS_SQL = """
SELECT file_index, record.rowid AS row_id, record.rowid - judged.first_row AS position
FROM judged_records AS record JOIN judged_files AS judged USING (file_index)
WHERE record.ma_ho_so IS NULL AND record.ngay_tiep_nhan IS NULL
  AND NOT list_contains($read_again, file_index)
ORDER BY file_index, row_id
"""


def _judge_fieldless_records_again(con: duckdb.DuckDBPyConnection, paths: Sequence[str],
                                   read_again: list[int]) -> None:
    """Judge the records without any field again from their lines, as JSON_LINES does (it tells
    why a line was set aside: `invalid_json`, `not_an_object`), in place. A national day's
    export with one damaged line was read a second time whole for it."""
    fieldless = con.execute(FIELDLESS_RECORDS_SQL, {"read_again": read_again}).fetchnumpy()
    if not fieldless["row_id"].size:
        return
    file_indexes, firsts = np.unique(fieldless["file_index"], return_index=True)
    with tempfile.TemporaryDirectory(prefix="dvctt-lines-") as folder:
        # a copy per file, so that a first line keeps its place (a byte order mark)
        copies = [Path(folder) / f"{file_index}.jsonl" for file_index in file_indexes]
        for copy, file_index, positions in zip(
                copies, file_indexes, np.split(fieldless["position"], firsts[1:]), strict=True):
            _copy_lines(Path(paths[file_index]), positions, copy)
        judge_records_again(con, JSON_LINES, {"paths": [str(copy) for copy in copies]},
                            fieldless["row_id"])


def _copy_lines(path: Path, positions: np.ndarray, copy: Path) -> None:
    """Write the lines of a file at these positions (from 0, ascending) to `copy`, each with a
    line end."""
    starts, ends = _line_spans(path, positions)
    with (path.open("rb") as source, copy.open("wb") as target,
          mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as text):
        target.writelines(text[start:end] + b"\n"
                          for start, end in zip(starts.tolist(), ends.tolist(), strict=True))


def _line_spans(path: Path, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the lines of a file at these positions (from 0, ascending) start and end, line
    end excluded, found by the newline scan that measured the file (_lines_and_longest): a
    file of millions of lines with a few damaged ones is not split into Python lines."""
    starts = np.zeros(positions.size, dtype=np.int64)
    ends = np.full(positions.size, path.stat().st_size, dtype=np.int64)  # a last line unended
    previous = positions - 1  # a line starts after the line end of the line before
    lines = offset = 0  # lines and bytes before the block
    for block_ends, block_bytes in _line_ends(path):
        line_ends = block_ends + offset
        _take_numbered(ends, positions, line_ends, lines)
        _take_numbered(starts, previous, line_ends + 1, lines)
        lines += line_ends.size
        offset += block_bytes
        if lines > positions[-1]:
            break  # the last wanted line has ended
    return starts, ends


def _take_numbered(into: np.ndarray, numbers: np.ndarray, values: np.ndarray, first: int
                   ) -> None:
    """into[i] = values[numbers[i] - first] for each of the ascending `numbers` that falls
    among `values`, numbered from `first`."""
    low, high = np.searchsorted(numbers, [first, first + values.size])
    into[low:high] = values[numbers[low:high] - first]


def _line_ends(path: Path) -> Iterator[tuple[np.ndarray, int]]:
    """Per block of a file in turn: where its line ends are in the block, and its bytes."""
    with path.open("rb", buffering=0) as text:
        while block := text.read(LINE_COUNT_BLOCK):
            yield np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == ord("\n")), len(block)


def _lines_and_longest(path: Path) -> tuple[int, int]:
    """A file's lines (the last counted whether or not a line end closes it) and the length
    of its longest line, line end excluded."""
    lines = longest = run = 0  # run: bytes since the last line end
    for ends, block_bytes in _line_ends(path):
        if not ends.size:
            run += block_bytes
            continue
        longest = max(longest, int((np.diff(ends, prepend=-1 - run) - 1).max()))
        lines += ends.size
        run = block_bytes - int(ends[-1]) - 1
    return lines + (run > 0), max(longest, run)


@contextmanager
def _long_lines_cut(path: Path) -> Iterator[Path | None]:
    """A temporary copy of a JSON-lines file whose lines of MAX_LINE_BYTES or more keep only
    the members the readers read (ingest.long_records), or None when it has no such line. A
    line of LONGEST_LINE_BYTES or more, or whose read members alone reach MAX_LINE_BYTES,
    is replaced by TOO_LONG_MARK, and is never held in memory whole."""
    cut = 0
    with tempfile.TemporaryDirectory(prefix="dvctt-lines-") as folder:
        copy = Path(folder) / "export.jsonl"
        try:
            with _open_bytes(path) as source, copy.open("wb") as target:
                while line := source.readline(MAX_LINE_BYTES + 1):
                    if len(line.rstrip(b"\r\n")) < MAX_LINE_BYTES:
                        target.write(line)
                        continue
                    cut += 1
                    target.write(_cut_line(_rest_of_line(line, source)) + b"\n")
        except (OSError, EOFError, zlib.error):
            cut = 0  # a damaged gzip: DuckDB's own error says what is wrong
        yield copy if cut else None


def _rest_of_line(start: bytes, source: IO[bytes]) -> str | None:
    """The text of the line that begins with `start`, read on from `source` to its end,
    without its line end; None, once skipped to its end, when it has LONGEST_LINE_BYTES or
    more. Only the text is kept: the line's bytes are let go once it is decoded."""
    line = bytearray(start)
    while not line.endswith(b"\n") and (part := source.readline(COPY_BLOCK)):
        # past the limit only each part's last byte is kept, which tells where the line ends
        line += part if len(line) <= LONGEST_LINE_BYTES else part[-1:]
    while line.endswith((b"\n", b"\r")):
        del line[-1]
    return line_text(line) if len(line) < LONGEST_LINE_BYTES else None


def _cut_line(line: str | None) -> bytes:
    if line is None:
        return TOO_LONG_MARK.encode()
    cut = cut_to_fields(line, READ_MEMBERS_BY_KEY)
    return cut if len(cut) < MAX_LINE_BYTES else TOO_LONG_MARK.encode()


@dataclass(frozen=True)
class Piece:
    """A piece of an export read in pieces: the reader's query and its parameters."""

    records: str
    params: dict[str, object]
    # a piece of JSON lines that DuckDB's JSON reader may read (_read_by_json_reader): its lines
    # and its longest line, measured as it was copied
    measured: tuple[int, int] | None = None


def judged_pieces(
    con: duckdb.DuckDBPyConnection, path: Path, piece_bytes: int
) -> Iterator[None]:
    """Read an export piece by piece: each step leaves the next piece's records judged in
    `judged_records` (validate.dossier_rules). A piece of JSON lines is read by DuckDB's JSON
    reader where that reads it exactly, else line by line (_read_by_json_reader). A JSON
    export whose first record names the fields in another case is read with its names
    (fields_in_another_case), and one whose dates are written as a spreadsheet shows them in
    their order (_json_date_order_in_pieces), line by line."""
    spelling = fields_in_another_case(path)
    lines = fields_renamed(JSON_LINES_TEXT, spelling)
    order = _json_date_order_in_pieces(con, path, lines, piece_bytes)
    for piece in reader_for(path).pieces(con, path, piece_bytes):
        if spelling or order:
            judge_records(con, _json_records(lines, order), piece.params)
        elif not piece.measured or _read_by_json_reader(
                con, piece.params["paths"], [piece.measured]):
            judge_records(con, piece.records, piece.params)
        yield


def _json_date_order_in_pieces(
    con: duckdb.DuckDBPyConnection, path: Path, lines: str, piece_bytes: int
) -> DateOrder | None:
    """The date order (_date_order) of a JSON export read in pieces, from all of its dates
    before its first piece is judged: one pass over its pieces more, for a file that shows
    such dates (a file sorted by date may have only days up to the 12th in its first
    pieces). None for a CSV, whose pieces carry their order (csv_pieces)."""
    if export_format(path) not in JSON_FORMATS or not shows_spreadsheet_dates(path):
        return None
    evidence = [0] * len(DATE_EVIDENCE)
    for piece in reader_for(path).pieces(con, path, piece_bytes):
        counts = _date_evidence(con, _json_records(lines), piece.params, path)
        evidence = [total + count for total, count in zip(evidence, counts, strict=True)]
    return _decided_order(evidence)


def fields_renamed(lines: str, spelling: Mapping[str, str]) -> str:
    """`lines` (a query giving file_index, blank and JSON text `line`) with each key of
    `spelling` read as the field it names: {"mahoso": "MaHoSo"} reads a record's "mahoso" as
    its MaHoSo."""
    line = "line"
    for key, field in spelling.items():
        key_pattern = quote_literal('"' + key + r'"(\s*):')
        renamed = quote_literal('"' + field + r'"\1:')
        line = f"regexp_replace({line}, {key_pattern}, {renamed}, 'g')"
    return f"SELECT file_index, blank, {line} AS line FROM ({lines})" if spelling else lines


def judge_again_as_written(
    con: duckdb.DuckDBPyConnection, path: Path, file_index: int, spelling: Mapping[str, str]
) -> None:
    """Judge a JSON export of the batch again, its rows of judged_records replaced, as its
    records are written: the keys of `spelling` read as the fields they name
    (fields_renamed), and dates written as a spreadsheet shows them (a service writing them
    in its culture's format: 15/03/2022 08:30:00) read in the file's order (_date_order). Its
    elements or lines are read as JSON lines, the long ones cut."""
    con.execute("DELETE FROM judged_records WHERE file_index = $index", {"index": file_index})
    lines = fields_renamed(JSON_LINES_TEXT, spelling)

    def judge(params: dict[str, object]) -> None:
        order = _date_order(con, _json_records(lines), params, path)
        judge_records(con, _json_records(lines, order), params, file_indexes=[file_index])

    if export_format(path) == ".json":
        # as one piece: a file read whole is smaller than a piece (ingest.dossiers)
        for piece in json_array_pieces(con, path, sys.maxsize):
            judge(piece.params)
        return
    with _utf8_paths([path]) as utf8_paths:
        _judged_line_by_line(utf8_paths, judge)


Copied = TypeVar("Copied")


def _pieces(copy_piece: Callable[[Path], Copied | None], suffix: str
            ) -> Iterator[tuple[Path, Copied]]:
    """Temporary files filled one after the other by `copy_piece`, with what it says of each,
    until it copies nothing (None). The next piece is copied while the caller reads this one
    (two files take turns; file reads, writes, gzip and DuckDB release the GIL), so the copy
    does not leave DuckDB waiting."""
    with tempfile.TemporaryDirectory(prefix="dvctt-pieces-") as folder, \
            ThreadPoolExecutor(max_workers=1) as copier:
        pieces = (Path(folder) / f"piece-a{suffix}", Path(folder) / f"piece-b{suffix}")
        next_copy = copier.submit(copy_piece, pieces[0])
        for turn in itertools.count():
            piece = pieces[turn % 2]
            copied = next_copy.result()
            if copied is None:
                return
            next_copy = copier.submit(copy_piece, pieces[(turn + 1) % 2])
            yield piece, copied


@contextmanager
def _written_over(piece: Path) -> Iterator[IO[bytes]]:
    """The piece's file, to be written from its start over the piece it held before, and cut
    where the writing ends. Two files take turns holding the pieces (_pieces): truncating one
    frees its blocks, which refilling it allocates again. Copying a 6.3 GB month alone took
    6.7–11.0 s of system time truncated, 4.0–7.6 s written over (benchmarks/RESULTS.md)."""
    with open(os.open(piece, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as target:
        yield target
        target.truncate()


def json_lines_pieces(
    _con: duckdb.DuckDBPyConnection, path: Path, piece_bytes: int
) -> Iterator[Piece]:
    """The lines of a JSON-lines file, decompressed if gzipped, in pieces of about
    `piece_bytes` cut at line ends: a file of any size is read a bounded piece at a time."""
    with _export_bytes(path) as source:
        yield from _lines_in_pieces(
            lambda target: _copy_whole_lines(source, target, piece_bytes))


class CopiedLines(NamedTuple):
    """What a copy into a piece wrote: bytes, lines (the last counted whether or not a line
    end closes it) and the longest line's length, line end included."""

    written: int
    lines: int
    longest: int


def _lines_in_pieces(copy_lines: Callable[[IO[bytes]], CopiedLines]) -> Iterator[Piece]:
    """Pieces of JSON lines, each filled by `copy_lines`. A piece with a line of
    MAX_LINE_BYTES or more is given as a copy where that line is cut (_long_lines_cut), as
    read_json_lines does for a whole file after its read fails; the others carry their lines
    and longest line for DuckDB's JSON reader (Piece.measured)."""
    def copy_piece(piece: Path) -> CopiedLines | None:
        with _written_over(piece) as target:
            copied = copy_lines(target)
        return copied if copied.written else None

    for piece, copied in _pieces(copy_piece, ".jsonl"):
        if copied.longest < MAX_LINE_BYTES:
            yield Piece(JSON_LINES, {"paths": [str(piece)]}, (copied.lines, copied.longest))
            continue
        with _long_lines_cut(piece) as cut:
            yield Piece(JSON_LINES, {"paths": [str(cut or piece)]})


def _copy_whole_lines(
    source: IO[bytes], target: IO[bytes], size: int, quote: bytes = b""
) -> CopiedLines:
    """Copy about `size` bytes in blocks of COPY_BLOCK, then up to the end of the line they
    stop in, a line at a time of at most MAX_LINE_BYTES (a line never sits in memory whole).
    A line within one block is shorter than COPY_BLOCK, so only runs of bytes without a line
    end across blocks are measured: the longest line is exact from COPY_BLOCK on. With a
    `quote` (CSV), the copy ends only at a line end after an even count of quotes: a quoted
    field may hold line ends, and a doubled quote inside it keeps the count even."""
    written = lines = run = longest = quotes = 0
    while block := source.read(min(size - written, COPY_BLOCK)) if written < size \
            else source.readline(MAX_LINE_BYTES):
        target.write(block)
        written += len(block)
        if quote:
            quotes += block.count(quote)
        first, last = block.find(b"\n"), block.rfind(b"\n")
        if first < 0:
            run += len(block)
        else:
            lines += block.count(b"\n")
            longest = max(longest, run + first + 1)
            run = len(block) - last - 1
        if written >= size and block.endswith(b"\n") and quotes % 2 == 0:
            break
    return CopiedLines(written, lines + (run > 0), max(longest, run))


def read_json_arrays(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    """Files in one statement, by DuckDB's JSON reader. A file it cannot read alone is read
    again element by element, as in pieces: DuckDB's reader stops at a malformed array (whose
    fault the element reader places) and at an element of some tens of megabytes (documents
    embedded in a record), which the element reader cuts to the members the readers read. A
    UTF-16 file is read from a UTF-8 copy (_utf8_paths)."""
    try:
        with _utf8_paths(paths) as utf8_paths:
            judge_records(con, JSON_ARRAYS, {"paths": [str(path) for path in utf8_paths]})
    except duckdb.OutOfMemoryException:
        raise  # the pipeline's limit (registry), not the file's fault
    except (duckdb.Error, UnicodeDecodeError) as error:
        # (DuckDB's message about text that is not UTF-8 quotes its bytes, and Python cannot
        # decode the message)
        if len(paths) > 1:
            # DuckDB's message may quote a record: the registry reads each file alone instead
            raise _not_an_array(paths, "") from error
        # as one piece, which leaves its records judged: a file read whole is smaller than a
        # piece (ingest.dossiers)
        for _ in judged_pieces(con, paths[0], sys.maxsize):
            pass


def _not_an_array(paths: Sequence[Path], where: str) -> UnreadableFile:
    names = ", ".join(path.name for path in paths)
    return UnreadableFile(
        f"{names} is not one complete JSON array of records{where}; a .json export must "
        "be [ {...}, {...} ], or an API's response holding one as a member "
        "({\"data\": [ {...} ]}), in UTF-8 (JSON lines go in a .jsonl file)."
    )


def json_array_pieces(
    _con: duckdb.DuckDBPyConnection, path: Path, piece_bytes: int
) -> Iterator[Piece]:
    """The elements of a JSON array, one a line, in pieces of JSON lines of about
    `piece_bytes`: the n-th line is the n-th element, so positions are those of the array.
    A malformed array fails when the piece holding the fault is copied, before that piece is
    read: what its earlier pieces stored is discarded, and it fails alone. An element of
    MAX_LINE_BYTES or more keeps only the members the readers read, as a long JSON line does;
    in pieces and whole alike, an element of LONGEST_LINE_BYTES or more fails the file."""
    with _export_text(path) as text:
        elements = _ArrayElements(text, path)
        yield from _lines_in_pieces(lambda target: elements.copy(target, piece_bytes))


class _ArrayElements:
    """The elements of a JSON array streamed from its text, a block at a time: the json
    module's C scanner finds where each ends (8 CPU seconds for a 340 MB array, against 18
    for ijson's C backend re-serialising the elements, and 11 and 0.7 GB of memory for
    DuckDB copying them). An element keeps its text; its line ends, blanks between tokens
    (JSON has none inside a string), become spaces, so that it is one line.

    The array may also be a member of an object, as an API's response saved to a file holds
    its records ({"status": "ok", "total": 2, "data": [{...}, {...}]}), or of an object within
    it, as frameworks wrap a page of them ({"result": {"totalCount": 2, "items": [...]}},
    ABP; {"d": {"results": [...]}}, OData): the one array of records (_records_follow) among
    the members, and the members of members that are objects; the response's other members
    are read past. An object with a field of a record (MaHoSo) is a record alone, whose fee
    list is no array of records."""

    def __init__(self, text: IO[str], path: Path) -> None:
        self._text, self._path = text, path
        self._buffer, self._at, self._elements_read = "", 0, 0
        # NaN and Infinity are taken, as DuckDB takes them
        self._decoder = json.JSONDecoder()
        self._started = self._ended = self._text_ended = False
        # the names of the members of the response holding the array, if one does (those of
        # objects within it as paths: result.items), and the one holding the records
        self._members: list[str] | None = None
        self._records_member = ""
        # the objects of the response open at the current position: the members read of
        # each, and the names of those within it
        self._objects: list[int] = []
        self._inside: list[str] = []

    def copy(self, target: IO[bytes], size: int) -> CopiedLines:
        """Write elements as lines until `size` bytes are written or the array ends."""
        if not self._started:
            self._start()
        written = lines = longest = 0
        while written < size and (element := self._next_element()) is not None:
            line = (element.replace("\r", " ").replace("\n", " ")
                    if "\n" in element or "\r" in element else element).encode() + b"\n"
            target.write(line)
            written, lines, longest = written + len(line), lines + 1, max(longest, len(line))
        return CopiedLines(written, lines, longest)

    def _start(self) -> None:
        self._started = True
        if self._next_char() == "{":
            self._enter_response()
        if self._next_char() != "[":
            raise self._malformed()
        self._at += 1
        if self._next_char() == "]":
            self._end()

    def _next_element(self) -> str | None:
        if self._ended:
            return None
        element = self._next_value()
        separator = self._next_char()
        if separator == "]":
            self._end()
        elif separator == ",":
            self._at += 1
        else:
            raise self._malformed()
        self._elements_read += 1
        return element

    def _next_value(self) -> str:
        """The text of the JSON value at the next character, read past."""
        self._next_char()
        while True:
            try:
                _, end = self._decoder.raw_decode(self._buffer, self._at)
            except json.JSONDecodeError as error:
                if not _cut_short(error):
                    raise self._malformed() from None
                end = None
            except RecursionError:
                raise self._malformed() from None
            # a value that ends where the text buffered ends (a number) may go on
            if end is not None and (end < len(self._buffer) or self._text_ended):
                break
            # read on until the text buffered from the value doubles, so that a long one
            # (documents embedded in a record) is parsed a few times over, not once a block
            buffered = len(self._buffer) - self._at
            if buffered >= LONGEST_LINE_BYTES:
                raise self._too_long()
            if not self._fill(max(TEXT_BLOCK, buffered)) and end is None:
                raise self._malformed()
        value = self._buffer[self._at:end]
        self._at = end
        return value

    def _end(self) -> None:
        """After the closing bracket, the rest of the response holding the array, if one
        does; then only blanks."""
        self._at += 1
        while self._objects:
            if (name := self._next_member()) is None:
                continue
            if self._records_follow():
                raise self._records_twice(self._members[-1])
            self._read_past_or_enter(name)
        if self._next_char() != "":
            raise self._malformed()
        self._ended = True

    def _enter_response(self) -> None:
        """Read an object's members, and those of members that are objects, up to the first
        whose value is an array of records."""
        self._members = []
        self._open_object()
        while self._objects:
            if (name := self._next_member()) is None:
                continue
            if not self._inside and field_key(name) in READ_MEMBERS_BY_KEY:
                raise self._one_record(name)
            if self._records_follow():
                self._records_member = self._members[-1]
                return
            self._read_past_or_enter(name)
        raise self._no_records()

    def _open_object(self, name: str | None = None) -> None:
        """Enter the object at the next character, the value of the member `name` if any."""
        self._at += 1
        self._objects.append(0)
        if name is not None:
            self._inside.append(name)

    def _read_past_or_enter(self, name: str) -> None:
        """Enter the value of the member `name` if it is an object within RESPONSE_DEPTH of
        the response, else read past it."""
        if self._next_char() == "{" and len(self._objects) < RESPONSE_DEPTH:
            self._open_object(name)
        else:
            self._next_value()

    def _next_member(self) -> str | None:
        """The name of the innermost open object's next member, read past its colon; None
        where that object ends, which is then closed."""
        char = self._next_char()
        if char == "}":
            self._at += 1
            self._objects.pop()
            if self._inside:
                self._inside.pop()
            return None
        if self._objects[-1]:
            if char != ",":
                raise self._malformed()
            self._at += 1
        name = json.loads(self._next_value())
        if not isinstance(name, str) or self._next_char() != ":":
            raise self._malformed()
        self._at += 1
        self._objects[-1] += 1
        self._members.append(".".join([*self._inside, name]))
        return name

    def _records_follow(self) -> bool:
        """Whether the next value is an array of records: its first element an object with a
        field the readers read, in any case (a page's links, [{"href": ...}], are not)."""
        if self._next_char() != "[":
            return False
        inside = JSON_BLANKS_AT.match(self._buffer, self._at + 1).end()
        if self._buffer[inside:inside + 1] != "{":
            return False
        self._at = inside
        first = self._next_value()
        # the array is read again from its start, whatever the buffer dropped to find `first`
        self._buffer, self._at = "[" + first + self._buffer[self._at:], 0
        return any(field_key(key) in READ_MEMBERS_BY_KEY for key in json.loads(first))

    def _next_char(self) -> str:
        """The next character that is not a blank, "" at the end of the text, with at least
        half a block of text buffered from it on when the text goes on."""
        while True:
            self._at = JSON_BLANKS_AT.match(self._buffer, self._at).end()
            if len(self._buffer) - self._at >= TEXT_BLOCK // 2 or not self._fill():
                return self._buffer[self._at:self._at + 1]

    def _fill(self, size: int = 0) -> bool:
        """Drop what was read, add `size` characters of text (a block by default); whether
        there were any."""
        if self._text_ended:
            return False
        try:
            block = self._text.read(size or TEXT_BLOCK)
        except UnicodeDecodeError:
            raise not_utf8(self._path.name) from None
        self._buffer, self._at = self._buffer[self._at:] + block, 0
        self._text_ended = not block
        return bool(block)

    def _malformed(self) -> UnreadableFile:
        return _not_an_array([self._path], f" (malformed after element {self._elements_read:,})")

    def _no_records(self) -> UnreadableFile:
        members = ", ".join(self._members or []) or "none"
        return UnreadableFile(
            f"{self._path.name} is a JSON object with no array of records among its members "
            f"({members}); a .json export must be [ {{...}}, {{...}} ], or an API's response "
            "holding one as a member ({\"data\": [ {...} ]})."
        )

    def _one_record(self, name: str) -> UnreadableFile:
        return UnreadableFile(
            f"{self._path.name} is one JSON object with the fields of a record ({name}), not an "
            "array of records: write it as [ {...} ], or the records as JSON lines (.jsonl)."
        )

    def _records_twice(self, name: str) -> UnreadableFile:
        return UnreadableFile(
            f"{self._path.name} holds two arrays of records ({self._records_member}, {name}); "
            "export one array of records per file."
        )

    def _too_long(self) -> UnreadableFile:
        return UnreadableFile(
            f"{self._path.name}: element {self._elements_read + 1:,} of its array has "
            f"{LONGEST_LINE_BYTES:,} characters or more, more than the pipeline reads (a limit "
            "of the pipeline, not a fault of the file); exported as JSON lines, that record "
            "alone would be set aside and the others would load."
        )


def _cut_short(error: json.JSONDecodeError) -> bool:
    """Whether the text the decoder was given may have ended inside the value rather than hold
    a fault: a string left open, or a fault within a token's length of the end (a literal such
    as -Infinity, or an escape, cut short). A fault found there is found again, further from
    the end, once more text is read."""
    return (error.msg.startswith("Unterminated string")
            or error.pos >= len(error.doc) - LONGEST_JSON_TOKEN)


# How far into a JSON export its first record is looked for (fields_in_another_case)
FIRST_RECORD_LINES = 100


def fields_in_another_case(path: Path) -> dict[str, str]:
    """The keys of a JSON export's first record (its first line or array element that is an
    object) that name a field the readers read in another case (`mahoso`, as a database
    writes its columns; `maHoSo`), each with that field, unless the record names the field as
    the readers do too; {} for CSV, whose header is matched in any case."""
    if export_format(path) == ".csv":
        return {}
    try:
        record = _first_record(path)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, UnreadableFile):
        return {}
    seen = {key: READ_MEMBERS_BY_KEY[field_key(key)] for key in record
            if READ_MEMBERS_BY_KEY.get(field_key(key), key) not in record}
    # every member read, a fee's amount in the fee list too, in the case the record's keys
    # show: the first record may lack some (it has no fee), and later ones have them
    for case in CASE_STYLES:
        if seen and all(case(member) == key for key, member in seen.items()):
            return {case(member): member for member in (*READ_MEMBERS_BY_KEY.values(),
                                                        FEE_MEMBER) if case(member) != member}
    return seen


def _first_record(path: Path) -> dict[str, object]:
    if export_format(path) == ".json":
        with _export_text(path) as text:
            elements = _ArrayElements(text, path)
            elements.copy(copy := io.BytesIO(), 1)
            lines = copy.getvalue().splitlines()
    else:
        with _export_bytes(path) as source:
            lines = [source.readline(MAX_LINE_BYTES) for _ in range(FIRST_RECORD_LINES)]
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            return record
    return {}


def read_csv_export(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    """UTF-16 with a byte-order mark (Excel's "Unicode text") is transcoded first; UTF-8
    (with or without BOM) is read directly; otherwise the file is taken as Windows-1258, the
    legacy Vietnamese code page, and transcoded first. One file at a time: each export has its
    own header."""
    (path,) = paths
    if _starts_with_utf16_bom(path):
        with _transcoded(path, "utf-16") as utf8_copy:
            _read_utf8_csv(con, utf8_copy, shown_as=path)
        return
    try:
        _read_utf8_csv(con, path)
    except (duckdb.InvalidInputException, UnicodeDecodeError) as error:
        if not _is_encoding_error(error):
            raise
        with _transcoded(path, LEGACY_ENCODING) as utf8_copy:
            _read_utf8_csv(con, utf8_copy, shown_as=path)


def _is_encoding_error(error: Exception) -> bool:
    return isinstance(error, UnicodeDecodeError) or "unicode" in str(error).lower()


def _starts_with_utf16_bom(path: Path) -> bool:
    try:
        with _open_bytes(path) as stream:
            return stream.read(2) in UTF16_BOMS
    except (OSError, EOFError):
        return False  # a damaged gzip: DuckDB's read says so


def _open_bytes(path: Path) -> IO[bytes]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rb")


def _export_bytes(path: Path) -> IO[bytes]:
    """A JSON export's text as UTF-8: a UTF-16 one (PowerShell's Out-File, Notepad's
    "Unicode") transcoded as it is read."""
    return _utf8_stream(path, "utf-16") if _starts_with_utf16_bom(path) else _open_bytes(path)


def _export_text(path: Path) -> IO[str]:
    return _open_text(path, "utf-16" if _starts_with_utf16_bom(path) else "utf-8-sig")


@contextmanager
def _utf8_paths(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """The files, each UTF-16 one replaced by a temporary UTF-8 copy of the same name."""
    with ExitStack() as copies:
        yield [copies.enter_context(_transcoded(path, "utf-16"))
               if _starts_with_utf16_bom(path) else path for path in paths]


def _read_utf8_csv(
    con: duckdb.DuckDBPyConnection, path: Path, shown_as: Path | None = None
) -> None:
    """An export whose header comes under lines of title is read from below them
    (_below_its_title)."""
    with _below_its_title(path, partial(_open_bytes, path)) as csv_path:
        _read_utf8_csv_records(con, csv_path, shown_as or path)


def _read_utf8_csv_records(con: duckdb.DuckDBPyConnection, path: Path, shown_as: Path) -> None:
    """DuckDB reads a well-formed export in one statement, its dialect sniffed. A row with more
    or fewer fields than the header makes it fail (or sniff one column only): then the file is
    read again from a checked copy where such rows are marked `ragged_row`."""
    try:
        header = [
            row[0] for row in con.execute(
                "DESCRIBE SELECT * FROM read_csv($path, header = true, all_varchar = true)",
                {"path": str(path)},
            ).fetchall()
        ]
        if not _missing_columns(header):
            order = _date_order(con, _csv_records(header), {"path": str(path)}, path,
                                shown_as)
            judge_records(con, _csv_records(header, "", order), {"path": str(path)})
            return
    except duckdb.InvalidInputException as error:
        # a ragged row, or a line longer than DuckDB's limit: the checked copy reads it
        if _is_encoding_error(error):
            raise
    with _csv_with_ragged_rows_marked(path, shown_as) as (checked_copy, checked_header):
        dialect = f", {CHECKED_COPY_DIALECT}"
        order = _date_order(con, _csv_records(checked_header, dialect),
                            {"path": str(checked_copy)}, checked_copy, shown_as)
        judge_records(con, _csv_records(checked_header, dialect, order),
                      {"path": str(checked_copy)})


# Per export: its spreadsheet dates (spreadsheet_date) whose order matters; those that only one
# order reads, by their numbers (read month first, a first number above 12 is no month; the
# mirror for day first); and those received after the day the file was exported (its
# folder's date, $last_received: a day later, for an export made around midnight) if read
# month first, and if read day first.
DATE_ORDER_SQL = """
SELECT count(*),
       count(*) FILTER (WHERE first > 12), count(*) FILTER (WHERE second > 12),
       count(*) FILTER (WHERE received AND month_first > $last_received),
       count(*) FILTER (WHERE received AND day_first > $last_received)
FROM (
    SELECT date.first, date.second, received,
           try_strptime(concat_ws('-', date.year, date.second, date.first), '%Y-%m-%d')
               AS day_first,
           try_strptime(concat_ws('-', date.year, date.first, date.second), '%Y-%m-%d')
               AS month_first
    FROM (
        SELECT unnest([
            struct_pack(date := spreadsheet_date(ngay_tiep_nhan), received := true),
            struct_pack(date := spreadsheet_date(ngay_hen_tra), received := false),
            struct_pack(date := spreadsheet_date(ngay_ket_thuc_xu_ly), received := false),
            struct_pack(date := spreadsheet_date(ngay_tra), received := false)], max_depth := 2)
        FROM ({records})
    )
    WHERE date.first <> date.second
)
"""


def _date_order(
    con: duckdb.DuckDBPyConnection, records: str, params: Mapping[str, object], path: Path,
    shown_as: Path | None = None,
) -> DateOrder | None:
    """How the dates of an export written as a spreadsheet shows them (15/03/2022) are read,
    from the records of `records` (a reader's query, read as written) that `path` gives, or
    its copy (`shown_as`: the file in its export folder): in the one order their numbers
    allow (15/03/2022 is day first, 3/15/2022 month first); where no number is above 12, in
    the one order that receives no dossier after the file's export day (a day's export of
    the 5th holding 05/03/2022); else 'unknown' (none or both): guessing would put a dossier
    of 5 March in May. None, read as written, where the first 64 kB have no such date (as in
    most exports, whose dates are then not read again)."""
    if not shows_spreadsheet_dates(path):
        return None
    return _decided_order(_date_evidence(con, records, params, shown_as or path))


# What DATE_ORDER_SQL counts
DATE_EVIDENCE = ("dates", "not_month_first", "not_day_first", "month_first_too_late",
                 "day_first_too_late")


def _date_evidence(con: duckdb.DuckDBPyConnection, records: str, params: Mapping[str, object],
                   shown_as: Path) -> tuple[int, ...]:
    """DATE_ORDER_SQL's counts (DATE_EVIDENCE) of the records of `records`."""
    con.execute(TYPE_MACROS + SPREADSHEET_DATE_MACROS)
    exported_on = _exported_on(shown_as)
    last_received = exported_on + timedelta(days=1) if exported_on else None
    return con.execute(DATE_ORDER_SQL.format(records=records),
                       {**params, "last_received": last_received}).fetchone()


def _decided_order(evidence: Sequence[int]) -> DateOrder | None:
    """The order DATE_EVIDENCE tells (_date_order)."""
    dates, *by_number, month_first_too_late, day_first_too_late = evidence
    if not dates:
        return None
    # the numbers first: a file put in a folder of an earlier day still reads by them
    not_month_first, not_day_first = (
        by_number if any(by_number) else (month_first_too_late, day_first_too_late))
    if not_month_first and not not_day_first:
        return "day_first"
    if not_day_first and not not_month_first:
        return "month_first"
    return "unknown"


def shows_spreadsheet_dates(path: Path) -> bool:
    try:
        with _export_bytes(path) as stream:
            return bool(SPREADSHEET_DATE.search(stream.read(PEEK_BYTES)))
    except (OSError, EOFError):
        return False  # a damaged gzip: DuckDB's read says so


def _exported_on(path: Path) -> date | None:
    """The date of an export's folder (dossiers/<YYYY-MM-DD>/), None for a file elsewhere."""
    try:
        return date.fromisoformat(path.parent.name)
    except ValueError:
        return None


def _missing_columns(header: Sequence[str]) -> list[str]:
    present = {field_key(name) for name in header}
    return [name for name in REQUIRED_CSV_COLUMNS if field_key(name) not in present]


def _fields(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _is_header_line(line: str) -> bool:
    return any(not _missing_columns(_fields(line, delimiter)) for delimiter in CSV_DELIMITERS)


def _title_lines(source: IO[bytes]) -> int:
    """How many lines come before the export's header among its first HEADER_SEARCH_ROWS:
    0 when the first line is the header, or when none is (the header's message then names
    the columns the first line lacks)."""
    for index, line in enumerate(itertools.islice(iter(source.readline, b""),
                                                  HEADER_SEARCH_ROWS)):
        if _is_header_line(_line_text(line)):
            return index
    return 0


def _line_text(line: bytes) -> str:
    """A line of a CSV export as text: UTF-8, else Windows-1258 (read_csv_export's order)."""
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return line.decode(LEGACY_ENCODING, errors="replace")


@contextmanager
def _below_its_title(path: Path, open_bytes: Callable[[], IO[bytes]]) -> Iterator[Path]:
    """`path`, or where lines of title come before the export's header, as a workbook saved
    as CSV keeps them (a screen's list with its title and filters: ingest.workbook_exports),
    a temporary copy of the bytes `open_bytes` gives from the header on, named as the file;
    positions then count records under the header."""
    with open_bytes() as source:
        above = _title_lines(source)
    if not above:
        yield path
        return
    with open_bytes() as source:
        for _ in range(above):
            source.readline()
        with _copy_named_as(path, source) as copy:
            yield copy


def _header_and_delimiter(first_line: str, shown_as: Path) -> tuple[list[str], str]:
    """The header of an export and its delimiter: the one that splits out the most of the
    required columns."""
    delimiter = min(CSV_DELIMITERS,
                    key=lambda d: len(_missing_columns(_fields(first_line, d))))
    header = _fields(first_line, delimiter)
    if missing := _missing_columns(header):
        raise UnreadableFile(
            f"{shown_as.name} lacks the columns {', '.join(missing)}; export the dossiers with "
            "the DVCQG field names as the header, in the first line or under a title of at most "
            f"{HEADER_SEARCH_ROWS - 1} lines (at least {', '.join(REQUIRED_CSV_COLUMNS)}"
            ", in any case, or as the Vietnamese words they spell: Mã hồ sơ, Ngày tiếp nhận…)"
            + ("; it looks like UTF-16 text without a byte-order mark: save it as UTF-8 "
               "(or as Unicode text, which has one)." if "\x00" in first_line else ".")
        )
    return header, delimiter


@contextmanager
def _csv_with_ragged_rows_marked(
    path: Path, shown_as: Path
) -> Iterator[tuple[Path, list[str]]]:
    """A temporary, well-formed CSV copy of an export with only the fields the metrics use,
    one row per record in the same order; a record whose number of fields differs from the
    header's keeps its place as a row with READ_ERROR_COLUMN = 'ragged_row' and nothing else
    (its fields cannot be trusted to be where the header says). Personal data is not copied."""
    with _open_text(path, "utf-8-sig") as source, tempfile.TemporaryDirectory(
        prefix="dvctt-csv-"
    ) as folder:
        header, delimiter = _header_and_delimiter(source.readline(), shown_as)
        positions = {field_key(name): index for index, name in enumerate(header)}
        kept = [field for field in (*USED_FIELDS, CSV_FEE_COLUMN) if field_key(field) in positions]
        copy = Path(folder) / "export.csv"
        with copy.open("w", encoding="utf-8", newline="") as target:
            writer = csv.writer(target)
            writer.writerow([READ_ERROR_COLUMN, *kept])
            records = csv.reader(source, delimiter=delimiter)
            try:
                for record in records:
                    if not record:
                        continue  # a blank line is no record, as DuckDB reads it
                    if len(record) != len(header):
                        writer.writerow(["ragged_row"] + [""] * len(kept))
                    else:
                        writer.writerow(["", *(record[positions[field_key(f)]] for f in kept)])
            except csv.Error as error:
                # the message names the line, never its content
                raise UnreadableFile(
                    f"{shown_as.name} could not be read from line {records.line_num} on "
                    f"({error}); check the quoting of that line or export it again."
                ) from error
        yield copy, [READ_ERROR_COLUMN, *kept]


def csv_pieces(
    con: duckdb.DuckDBPyConnection, path: Path, piece_bytes: int
) -> Iterator[Piece]:
    """A CSV export in pieces of about `piece_bytes` of UTF-8 text cut at record ends, each
    starting with the header again, with the results of read_csv_export on the whole file.
    Its fallbacks are decided before a piece is read: the text's encoding over the whole
    file before the first piece, and for each piece, a trial read on a connection of its
    own (while the previous piece is stored) tells whether DuckDB reads it or a checked copy
    is read instead (a ragged row, a line past DuckDB's limit)."""
    # the title is looked for in the file's bytes as they come (UTF-16 as UTF-8): the field
    # names are ASCII, and checking UTF-8 takes a pass over the whole file
    with (_below_its_title(path, partial(_export_bytes, path)) as csv_path,
          _csv_utf8_source(csv_path) as source, con.cursor() as trial):
        trial.execute(TYPE_MACROS)  # a record's fee is read by one (amount_in_dong)
        header = io.BytesIO()
        _copy_whole_lines(source, header, 0, CSV_QUOTE)
        first_line = header.getvalue().decode("utf-8-sig")
        names, delimiter = _header_and_delimiter(first_line, path)
        if order := _whole_file_date_order(trial, names, delimiter, csv_path, path):
            con.execute(SPREADSHEET_DATE_MACROS)  # the pieces are judged on `con`
        direct = Piece(_csv_records(names, CSV_PIECE_DIALECT, order), {"delim": delimiter})

        def copy_piece(piece: Path) -> bool | None:
            with _written_over(piece) as target:
                target.write(header.getvalue())
                copied = _copy_whole_lines(source, target, piece_bytes, CSV_QUOTE)
            return _reads_directly(trial, direct, piece) if copied.written else None

        for piece, reads_directly in _pieces(copy_piece, ".csv"):
            if reads_directly:
                yield Piece(direct.records, {**direct.params, "path": str(piece)})
                continue
            with _csv_with_ragged_rows_marked(piece, path) as (checked_copy, checked_header):
                yield Piece(_csv_records(checked_header, f", {CHECKED_COPY_DIALECT}", order),
                            {"path": str(checked_copy)})


def _whole_file_date_order(
    trial: duckdb.DuckDBPyConnection, header: Sequence[str], delimiter: str, csv_path: Path,
    path: Path,
) -> DateOrder | None:
    """The date order (_date_order) of a CSV read in pieces, from all of its dates before its
    first piece is read: a file sorted by date may have only days up to the 12th in its first
    pieces. DuckDB reads the file itself (`csv_path`: the file, or its copy below its title)
    for that, past its ragged rows; where it cannot (text in another encoding than UTF-8),
    the order is unknown."""
    try:
        records = _csv_records(header, f"{CSV_PIECE_DIALECT}, ignore_errors = true")
        return _date_order(trial, records, {"path": str(csv_path), "delim": delimiter},
                           csv_path, path)
    except duckdb.Error:
        return "unknown"


def _reads_directly(trial: duckdb.DuckDBPyConnection, direct: Piece, piece: Path) -> bool:
    """Whether DuckDB reads the piece with the file's header and delimiter: tried on `trial`,
    a connection of its own, whose failed read aborts nothing. A count parses every field
    (a ragged row fails it) but judges nothing."""
    try:
        trial.execute(f"SELECT count(*) FROM ({direct.records})",
                      {**direct.params, "path": str(piece)}).fetchone()
    except (duckdb.InvalidInputException, duckdb.BinderException):
        return False
    return True


@contextmanager
def _csv_utf8_source(path: Path) -> Iterator[IO[bytes]]:
    """The bytes of a CSV export as UTF-8: the file's own when it is UTF-8 throughout, else
    transcoded as read_csv_export does (UTF-16 with a byte-order mark, else Windows-1258).
    UTF-8 is checked over the whole file first, as a whole read fails on one bad byte."""
    if _starts_with_utf16_bom(path):
        encoding: str | None = "utf-16"
    else:
        encoding = None if _is_utf8(path) else LEGACY_ENCODING
    with _open_bytes(path) if encoding is None else _utf8_stream(path, encoding) as source:
        yield source


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8, decompressed if gzipped, a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with _open_bytes(path) as stream:
            while block := stream.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    except (OSError, EOFError, zlib.error):
        return True  # a damaged gzip: reading it says so
    return True


def _open_text(path: Path, encoding: str) -> IO[str]:
    return io.TextIOWrapper(_open_bytes(path), encoding=encoding, newline="")


def _nfc_lines(stream: IO[str]) -> Iterator[str]:
    for line in stream:
        yield unicodedata.normalize("NFC", line)


class _Utf8Text(io.RawIOBase):
    """The text of a UTF-16 or Windows-1258 file as UTF-8 bytes, NFC, transcoded line by
    line as it is read (a tone mark is never cut from its letter)."""

    def __init__(self, path: Path, encoding: str) -> None:
        super().__init__()
        self._path, self._encoding = path, encoding
        self._text = _open_text(path, encoding)
        self._lines = _nfc_lines(self._text)
        self._rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._rest:
            try:
                line = next(self._lines, None)
            except UnicodeDecodeError as error:
                raise _undecodable(self._path, self._encoding) from error
            if line is None:
                return 0
            self._rest = memoryview(line.encode("utf-8"))
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size

    def close(self) -> None:
        self._text.close()
        super().close()


def _utf8_stream(path: Path, encoding: str) -> IO[bytes]:
    return io.BufferedReader(_Utf8Text(path, encoding), buffer_size=1 << 20)


def _undecodable(path: Path, encoding: str) -> UnreadableFile:
    return UnreadableFile(
        f"{path.name} is neither UTF-8 nor Windows-1258 text (it has bytes neither "
        "can decode); export it again as UTF-8."
        if encoding == LEGACY_ENCODING else
        f"{path.name} starts as UTF-16 text but has bytes UTF-16 cannot decode; "
        "export it again (as UTF-8, or as Unicode text)."
    )


@contextmanager
def _transcoded(path: Path, encoding: str) -> Iterator[Path]:
    """A temporary UTF-8, NFC copy of a UTF-16 or Windows-1258 file (_copy_named_as)."""
    with _utf8_stream(path, encoding) as source, _copy_named_as(path, source) as copy:
        yield copy


@contextmanager
def _copy_named_as(path: Path, source: IO[bytes]) -> Iterator[Path]:
    """A temporary file of the rest of `source`, named as the file `path` (its messages name
    it), without .gz."""
    with tempfile.TemporaryDirectory(prefix="dvctt-copy-") as folder:
        copy = Path(folder) / re.sub(r"\.gz$", "", path.name, flags=re.IGNORECASE)
        with copy.open("wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        yield copy


@dataclass(frozen=True)
class Reader:
    """Reads a batch of files of one format into judged_records (validate.dossier_rules), or
    one file too big for one statement in pieces (judged_pieces)."""

    read: Callable[[duckdb.DuckDBPyConnection, Sequence[Path]], None]
    # whether several files may be read in one statement
    batches: bool
    pieces: Callable[[duckdb.DuckDBPyConnection, Path, int], Iterator[Piece]]


def read_workbook_export(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    """An export kept as a workbook, read as the CSV its sheet saves as
    (ingest.workbook_exports)."""
    (path,) = paths
    with workbook_as_csv(path, _columns_read) as copy:
        _read_utf8_csv(con, copy, shown_as=path)


def workbook_pieces(
    con: duckdb.DuckDBPyConnection, path: Path, piece_bytes: int
) -> Iterator[Piece]:
    with workbook_as_csv(path, _columns_read) as copy:
        yield from csv_pieces(con, copy, piece_bytes)


def _columns_read(row: Sequence[str]) -> list[int] | None:
    """Of a workbook's row that is an export's header, the columns the readers read."""
    if _missing_columns(row):
        return None
    read = {field_key(field) for field in (*USED_FIELDS, CSV_FEE_COLUMN)}
    return [index for index, name in enumerate(row) if field_key(name) in read]


READERS: dict[str, Reader] = {
    ".jsonl": Reader(read_json_lines, batches=True, pieces=json_lines_pieces),
    # "newline-delimited JSON", the other name of JSON lines
    ".ndjson": Reader(read_json_lines, batches=True, pieces=json_lines_pieces),
    ".json": Reader(read_json_arrays, batches=True, pieces=json_array_pieces),
    ".csv": Reader(read_csv_export, batches=False, pieces=csv_pieces),
    **{suffix: Reader(read_workbook_export, batches=False, pieces=workbook_pieces)
       for suffix in WORKBOOK_SUFFIXES},
}


def export_format(path: Path) -> str:
    """.jsonl, .ndjson, .json, .csv or a workbook's suffix, whether gzipped or not."""
    return Path(path.name.lower().removesuffix(".gz")).suffix


def reader_for(path: Path) -> Reader:
    suffix = export_format(path)
    if suffix not in READERS:
        raise UnreadableFile(
            f"{path.name}: dossier exports must be .jsonl, .ndjson, .json or .csv, optionally "
            f".gz, or a workbook ({', '.join(WORKBOOK_SUFFIXES)})."
        )
    return READERS[suffix]
