"""Reading the small reference CSV files of the landing folder and setting bad rows aside.

The agency, catalogue, targets and fee-policy loaders share this. The files are made by hand
in a provincial office: saved from Excel as UTF-8 (with or without BOM), Windows-1258 or
UTF-16, with commas, semicolons (Excel's list separator in Vietnamese Windows) or tabs, dates
as 2025-06-30 or 30/06/2025, cells with stray spaces, a value holding an unquoted comma.
A file whose shape is wrong (missing columns, a name without its date, an encoding that
cannot be read, a quotation mark left open) raises `ReferenceFileError` naming the file and
what to fix, and fails alone; a row that breaks a rule is kept, with its line and a reason
code, in the source's quarantine table, so that per file rows read = rows loaded + rows set
aside. Each file's outcome is recorded in `meta.reference_files` for `marts.data_quality`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.validate.dossier_rules import PROCEDURE_CODE_LENGTH, SHORTENED_PROCEDURE_CODE
from dvctt_pipeline.warehouse import replace_table

QUARANTINE_COLUMNS = ["relative_path", "row_no", "reason", "row_values"]
FILE_COLUMNS = ["relative_path", "status", "message", "rows_read", "rows_loaded",
                "rows_quarantined"]
# Windows-1258 is what Vietnamese Excel versions save "CSV (Comma delimited)" in (DESIGN §7).
ENCODINGS = ("utf-8-sig", "cp1258")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# .xlsx (a zip) and .xls (an OLE2 compound file) saved under a .csv name
WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
# Vietnamese Windows has ';' as its list separator, so Excel saves CSV with semicolons there.
DELIMITERS = (",", ";", "\t")
# ISO dates, the dd/mm/yyyy of Vietnamese documents, and a date cell saved with its time.
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")
# Set-aside rows named one by one in a file's message; the quarantine table has them all.
ROWS_NAMED = 5


class ReferenceFileError(ValueError):
    """A reference file that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class ReferenceFileKind:
    """One kind of reference file: its header, how its rows are named, what fixes each
    reason code."""

    name: str  # the source, as `kind` in marts.data_quality
    columns: tuple[str, ...]
    # where a delimiter typed unquoted most likely sits (a name, a decision reference)
    free_text: str
    # the column that names a row in messages (agency_code, MaTTHC, metric)
    label: str
    fixes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckedRows:
    """The rows of a source that passed every rule, the rows set aside with a reason, and
    each file's outcome (FILE_COLUMNS)."""

    loaded: pd.DataFrame
    quarantined: pd.DataFrame
    files: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FILE_COLUMNS))


def relative_name(path: Path, landing: Path) -> str:
    return path.relative_to(landing).as_posix()


def _decode(path: Path, relative: str) -> str:
    data = path.read_bytes()
    if data.startswith(WORKBOOK_SIGNATURES):
        raise ReferenceFileError(
            f"{relative} is an Excel workbook, not CSV text: save it from Excel as "
            "'CSV UTF-8 (Comma delimited)'."
        )
    encodings = ("utf-16",) if data.startswith(UTF16_BOMS) else ENCODINGS
    for encoding in encodings:
        try:
            return unicodedata.normalize("NFC", data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise ReferenceFileError(
        f"{relative} is neither UTF-8 nor Windows-1258 text: save it from Excel as "
        "'CSV UTF-8 (Comma delimited)'."
    )


def _header_key(name: str) -> str:
    return name.strip().casefold()


def _delimiter(header_line: str, columns: Sequence[str]) -> str:
    """The delimiter that splits the header into the most expected column names."""
    expected = {_header_key(column) for column in columns}
    return max(DELIMITERS, key=lambda delimiter: len(
        expected & {_header_key(name) for name in header_line.split(delimiter)}))


def _records(text: str, relative: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its cells), without blank lines or rows of empty cells
    (Excel saves formatted empty rows as ',,,')."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise ReferenceFileError(
            f"{relative}, line {line}: not readable as CSV ({error}); a value holding "
            f"'{delimiter}' or a quotation mark must be in double quotes, its own quotation "
            "marks doubled."
        ) from None


def _fit(cells: list[str], width: int, free_at: int, delimiter: str) -> list[str]:
    """The row's cells under a header of `width` columns: missing trailing cells are empty;
    surplus cells come from a delimiter typed unquoted in the free-text column (a decision
    reference 'QĐ 12/2022, QĐ 13/2022'), so they are joined back into it. Were the delimiter
    elsewhere, the cells after it shift and the row breaks a rule, so it is set aside."""
    surplus = len(cells) - width
    if surplus <= 0:
        return cells + [""] * -surplus
    joined = delimiter.join(cells[free_at:free_at + surplus + 1])
    return [*cells[:free_at], joined, *cells[free_at + surplus + 1:]]


def read_reference_csv(path: Path, landing: Path, kind: ReferenceFileKind) -> pd.DataFrame:
    """The kind's columns as stripped text, plus `relative_path` and `row_no` (the line in
    the file), one row per non-empty record."""
    relative = relative_name(path, landing)
    text = _decode(path, relative)
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _delimiter(header_line, kind.columns)
    records = list(_records(text, relative, delimiter))
    header = [_header_key(name) for name in (records[0][1] if records else [])]
    missing = [column for column in kind.columns if _header_key(column) not in header]
    if missing:
        raise ReferenceFileError(
            f"{relative} lacks the columns {', '.join(missing)}: its first line must be the "
            f"header {','.join(kind.columns)}."
        )
    positions = [header.index(_header_key(column)) for column in kind.columns]
    free_at = header.index(_header_key(kind.free_text))
    rows = [_fit(cells, len(header), free_at, delimiter) for _, cells in records[1:]]
    frame = pd.DataFrame([[row[at].strip() for at in positions] for row in rows],
                         columns=list(kind.columns), dtype=object)
    frame["relative_path"] = relative
    frame["row_no"] = [line for line, _ in records[1:]]
    return frame


def first_failing_rule(
    frame: pd.DataFrame, rules: Sequence[tuple[str, pd.Series]], kind: ReferenceFileKind
) -> pd.Series:
    """Per row, the reason code of the first rule (reason, mask of breaking rows) it breaks.
    Each reason needs its fix in kind.fixes, checked on every load (a bug of ours otherwise
    shows only once a row breaks that rule)."""
    unexplained = [reason for reason, _ in rules if reason not in kind.fixes]
    if unexplained:
        raise LookupError(f"{kind.name}: no fix written for the reasons {unexplained}")
    reasons = pd.Series(None, index=frame.index, dtype=object)
    for reason, breaks in rules:
        reasons = reasons.mask(reasons.isna() & breaks.fillna(True), reason)
    return reasons


def _file_outcome(relative: str, status: str, message: str | None, read: int, loaded: int,
                  quarantined: int) -> pd.DataFrame:
    return pd.DataFrame([[relative, status, message, read, loaded, quarantined]],
                        columns=FILE_COLUMNS)


def _set_aside_message(quarantined: pd.DataFrame, kind: ReferenceFileKind) -> str | None:
    """What to fix, line by line, for the first set-aside rows of a file."""
    if quarantined.empty:
        return None
    named = [
        f"line {row.row_no} ({kind.label} {json.loads(row.row_values)[kind.label] or 'empty'}): "
        f"{row.reason}, {kind.fixes[row.reason]}"
        for row in quarantined.head(ROWS_NAMED).itertuples()
    ]
    more = len(quarantined) - ROWS_NAMED
    return "; ".join(named) + (f"; and {more} more rows (see the quarantine table)"
                               if more > 0 else "")


def set_aside(frame: pd.DataFrame, reasons: pd.Series, kind: ReferenceFileKind) -> CheckedRows:
    """Split one file's rows by their reason; quarantined rows keep the file's cells as JSON."""
    bad = reasons.notna()
    quarantined = pd.DataFrame({
        "relative_path": frame.loc[bad, "relative_path"],
        "row_no": frame.loc[bad, "row_no"],
        "reason": reasons[bad],
        "row_values": [json.dumps(row, ensure_ascii=False)
                       for row in frame.loc[bad, list(kind.columns)].to_dict("records")],
    }, columns=QUARANTINE_COLUMNS)
    return CheckedRows(loaded=frame.loc[~bad], quarantined=quarantined)


def check_file(
    path: Path, landing: Path, kind: ReferenceFileKind,
    check: Callable[[Path, Path], CheckedRows], table_columns: Sequence[str],
) -> CheckedRows:
    """One file checked by `check`, with its outcome; a file that cannot be used fails
    alone, its message saying what to fix."""
    relative = relative_name(path, landing)
    try:
        _require_csv(path, relative)
        checked = check(path, landing)
    except ReferenceFileError as error:
        return CheckedRows(loaded=pd.DataFrame(columns=list(table_columns)),
                           quarantined=pd.DataFrame(columns=QUARANTINE_COLUMNS),
                           files=_file_outcome(relative, "failed", str(error), 0, 0, 0))
    loaded, quarantined = len(checked.loaded), len(checked.quarantined)
    outcome = _file_outcome(relative, "loaded", _set_aside_message(checked.quarantined, kind),
                            loaded + quarantined, loaded, quarantined)
    return CheckedRows(loaded=checked.loaded, quarantined=checked.quarantined, files=outcome)


def csv_files(folder: Path) -> list[Path]:
    """The files of a reference folder, but hidden ones and Excel's lock files (~$name)."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and not path.name.startswith((".", "~$")))


def _require_csv(path: Path, relative: str) -> None:
    """Only CSV is read: a workbook dropped in a reference folder fails with that message
    rather than being skipped without a word."""
    if path.suffix.lower() != ".csv":
        raise ReferenceFileError(
            f"{relative}: only .csv files are read here; save it from Excel as "
            "'CSV UTF-8 (Comma delimited)'."
        )


def _stacked(frames: Iterable[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Frames one under the other, leaving out empty ones (which would make every column's
    dtype object); an empty frame of `columns` for none."""
    frames = [frame for frame in frames if len(frame)]
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=list(columns)))


def concat_checked(parts: list[CheckedRows], columns: Sequence[str]) -> CheckedRows:
    """The checked rows of several files of one source (empty tables for no file)."""
    return CheckedRows(
        loaded=_stacked((part.loaded for part in parts), columns),
        quarantined=_stacked((part.quarantined for part in parts), QUARANTINE_COLUMNS),
        files=_stacked((part.files for part in parts), FILE_COLUMNS),
    )


def store_checked(
    con: duckdb.DuckDBPyConnection, kind: ReferenceFileKind, table: str, rows: CheckedRows
) -> dict[str, int]:
    """Replace a reference table, its quarantine table and its files' outcomes; returns the
    tables' row counts."""
    quarantine_table = f"quarantine.{table.split('.')[1]}"
    counts = {
        table: replace_table(con, table, rows.loaded),
        quarantine_table: replace_table(con, quarantine_table, rows.quarantined),
    }
    # no transaction needed: a load cut short here is not marked done, so it runs again
    outcomes = rows.files.assign(kind=kind.name, loaded_at=datetime.now(UTC))
    con.execute("DELETE FROM meta.reference_files WHERE kind = $kind", {"kind": kind.name})
    con.register("reference_file_outcomes", outcomes)
    con.execute(
        "INSERT INTO meta.reference_files BY NAME SELECT * FROM reference_file_outcomes")
    con.unregister("reference_file_outcomes")
    return counts


def file_messages(con: duckdb.DuckDBPyConnection, kind_name: str) -> list[str]:
    """Each file of a source that failed or had rows set aside, with what to fix."""
    rows = con.execute(
        "SELECT relative_path, status, message FROM meta.reference_files "
        "WHERE kind = $kind AND message IS NOT NULL ORDER BY relative_path",
        {"kind": kind_name},
    ).fetchall()
    return [f"{path} {'failed' if status == 'failed' else 'loaded, rows set aside'}: {message}"
            for path, status, message in rows]


def gso_codes(text: pd.Series, digits: int) -> pd.Series:
    """GSO codes with the leading zeros Excel drops from a number-looking cell ('1' is '01',
    Hà Nội; a district has 3 digits, a commune 5)."""
    return text.where(~text.str.isdigit(), text.str.zfill(digits))


def procedure_codes(text: pd.Series) -> pd.Series:
    """MaTTHC with the trailing zeros a spreadsheet drops from a number-looking cell ('1.00437'
    is '1.004370'), as the dossier exports' rules read it (validate.dossier_rules)."""
    shortened = text.str.fullmatch(SHORTENED_PROCEDURE_CODE)
    return text.where(~shortened, text.str.ljust(PROCEDURE_CODE_LENGTH, "0"))


def province_codes(text: pd.Series) -> pd.Series:
    return gso_codes(text, 2)


def known_province_codes(geographies: Iterable[str]) -> set[str]:
    return {code for geography in geographies
            for code in admin_units.provinces(geography)["province_code"]}


def parse_number(text: pd.Series) -> pd.Series:
    """The number written, with a decimal comma or point and a percent sign or not: '55',
    '55%' and '55 %' are 55, '55,5%' (Excel on a Vietnamese Windows) 55.5; empty or unreadable
    text is NaN."""
    return pd.to_numeric(text.str.replace(",", ".", regex=False).str.strip().str.rstrip("%")
                         .str.strip(), errors="coerce")


def parse_fraction(text: pd.Series) -> pd.Series:
    """'0.55', '0,55' and '55%' are 0.55; empty or unreadable text is NaN."""
    numbers = parse_number(text)
    return numbers.where(~text.str.strip().str.endswith("%"), numbers / 100)


def parse_dates(text: pd.Series) -> pd.Series:
    """Dates written 2025-06-30 or 30/06/2025 (also 30-06-2025, 30.06.2025, 1/7/2025);
    empty or impossible dates are NaT. Month-first dates are not Vietnamese usage."""
    dates = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for date_format in DATE_FORMATS:
        dates = dates.fillna(pd.to_datetime(text, format=date_format, errors="coerce"))
    return dates


def has_bad_date(text: pd.Series, dates: pd.Series) -> pd.Series:
    """A date written but not readable (an empty cell is no date, not a bad one)."""
    return (text != "") & dates.isna()


def dated_file_date(path: Path, prefix: str, date_format: str, shown_as: str) -> pd.Timestamp:
    """The date in a name like `services_2022-01-01.csv`; a clear error if it has none."""
    stem = path.stem
    stamp = pd.to_datetime(stem.removeprefix(prefix), format=date_format, errors="coerce")
    if not stem.startswith(prefix) or pd.isna(stamp):
        example = pd.Timestamp("2022-01-01").strftime(date_format)
        raise ReferenceFileError(
            f"{path.parent.name}/{path.name}: name it {prefix}<{shown_as}>.csv, e.g. "
            f"{prefix}{example}.csv; the other files are used."
        )
    return stamp
