"""A workbook in the OpenDocument format (.ods), as LibreOffice Calc saves it by default: the
cells of its sheets.

An .ods is a zip whose `content.xml` holds each sheet as a `table:table` of rows and cells.
Runs of identical rows or cells are written once with a repeat count (a sheet's empty rest is
one cell repeated some 16 000 times), a merged range as its top-left cell with the rows and
columns it spans followed by `covered-table-cell`s in its place, a formula's cell with the
value it last computed. A sheet is hidden by its style (`table:display="false"`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

from dvctt_pipeline.ingest.cell_grid import CellGrid, whole_as_int

MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
# Repeats of a row that holds values placed one by one at most: more are not a form's rows
MAX_REPEATED_ROWS = 1000


def is_open_document(start: bytes) -> bool:
    """Whether the first bytes are an OpenDocument spreadsheet's: a zip whose first member
    is its stored `mimetype`."""
    return start.startswith(b"PK\x03\x04") and start[30:38] == b"mimetype" and (
        MIMETYPE in start[38:38 + 64 + len(MIMETYPE)])


def read_open_document(path: Path) -> list[CellGrid]:
    """Every sheet of the workbook, in its order. Raises zipfile.BadZipFile, KeyError (no
    content.xml), ElementTree.ParseError or ValueError (a number or date that is none) for
    a damaged file."""
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
        root = ElementTree.parse(content).getroot()
    hidden_styles = {
        style.get(f"{_STYLE}name") for style in root.iter(f"{_STYLE}style")
        if any(properties.get(f"{_TABLE}display") == "false"
               for properties in style.iter(f"{_STYLE}table-properties"))
    }
    return [_sheet(table, table.get(f"{_TABLE}style-name") in hidden_styles)
            for table in root.iter(f"{_TABLE}table")]


def _sheet(table: ElementTree.Element, hidden: bool) -> CellGrid:
    sheet = CellGrid(table.get(f"{_TABLE}name", ""), hidden=hidden)
    row = 0
    for row_element in table.iter(f"{_TABLE}table-row"):
        repeats = _number(row_element, "number-rows-repeated")
        cells = list(_cells(row_element))
        if not cells:  # empty rows, however many
            row += repeats
            continue
        for _ in range(min(repeats, MAX_REPEATED_ROWS)):
            row += 1
            for column, value, rows, columns in cells:
                sheet.put(row, column, value, rows, columns)
        row += repeats - min(repeats, MAX_REPEATED_ROWS)
    return sheet


def _cells(row_element: ElementTree.Element) -> Iterator[tuple[int, object, int, int]]:
    """The row's cells that hold a value or start a merged range: column, value, rows and
    columns spanned."""
    column = 0
    for cell in row_element:
        if cell.tag not in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"):
            continue
        repeats = _number(cell, "number-columns-repeated")
        rows, columns = (_number(cell, "number-rows-spanned"),
                         _number(cell, "number-columns-spanned"))
        value = _value(cell) if cell.tag == f"{_TABLE}table-cell" else None
        if value is not None or rows > 1 or columns > 1:
            for repeat in range(repeats):
                yield column + repeat + 1, value, rows, columns
        column += repeats


def _number(element: ElementTree.Element, attribute: str) -> int:
    text = element.get(f"{_TABLE}{attribute}")
    return int(text) if text and text.isdigit() else 1


def _value(cell: ElementTree.Element) -> object:
    """The value as openpyxl gives an .xlsx's: a whole number as an int, a date as a
    datetime, text as its paragraphs, one per line."""
    kind = cell.get(f"{_OFFICE}value-type")
    if kind in ("float", "percentage", "currency"):
        number = float(cell.get(f"{_OFFICE}value", ""))
        return whole_as_int(number)
    if kind == "date":
        return datetime.fromisoformat(cell.get(f"{_OFFICE}date-value", ""))
    if kind == "boolean":
        return cell.get(f"{_OFFICE}boolean-value") == "true"
    text = "\n".join("".join(_text(paragraph)) for paragraph in cell.iter(f"{_TEXT}p"))
    return text if text.strip() else None


def _text(element: ElementTree.Element) -> Iterator[str]:
    """A paragraph's text: spaces written as `text:s` (a run of them, counted), tabs and line
    breaks as their characters, spans' text."""
    yield element.text or ""
    for child in element:
        if child.tag == f"{_TEXT}s":
            yield " " * int(child.get(f"{_TEXT}c", "1"))
        elif child.tag == f"{_TEXT}tab":
            yield "\t"
        elif child.tag == f"{_TEXT}line-break":
            yield "\n"
        else:
            yield from _text(child)
        yield child.tail or ""
