"""A web page saved as a workbook: the cells of its tables as Excel shows them.

Web systems' "export to Excel" buttons often send an HTML page under an .xls name (Excel opens
it, with a warning that its format and name differ), and a spreadsheet saved "as a web page"
is the same kind of file. Excel shows such a page as one sheet: each table row a row, each
cell a cell, a cell spanning rows or columns (rowspan, colspan) a merged range, and text
outside the tables (a title, the reporting period) a row of its own in the first column.
This module reads a page the same way, with the standard library's HTML parser.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from dvctt_pipeline.ingest.cell_grid import MAX_SPAN, CellGrid
from dvctt_pipeline.ingest.guards import UnreadableFile

# Bytes of a page looked at for what it is and how its text is encoded
PEEK_BYTES = 4096
# An HTML page's first tag, after a byte order mark, blanks, an XML declaration (XHTML, as
# ASP.NET pages write it) and comments
_PAGE_START = re.compile(
    rb"^(\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*"
    rb"<(!doctype\s+html|html|head|body|meta|title|style|table|div)\b",
    re.IGNORECASE | re.DOTALL)
_CHARSET = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
# Tags whose text is not shown
_UNSHOWN = {"head", "style", "script", "title"}
# Tags that end a line of text outside tables (each line is a row, as Excel shows it)
_LINE_BREAKS = {"br", "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "center", "table",
                "tr", "hr"}
_CELLS = {"td", "th"}
_BLANKS = re.compile(r"[ \t\r\n\f\u00a0]+")
# Where a <br> breaks a cell's text: the page's own line ends are blanks, as a browser shows
# them (a private-use character, which no page's text holds)
_BREAK = "\ue000"


def is_web_page(start: bytes) -> bool:
    """Whether the first bytes of a file are an HTML page's (UTF-8 or a single-byte
    encoding; a page in UTF-16 starts with its byte order mark)."""
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if start.startswith(bom):
            start = start[len(bom):].decode(encoding, errors="ignore").encode("utf-8")
    return bool(_PAGE_START.match(start))


def page_text(path: Path) -> str:
    """The page's text: by its byte order mark, else the charset its <meta> names, else UTF-8,
    else Windows-1258 (a Vietnamese Windows' own)."""
    data = path.read_bytes()
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    named = _CHARSET.search(data[:PEEK_BYTES])
    for encoding in ([named.group(1).decode("ascii")] if named else []) + ["utf-8", "cp1258"]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


class _PageReader(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = CellGrid(name)
        self._unshown = 0
        self._text: list[str] = []  # of the open cell, or of the line outside tables
        self._in_cell = False
        self._cell_at: tuple[int, int, int, int] = (0, 0, 1, 1)  # row, column, rows, columns
        self.tables_open = 0
        self._row = 0  # the row of the open table row, or the last row of text
        self._bottom = 0  # the last row any cell covers
        self._column = 0  # the last column used in the table row

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSHOWN:
            self._unshown += 1
            return
        if tag == "br" and self._in_cell:
            self._text.append(_BREAK)
            return
        if tag in _LINE_BREAKS and not self._in_cell:
            self._end_line()
        if tag == "table":
            self.tables_open += 1
        elif tag == "tr" and self.tables_open:
            self._end_cell()
            self.page.row_done(self._row)
            self._row, self._column = self._row + 1, 0
        elif tag in _CELLS and self.tables_open:
            self._end_cell()
            self._start_cell(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSHOWN:
            self._unshown = max(self._unshown - 1, 0)
            return
        if tag in _CELLS or tag == "tr":
            self._end_cell()
        elif tag == "table" and self.tables_open:
            self._end_cell()
            self.tables_open -= 1
        elif tag in _LINE_BREAKS and not self._in_cell:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._unshown:
            return
        if self._in_cell or not self.tables_open:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._end_cell()
        self._end_line()

    def _start_cell(self, attrs: dict[str, str | None]) -> None:
        if self._row == 0:  # a cell before any <tr>
            self._row = 1
        column = self.page.free_column(self._row, self._column + 1)
        rows, columns = _span(attrs.get("rowspan")), _span(attrs.get("colspan"))
        self._cell_at = (self._row, column, rows, columns)
        self._in_cell, self._text = True, []

    def _end_cell(self) -> None:
        if not self._in_cell:
            return
        row, column, rows, columns = self._cell_at
        self.page.put(row, column, _shown("".join(self._text)), rows, columns)
        self._bottom = max(self._bottom, row + rows - 1)
        self._column = column + columns - 1
        self._in_cell, self._text = False, []

    def _end_line(self) -> None:
        text = _shown("".join(self._text))
        self._text = []
        if text is not None:
            self._row = self._bottom = max(self._row, self._bottom) + 1
            self.page.put(self._row, 1, text)


def _span(value: str | None) -> int:
    """A rowspan or colspan: 1 when absent or not a positive number, as browsers read it, and
    MAX_SPAN at most (the grid's bound, which the rows below the table follow)."""
    try:
        return min(max(int(value or 1), 1), MAX_SPAN)
    except ValueError:
        return 1


def _shown(text: str) -> str | None:
    """The text as a browser shows it: runs of blanks, line ends included, as one space; a
    <br> as a line break; composed (NFC)."""
    lines = [_BLANKS.sub(" ", line).strip() for line in text.split(_BREAK)]
    shown = "\n".join(line for line in lines if line)
    return unicodedata.normalize("NFC", shown) if shown else None


def read_page(path: Path) -> CellGrid:
    """The page as one sheet, named after the file as Excel names it: its cells' text as
    written, numbers included, as a count typed as text in a workbook is. A page cut short
    inside a table fails."""
    reader = _PageReader(path.stem)
    reader.feed(page_text(path))
    reader.close()
    if reader.tables_open:
        # a parser of HTML reads any text; only a table left open shows a page cut short,
        # whose rows below the cut would be missing from the report without a trace
        raise UnreadableFile(
            f"{path.name} is a web page that ends inside a table: it was cut short. Download "
            "or copy it again.")
    return reader.page
