"""Assigned targets, `targets/targets_<YYYY>.csv` of the landing folder (DESIGN §3.5).

A row applies to the agencies of one province and level (`*` = every level) or, when
`agency_code` is set, to that agency only. Rates are fractions; "55%" is read as 0.55.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import duckdb
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.reference.rows import (
    CheckedRows,
    ReferenceFileKind,
    check_file,
    concat_checked,
    csv_files,
    dated_file_date,
    first_failing_rule,
    known_province_codes,
    parse_fraction,
    province_codes,
    read_reference_csv,
    set_aside,
    store_checked,
)

TARGETS_DIR = Path("targets")
FILE_PREFIX = "targets_"
TARGET_COLUMNS = (
    "year", "province_code", "admin_level", "agency_code", "metric", "target_min",
    "target_stretch", "decision_ref",
)
TABLE_COLUMNS = (*TARGET_COLUMNS, "relative_path", "row_no")
EVERY_LEVEL = "*"
TARGET_LEVELS = ("province", "district", "commune", EVERY_LEVEL)
# The metrics of DESIGN §4, the columns of the marts' rate tables.
METRICS = (
    "online_share_all", "online_share_dvctt", "online_share_full", "dvctt_uptake_rate",
    "full_online_provision_rate", "on_time_rate", "online_payment_rate",
)
TARGETS = ReferenceFileKind(
    name="targets", columns=TARGET_COLUMNS, free_text="decision_ref", label="metric",
    fixes={
        "year_not_file_year": "year must be the year in the file's name",
        "unknown_province": "province_code must be a GSO code of a province of that year",
        "unknown_admin_level": "admin_level must be province, district, commune or *",
        "unknown_metric": f"metric must be one of {', '.join(METRICS)}",
        "target_min_not_a_rate": "write target_min as a rate: 0.55 or 55%",
        "target_stretch_not_a_rate": "write target_stretch as a rate (0.6 or 60%) or leave "
                                     "it empty",
        "stretch_below_min": "target_stretch must not be below target_min",
        "unknown_agency": "agency_code is not a usable agency of reference/agencies.csv",
        "agency_not_in_province": "the agency belongs to another province in "
                                  "reference/agencies.csv",
        "duplicate_target": "the same target is on an earlier line, whose row is used",
    },
)


def _is_rate(values: pd.Series) -> pd.Series:
    return values.between(0, 1)


def _registry(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.sql("SELECT agency_code, province_code AS agency_province FROM core.agencies").df()


def _check_year(path: Path, landing: Path, registry: pd.DataFrame) -> CheckedRows:
    year = dated_file_date(path, FILE_PREFIX, "%Y", "YYYY").year
    # a target for 2025 may name a province of either geography
    geographies = {admin_units.geography_on(pd.Timestamp(year, month, 1).date())
                   for month in (1, 12)}
    frame = read_reference_csv(path, landing, TARGETS)
    frame["province_code"] = province_codes(frame["province_code"])
    frame["admin_level"] = frame["admin_level"].str.lower()
    frame["min_value"] = parse_fraction(frame["target_min"])
    frame["stretch_value"] = parse_fraction(frame["target_stretch"])
    frame = frame.merge(registry, on="agency_code", how="left").set_index(frame.index)
    has_agency = frame["agency_code"] != ""
    has_stretch = frame["target_stretch"] != ""
    reasons = first_failing_rule(frame, [
        ("year_not_file_year", frame["year"] != str(year)),
        ("unknown_province", ~frame["province_code"].isin(known_province_codes(geographies))),
        ("unknown_admin_level", ~frame["admin_level"].isin(TARGET_LEVELS)),
        ("unknown_metric", ~frame["metric"].isin(METRICS)),
        ("target_min_not_a_rate", ~_is_rate(frame["min_value"])),
        ("target_stretch_not_a_rate", has_stretch & ~_is_rate(frame["stretch_value"])),
        ("stretch_below_min", has_stretch & (frame["stretch_value"] < frame["min_value"])),
        ("unknown_agency", has_agency & frame["agency_province"].isna()),
        ("agency_not_in_province",
         has_agency & (frame["agency_province"] != frame["province_code"])),
        ("duplicate_target",
         frame.duplicated(["province_code", "admin_level", "agency_code", "metric"])),
    ], TARGETS)
    checked = set_aside(frame, reasons, TARGETS)
    good = checked.loaded
    loaded = pd.DataFrame({
        "year": year,
        "province_code": good["province_code"],
        "admin_level": good["admin_level"],
        "agency_code": good["agency_code"].replace("", None),
        "metric": good["metric"],
        "target_min": good["min_value"],
        "target_stretch": good["stretch_value"],
        "decision_ref": good["decision_ref"].replace("", None),
        "relative_path": good["relative_path"],
        "row_no": good["row_no"],
    }, columns=list(TABLE_COLUMNS))
    return CheckedRows(loaded=loaded, quarantined=checked.quarantined)


def read_targets(con: duckdb.DuckDBPyConnection, landing: Path) -> CheckedRows:
    """Every year's targets, checked against the agency registry already loaded; a year's
    file that cannot be used fails alone."""
    registry = _registry(con)
    return concat_checked(
        [check_file(path, landing, TARGETS, partial(_check_year, registry=registry),
                    TABLE_COLUMNS)
         for path in csv_files(landing / TARGETS_DIR)],
        TABLE_COLUMNS)


def load_targets(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, int]:
    return store_checked(con, TARGETS, "core.targets", read_targets(con, landing))
