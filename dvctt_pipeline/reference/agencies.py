"""The agency registry, `reference/agencies.csv` of the landing folder (DESIGN §3.1).

The registry is required: without it, or when none of its rows can be used, the run stops
with a message saying what to fix. A row that cannot be used (no code, no province, an
unknown level, an unreadable date, a code already on an earlier line) is set aside in
`quarantine.agencies` with its line and reason; that agency is then unknown to the run, so
its dossiers are set aside as `unknown_agency` until the row is fixed, rather than counted
in a province it does not belong to.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.reference.rows import (
    CheckedRows,
    ReferenceFileError,
    ReferenceFileKind,
    check_file,
    first_failing_rule,
    gso_codes,
    has_bad_date,
    known_province_codes,
    parse_dates,
    province_codes,
    read_reference_csv,
    set_aside,
    store_checked,
)

__all__ = ["AGENCIES_FILE", "ReferenceFileError", "load_agencies", "read_agencies"]

AGENCIES_FILE = Path("reference") / "agencies.csv"
AGENCY_COLUMNS = (
    "agency_code", "agency_name", "admin_level", "province_code", "district_code",
    "commune_code", "valid_from", "valid_to", "aliases",
)
TABLE_COLUMNS = (
    "agency_code", "agency_name", "admin_level", "province_code", "district_code",
    "commune_code", "valid_from", "valid_to", "name_keys",
)
ADMIN_LEVELS = ("province", "district", "commune")
UNTIL_FIXED = "its dossiers are set aside as unknown_agency until then"
AGENCIES = ReferenceFileKind(
    name="agencies", columns=AGENCY_COLUMNS, free_text="agency_name", label="agency_code",
    fixes={
        "missing_agency_code": "write the agency's code (e.g. 000.00.12.H17)",
        "missing_agency_name": f"write the agency's name; {UNTIL_FIXED}",
        "unknown_admin_level": f"admin_level must be province, district or commune; "
                               f"{UNTIL_FIXED}",
        "missing_province_code": f"write the 2-digit GSO code of the agency's province; "
                                 f"{UNTIL_FIXED}",
        "unknown_province": f"province_code must be a GSO province code (e.g. 17); "
                            f"{UNTIL_FIXED}",
        "bad_valid_from": f"write valid_from as 2025-07-01 or 01/07/2025; {UNTIL_FIXED}",
        "bad_valid_to": f"write valid_to as 2025-06-30 or 30/06/2025; {UNTIL_FIXED}",
        "valid_to_before_valid_from": f"valid_to is before valid_from; {UNTIL_FIXED}",
        "duplicate_agency_code": "the code (spaces around it aside) is on an earlier line "
                                 "too, whose row is used; keep one row per agency, other "
                                 "spellings of its name in aliases",
    },
)


def _name_keys(row: pd.Series) -> list[str]:
    spellings = [row["agency_name"], *filter(None, row["aliases"].split("|"))]
    return sorted({key for key in map(name_key, spellings) if key})


def _check_registry(path: Path, landing: Path) -> CheckedRows:
    frame = read_reference_csv(path, landing, AGENCIES)
    frame["admin_level"] = frame["admin_level"].str.lower()
    frame["province_code"] = province_codes(frame["province_code"])
    frame["from_date"] = parse_dates(frame["valid_from"])
    frame["to_date"] = parse_dates(frame["valid_to"])
    row_rules = [
        ("missing_agency_code", frame["agency_code"] == ""),
        ("missing_agency_name", frame["agency_name"] == ""),
        ("unknown_admin_level", ~frame["admin_level"].isin(ADMIN_LEVELS)),
        ("missing_province_code", frame["province_code"] == ""),
        ("unknown_province",
         ~frame["province_code"].isin(known_province_codes(admin_units.GEOGRAPHIES))),
        ("bad_valid_from", has_bad_date(frame["valid_from"], frame["from_date"])),
        ("bad_valid_to", has_bad_date(frame["valid_to"], frame["to_date"])),
        ("valid_to_before_valid_from", frame["to_date"] < frame["from_date"]),
    ]
    usable = first_failing_rule(frame, row_rules, AGENCIES).isna()
    # of the usable rows with one code, the first is used: a bad row does not hide a good one
    repeated = usable & frame["agency_code"].where(usable).duplicated()
    reasons = first_failing_rule(
        frame, [*row_rules, ("duplicate_agency_code", repeated)], AGENCIES)
    checked = set_aside(frame, reasons, AGENCIES)
    good = checked.loaded
    registry = pd.DataFrame({
        "agency_code": good["agency_code"],
        "agency_name": good["agency_name"],
        "admin_level": good["admin_level"],
        "province_code": good["province_code"],
        "district_code": gso_codes(good["district_code"], 3).replace("", None),
        "commune_code": gso_codes(good["commune_code"], 5).replace("", None),
        "valid_from": good["from_date"].dt.date,
        "valid_to": good["to_date"].dt.date,
        "name_keys": good.apply(_name_keys, axis=1) if len(good) else [],
    }, columns=list(TABLE_COLUMNS))
    return CheckedRows(loaded=registry, quarantined=checked.quarantined)


def read_agencies(landing: Path) -> CheckedRows:
    """The registry's usable rows and the rows set aside; a ReferenceFileError when the file
    is missing, cannot be read or has no usable row, as the run cannot go on without it."""
    path = landing / AGENCIES_FILE
    if not path.is_file():
        raise ReferenceFileError(
            f"{path} is missing: the agency registry is required (DESIGN §3.1)."
        )
    checked = check_file(path, landing, AGENCIES, _check_registry, TABLE_COLUMNS)
    (outcome,) = checked.files.itertuples()
    if outcome.status == "failed":
        raise ReferenceFileError(outcome.message)
    if checked.loaded.empty:
        raise ReferenceFileError(
            f"{outcome.relative_path} has no usable agency row: "
            f"{outcome.message or 'it has a header only'}."
        )
    return checked


def load_agencies(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, int]:
    return store_checked(con, AGENCIES, "core.agencies", read_agencies(landing))
