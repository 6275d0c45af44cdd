"""Publish `marts` to the serving file atomically.

BI tools never open the working warehouse (DuckDB has one writer). After each run the marts
are copied, with their comments, into a brand-new DuckDB file beside the serving file, which
is then renamed over it: a reader that holds the old file keeps reading a complete old
version, and the next connection sees the new one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb

SERVED_SCHEMA = "marts"
_BUILD = "serving_build"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _served_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    return con.execute(
        "SELECT table_name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = $schema ORDER BY table_name",
        {"schema": SERVED_SCHEMA},
    ).fetchall()


def _copy_comments(con: duckdb.DuckDBPyConnection, table: str, comment: str | None) -> None:
    target = f"{_BUILD}.{SERVED_SCHEMA}.{table}"
    if comment:
        con.execute(f"COMMENT ON TABLE {target} IS {_quote(comment)}")
    columns = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = current_database()"
        " AND schema_name = $schema AND table_name = $table AND comment IS NOT NULL",
        {"schema": SERVED_SCHEMA, "table": table},
    ).fetchall()
    for column, column_comment in columns:
        con.execute(f"COMMENT ON COLUMN {target}.{column} IS {_quote(column_comment)}")


def publish_serving_file(con: duckdb.DuckDBPyConnection, serving: Path) -> dict[str, int]:
    """Write every marts table to a new file and swap it in; returns rows per table."""
    serving.parent.mkdir(parents=True, exist_ok=True)
    building = serving.with_name(f".{serving.name}.{uuid.uuid4().hex}.building")
    con.execute(f"ATTACH {_quote(str(building))} AS {_BUILD}")
    try:
        con.execute(f"CREATE SCHEMA {_BUILD}.{SERVED_SCHEMA}")
        rows = {}
        for table, comment in _served_tables(con):
            con.execute(
                f"CREATE TABLE {_BUILD}.{SERVED_SCHEMA}.{table} AS "
                f"SELECT * FROM {SERVED_SCHEMA}.{table}"
            )
            _copy_comments(con, table, comment)
            rows[f"{SERVED_SCHEMA}.{table}"] = con.execute(
                f"SELECT count(*) FROM {_BUILD}.{SERVED_SCHEMA}.{table}"
            ).fetchone()[0]
        con.execute(f"DETACH {_BUILD}")
        os.replace(building, serving)
    except BaseException:
        con.execute(f"DETACH DATABASE IF EXISTS {_BUILD}")
        building.unlink(missing_ok=True)
        raise
    return rows
