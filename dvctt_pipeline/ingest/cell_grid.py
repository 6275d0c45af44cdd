"""A sheet read cell by cell from a file openpyxl does not read (an .xls, an .ods, an XML
spreadsheet, a web page): its values and merged ranges, placed as Excel places them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

# Rows or columns a cell is merged over at most: a form's headings span a few dozen; a page or
# file saying a million is broken, and each row spanned is kept until it is read
MAX_SPAN = 1000


def whole_as_int(number: float) -> int | float:
    """A number as openpyxl gives an .xlsx's: an int when it is whole (a count 1565, not
    1565.0), as the other formats store every number as a float."""
    return int(number) if number.is_integer() else number


@dataclass(frozen=True)
class Merge:
    """A merged range of cells; its value is the value of its top-left cell."""

    first_row: int
    first_column: int
    last_row: int
    last_column: int


@dataclass
class CellGrid:
    """Cells by (row, column) from 1, filled row after row (put, then row_done); read as a
    sheet (ingest.workbook.SheetCells) once filled."""

    name: str
    hidden: bool = False
    values: dict[tuple[int, int], object] = field(default_factory=dict)
    merged: list[Merge] = field(default_factory=list)
    # the columns of each row to come that a cell above merges down into
    _merged_down: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    def free_column(self, row: int, column: int) -> int:
        """`column`, or the first after it that no cell above merges down into: where a cell
        that does not say its column goes."""
        while column in self._merged_down[row]:
            column += 1
        return column

    def put(self, row: int, column: int, value: object, rows: int = 1, columns: int = 1
            ) -> None:
        """A cell, merged over `rows` and `columns` from it when more than one (MAX_SPAN at
        most)."""
        rows, columns = min(max(rows, 1), MAX_SPAN), min(max(columns, 1), MAX_SPAN)
        if value is not None:
            self.values[row, column] = value
        if rows > 1 or columns > 1:
            self.merged.append(Merge(row, column, row + rows - 1, column + columns - 1))
        for below in range(row + 1, row + rows):
            self._merged_down[below].update(range(column, column + columns))

    def row_done(self, row: int) -> None:
        self._merged_down.pop(row, None)

    @cached_property
    def max_row(self) -> int:
        return max([row for row, _ in self.values] + [m.last_row for m in self.merged],
                   default=0)

    @cached_property
    def max_column(self) -> int:
        return max([column for _, column in self.values]
                   + [m.last_column for m in self.merged], default=0)

    def merges(self) -> list[Merge]:
        return self.merged

    def cached(self, row: int, column: int) -> object:
        return self.values.get((row, column))

    def formula(self, row: int, column: int) -> str | None:
        return None
