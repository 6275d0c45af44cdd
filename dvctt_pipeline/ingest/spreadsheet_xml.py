"""A workbook in Excel 2003's XML Spreadsheet format (SpreadsheetML): the cells of its sheets.

.NET and Java systems write it for their "export to Excel" (an XML file under an .xls or
.xml name, which Excel opens as a workbook), as does "Save as XML Spreadsheet 2003". Each
`Worksheet` holds `Row`s of `Cell`s; a row or cell may say its position (`ss:Index`, from 1),
else it follows the one before, past the columns a merged cell takes (`ss:MergeAcross`,
`ss:MergeDown`). A cell's `Data` holds its value as shown, a formula's computed one included.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

from dvctt_pipeline.ingest.cell_grid import CellGrid, whole_as_int

NAMESPACE = "urn:schemas-microsoft-com:office:spreadsheet"
EXCEL_NAMESPACE = "urn:schemas-microsoft-com:office:excel"
# What the first bytes of such a workbook hold: its root element's namespace
_SIGNATURE = re.compile(rb"<(\w+:)?Workbook\b[^>]*" + re.escape(NAMESPACE.encode()))
_SS = f"{{{NAMESPACE}}}"


def is_spreadsheet_xml(start: bytes) -> bool:
    return bool(_SIGNATURE.search(start))


def read_spreadsheet_xml(path: Path) -> list[CellGrid]:
    """Every worksheet of the workbook, in its order. Raises ElementTree.ParseError on XML
    that does not parse (cut short)."""
    root = ElementTree.parse(path).getroot()
    return [_sheet(worksheet) for worksheet in root.iter(f"{_SS}Worksheet")]


def _sheet(worksheet: ElementTree.Element) -> CellGrid:
    visible = worksheet.findtext(f".//{{{EXCEL_NAMESPACE}}}Visible")
    sheet = CellGrid(worksheet.get(f"{_SS}Name", ""),
                     hidden=visible in ("SheetHidden", "SheetVeryHidden"))
    row = 0
    for row_element in worksheet.findall(f"{_SS}Table/{_SS}Row"):
        row = _position(row_element, row)
        column = 0
        for cell in row_element.findall(f"{_SS}Cell"):
            column = sheet.free_column(row, _position(cell, column))
            across = _count(cell.get(f"{_SS}MergeAcross"))
            sheet.put(row, column, _value(cell.find(f"{_SS}Data")),
                      rows=_count(cell.get(f"{_SS}MergeDown")) + 1, columns=across + 1)
            column += across
        sheet.row_done(row)
    return sheet


def _position(element: ElementTree.Element, previous: int) -> int:
    index = element.get(f"{_SS}Index")
    return int(index) if index and index.isdigit() else previous + 1


def _count(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def _value(data: ElementTree.Element | None) -> object:
    """The value as openpyxl gives an .xlsx's: a whole number as an int, a date as a
    datetime, text as written (rich text's tags left out)."""
    if data is None:
        return None
    text = "".join(data.itertext())
    kind = data.get(f"{_SS}Type")
    if kind == "Number":
        try:
            number = float(text)
        except ValueError:
            return text
        return whole_as_int(number)
    if kind == "DateTime":
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return text
    if kind == "Boolean":
        return text.strip() == "1"
    return text if text.strip() else None

