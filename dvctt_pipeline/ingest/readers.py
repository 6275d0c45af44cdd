"""Format readers for dossier exports: JSON lines, JSON arrays and CSV, each optionally .gz.

Each reader reads a batch of files in one statement and judges their records on the way
into the temporary table `judged_records` (see validate.dossier_rules), reading only the
fields the metrics need: personal data (ChuHoSo, SoGiayToChuHoSo, SoDienThoai, Email,
DiaChi, ...) is never selected, so it cannot reach the warehouse, its quarantine, the logs or
Dagster metadata. File paths are passed as
query parameters, never spliced into SQL text; DuckDB reads .gz files as streams.
"""

from __future__ import annotations

import gzip
import json
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import duckdb

from dvctt_pipeline.ingest.guards import UnreadableFile
from dvctt_pipeline.validate.dossier_rules import judge_records

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
# Legacy Vietnamese Windows code page; its text uses combining tone marks, hence NFC after.
LEGACY_ENCODING = "cp1258"


# The used fields as one struct: from_json parses a record once, where one JSON function per
# field would parse it again each time (3x slower on a national month). Fields stay text, as
# the rules type them. from_json gives NULL for a value of another shape than asked for, so an
# odd fee list (not a list, prices as text) costs the fee, never the record.
RECORD_TYPE = json.dumps(
    {**dict.fromkeys(USED_FIELDS, "VARCHAR"), "DanhSachLePhi": "STRUCT(Gia VARCHAR)[]"}
)
# JSON's whitespace before a record's first character
JSON_BLANKS = "' ' || chr(9) || chr(13)"


def _json_records(lines: str) -> str:
    """The records of `lines`, a query giving file_index, blank and the JSON text `line`."""
    columns = ",\n        ".join(
        f"record.{field} AS {column}" for field, column in USED_FIELDS.items()
    )
    return f"""
    SELECT
        file_index,
        blank,
        -- json_valid runs on the few records that are not objects, to tell the reason
        CASE WHEN blank OR record IS NOT NULL THEN NULL
             WHEN is_object OR NOT json_valid(line) THEN 'invalid_json'
             ELSE 'not_an_object' END AS read_error,
        {columns},
        list_sum(list_transform(record.DanhSachLePhi,
                                fee -> try_cast(fee.Gia AS DECIMAL(18, 2)))) AS fee_total
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
# never occurs in text, and quoting is off.
JSON_LINES = _json_records("""
    SELECT file_index,
           CASE WHEN starts_with(line, '{') THEN false ELSE coalesce(trim(line) = '', true) END
               AS blank,
           line
    FROM read_csv($paths, columns = {'line': 'VARCHAR'}, header = false, delim = '\\0',
                  quote = '', escape = '', auto_detect = false, strict_mode = false)
""")

# Each element of a file's top-level array is one record, kept as JSON text so that elements
# that are not objects are set aside by the same rule as in JSON lines.
JSON_ARRAYS = _json_records("""
    SELECT file_index, false AS blank, json::VARCHAR AS line
    FROM read_json($paths, format = 'array', records = false, columns = {'json': 'JSON'})
""")


def _csv_records(columns_present: set[str]) -> str:
    """Column names in this SQL are the constants of USED_FIELDS, never the file's own text."""
    present = {name.lower() for name in columns_present}

    def column(field: str) -> str:
        return f'"{field}"' if field.lower() in present else "NULL::VARCHAR"

    fields = ",\n        ".join(
        f"{column(field)} AS {name}" for field, name in USED_FIELDS.items()
    )
    return f"""
    SELECT
        0 AS file_index,
        false AS blank,
        NULL::VARCHAR AS read_error,
        {fields},
        try_cast(nullif(trim({column(CSV_FEE_COLUMN)}), '') AS DECIMAL(18, 2)) AS fee_total
    FROM read_csv($path, header = true, all_varchar = true)
    """


def read_json_lines(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    judge_records(con, JSON_LINES, {"paths": [str(path) for path in paths]})


def read_json_arrays(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    try:
        judge_records(con, JSON_ARRAYS, {"paths": [str(path) for path in paths]})
    except duckdb.Error as error:
        # DuckDB's message may quote the record: keep only the byte position
        position = re.search(r"at byte \d+", str(error))
        where = f" (malformed {position[0]})" if position else ""
        names = ", ".join(path.name for path in paths)
        raise UnreadableFile(
            f"{names} is not one complete JSON array of records{where}; a .json export must "
            "be [ {...}, {...} ] in UTF-8 (JSON lines go in a .jsonl file)."
        ) from error


def read_csv_export(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    """UTF-8 (with or without BOM) is read directly; otherwise the file is taken as
    Windows-1258, the legacy Vietnamese code page, and transcoded first. One file at a time:
    each export has its own header."""
    (path,) = paths
    try:
        _read_utf8_csv(con, path)
    except duckdb.InvalidInputException as error:
        if "unicode" not in str(error).lower():
            raise
        with _transcoded_from_legacy(path) as utf8_copy:
            _read_utf8_csv(con, utf8_copy, shown_as=path)


def _read_utf8_csv(
    con: duckdb.DuckDBPyConnection, path: Path, shown_as: Path | None = None
) -> None:
    shown_as = shown_as or path
    header = [
        row[0] for row in con.execute(
            "DESCRIBE SELECT * FROM read_csv($path, header = true, all_varchar = true)",
            {"path": str(path)},
        ).fetchall()
    ]
    present = {name.lower() for name in header}
    missing = [name for name in REQUIRED_CSV_COLUMNS if name.lower() not in present]
    if missing:
        raise UnreadableFile(
            f"{shown_as.name} lacks the columns {', '.join(missing)}; export the dossiers with "
            f"the DVCQG field names in the first line (at least {', '.join(REQUIRED_CSV_COLUMNS)})."
        )
    judge_records(con, _csv_records(set(header)), {"path": str(path)})


def _open_text(path: Path, encoding: str) -> IO[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rt", encoding=encoding, newline="")


def _nfc_lines(stream: IO[str]) -> Iterator[str]:
    for line in stream:
        yield unicodedata.normalize("NFC", line)


@contextmanager
def _transcoded_from_legacy(path: Path) -> Iterator[Path]:
    """A temporary UTF-8, NFC copy of a Windows-1258 file, written line by line."""
    with tempfile.TemporaryDirectory(prefix="dvctt-cp1258-") as folder:
        copy = Path(folder) / "export.csv"
        try:
            with _open_text(path, LEGACY_ENCODING) as source, copy.open(
                "w", encoding="utf-8", newline=""
            ) as target:
                target.writelines(_nfc_lines(source))
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                f"{path.name} is neither UTF-8 nor Windows-1258 text (it has bytes neither "
                "can decode); export it again as UTF-8."
            ) from error
        yield copy


@dataclass(frozen=True)
class Reader:
    """Reads a batch of files of one format into judged_records (validate.dossier_rules)."""

    read: Callable[[duckdb.DuckDBPyConnection, Sequence[Path]], None]
    # whether several files may be read in one statement
    batches: bool


READERS: dict[str, Reader] = {
    ".jsonl": Reader(read_json_lines, batches=True),
    ".json": Reader(read_json_arrays, batches=True),
    ".csv": Reader(read_csv_export, batches=False),
}


def export_format(path: Path) -> str:
    """.jsonl, .json or .csv, whether gzipped or not."""
    return Path(path.name.lower().removesuffix(".gz")).suffix


def reader_for(path: Path) -> Reader:
    suffix = export_format(path)
    if suffix not in READERS:
        raise UnreadableFile(
            f"{path.name}: dossier exports must be .jsonl, .json or .csv, optionally .gz."
        )
    return READERS[suffix]
