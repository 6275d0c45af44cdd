"""Publish `marts` to the serving file, and one Parquet file per marts table, atomically.

BI tools never open the working warehouse (DuckDB has one writer). After each run the marts
are copied, with their comments, into a brand-new DuckDB file beside the serving file, which
is then renamed over it: a reader that holds the old file keeps reading a complete old
version, and the next connection sees the new one. `meta.restatements` goes with them, so
analysts can see why a published figure of a closed month moved.

The same tables are written as Parquet to `parquet/<table>.parquet` beside the serving file,
for tools whose DuckDB driver is older than the file format (Excel, Power BI); each file is
written under a temporary name and renamed over the old one, too. Beside them goes
`data_dictionary.csv`, and the Parquet files carry their column descriptions (dictionary.py).

A run killed while publishing leaves only files with a temporary name, which the next
publication removes; the published files stay at their previous version.

On a DuckLake warehouse nothing is copied: BI attaches the lake itself, read-only, and every
committed state of the lake is a snapshot it can read. A publication is the snapshot at which
a run's marts are all written; it is recorded in `meta.publications`, so a reader attaches
the lake at the latest one (`SNAPSHOT_VERSION`) and never sees a run half-way, and any earlier
publication stays readable (time travel) until the lake's old snapshots are expired.

A run that changed no served table publishes nothing: `content_version` digests what a
publication would hold, and the serving asset compares it with the data version Dagster
recorded at its last publication (defs/assets.py).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb

from dvctt_pipeline.serve.dictionary import DICTIONARY_FILE, describe_publication
from dvctt_pipeline.sqltext import quote_literal
from dvctt_pipeline.warehouse import is_lake, table_exists

SERVED_SCHEMA = "marts"
# Tables of other schemas that BI may read beside the marts.
ALSO_SERVED = (("meta", "restatements"),)
PARQUET_DIR = "parquet"
_BUILD = "serving_build"
_TEMPORARY_SUFFIX = ".building"


def parquet_dir(serving: Path) -> Path:
    return serving.parent / PARQUET_DIR


def _temporary_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}{_TEMPORARY_SUFFIX}")


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a publication that was killed; one writer runs at a time (the
    pool), so none of them is being written now."""
    for leftover in folder.glob(f".*{_TEMPORARY_SUFFIX}*"):
        leftover.unlink(missing_ok=True)


def _served_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    """(schema, table, comment) of every table the serving file holds."""
    rows = con.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = $schema ORDER BY table_name",
        {"schema": SERVED_SCHEMA},
    ).fetchall()
    for schema, table in ALSO_SERVED:
        rows += con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = $schema "
            "AND table_name = $table",
            {"schema": schema, "table": table},
        ).fetchall()
    return rows


def content_version(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> str:
    """A digest of the tables (`schema.table`) as a reader sees them: comments, columns and
    rows, in any row order. A table that does not exist counts as absent."""
    digest = hashlib.sha256()
    for table in tables:
        schema, name = table.split(".")
        where = {"schema": schema, "table": name}
        comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = $schema AND table_name = $table", where,
        ).fetchall()
        columns = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = $schema "
            "AND table_name = $table ORDER BY column_index", where,
        ).fetchall()
        rows = con.execute(
            f"SELECT count(*), coalesce(sum(hash(t)), 0)::HUGEINT FROM {table} AS t"
        ).fetchone() if comment else None
        digest.update(repr((table, comment, columns, rows)).encode())
    return digest.hexdigest()[:16]


def served_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [f"{schema}.{table}" for schema, table, _ in _served_tables(con)]


def published_files(con: duckdb.DuckDBPyConnection, serving: Path) -> list[Path]:
    """The files a publication writes: the serving file and a Parquet file per marts table."""
    return [serving] + [parquet_dir(serving) / f"{table}.parquet"
                        for schema, table, _ in _served_tables(con) if schema == SERVED_SCHEMA]


def _copy_comments(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, comment: str | None
) -> None:
    target = f"{_BUILD}.{schema}.{table}"
    if comment:
        con.execute(f"COMMENT ON TABLE {target} IS {quote_literal(comment)}")
    columns = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = current_database()"
        " AND schema_name = $schema AND table_name = $table AND comment IS NOT NULL",
        {"schema": schema, "table": table},
    ).fetchall()
    for column, column_comment in columns:
        con.execute(f"COMMENT ON COLUMN {target}.{column} IS {quote_literal(column_comment)}")


def _build_serving_copy(con: duckdb.DuckDBPyConnection, building: Path) -> dict[str, int]:
    """Copy the served tables with their comments into the new file; returns rows per table."""
    con.execute(f"ATTACH {quote_literal(str(building))} AS {_BUILD}")
    rows = {}
    for schema, table, comment in _served_tables(con):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_BUILD}.{schema}")
        con.execute(
            f"CREATE TABLE {_BUILD}.{schema}.{table} AS SELECT * FROM {schema}.{table}"
        )
        _copy_comments(con, schema, table, comment)
        rows[f"{schema}.{table}"] = con.execute(
            f"SELECT count(*) FROM {_BUILD}.{schema}.{table}"
        ).fetchone()[0]
    con.execute(f"DETACH {_BUILD}")
    return rows


def _write_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[Path, Path]:
    """Each marts table to a temporary Parquet file; returns final path -> temporary path."""
    written = {}
    for schema, table, _ in _served_tables(con):
        if schema != SERVED_SCHEMA:
            continue
        final = folder / f"{table}.parquet"
        temporary = _temporary_name(final)
        written[final] = temporary
        con.execute(
            f"COPY {schema}.{table} TO {quote_literal(str(temporary))} (FORMAT parquet)"
        )
    return written


def _swap_in_parquet(folder: Path, written: dict[Path, Path]) -> None:
    for final, temporary in written.items():
        os.replace(temporary, final)
    for stale in set(folder.glob("*.parquet")) - set(written):
        # a marts table that no longer exists must not linger as a file BI still reads
        stale.unlink()


PUBLICATIONS_DDL = """
CREATE TABLE IF NOT EXISTS meta.publications (
    snapshot_id BIGINT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE meta.publications IS 'Các lần công bố: ảnh chụp (snapshot) của DuckLake / '
    'Publications: the DuckLake snapshot at which a run''s marts were complete';
"""


def record_lake_publication(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Record the lake's current snapshot as a publication; returns rows per served table and
    the snapshot (`ducklake_snapshot`)."""
    rows = {f"{schema}.{table}": con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
            for schema, table, _ in _served_tables(con)}
    (snapshot,) = con.execute("FROM current_snapshot()").fetchone()
    if not table_exists(con, "meta", "publications"):
        con.execute(PUBLICATIONS_DDL)
    con.execute("INSERT INTO meta.publications VALUES ($snapshot, current_timestamp)",
                {"snapshot": snapshot})
    return {**rows, "ducklake_snapshot": snapshot}


def publish_serving_file(con: duckdb.DuckDBPyConnection, serving: Path) -> dict[str, int]:
    """Write the served tables to a new file and the marts to new Parquet files, then swap
    them in; returns rows per table. On a DuckLake, records the publication instead."""
    if is_lake(con):
        return record_lake_publication(con)
    parquet = parquet_dir(serving)
    parquet.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(serving.parent)
    _remove_leftovers(parquet)
    building = _temporary_name(serving)
    try:
        rows = _build_serving_copy(con, building)
        written = _write_parquet(con, parquet)
        dictionary = _temporary_name(serving.parent / DICTIONARY_FILE)
        describe_publication(con, SERVED_SCHEMA, written, dictionary)
        written[serving.parent / DICTIONARY_FILE] = dictionary
    except BaseException:
        con.execute(f"DETACH DATABASE IF EXISTS {_BUILD}")
        _remove_leftovers(serving.parent)
        _remove_leftovers(parquet)
        raise
    os.replace(building, serving)
    _swap_in_parquet(parquet, written)
    return rows
