"""The Biểu 06 form as provinces fill it in (DESIGN §3.3), found by what its cells say rather
than where they stand.

- The sheet: the first visible sheet that holds the form for the folder's month (an
  instructions sheet or an old hidden template before it is passed over); a hidden sheet only
  when no visible one qualifies.
- The header: the row naming the "Đơn vị" column starts it; it runs 2–6 rows, with cells
  merged across and down, and may be followed by a column-number row ("(1)", "(3)=(4)+(5)").
- The columns: each column's meaning is read from its whole header path — its group ("Số hồ
  sơ nhận giải quyết", "Đã giải quyết", "Đang giải quyết"), found in any header row, also as
  a heading written once to the left of unmerged cells — and its own labels, in the wording
  variants provinces use ("Trong kỳ" / "Số mới tiếp nhận", "Trước hạn" / "Trả trước hạn",
  "Chưa đến hạn" / "Trong hạn"...). In-person and postal may be one column or two; columns
  with no meaning for the form ("Ghi chú") are ignored.
- The period line above the header: "(Từ ngày 01/03/2022 đến ngày 31/03/2022)" or
  "Kỳ báo cáo: Tháng 3 năm 2022"; a dateline "ngày 05 tháng 4 năm 2022" is not a period.
- The rows: agency rows (by name or code); total rows ("Tổng cộng", "Tổng số"); subtotal rows
  ("Cộng", "Cộng cấp huyện"); section rows ("I", "CẤP XÃ", "A. Cấp tỉnh"), which are a
  subtotal of their section when they carry counts; signature lines and notes, which carry no
  number. A total is compared with all agency rows; a subtotal with the agency rows of its
  section (see `total_scopes`).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from unidecode import unidecode

from dvctt_pipeline.ingest.cell_grid import Merge
from dvctt_pipeline.ingest.guards import UnreadableFile
from dvctt_pipeline.ingest.workbook import (
    BadNumber,
    CountTooLarge,
    SheetValues,
    parse_count,
)
from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.validate.report_rules import REPORT_COLUMNS

_HEADER_SEARCH_ROWS = 40
_MAX_HEADER_DEPTH = 6
_UNIT_HEADER = re.compile(r"^(ten )?(co quan[ ,/]*)?don vi\b")
# "Đơn vị báo cáo: UBND tỉnh …", "Đơn vị nhận báo cáo: …" stand above the table
_NOT_UNIT_HEADER = re.compile(r"bao cao|:")
_COLUMN_NUMBER = re.compile(r"^\(?[0-9]{1,2}\)?(\s*=.*)?$|^\(?[a-z]\)?$")
_NUMBER_LIKE = re.compile(r"^[-+]?[\d\s.,\u00a0]*\d[\d\s.,\u00a0]*$")

_PERIOD_DAYS = re.compile(
    r"tu ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*den( ngay)?\s*(\d{1,2})\s*"
    r"[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})"
)
_PERIOD_MONTH = re.compile(r"\bthang\s*(\d{1,2})\s*(?:nam|/|-)\s*(\d{4})\b")
# "Khánh Hòa, ngày 05 tháng 4 năm 2022": the date the report was signed, not its period
_DATELINE = re.compile(r"ngay\s*\d{1,2}\s*thang\s*\d{1,2}\s*nam\s*\d{4}")

# Column groups of the form, tested in this order on a column's header path (in progress
# before finished: "Kết quả giải quyết" heads both in the four-row form).
_GROUPS = (
    ("in_progress", re.compile(r"\b(dang|chua) (giai quyet|xu ly)\b")),
    ("finished", re.compile(r"\bda (giai quyet|xu ly)\b|\bket qua giai quyet\b")),
    ("received", re.compile(r"\b(tiep )?nhan\b")),
)
_TOTAL_LEAF = re.compile(r"^(tong so|tong cong|tong|cong)$")
_IN_PERIOD = re.compile(r"\btrong ky\b|\bmoi tiep nhan\b|\bphat sinh\b")
# Within its group, a column's own labels give its field; None: the group's "Tổng số".
_FIELDS = {
    "received": (
        ("received_carried_over", re.compile(r"\bky truoc\b|\bchuyen (qua|sang)\b")),
        ("received_online", re.compile(r"\btruc tuyen\b|\bqua mang\b")),
        ("received_in_person", re.compile(r"\btruc tiep\b|\bbuu chinh\b")),
    ),
    "finished": (
        ("finished_early", re.compile(r"\btruoc (thoi )?han\b")),
        ("finished_on_time", re.compile(r"\bdung (thoi )?han\b")),
        ("finished_late", re.compile(r"\b(qua|tre|cham) (thoi )?han\b")),
    ),
    "in_progress": (
        ("in_progress_on_time", re.compile(r"\btrong (thoi )?han\b|\bchua (den|toi) han\b")),
        ("in_progress_late", re.compile(r"\b(qua|tre) (thoi )?han\b")),
    ),
}
_GROUPS_BY_NAME = dict(_GROUPS)
_GROUP_TOTALS = {"received": "received_total", "finished": "finished",
                 "in_progress": "in_progress"}
_FIELD_LABELS = {
    "received_total": "Số hồ sơ nhận giải quyết › Tổng số",
    "received_carried_over": "Từ kỳ trước",
    "received_online": "Trong kỳ › Trực tuyến",
    "received_in_person": "Trong kỳ › Trực tiếp, dịch vụ bưu chính",
    "finished": "Đã giải quyết › Tổng số",
    "finished_early": "Đã giải quyết › Trước hạn",
    "finished_on_time": "Đã giải quyết › Đúng hạn",
    "finished_late": "Đã giải quyết › Quá hạn",
    "in_progress": "Đang giải quyết › Tổng số",
    "in_progress_on_time": "Đang giải quyết › Trong hạn",
    "in_progress_late": "Đang giải quyết › Quá hạn",
}

# "Tổng cộng", "TỔNG SỐ", "Tổng (A+B)", "Toàn tỉnh" — not "Tổng cục …", "Tổng công ty …"
_TOTAL_LABEL = re.compile(
    r"^(tong cong(?! ty)|tong so|toan (tinh|thanh pho|quoc))\b|^tong\s*($|[(:+])"
)
# "Cộng", "Cộng cấp huyện", "Cộng (I)" — not "Công an tỉnh …": told apart by the accent, or
# by what follows when the label is typed without accents
_SUBTOTAL_LABEL = re.compile(r"^cộng\b")
_SUBTOTAL_UNACCENTED = re.compile(r"^cong\s*($|[(:]|cap\b)")
_ROMAN = re.compile(r"^(x{0,3})(ix|iv|v?i{0,3})$")
_SECTION_MARK = re.compile(r"^([ivx]+|[a-z])[.)]?$")
_SECTION_LABEL = re.compile(r"^(?P<mark>[ivx]+|[a-z])\s*[.)/-]\s*\S|^(?P<word>cap|khoi|nhom)\b")


def plain(value: object) -> str:
    """Lower-case text without accents, line breaks or repeated spaces, for reading labels
    (NFC first, so NFD text reads the same)."""
    if value is None:
        return ""
    text = unidecode(unicodedata.normalize("NFC", str(value))).lower()
    return " ".join(text.split())


@dataclass(frozen=True)
class FormLayout:
    """Where the form stands on its sheet."""

    sheet: SheetValues
    header_row: int  # the row naming the "Đơn vị" column
    last_header_row: int
    first_data_row: int  # the first row under the header and its column-number row
    unit_column: int
    columns: dict[str, tuple[int, ...]]  # count column -> the sheet columns that add up to it


@dataclass(frozen=True)
class FormRow:
    """One row of the table that carries counts, or a section row."""

    row_no: int
    label: str  # the unit as written, or the total / section label
    kind: str  # agency | total | subtotal | section
    section_style: str | None  # section rows: roman | letter | word
    problem: str | None  # bad_number | bad_count | merged_unit | no_unit
    counts: tuple[int | None, ...] | None  # None: a row without any number (a heading)

    @property
    def unit_key(self) -> str | None:
        return name_key(self.label) if self.kind == "agency" else None


# ------------------------------------------------------------------------------ the sheet


def choose_form(sheets: list[SheetValues], path: Path, month: date) -> FormLayout:
    """The first visible sheet holding the form for the folder's month; a hidden one only
    when no visible sheet qualifies. Otherwise the most telling reason why not: a sheet that
    holds the form for another period before a sheet that does not hold the form at all."""
    ordered = [s for s in sheets if not s.hidden] + [s for s in sheets if s.hidden]
    wrong_period: list[UnreadableFile] = []
    no_form: list[UnreadableFile] = []
    for sheet in ordered:
        try:
            layout = locate_form(sheet, path)
        except UnreadableFile as error:
            no_form.append(error)
            continue
        try:
            check_period(layout, path, month)
        except UnreadableFile as error:
            wrong_period.append(error)
            continue
        return layout
    raise (wrong_period + no_form)[0]


def locate_form(sheet: SheetValues, path: Path) -> FormLayout:
    """The first 'Đơn vị' header cell under which the form's eleven count columns stand."""
    where = f"{path.name} (sheet '{sheet.name}')"
    missing: list[str] | None = None
    for header_row, unit_column in _unit_header_cells(sheet):
        last_header_row = _last_header_row(sheet, header_row, unit_column)
        columns = _count_columns(sheet, header_row, last_header_row, unit_column)
        absent = [_FIELD_LABELS[field] for field in REPORT_COLUMNS if field not in columns]
        if not absent:
            first_data_row = last_header_row + 1
            if _is_column_number_row(sheet, first_data_row, unit_column):
                first_data_row += 1
            return FormLayout(sheet, header_row, last_header_row, first_data_row, unit_column,
                              columns)
        missing = missing if missing is not None else absent
    if missing is None:
        raise UnreadableFile(
            f"{where} has no header with an 'Đơn vị' column; use the Biểu 06 layout: STT | "
            "Đơn vị | 11 count columns (received, finished, in progress)."
        )
    raise UnreadableFile(
        f"{where} lacks the columns {', '.join(missing)}; the Biểu 06 form has, after "
        "'Đơn vị', Số hồ sơ nhận giải quyết (Tổng số, Từ kỳ trước, Trong kỳ: Trực tuyến, "
        "Trực tiếp/bưu chính), Đã giải quyết (Tổng số, Trước hạn, Đúng hạn, Quá hạn) and "
        "Đang giải quyết (Tổng số, Trong hạn, Quá hạn)."
    )


def _unit_header_cells(sheet: SheetValues) -> Iterator[tuple[int, int]]:
    for row in range(1, min(sheet.max_row, _HEADER_SEARCH_ROWS) + 1):
        for column in range(1, sheet.max_column + 1):
            text = plain(sheet.value(row, column))
            if _UNIT_HEADER.match(text) and not _NOT_UNIT_HEADER.search(text):
                yield row, column


def _is_column_number_row(sheet: SheetValues, row: int, unit_column: int) -> bool:
    """"(1) | (2) | (3)=(4)+(5)+(6) | …" (or 1 | 2 | 3 …, A | B | 1 …): column labels, each
    number greater than the one before (a row of counts without a unit rarely is)."""
    texts = [plain(sheet.value(row, column)) for column in range(1, sheet.max_column + 1)]
    labels = [text for text in texts if text]
    unit = texts[unit_column - 1] if unit_column <= len(texts) else ""
    numbers = [int(match[1]) for text in labels if (match := re.match(r"\(?(\d+)", text))]
    return (len(labels) >= 3 and (not unit or bool(_COLUMN_NUMBER.match(unit)))
            and all(_COLUMN_NUMBER.match(text) for text in labels)
            and all(a < b for a, b in zip(numbers, numbers[1:], strict=False)))


def _last_header_row(sheet: SheetValues, header_row: int, unit_column: int) -> int:
    """The header runs down while the unit column is merged from the header cell or blank
    and the row labels the count columns with words (not numbers)."""
    unit_merge = sheet.merge_at(header_row, unit_column)
    last = unit_merge.last_row if unit_merge else header_row
    for row in range(last + 1, header_row + _MAX_HEADER_DEPTH):
        if sheet.value(row, unit_column) is not None or not _labels_counts(sheet, row,
                                                                           unit_column):
            break
        last = row
    return last


def _labels_counts(sheet: SheetValues, row: int, unit_column: int) -> bool:
    texts = [plain(sheet.value(row, column))
             for column in range(unit_column + 1, sheet.max_column + 1)]
    return any(text and not _NUMBER_LIKE.match(text) and not _COLUMN_NUMBER.match(text)
               for text in texts)


def _count_columns(
    sheet: SheetValues, first_row: int, last_row: int, unit_column: int
) -> dict[str, tuple[int, ...]]:
    """Each count column of the form -> the sheet columns holding it."""
    found: dict[str, list[tuple[int, bool]]] = {}
    for column in range(unit_column + 1, sheet.max_column + 1):
        own = _own_labels(sheet, first_row, last_row, column)
        group = _group_of(sheet, first_row, last_row, unit_column, column)
        if group is None or not own or any("ghi chu" in label for label in own):
            continue
        field, is_total = _field_of(group, own)
        if field:
            found.setdefault(field, []).append((column, is_total))
    return {field: _columns_adding_up(columns) for field, columns in found.items()}


def _own_labels(sheet: SheetValues, first_row: int, last_row: int, column: int) -> list[str]:
    """The column's header cells top to bottom, merged cells read as shown, repeats once."""
    labels: list[str] = []
    for row in range(first_row, last_row + 1):
        label = plain(sheet.shown(row, column))
        if label and (not labels or labels[-1] != label):
            labels.append(label)
    return labels


def _group_of(
    sheet: SheetValues, first_row: int, last_row: int, unit_column: int, column: int
) -> str | None:
    """The deepest group heading over the column: in a merged cell over it, or written once
    to the left of unmerged cells of the same header row."""
    for row in range(last_row, first_row - 1, -1):
        heading = _heading_over(sheet, row, unit_column, column)
        for group, pattern in _GROUPS:
            if pattern.search(heading):
                return group
    return None


def _heading_over(sheet: SheetValues, row: int, unit_column: int, column: int) -> str:
    for left in range(column, unit_column, -1):
        label = plain(sheet.shown(row, left))
        if label:
            return label
    return ""


def _field_of(group: str, own: list[str]) -> tuple[str | None, bool]:
    """(field, whether the column is its field's total) from the column's own labels."""
    text = " | ".join(own)
    for field, pattern in _FIELDS[group]:
        if pattern.search(text):
            return field, bool(_TOTAL_LEAF.match(own[-1]))
    if _TOTAL_LEAF.match(own[-1]) or _GROUPS_BY_NAME[group].search(own[-1]):
        # the received "Tổng số" counts carried-over dossiers too; "Trong kỳ › Tổng số" is
        # only the in-period part, derived from its parts
        in_period = group == "received" and any(_IN_PERIOD.search(label) for label in own)
        return (None if in_period else _GROUP_TOTALS[group]), True
    return None, False


def _columns_adding_up(columns: list[tuple[int, bool]]) -> tuple[int, ...]:
    """A field written in several columns: its "Tổng số" column if it has one (the others are
    its parts), else the columns add up (e.g. in person + postal)."""
    totals = [column for column, is_total in columns if is_total]
    return (totals[0],) if totals else tuple(column for column, _ in columns)


# ----------------------------------------------------------------------------- the period


def find_period(layout: FormLayout) -> tuple[date, date] | None:
    """The period the period line above the header states, or None when there is none."""
    texts = [
        _DATELINE.sub(" ", plain(layout.sheet.value(row, column)))
        for row in range(1, layout.header_row)
        for column in range(1, layout.sheet.max_column + 1)
    ]
    for text in texts:
        if match := _PERIOD_DAYS.search(text):
            day1, month1, year1, _, day2, month2, year2 = match.groups()
            return _dates((int(year1), int(month1), int(day1)),
                          (int(year2), int(month2), int(day2)))
    for text in texts:
        if match := _PERIOD_MONTH.search(text):
            month, year = int(match[1]), int(match[2])
            if 1 <= month <= 12:
                return _dates((year, month, 1),
                              (year, month, calendar.monthrange(year, month)[1]))
    return None


def _dates(first: tuple[int, int, int], last: tuple[int, int, int]) -> tuple[date, date] | None:
    try:
        return date(*first), date(*last)
    except ValueError:
        return None


def check_period(layout: FormLayout, path: Path, month: date) -> None:
    """The period line must cover exactly the month of the file's folder."""
    month_end = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    where = f"{path.name} (sheet '{layout.sheet.name}')"
    period = find_period(layout)
    if period is None:
        raise UnreadableFile(
            f"{where} has no readable period line above its header; add one like "
            f"'(Từ ngày 01/{month:%m/%Y} đến ngày {month_end:%d/%m/%Y})' or "
            f"'Kỳ báo cáo: Tháng {month.month} năm {month.year}'."
        )
    start, end = period
    if (start, end) != (month, month_end):
        raise UnreadableFile(
            f"{where} reports the period {start:%d/%m/%Y}–{end:%d/%m/%Y} but lies in "
            f"reports/{month:%Y-%m}/, whose month runs {month:%d/%m/%Y}–{month_end:%d/%m/%Y}; "
            "move it to the folder of its month or correct its period line."
        )


# ------------------------------------------------------------------------------- the rows


def form_rows(layout: FormLayout) -> Iterator[FormRow]:
    """The rows under the header that carry counts, and the section rows."""
    for row in range(layout.first_data_row, layout.sheet.max_row + 1):
        if _is_column_number_row(layout.sheet, row, layout.unit_column):
            continue  # also when a blank row parts it from the header
        if parsed := _form_row(layout, row):
            yield parsed


def _form_row(layout: FormLayout, row: int) -> FormRow | None:
    sheet, unit_column = layout.sheet, layout.unit_column
    label = _label(sheet, row, unit_column)
    if _COLUMN_NUMBER.match(plain(label)):
        return None
    cells = _count_cells(layout, row)
    has_counts = _carries_counts(cells)
    kind, style = _kind(label, plain(sheet.value(row, unit_column - 1))
                        if unit_column > 1 else "")
    if not has_counts:
        # headings matter (they delimit the sections subtotals cover); signature lines,
        # notes and blank rows do not
        return FormRow(row, label, kind, style, None, None) if kind == "section" else None
    counts, problem = _counts(cells)
    unit_merge = sheet.merge_at(row, unit_column)
    if kind == "agency" and unit_merge and _counted_rows(layout, unit_merge) > 1:
        # a person cannot tell which agency each row under one unit cell is
        problem = problem or "merged_unit"
    elif kind == "agency" and not label:
        problem = problem or "no_unit"
    return FormRow(row, label, kind, style, problem, counts)


def _count_cells(layout: FormLayout, row: int) -> dict[str, list[object]]:
    return {field: [layout.sheet.value(row, column) for column in columns]
            for field, columns in layout.columns.items()}


def _carries_counts(cells: dict[str, list[object]]) -> bool:
    return any(_looks_numeric(cell) for values in cells.values() for cell in values)


def _counted_rows(layout: FormLayout, merge: Merge) -> int:
    """How many rows under a merged unit cell carry counts (one: that agency's row)."""
    return sum(_carries_counts(_count_cells(layout, row))
               for row in range(merge.first_row, merge.last_row + 1))


def _label(sheet: SheetValues, row: int, unit_column: int) -> str:
    """The unit as written; for a total or section label written in the STT column (merged
    across "Đơn vị" or not), that label."""
    for column in range(unit_column, 0, -1):
        value = sheet.shown(row, column)
        text = " ".join(str(value).split()) if value is not None else ""
        if text and (column == unit_column or not _NUMBER_LIKE.match(text)):
            return text if column == unit_column or _kind(text, "")[0] != "agency" else ""
    return ""


def _kind(text: str, number: str) -> tuple[str, str | None]:
    """agency | total | subtotal | section (with its numbering style) from the label as
    written and the STT cell (plain)."""
    label = plain(text)
    if _TOTAL_LABEL.match(label):
        return "total", None
    if (_SUBTOTAL_LABEL.match(unicodedata.normalize("NFC", text).lower())
            or _SUBTOTAL_UNACCENTED.match(label)):
        return "subtotal", None
    if mark := _SECTION_MARK.match(number):
        return "section", _mark_style(mark[1])
    if heading := _SECTION_LABEL.match(label):
        return "section", _mark_style(heading["mark"]) if heading["mark"] else "word"
    return "agency", None


def _mark_style(mark: str) -> str:
    # "c", "d", "l", "m" are letters here: sections rarely reach roman 50
    return "roman" if _ROMAN.match(mark) and (len(mark) > 1 or mark in "ivx") else "letter"


def _looks_numeric(cell: object) -> bool:
    if cell is None or isinstance(cell, bool):
        return False
    return isinstance(cell, int | float) or bool(_NUMBER_LIKE.match(str(cell).strip()))


def _counts(cells: dict[str, list[object]]) -> tuple[tuple[int | None, ...], str | None]:
    """The eleven counts (blank counts 0, as forms leave zeros blank; None where a cell is not
    a count) and the row's problem, if a cell is not a count."""
    counts: list[int | None] = []
    problems: list[str] = []
    for field in REPORT_COLUMNS:
        try:
            counts.append(sum(parse_count(cell) or 0 for cell in cells[field]))
        except CountTooLarge:
            counts.append(None)
            problems.append("bad_count")
        except BadNumber:
            counts.append(None)
            problems.append("bad_number")
    return tuple(counts), next(iter(problems), None)


# ------------------------------------------------------------------------- totals' scopes


@dataclass
class _OpenSection:
    style: str | None
    first_agency: int  # index into the agency rows seen so far
    heading: FormRow | None  # the section row, when it carries the section's counts


def settle_sections(rows: list[FormRow]) -> list[FormRow]:
    """A row numbered like a section ("I | Sở Tư pháp | 12 | …") with counts but no agency row
    in its section is an agency row after all."""
    scopes = total_scopes(rows)
    return [
        replace(row, kind="agency", section_style=None)
        if row.kind == "section" and row.counts is not None and not scopes.get(row.row_no)
        else row
        for row in rows
    ]


def total_scopes(rows: list[FormRow]) -> dict[int, list[FormRow]]:
    """For each total or subtotal row (by row_no), the agency rows it must add up.

    A total covers every agency row of the sheet. A subtotal ("Cộng …") covers the agency
    rows since the start of the innermost open section, or since the previous subtotal when
    no section is open. A section row with counts is a subtotal of its section, which runs
    until the next section row of the same numbering style (or of an enclosing one), a
    subtotal closing it, or a total."""
    agencies = [row for row in rows if row.kind == "agency"]  # agency rows carry counts
    position = {row.row_no: index for index, row in enumerate(agencies)}
    scopes: dict[int, list[FormRow]] = {}
    sections: list[_OpenSection] = []
    seen, last_boundary = 0, 0

    def close(section: _OpenSection) -> None:
        if section.heading is not None:
            scopes[section.heading.row_no] = agencies[section.first_agency:seen]

    for row in rows:
        if row.kind == "agency":
            seen = position[row.row_no] + 1
        elif row.kind == "total":
            scopes[row.row_no] = agencies
            _close_all(sections, close)
            last_boundary = seen
        elif row.kind == "subtotal" and row.counts is not None:
            start = sections[-1].first_agency if sections else last_boundary
            scopes[row.row_no] = agencies[start:seen]
            if sections:
                close(sections.pop())
            last_boundary = seen
        elif row.kind == "section":
            styles = [section.style for section in sections]
            if row.section_style in styles:
                _close_all(sections, close, keep=styles.index(row.section_style))
            sections.append(_OpenSection(row.section_style, seen,
                                         row if row.counts is not None else None))
    _close_all(sections, close)
    return scopes


def _close_all(sections: list[_OpenSection], close: Callable[[_OpenSection], None],
               keep: int = 0) -> None:
    while len(sections) > keep:
        close(sections.pop())
