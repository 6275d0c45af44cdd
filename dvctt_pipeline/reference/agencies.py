"""The agency registry, `reference/agencies.csv` of the landing folder (DESIGN §3.1)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from dvctt_pipeline.reference.names import name_key
from dvctt_pipeline.warehouse import replace_table

AGENCIES_FILE = Path("reference") / "agencies.csv"
AGENCY_COLUMNS = (
    "agency_code", "agency_name", "admin_level", "province_code", "district_code",
    "commune_code", "valid_from", "valid_to", "aliases",
)
ADMIN_LEVELS = ("province", "district", "commune")


class ReferenceFileError(ValueError):
    """A reference file that cannot be used; the message says what to fix."""


def read_agencies(landing: Path) -> pd.DataFrame:
    path = landing / AGENCIES_FILE
    if not path.is_file():
        raise ReferenceFileError(
            f"{path} is missing: the agency registry is required (DESIGN §3.1)."
        )
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [column for column in AGENCY_COLUMNS if column not in frame.columns]
    if missing:
        raise ReferenceFileError(f"{path} lacks the columns {', '.join(missing)}.")
    bad_level = frame.loc[~frame["admin_level"].isin(ADMIN_LEVELS), "agency_code"]
    if len(bad_level):
        raise ReferenceFileError(
            f"{path}: admin_level must be one of {ADMIN_LEVELS}; "
            f"see agencies {', '.join(bad_level.head(5))}."
        )
    duplicated = frame.loc[frame["agency_code"].duplicated(), "agency_code"]
    if len(duplicated):
        raise ReferenceFileError(
            f"{path}: agency_code must be unique; repeated: {', '.join(duplicated.head(5))}."
        )
    return frame


def _name_keys(row: pd.Series) -> list[str]:
    spellings = [row["agency_name"], *filter(None, row["aliases"].split("|"))]
    return sorted({key for key in map(name_key, spellings) if key})


def load_agencies(con: duckdb.DuckDBPyConnection, landing: Path) -> int:
    frame = read_agencies(landing)
    registry = pd.DataFrame({
        "agency_code": frame["agency_code"].str.strip(),
        "agency_name": frame["agency_name"].str.strip(),
        "admin_level": frame["admin_level"],
        "province_code": frame["province_code"].str.zfill(2),
        "district_code": frame["district_code"].replace("", None),
        "commune_code": frame["commune_code"].replace("", None),
        "valid_from": pd.to_datetime(frame["valid_from"].replace("", None)).dt.date,
        "valid_to": pd.to_datetime(frame["valid_to"].replace("", None)).dt.date,
        "name_keys": frame.apply(_name_keys, axis=1),
    })
    return replace_table(con, "core.agencies", registry)
