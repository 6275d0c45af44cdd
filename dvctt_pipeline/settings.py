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


def memory_limit_from_env() -> str:
    return os.environ.get("DVCTT_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)


@dataclass(frozen=True)
class Paths:
    landing: Path
    warehouse: Path
    serving: Path


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
