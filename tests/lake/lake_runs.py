"""Running `dvctt` on a DuckLake warehouse in a new process, on a persistent DAGSTER_HOME."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
from operations import servers

from dvctt_pipeline.settings import Lake

# The time a row was loaded differs between any two runs; every other column must match.
LOAD_TIME_COLUMNS = {"loaded_at"}


def lake_environment(lake: Lake, landing: Path, root: Path, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DVCTT_LANDING_DIR": str(landing),
        "DVCTT_WAREHOUSE": f"ducklake:{lake.catalog}",
        "DVCTT_DATA_PATH": lake.data_path,
        "DVCTT_SERVING": str(root / "serving" / "dvctt.duckdb"),
        "DVCTT_REPORTS_DIR": str(root / "reports"),
        "DAGSTER_HOME": str(home),
    }


def start_materialize(env: dict[str, str], first: str, last: str, log: Path) -> subprocess.Popen:
    return servers.start([str(servers.BIN / "dvctt"), "materialize", "--from", first,
                          "--to", last], env, log)


def marts_content(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every marts table of the connection's default database, its rows in a stable order."""
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'marts' ORDER BY table_name").fetchall()
    content = {}
    for (table,) in tables:
        columns = [name for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'marts' AND table_name = $table ORDER BY column_index",
            {"table": table}).fetchall() if name not in LOAD_TIME_COLUMNS]
        rows = con.execute(f"SELECT {', '.join(columns)} FROM marts.{table}").fetchall()
        content[table] = sorted(rows, key=str)
    return content
