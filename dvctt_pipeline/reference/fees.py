"""Fee-reduction policies, `fees/fee_policies.csv` of the landing folder (DESIGN §3.6).

The file is optional: without it the table is empty.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from dvctt_pipeline.reference import admin_units
from dvctt_pipeline.reference.rows import (
    CheckedRows,
    ReferenceFileKind,
    check_file,
    concat_checked,
    first_failing_rule,
    has_bad_date,
    known_province_codes,
    parse_dates,
    parse_number,
    procedure_codes,
    province_codes,
    read_reference_csv,
    set_aside,
    store_checked,
)

FEES_FILE = Path("fees") / "fee_policies.csv"
FEE_COLUMNS = ("province_code", "MaTTHC", "reduction_pct", "valid_from", "valid_to",
               "decision_ref")
TABLE_COLUMNS = (
    "province_code", "ma_tthc", "reduction_pct", "valid_from", "valid_to", "decision_ref",
    "relative_path", "row_no",
)
FEES = ReferenceFileKind(
    name="fee_policies", columns=FEE_COLUMNS, free_text="decision_ref", label="MaTTHC",
    fixes={
        "unknown_province": "province_code must be a GSO province code (e.g. 79)",
        "missing_ma_tthc": "write the procedure's code (MaTTHC)",
        "reduction_pct_not_a_percentage": "reduction_pct must be a percentage above 0, up "
                                          "to 100 (e.g. 50)",
        "bad_valid_from": "write valid_from as 2021-07-01 or 01/07/2021",
        "bad_valid_to": "write valid_to as 2022-12-31 or 31/12/2022, or leave it empty",
        "valid_to_before_valid_from": "valid_to is before valid_from",
    },
)


def _check_policies(path: Path, landing: Path) -> CheckedRows:
    frame = read_reference_csv(path, landing, FEES)
    frame["province_code"] = province_codes(frame["province_code"])
    # messages name the row by its code as written; the code is stored as the portal writes it
    frame["ma_tthc"] = procedure_codes(frame["MaTTHC"])
    frame["pct"] = parse_number(frame["reduction_pct"])  # in percent, with its sign or not
    frame["from_date"] = parse_dates(frame["valid_from"])
    frame["to_date"] = parse_dates(frame["valid_to"])
    reasons = first_failing_rule(frame, [
        ("unknown_province",
         ~frame["province_code"].isin(known_province_codes(admin_units.GEOGRAPHIES))),
        ("missing_ma_tthc", frame["MaTTHC"] == ""),
        ("reduction_pct_not_a_percentage", ~frame["pct"].between(0, 100, inclusive="right")),
        ("bad_valid_from", frame["from_date"].isna()),
        ("bad_valid_to", has_bad_date(frame["valid_to"], frame["to_date"])),
        ("valid_to_before_valid_from", frame["to_date"] < frame["from_date"]),
    ], FEES)
    checked = set_aside(frame, reasons, FEES)
    good = checked.loaded
    loaded = pd.DataFrame({
        "province_code": good["province_code"],
        "ma_tthc": good["ma_tthc"],
        "reduction_pct": good["pct"],
        "valid_from": good["from_date"].dt.date,
        "valid_to": good["to_date"].dt.date,
        "decision_ref": good["decision_ref"].replace("", None),
        "relative_path": good["relative_path"],
        "row_no": good["row_no"],
    }, columns=list(TABLE_COLUMNS))
    return CheckedRows(loaded=loaded, quarantined=checked.quarantined)


def read_fee_policies(landing: Path) -> CheckedRows:
    """The policies; a file that cannot be used fails alone, leaving the table empty."""
    path = landing / FEES_FILE
    parts = ([check_file(path, landing, FEES, _check_policies, TABLE_COLUMNS)]
             if path.is_file() else [])
    return concat_checked(parts, TABLE_COLUMNS)


def load_fee_policies(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, int]:
    return store_checked(con, FEES, "core.fee_policies", read_fee_policies(landing))
