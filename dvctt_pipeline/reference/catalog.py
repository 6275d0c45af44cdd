"""The service catalogue, `catalog/services_<YYYY-MM-DD>.csv` of the landing folder (DESIGN §3.4).

Each file is a snapshot effective from the date in its name. MucDo arrives in two
vocabularies, the legacy levels 2/3/4 and Decree 42's "một phần" / "toàn trình"; both are
stored as one `service_level`: `information` (legacy 1–2, not a DVCTT), `partial`
(một phần, legacy 3) or `full` (toàn trình, legacy 4).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.reference.rows import (
    CheckedRows,
    ReferenceFileKind,
    check_file,
    concat_checked,
    csv_files,
    dated_file_date,
    first_failing_rule,
    known_province_codes,
    procedure_codes,
    province_codes,
    read_reference_csv,
    set_aside,
    store_checked,
)

CATALOG_DIR = Path("catalog")
FILE_PREFIX = "services_"
CATALOG_COLUMNS = (
    "province_code", "admin_level", "MaTTHC", "TenTTHC", "MucDo", "du_dieu_kien_toan_trinh",
)
TABLE_COLUMNS = (
    "effective_date", "province_code", "admin_level", "ma_tthc", "ten_tthc", "service_level",
    "eligible_full_online", "relative_path", "row_no",
)
# name_key of a MucDo spelling ("Mức độ 3" → "mucdo3" → "3") → service_level
SERVICE_LEVELS = {
    "1": "information", "2": "information", "3": "partial", "4": "full",
    "motphan": "partial", "toantrinh": "full",
}
ELIGIBILITY = {"1": True, "0": False, "": False}
LEVELS_BY_GEOGRAPHY = {
    admin_units.LEGACY: ("province", "district", "commune"),
    admin_units.GEOGRAPHY_2025: ("province", "commune"),
}
CATALOG = ReferenceFileKind(
    name="service_catalog", columns=CATALOG_COLUMNS, free_text="TenTTHC", label="MaTTHC",
    fixes={
        "unknown_province": "province_code must be a GSO code of a province that exists on "
                            "the snapshot's date",
        "unknown_admin_level": "admin_level must be province, district or commune",
        "level_not_in_geography": "there are no districts from 1 July 2025: use province or "
                                  "commune",
        "missing_ma_tthc": "write the procedure's code (MaTTHC)",
        "unknown_muc_do": "MucDo must be 2, 3, 4, một phần or toàn trình",
        "bad_du_dieu_kien_toan_trinh": "du_dieu_kien_toan_trinh must be 1, 0 or empty",
        "duplicate_row": "the procedure is listed on an earlier line for the same province "
                         "and level, whose row is used",
    },
)


def service_level(muc_do: str) -> str | None:
    """One vocabulary for MucDo; None for a spelling that is not a level."""
    key = name_key(muc_do) or ""
    return SERVICE_LEVELS.get(key.removeprefix("mucdo"))


def _check_snapshot(path: Path, landing: Path) -> CheckedRows:
    effective = dated_file_date(path, FILE_PREFIX, "%Y-%m-%d", "YYYY-MM-DD")
    geography = admin_units.geography_on(effective.date())
    frame = read_reference_csv(path, landing, CATALOG)
    frame["province_code"] = province_codes(frame["province_code"])
    # messages name the row by its code as written; the code is stored as the portal writes it
    frame["ma_tthc"] = procedure_codes(frame["MaTTHC"])
    frame["admin_level"] = frame["admin_level"].str.lower()
    frame["service_level"] = frame["MucDo"].map(service_level)
    key = ["province_code", "admin_level", "ma_tthc"]
    reasons = first_failing_rule(frame, [
        ("unknown_province", ~frame["province_code"].isin(known_province_codes([geography]))),
        ("unknown_admin_level",
         ~frame["admin_level"].isin(LEVELS_BY_GEOGRAPHY[admin_units.LEGACY])),
        ("level_not_in_geography",
         ~frame["admin_level"].isin(LEVELS_BY_GEOGRAPHY[geography])),
        ("missing_ma_tthc", frame["MaTTHC"] == ""),
        ("unknown_muc_do", frame["service_level"].isna()),
        ("bad_du_dieu_kien_toan_trinh", ~frame["du_dieu_kien_toan_trinh"].isin(ELIGIBILITY)),
        ("duplicate_row", frame.duplicated(key)),
    ], CATALOG)
    checked = set_aside(frame, reasons, CATALOG)
    good = checked.loaded
    loaded = pd.DataFrame({
        "effective_date": effective.date(),
        "province_code": good["province_code"],
        "admin_level": good["admin_level"],
        "ma_tthc": good["ma_tthc"],
        "ten_tthc": good["TenTTHC"],
        "service_level": good["service_level"],
        "eligible_full_online": good["du_dieu_kien_toan_trinh"].map(ELIGIBILITY).astype(bool),
        "relative_path": good["relative_path"],
        "row_no": good["row_no"],
    }, columns=list(TABLE_COLUMNS))
    return CheckedRows(loaded=loaded, quarantined=checked.quarantined)


def read_catalog(landing: Path) -> CheckedRows:
    """Every snapshot of the landing folder, checked; a snapshot that cannot be used fails
    alone. Without any, the catalogue-based metrics are NULL rather than the whole run
    failing (the folder is not required)."""
    return concat_checked(
        [check_file(path, landing, CATALOG, _check_snapshot, TABLE_COLUMNS)
         for path in csv_files(landing / CATALOG_DIR)],
        TABLE_COLUMNS)


def load_catalog(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, int]:
    return store_checked(con, CATALOG, "core.service_catalog", read_catalog(landing))
