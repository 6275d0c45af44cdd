"""Month arithmetic: a month is the date of its first day, in Vietnam time."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from dvctt_pipeline.settings import TIMEZONE

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> date:
    """A month written YYYY-MM; ValueError saying how to write it otherwise."""
    match = _MONTH.match(text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2022-04.")
    return date(int(match[1]), int(match[2]), 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def last_day(month: date) -> date:
    return date.fromordinal(next_month(month).toordinal() - 1)


def months_between(first: date, last: date) -> list[date]:
    """The first day of each month from `first` to `last`, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


def month_of(moment: datetime) -> date:
    """The first day of the month, in Vietnam time, that a moment falls in."""
    local = moment.astimezone(ZoneInfo(TIMEZONE))
    return date(local.year, local.month, 1)


def running_month() -> date:
    """The month in progress; the months before it are closed."""
    return month_of(datetime.now(UTC))


def contiguous_ranges(months: Iterable[date]) -> list[tuple[date, date]]:
    """Months grouped into runs of consecutive months: [Mar, May, Jun] -> [Mar–Mar, May–Jun]."""
    ranges: list[tuple[date, date]] = []
    for month in sorted(set(months)):
        if ranges and month_index(month) == month_index(ranges[-1][1]) + 1:
            ranges[-1] = (ranges[-1][0], month)
        else:
            ranges.append((month, month))
    return ranges
