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
    concat_checked,
    first_failing_rule,
    known_province_codes,
    parse_dates,
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


def _check_policies(path: Path, landing: Path) -> CheckedRows:
    frame = read_reference_csv(path, landing, FEE_COLUMNS)
    frame["province_code"] = province_codes(frame["province_code"])
    frame["pct"] = pd.to_numeric(frame["reduction_pct"].str.rstrip("%"), errors="coerce")
    frame["from_date"] = parse_dates(frame["valid_from"])
    frame["to_date"] = parse_dates(frame["valid_to"])
    has_end = frame["valid_to"] != ""
    reasons = first_failing_rule(frame, [
        ("unknown_province",
         ~frame["province_code"].isin(known_province_codes(admin_units.GEOGRAPHIES))),
        ("missing_ma_tthc", frame["MaTTHC"] == ""),
        ("reduction_pct_not_a_percentage", ~frame["pct"].between(0, 100, inclusive="right")),
        ("bad_valid_from", frame["from_date"].isna()),
        ("bad_valid_to", has_end & frame["to_date"].isna()),
        ("valid_to_before_valid_from", has_end & (frame["to_date"] < frame["from_date"])),
    ])
    checked = set_aside(frame, reasons, FEE_COLUMNS)
    good = checked.loaded
    loaded = pd.DataFrame({
        "province_code": good["province_code"],
        "ma_tthc": good["MaTTHC"],
        "reduction_pct": good["pct"],
        "valid_from": good["from_date"].dt.date,
        "valid_to": good["to_date"].dt.date,
        "decision_ref": good["decision_ref"].replace("", None),
        "relative_path": good["relative_path"],
        "row_no": good["row_no"],
    }, columns=list(TABLE_COLUMNS))
    return CheckedRows(loaded=loaded, quarantined=checked.quarantined)


def read_fee_policies(landing: Path) -> CheckedRows:
    path = landing / FEES_FILE
    parts = [_check_policies(path, landing)] if path.is_file() else []
    return concat_checked(parts, TABLE_COLUMNS)


def load_fee_policies(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, int]:
    return store_checked(con, "core.fee_policies", "quarantine.fee_policies",
                         read_fee_policies(landing))
