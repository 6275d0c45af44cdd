"""Where the pipeline reads and writes, taken from the environment (README: "Paths")."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TIMEZONE = "Asia/Ho_Chi_Minh"
FIRST_MONTH = "2021-01-01"
# Provinces with fewer received dossiers in a period are listed but not ranked (DESIGN §4).
MIN_DOSSIERS_TO_RANK = 100


# DuckDB's memory for one pipeline step; beyond it joins and aggregations spill to a
# temporary folder beside the warehouse. 2 GB keeps a national month under 3 GB for the
# whole process (benchmarks/RESULTS.md).
DEFAULT_MEMORY_LIMIT = "2GB"
MEMORY_LIMIT_ENV = "DVCTT_MEMORY_LIMIT"


def memory_limit_from_env() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)


# How long a run's step waits for the warehouse while another process holds it (DuckDB lets
# one process write a file): long enough for a query someone runs on it by hand to end.
DEFAULT_LOCK_WAIT_SECONDS = 100.0
LOCK_WAIT_ENV = "DVCTT_WAREHOUSE_WAIT_SECONDS"


def lock_wait_seconds_from_env() -> float:
    text = os.environ.get(LOCK_WAIT_ENV, "")
    try:
        return float(text) if text else DEFAULT_LOCK_WAIT_SECONDS
    except ValueError:
        raise ValueError(f"{LOCK_WAIT_ENV}={text!r} must be a number of seconds.") from None


@dataclass(frozen=True)
class Paths:
    landing: Path
    warehouse: Path
    serving: Path


# DVCTT_WAREHOUSE=ducklake:<catalog> selects a DuckLake warehouse instead of the DuckDB file
LAKE_PREFIX = "ducklake:"


@dataclass(frozen=True)
class Lake:
    """A DuckLake warehouse: its catalog database (`postgres:<libpq connection string>`) and
    where its Parquet files are (a folder or an object-store prefix)."""

    catalog: str
    data_path: str

    @property
    def is_local(self) -> bool:
        return "://" not in self.data_path


def lake_from_env() -> Lake | None:
    """The DuckLake of DVCTT_WAREHOUSE and DVCTT_DATA_PATH, None for the embedded file."""
    location = os.environ.get("DVCTT_WAREHOUSE", "")
    if not location.startswith(LAKE_PREFIX):
        return None
    data_path = os.environ.get("DVCTT_DATA_PATH")
    if not data_path:
        raise ValueError("DVCTT_WAREHOUSE names a DuckLake: set DVCTT_DATA_PATH to the folder "
                         "(or object-store prefix) of its Parquet files.")
    return Lake(location.removeprefix(LAKE_PREFIX), data_path)


def paths_from_env() -> Paths:
    """The three locations of DESIGN §3 and §6, overridable by environment variables."""
    return Paths(
        landing=Path(os.environ.get("DVCTT_LANDING_DIR", "data/landing")),
        warehouse=Path(os.environ.get("DVCTT_WAREHOUSE", "data/warehouse.duckdb")),
        serving=Path(os.environ.get("DVCTT_SERVING", "data/serving/dvctt.duckdb")),
    )


REPORTS_DIR_ENV = "DVCTT_REPORTS_DIR"


def reports_dir(warehouse: Path) -> Path:
    """$DVCTT_REPORTS_DIR, else `reports/` beside the warehouse (data/reports by default):
    a pipeline pointed at other folders, a test's for one, keeps its reports with its data."""
    return Path(os.environ.get(REPORTS_DIR_ENV) or warehouse.parent / "reports")
