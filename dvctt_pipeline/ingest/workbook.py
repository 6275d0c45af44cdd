"""Cell values of a workbook's sheets as a report reader needs them: numbers from text,
formulas, merged cells, and which sheets are hidden. A workbook is an .xlsx (Excel 2007 and
later, read by openpyxl), an .xls (Excel 97–2003, which offices and older systems still
save, read by python-calamine), an .ods (LibreOffice Calc's own: ingest.open_document), or
what a web system's "export to Excel" sends under a workbook's name: an XML spreadsheet
(ingest.spreadsheet_xml) or a web page (ingest.web_tables). They are told apart by their
first bytes rather than their name.

Excel stores beside each formula the value it last computed; openpyxl gives that cached
value (`data_only=True`). Workbooks written by programs other than Excel often carry no
cached value, so a formula without one is computed here. Reports only use sums, so the
supported formulas are sums and differences of cells, ranges (SUM) and numbers, e.g.
`=SUM(C8:C20)` or `=C8+C9-C10`; any other formula is reported as unreadable. An .xls always
stores a formula's value (python-calamine gives it, never the formula).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from xml.etree import ElementTree

import openpyxl
import python_calamine
from openpyxl.utils import column_index_from_string
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from dvctt_pipeline.ingest.cell_grid import CellGrid, Merge, whole_as_int
from dvctt_pipeline.ingest.guards import (
    OLE2_SIGNATURE,
    check_zip,
    max_uncompressed_bytes,
    not_a_workbook,
)
from dvctt_pipeline.ingest.open_document import is_open_document, read_open_document
from dvctt_pipeline.ingest.spreadsheet_xml import is_spreadsheet_xml, read_spreadsheet_xml
from dvctt_pipeline.ingest.web_tables import PEEK_BYTES, is_web_page, read_page

# A count no agency reaches in a month (Vietnam has about 100 million people); larger
# numbers are typing or export errors, and would not fit the warehouse's integers anyway.
MAX_COUNT = 1_000_000_000
_THOUSANDS = re.compile(r"^-?\d{1,3}([.,]\d{3})+$")
_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL_WHOLE = re.compile(r"^-?\d+\.0+$")
_CELL = r"\$?([A-Z]{1,3})\$?(\d+)"
_TERM = re.compile(
    rf"\s*(?P<sign>[+-]?)\s*(?:SUM\((?P<args>[^()]*)\)|(?P<cell>{_CELL})|(?P<number>\d+))\s*"
)


class BadNumber(ValueError):
    """A cell meant to hold a count holds something else."""


class CountTooLarge(BadNumber):
    """A cell holds a whole number larger than any count (MAX_COUNT)."""


class UnsupportedFormula(ValueError):
    """A formula without a cached value that this module cannot compute."""


def parse_count(value: object) -> int | None:
    """A count as reports write it: 1240, 1240.0, '1240', '57.0', '1.240' (Vietnamese
    thousands separator), '1,240' or '1 240'; blank or '-' is None. A count is never
    fractional, so a separator followed by exactly three digits can only separate thousands."""
    if value is None:
        return None
    count = _whole_number(value)
    if count is not None and abs(count) > MAX_COUNT:
        raise CountTooLarge(value)
    return count


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        raise BadNumber(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise BadNumber(value)
    text = re.sub(r"[\s\u00a0]", "", str(value))
    if text in ("", "-"):
        return None
    if _INTEGER.match(text):
        return int(text)
    if _THOUSANDS.match(text):  # before decimals: '1.000' is a thousand
        return int(re.sub(r"[.,]", "", text))
    if _DECIMAL_WHOLE.match(text):  # '57.0', '57.00' typed by an export
        return int(text.split(".")[0])
    raise BadNumber(value)


class SheetCells(Protocol):
    """One sheet of a workbook as its file stores it (rows and columns from 1)."""

    name: str
    hidden: bool
    max_row: int
    max_column: int

    def merges(self) -> Iterable[Merge]: ...

    def cached(self, row: int, column: int) -> object:
        """The value the file stores, a formula's last computed one (None if it has none)."""

    def formula(self, row: int, column: int) -> str | None:
        """The cell's formula ('=SUM(C8:C9)'), where the file keeps one without its value."""


@dataclass
class SheetValues:
    """The values of one sheet, formulas computed where the file left no cached value."""

    cells: SheetCells
    _merges: dict[tuple[int, int], Merge] = field(init=False)

    def __post_init__(self) -> None:
        self._merges = {
            (row, column): merge
            for merge in self.cells.merges()
            for row in range(merge.first_row, merge.last_row + 1)
            for column in range(merge.first_column, merge.last_column + 1)
        }

    @property
    def name(self) -> str:
        return self.cells.name

    @property
    def hidden(self) -> bool:
        return self.cells.hidden

    @property
    def max_row(self) -> int:
        return self.cells.max_row

    @property
    def max_column(self) -> int:
        return self.cells.max_column

    def merge_at(self, row: int, column: int) -> Merge | None:
        return self._merges.get((row, column))

    def shown(self, row: int, column: int) -> object:
        """What a person sees in the cell: the merged range's value inside a merge."""
        merge = self.merge_at(row, column)
        if merge:
            return self.value(merge.first_row, merge.first_column)
        return self.value(row, column)

    def value(self, row: int, column: int) -> object:
        return self._value(row, column, frozenset())

    def _value(self, row: int, column: int, visiting: frozenset[tuple[int, int]]) -> object:
        cached = self.cells.cached(row, column)
        formula = self.cells.formula(row, column)
        if cached is not None or not (isinstance(formula, str) and formula.startswith("=")):
            return cached
        if (row, column) in visiting:
            raise UnsupportedFormula(f"circular formula in {_address(row, column)}")
        return self._evaluate(formula[1:].upper(), visiting | {(row, column)}, (row, column))

    def _evaluate(
        self, body: str, visiting: frozenset[tuple[int, int]], at: tuple[int, int]
    ) -> int:
        total, position = 0, 0
        while position < len(body):
            term = _TERM.match(body, position)
            if not term or term.end() == position:
                raise UnsupportedFormula(f"{_address(*at)} has the formula ={body}")
            sign = -1 if term["sign"] == "-" else 1
            total += sign * self._term_value(term, visiting, at)
            position = term.end()
        return total

    def _term_value(
        self, term: re.Match[str], visiting: frozenset[tuple[int, int]], at: tuple[int, int]
    ) -> int:
        if term["number"]:
            return int(term["number"])
        if term["cell"]:
            return self._count_at(term["cell"], visiting)
        total = 0
        for argument in filter(None, (a.strip() for a in re.split(r"[,;]", term["args"]))):
            cells = _cells_of(argument)
            if cells is None:
                raise UnsupportedFormula(f"{_address(*at)} sums {argument}")
            total += sum(self._count_at(cell, visiting) for cell in cells)
        return total

    def _count_at(self, reference: str, visiting: frozenset[tuple[int, int]]) -> int:
        column, row = re.fullmatch(_CELL, reference).groups()
        value = self._value(int(row), column_index_from_string(column), visiting)
        try:
            return parse_count(value) or 0
        except BadNumber as error:
            raise UnsupportedFormula(f"a formula adds {reference} (not a count)") \
                from error


def _cells_of(argument: str) -> list[str] | None:
    """The cells of 'C8' or 'C8:E20', as references; None if it is neither."""
    corners = [re.fullmatch(_CELL, part.strip()) for part in argument.split(":")]
    if not all(corners) or len(corners) > 2:
        return None
    (first_col, first_row), (last_col, last_row) = corners[0].groups(), corners[-1].groups()
    columns = range(column_index_from_string(first_col), column_index_from_string(last_col) + 1)
    return [
        f"{openpyxl.utils.get_column_letter(column)}{row}"
        for row in range(int(first_row), int(last_row) + 1)
        for column in columns
    ]


def _address(row: int, column: int) -> str:
    return f"{openpyxl.utils.get_column_letter(column)}{row}"


@dataclass
class _XlsxCells:
    """A sheet of an .xlsx, read twice by openpyxl: cached values, and formulas."""

    values: Worksheet
    formulas: Worksheet

    def __post_init__(self) -> None:
        self.name = self.values.title
        self.hidden = self.values.sheet_state != "visible"
        self.max_row, self.max_column = self.values.max_row, self.values.max_column

    def merges(self) -> Iterable[Merge]:
        return (Merge(cells.min_row, cells.min_col, cells.max_row, cells.max_col)
                for cells in self.values.merged_cells.ranges)

    def cached(self, row: int, column: int) -> object:
        return self.values.cell(row, column).value

    def formula(self, row: int, column: int) -> str | None:
        formula = self.formulas.cell(row, column).value
        return formula if isinstance(formula, str) else None


# What openpyxl raises on a damaged workbook: a broken zip or member, XML cut short
# (ParseError is a SyntaxError), a part the workbook lists but lacks, a malformed value.
_DAMAGED = (InvalidFileException, zipfile.BadZipFile, zlib.error, EOFError, KeyError,
            SyntaxError, ValueError, TypeError, IndexError, AttributeError)


def open_sheets(path: Path) -> list[SheetValues]:
    """Every worksheet of the workbook, in its order: an .xlsx, an .xls, an .ods, an XML
    spreadsheet or a web page."""
    with path.open("rb") as workbook:
        start = workbook.read(PEEK_BYTES)
    if start.startswith(OLE2_SIGNATURE):  # an .xls
        cells = _xls_sheets(path)
    elif is_spreadsheet_xml(start):
        cells = _spreadsheet_xml_sheets(path)
    elif is_web_page(start):
        cells = [read_page(path)]
    elif is_open_document(start):
        cells = _open_document_sheets(path)
    else:
        cells = _xlsx_sheets(path)
    return [SheetValues(sheet) for sheet in cells]


def _xlsx_sheets(path: Path) -> list[_XlsxCells]:
    """Each sheet read twice: cached values and formulas. An .xlsx is a zip, refused when
    its members would expand past the limit (guards.check_zip)."""
    check_zip(path, max_uncompressed_bytes())
    try:
        values = openpyxl.load_workbook(path, data_only=True)
        formulas = openpyxl.load_workbook(path, data_only=False)
    except _DAMAGED as error:
        raise not_a_workbook(path, error) from error
    return [_XlsxCells(sheet, formulas[sheet.title]) for sheet in values.worksheets]


def _xls_sheets(path: Path) -> list[CellGrid]:
    """An .xls, read by python-calamine: its values (a formula's as saved) as openpyxl gives
    an .xlsx's, so that the form is read the same way (a whole number as an int, a date cell
    as a datetime), and its merged ranges."""
    try:
        with path.open("rb") as workbook:
            book = python_calamine.CalamineWorkbook.from_filelike(workbook)
        return [_xls_sheet(book, sheet) for sheet in book.sheets_metadata
                if sheet.typ == python_calamine.SheetTypeEnum.WorkSheet]
    except python_calamine.CalamineError as error:
        raise not_a_workbook(path, error) from error


def _xls_sheet(book: python_calamine.CalamineWorkbook,
               metadata: python_calamine.SheetMetadata) -> CellGrid:
    sheet = book.get_sheet_by_name(metadata.name)
    grid = CellGrid(metadata.name,
                    hidden=metadata.visible != python_calamine.SheetVisibleEnum.Visible)
    # from A1, not from the first cell used, so that rows and columns are the sheet's own
    for row, values in enumerate(sheet.to_python(skip_empty_area=False), start=1):
        for column, value in enumerate(values, start=1):
            if value != "":
                grid.put(row, column,
                         whole_as_int(value) if isinstance(value, float) else value)
    grid.merged.extend(Merge(first_row + 1, first_column + 1, last_row + 1, last_column + 1)
                       for (first_row, first_column), (last_row, last_column)
                       in sheet.merged_cell_ranges or ())
    return grid


def _open_document_sheets(path: Path) -> list[CellGrid]:
    """An .ods is a zip, refused as an .xlsx is when its members would expand past the
    limit."""
    check_zip(path, max_uncompressed_bytes())
    try:
        return read_open_document(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ElementTree.ParseError,
            ValueError) as error:
        raise not_a_workbook(path, error) from error


def _spreadsheet_xml_sheets(path: Path) -> list[CellGrid]:
    try:
        return read_spreadsheet_xml(path)
    except ElementTree.ParseError as error:
        raise not_a_workbook(path, error) from error
