"""Exports and reference files that went through another tool on their way to the landing
folder: the month's figures are those of the files as the portal and the office made them.

Here the catalogue kept in Excel and the exports read and written again by pandas: a
procedure code (MaTTHC, `1.004370`) taken for a number comes back without its trailing zeros
(`1.00437`), and in an export with an empty date every date comes as a decimal number
(`20220303163401.0`). Before, such a code matched no catalogue row and its dossiers dropped out
of the DVCTT figures without a word, and such a file's records were all set aside as
`bad_date`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
from conftest import PipelineFolders, materialized_copy

MONTH = "2022-03"
FIGURES = ("national_period_rates", "province_period_rates", "agency_period_rates",
           "province_rankings")


def saved_by_excel(path: Path) -> int:
    """The catalogue as Excel saves a CSV it opened: a MaTTHC cell is a number, written as
    General format shows it. Returns how many codes lost a trailing zero."""
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    shortened = 0
    for row in rows:
        as_shown = str(float(row["MaTTHC"]))
        shortened += as_shown != row["MaTTHC"]
        row["MaTTHC"] = as_shown
    with path.open("w", encoding="utf-8", newline="") as text:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return shortened


def written_again_by_pandas(path: Path) -> None:
    """An export read and written again by pandas, which types MaTTHC and the dates as
    numbers (`"MaTTHC": 1.00437`, `"NgayTiepNhan": 20220301080000`). A line pandas cannot
    read (the sample damages a few) stays where it was, as it was."""
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [line for line in lines if is_record(line)]
    frame = pd.read_json(io.StringIO("\n".join(records)), lines=True)
    rewritten = iter(frame.to_json(orient="records", lines=True, force_ascii=False).splitlines())
    path.write_text("".join(f"{next(rewritten) if is_record(line) else line}\n" for line in lines),
                    encoding="utf-8")


def is_record(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except json.JSONDecodeError:
        return False


def month_figures(folders: PipelineFolders) -> dict[str, list[tuple]]:
    return {table: folders.query(f"SELECT * FROM marts.{table} "
                                 "WHERE period_start = DATE '2022-03-01' ORDER BY ALL")
            for table in FIGURES}


def through_other_tools(landing: Path) -> None:
    """The catalogue saved by Excel, every other export written again by pandas: codes
    shortened on one side only (the catalogue, or an export) no longer match unless both are
    read back alike."""
    shortened = sum(saved_by_excel(path) for path in (landing / "catalog").glob("services_*.csv"))
    exports = sorted((landing / "dossiers").glob("*/*.jsonl"))[::2]
    for export in exports:
        written_again_by_pandas(export)
    assert shortened > 0  # else the test could not fail
    assert '"MaTTHC":1.00' in exports[0].read_text(encoding="utf-8")


def test_codes_a_spreadsheet_shortened_give_the_figures_of_the_codes_as_made(
        tmp_path, march_exports, monkeypatch):
    as_made = materialized_copy(march_exports, tmp_path / "as_made", monkeypatch, MONTH)
    round_trip = materialized_copy(march_exports, tmp_path / "round_trip", monkeypatch, MONTH,
                                   edit=through_other_tools)
    assert month_figures(round_trip) == month_figures(as_made)
    assert round_trip.query(
        "SELECT count(*) FROM marts.province_period_rates WHERE period_start = DATE '2022-03-01' "
        "AND online_share_dvctt IS NOT NULL")[0][0] > 0
