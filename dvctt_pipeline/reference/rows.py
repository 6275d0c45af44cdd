"""Reading the small reference CSV files of the landing folder and setting bad rows aside.

The catalogue, targets and fee-policy loaders share this: a file whose shape is wrong
(missing columns, a name without its date, an encoding that is neither UTF-8 nor
Windows-1258) raises `ReferenceFileError` naming the file and what to fix; a row that breaks
a rule is kept, with its position and a reason code, in the source's quarantine table, so
that rows read = rows loaded + rows set aside.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.reference.agencies import ReferenceFileError
from dvctt_pipeline.warehouse import replace_table

QUARANTINE_COLUMNS = ["relative_path", "row_no", "reason", "row_values"]
# Line 1 of a file is its header, so the first data row is line 2.
FIRST_DATA_LINE = 2
# Windows-1258 is what Vietnamese Excel versions save CSV files in (DESIGN §7).
ENCODINGS = ("utf-8-sig", "cp1258")


@dataclass(frozen=True)
class CheckedRows:
    """The rows of a source that passed every rule, and the rows set aside with a reason."""

    loaded: pd.DataFrame
    quarantined: pd.DataFrame


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            return unicodedata.normalize("NFC", data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise ReferenceFileError(f"{path}: save it as UTF-8 (or Windows-1258) text.")


def read_reference_csv(path: Path, landing: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Every cell as stripped text, plus `relative_path` and `row_no` (line in the file)."""
    frame = pd.read_csv(io.StringIO(_decode(path)), dtype=str, keep_default_na=False)
    frame.columns = [column.strip() for column in frame.columns]
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReferenceFileError(
            f"{path} lacks the columns {', '.join(missing)}; its header must be "
            f"{','.join(columns)}."
        )
    frame = frame[list(columns)].apply(lambda column: column.str.strip())
    frame["relative_path"] = path.relative_to(landing).as_posix()
    frame["row_no"] = range(FIRST_DATA_LINE, FIRST_DATA_LINE + len(frame))
    return frame


def first_failing_rule(frame: pd.DataFrame, rules: Iterable[tuple[str, pd.Series]]) -> pd.Series:
    """Per row, the reason code of the first rule (reason, mask of breaking rows) it breaks."""
    reasons = pd.Series(None, index=frame.index, dtype=object)
    for reason, breaks in rules:
        reasons = reasons.mask(reasons.isna() & breaks.fillna(True), reason)
    return reasons


def set_aside(frame: pd.DataFrame, reasons: pd.Series, columns: Sequence[str]) -> CheckedRows:
    """Split rows by their reason; quarantined rows keep the file's cells as JSON."""
    bad = reasons.notna()
    quarantined = pd.DataFrame({
        "relative_path": frame.loc[bad, "relative_path"],
        "row_no": frame.loc[bad, "row_no"],
        "reason": reasons[bad],
        "row_values": [json.dumps(row, ensure_ascii=False)
                       for row in frame.loc[bad, list(columns)].to_dict("records")],
    }, columns=QUARANTINE_COLUMNS)
    return CheckedRows(loaded=frame.loc[~bad], quarantined=quarantined)


def concat_checked(parts: list[CheckedRows], columns: Sequence[str]) -> CheckedRows:
    """The checked rows of several files of one source (empty tables for no file)."""
    if not parts:
        return CheckedRows(loaded=pd.DataFrame(columns=list(columns)),
                           quarantined=pd.DataFrame(columns=QUARANTINE_COLUMNS))
    return CheckedRows(
        loaded=pd.concat([part.loaded for part in parts], ignore_index=True),
        quarantined=pd.concat([part.quarantined for part in parts], ignore_index=True),
    )


def store_checked(
    con: duckdb.DuckDBPyConnection, table: str, quarantine_table: str, rows: CheckedRows
) -> dict[str, int]:
    """Replace a reference table and its quarantine table; returns their row counts."""
    return {
        table: replace_table(con, table, rows.loaded),
        quarantine_table: replace_table(con, quarantine_table, rows.quarantined),
    }


def province_codes(text: pd.Series) -> pd.Series:
    """GSO province codes as 2-digit text ('1' and '01' are Hà Nội)."""
    return text.where(~text.str.isdigit(), text.str.zfill(2))


def known_province_codes(geographies: Iterable[str]) -> set[str]:
    return {code for geography in geographies
            for code in admin_units.provinces(geography)["province_code"]}


def parse_fraction(text: pd.Series) -> pd.Series:
    """'0.55', '0,55' and '55%' are 0.55; empty or unreadable text is NaN."""
    cleaned = text.str.replace(",", ".", regex=False)
    is_percent = cleaned.str.endswith("%")
    numbers = pd.to_numeric(cleaned.str.rstrip("%").str.strip(), errors="coerce")
    return numbers.where(~is_percent, numbers / 100)


def parse_dates(text: pd.Series) -> pd.Series:
    """ISO dates (YYYY-MM-DD); empty or impossible dates are NaT."""
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")


def dated_file_date(path: Path, prefix: str, date_format: str) -> pd.Timestamp:
    """The date in a name like `services_2022-01-01.csv`; a clear error if it has none."""
    stem = path.name.removesuffix(".csv")
    stamp = pd.to_datetime(stem.removeprefix(prefix), format=date_format, errors="coerce")
    if not stem.startswith(prefix) or pd.isna(stamp):
        example = pd.Timestamp("2022-01-01").strftime(date_format)
        raise ReferenceFileError(
            f"{path}: name it {prefix}<{date_format}>.csv, e.g. {prefix}{example}.csv."
        )
    return stamp
