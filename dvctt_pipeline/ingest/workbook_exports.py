"""Dossier exports kept as a workbook (.xlsx, .xlsm, .xls, .ods): an export an office opened
in Excel or LibreOffice and saved as a workbook, or a list a portal's screen exports to
Excel. The sheet is written out as CSV text, as the spreadsheet would save it ("CSV UTF-8"),
for the CSV reader (ingest.readers) to read and judge as any CSV export.

python-calamine (Rust's calamine) reads the four formats into values: a date cell is a date
and written as ISO 8601, a number is written without a spreadsheet's `.0` when whole (a code
1, a yyyyMMddHHmmss date 20220306083000), other numbers as Python writes them (a MaTTHC the
spreadsheet took for a number, 1.00437, gets its zeros back from the rules as a CSV's does).
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path

import python_calamine

from dvctt_pipeline.ingest.guards import UnreadableFile

# Rows looked at for a sheet's header: a screen's export puts a title and the filters above it
HEADER_SEARCH_ROWS = 30


def cell_text(value: object) -> str:
    """A cell's value as a CSV export writes it."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# Of a row, the indexes of the columns to copy if it is the export's header, else None
HeaderColumns = Callable[[Sequence[str]], "list[int] | None"]


@contextmanager
def workbook_as_csv(path: Path, header_columns: HeaderColumns) -> Iterator[Path]:
    """A temporary UTF-8 CSV copy of the workbook's first visible sheet with a header row
    (`header_columns`), from that row on (the rows above it, a title, are left out), with
    only the columns `header_columns` keeps: no personal data is copied. Without such a row,
    the copy is the first visible sheet's first row alone, for the CSV reader to name the
    columns it lacks. Named as the workbook with .csv, as its messages name it."""
    rows = _sheet_rows(path, header_columns)
    with tempfile.TemporaryDirectory(prefix="dvctt-workbook-") as folder:
        copy = Path(folder) / f"{path.name.removesuffix('.gz')}.csv"
        with copy.open("w", encoding="utf-8", newline="") as target:
            csv.writer(target).writerows(rows)
        yield copy


def _sheet_rows(path: Path, header_columns: HeaderColumns) -> Iterator[list[str]]:
    workbook, names = _visible_sheets(path)
    # each sheet is loaded whole by calamine: one at a time, until the export's is found
    for sheet in (_sheet(workbook, name, path) for name in names):
        # one pass over the rows, the header looked for in the first ones (iter_rows and
        # to_python start a sheet at different cells when it does not start at A1)
        rows = sheet.iter_rows()
        for row in itertools.islice(rows, HEADER_SEARCH_ROWS):
            header = [cell_text(value) for value in row]
            kept = header_columns(header)
            if kept is not None:
                return itertools.chain([[header[column] for column in kept]],
                                       ([cell_text(row[column]) for column in kept]
                                        for row in rows))
    first_row = next(_sheet(workbook, names[0], path).iter_rows(), [])
    return iter([[cell_text(value) for value in first_row]])


def _visible_sheets(path: Path) -> tuple[python_calamine.CalamineWorkbook, list[str]]:
    """The workbook and the names of its visible worksheets, in their order."""
    try:
        workbook = _open(path)
        visible = [sheet.name for sheet in workbook.sheets_metadata
                   if sheet.visible == python_calamine.SheetVisibleEnum.Visible
                   and sheet.typ == python_calamine.SheetTypeEnum.WorkSheet]
    except python_calamine.CalamineError as error:
        raise _unreadable(path, error) from error
    if not visible:
        raise UnreadableFile(f"{path.name} has no visible worksheet.")
    return workbook, visible


def _sheet(workbook: python_calamine.CalamineWorkbook, name: str, path: Path
           ) -> python_calamine.CalamineSheet:
    """The sheet, loaded whole (a damaged sheet fails its file here)."""
    try:
        return workbook.get_sheet_by_name(name)
    except python_calamine.CalamineError as error:
        raise _unreadable(path, error) from error


def _unreadable(path: Path, error: python_calamine.CalamineError) -> UnreadableFile:
    if isinstance(error, python_calamine.PasswordError):
        return UnreadableFile(
            f"{path.name} is protected by a password; save it again without one (File › Info "
            "› Protect Workbook › Encrypt with Password, emptied).")
    return UnreadableFile(
        f"{path.name} is not a readable workbook (.xlsx, .xls or .ods: "
        f"{type(error).__name__}); open it in Excel and save it as 'Excel Workbook "
        "(.xlsx)', or export the dossiers as CSV or JSON.")


def _open(path: Path) -> python_calamine.CalamineWorkbook:
    """The workbook, its format told by its content (from_path goes by the name: an .xls
    renamed .xlsx would not open)."""
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as unzipped:
            return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(unzipped.read()))
    with path.open("rb") as workbook:
        return python_calamine.CalamineWorkbook.from_filelike(workbook)
