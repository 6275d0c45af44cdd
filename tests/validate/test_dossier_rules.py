"""The row rules' helpers give what their plain definitions give, on text of every shape."""

from __future__ import annotations

import random

import duckdb

from dvctt_pipeline.validate.dossier_rules import SPREADSHEET_DATE_MACROS, TYPE_MACROS

# Characters exports carry at a value's ends: ASCII spaces and controls, the no-break and
# other Unicode space separators (which trim removes), and characters that are not spaces
# (a zero-width space, a byte order mark, letters with diacritics).
EDGES = [" ", "  ", "\t", "\n", "\r", "\u00a0", "\u1680", "\u2000", "\u2007", "\u200a",
         "\u202f", "\u205f", "\u3000", "\u200b", "\ufeff", "đ", "Ả", "x", "0"]
CORES = ["", "20220301080000", "000.00.12.H17-220301-0001", "1.001", "2", "2.0",
         "Sở Tư pháp", "G22.99", "a b", "\u00a0", " "]


def padded_values(count: int) -> list[str | None]:
    rng = random.Random(13)
    values: list[str | None] = [None, "", " ", "\u3000", "\u00a0x\u00a0"]
    for _ in range(count):
        values.append("".join(rng.choices(EDGES, k=rng.choice([0, 0, 1, 2])))
                      + rng.choice(CORES)
                      + "".join(rng.choices(EDGES, k=rng.choice([0, 0, 1, 2]))))
    return values


def test_blank_to_null_is_trim_then_empty_to_null_on_any_text() -> None:
    """blank_to_null skips trim() for values in ASCII with no space at either end; on every
    value it must still give nullif(trim(value), '')."""
    con = duckdb.connect()
    con.execute(TYPE_MACROS)
    con.execute("CREATE TABLE value_list AS SELECT unnest($values::VARCHAR[]) AS value",
                {"values": padded_values(20_000)})
    differing = con.execute(
        "SELECT value, blank_to_null(value) FROM value_list "
        "WHERE blank_to_null(value) IS DISTINCT FROM nullif(trim(value), '')"
    ).fetchall()
    assert differing == []
    # and the values that were trimmed or emptied were many
    assert con.execute(
        "SELECT count(*) FROM value_list WHERE blank_to_null(value) IS DISTINCT FROM value"
    ).fetchone()[0] > 5_000


# A fee as offices' tools write it, and the đồng it means (None: no amount, no fee).
AMOUNTS = {
    "1500000": "1500000.00",
    "1.500.000": "1500000.00",  # Excel on a Vietnamese Windows, thousands grouped
    "1.500.000,00": "1500000.00",
    "1,500,000": "1500000.00",
    "1,500,000.50": "1500000.50",
    "12.500": "12500.00",  # đồng have no thousandths: a dot before three digits groups
    "50000,5": "50000.50",  # a decimal comma
    "50000.0": "50000.00",  # a float's
    "1.5": "1.50",
    "1 200 000 đ": "1200000.00",
    "1\u00a0200\u00a0000\u00a0₫": "1200000.00",
    "50.000 VNĐ": "50000.00",
    "200000vnd": "200000.00",
    "miễn phí": None,
    "-": None,
    "1.500.00": None,  # neither grouped nor a decimal
    "99999999999999999": None,  # past DECIMAL(18, 2): no amount rather than a wrong one
}


def test_fees_are_read_as_the_dong_they_are_written_for() -> None:
    con = duckdb.connect()
    con.execute(TYPE_MACROS)
    read = {text: con.execute("SELECT amount_in_dong($text)::VARCHAR", {"text": text}).fetchone()[0]
            for text in AMOUNTS}
    assert read == AMOUNTS


# A date as spreadsheets write it, and the moment it is read as, day first and month first
# (the text itself where that order does not read it: it is then a bad_date).
SPREADSHEET_DATES = {
    "15/03/2022 08:30": ("2022-03-15 08:30:00", "15/03/2022 08:30"),
    "5/3/2022 8:30": ("2022-03-05 08:30:00", "2022-05-03 08:30:00"),
    "05/03/2022 08:30:15": ("2022-03-05 08:30:15", "2022-05-03 08:30:15"),
    "3/15/2022 2:05 PM": ("3/15/2022 2:05 PM", "2022-03-15 14:05:00"),
    "3/15/2022 2:05:09 AM": ("3/15/2022 2:05:09 AM", "2022-03-15 02:05:09"),
    # Windows in Vietnamese set to a 12-hour clock: SA (sáng) and CH (chiều)
    "5/3/2022 8:30:00 SA": ("2022-03-05 08:30:00", "2022-05-03 08:30:00"),
    "15/03/2022 2:05 CH": ("2022-03-15 14:05:00", "15/03/2022 2:05 CH"),
    "15/03/2022 12:10:00 SA": ("2022-03-15 00:10:00", "15/03/2022 12:10:00 SA"),
    "15/03/2022 12:10 ch": ("2022-03-15 12:10:00", "15/03/2022 12:10 ch"),
    " 15.03.2022 ": ("2022-03-15 00:00:00", " 15.03.2022 "),
    "15-03-2022 23:59": ("2022-03-15 23:59:00", "15-03-2022 23:59"),
    "30/02/2022 08:00": ("30/02/2022 08:00", "30/02/2022 08:00"),
    "15/03/22": ("15/03/22", "15/03/22"),  # a two-digit year is not read so
    "20220315083000": ("20220315083000", "20220315083000"),
    "2022-03-15 08:30:00": ("2022-03-15 08:30:00", "2022-03-15 08:30:00"),
    "ngày 15/03/2022": ("ngày 15/03/2022", "ngày 15/03/2022"),
}


def test_spreadsheet_dates_are_read_in_the_order_given() -> None:
    con = duckdb.connect()
    con.execute(SPREADSHEET_DATE_MACROS)
    read = {text: con.execute("SELECT in_iso_order($text, true), in_iso_order($text, false)",
                              {"text": text}).fetchone()
            for text in SPREADSHEET_DATES}
    assert read == SPREADSHEET_DATES
