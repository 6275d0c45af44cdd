"""Publish `marts` to the serving file, and one Parquet file per marts table, atomically.

BI tools never open the working warehouse (DuckDB has one writer). After each run the marts
are copied, with their comments, into a new DuckDB file beside the serving file, which is
then renamed over it: a reader that holds the old file keeps reading a complete old version,
and the next connection sees the new one. `meta.restatements` goes with them, so analysts
can see why a published figure of a closed month moved.

The new file starts as a copy of the last publication, and only the tables whose content
differs from it are written again; `meta.restatements`, which only grows (every run that
restates a closed month adds its figures), gets the rows of the runs it lacks. A daily run
then rewrites the tables its months changed, not the whole history of restatements.

The same tables are written as Parquet to `parquet/<table>.parquet` beside the serving file,
for tools whose DuckDB driver is older than the file format (Excel, Power BI), those written
again in the serving file (or missing) only; each file is written under a temporary name and
renamed over the old one, too. Beside them goes
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
import shutil
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
# Served tables whose rows are only ever added, a run's at a time (by run_id).
GROWING_BY_RUNS = {("meta", "restatements")}
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


def table_fingerprint(con: duckdb.DuckDBPyConnection, table: str,
                      database: str | None = None) -> tuple[object, ...] | None:
    """A table (`schema.table`) as a reader sees it: its comment, columns with their comments,
    row count and a digest of its rows in any order; None when the database (default: the
    connection's own) has no such table."""
    schema, name = table.split(".")
    where = {"database": database, "schema": schema, "table": name}
    of_table = ("WHERE database_name = coalesce($database, current_database()) "
                "AND schema_name = $schema AND table_name = $table")
    comment = con.execute(f"SELECT comment FROM duckdb_tables() {of_table}", where).fetchall()
    if not comment:
        return None
    columns = con.execute(
        f"SELECT column_name, data_type, comment FROM duckdb_columns() {of_table} "
        "ORDER BY column_index", where,
    ).fetchall()
    qualified = f"{database}.{table}" if database else table
    rows = con.execute(
        f"SELECT count(*), coalesce(sum(hash(t)), 0)::HUGEINT FROM {qualified} AS t"
    ).fetchone()
    return comment[0][0], columns, rows


def content_version(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> str:
    """A digest of the tables (`schema.table`) as a reader sees them: comments, columns and
    rows, in any row order. A table that does not exist counts as absent."""
    digest = hashlib.sha256()
    for table in tables:
        fingerprint = table_fingerprint(con, table)
        # laid out as before the fingerprint had a home of its own, so that the data version
        # of an unchanged publication stays what Dagster recorded
        comment, columns, rows = fingerprint or (None, [], None)
        digest.update(repr((table, [(comment,)] if fingerprint else [], columns, rows)).encode())
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


def _replace_table(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                   comment: str | None) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_BUILD}.{schema}")
    con.execute(f"CREATE OR REPLACE TABLE {_BUILD}.{schema}.{table} AS "
                f"SELECT * FROM {schema}.{table}")
    _copy_comments(con, schema, table, comment)


def _append_new_runs(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """Add to the copy the rows of the runs it does not have yet."""
    con.execute(
        f"INSERT INTO {_BUILD}.{schema}.{table} SELECT * FROM {schema}.{table} AS row "
        f"WHERE NOT EXISTS (SELECT 1 FROM {_BUILD}.{schema}.{table} AS published "
        "WHERE published.run_id IS NOT DISTINCT FROM row.run_id)"
    )


def _update_table(con: duckdb.DuckDBPyConnection, schema: str, table: str,
                  comment: str | None) -> bool:
    """Make the copy's table what the warehouse holds; whether it had to be written."""
    name = f"{schema}.{table}"
    wanted = table_fingerprint(con, name)
    published = table_fingerprint(con, name, _BUILD)
    if published == wanted:
        return False
    if (schema, table) in GROWING_BY_RUNS and published and published[:2] == wanted[:2]:
        _append_new_runs(con, schema, table)
        # rows removed or changed since (by hand) make the copy differ still: copied whole
        if table_fingerprint(con, name, _BUILD) == wanted:
            return True
    _replace_table(con, schema, table, comment)
    return True


def _attach_copy_of(con: duckdb.DuckDBPyConnection, previous: Path, building: Path) -> None:
    """Attach a copy of the previous publication as the new file; an empty new file when
    there is none or it cannot be opened (damaged, or written by another DuckDB version)."""
    if previous.exists():
        shutil.copyfile(previous, building)
        try:
            con.execute(f"ATTACH {quote_literal(str(building))} AS {_BUILD}")
            return
        except duckdb.Error:
            _remove_leftovers(building.parent)
    con.execute(f"ATTACH {quote_literal(str(building))} AS {_BUILD}")


def _build_serving_copy(
    con: duckdb.DuckDBPyConnection, building: Path, previous: Path
) -> tuple[dict[str, int], set[str]]:
    """The new file: a copy of the previous publication where the served tables that changed
    are written again and the tables no longer served are dropped. Returns rows per table and
    the tables written."""
    _attach_copy_of(con, previous, building)
    served = _served_tables(con)
    written = {f"{schema}.{table}" for schema, table, comment in served
               if _update_table(con, schema, table, comment)}
    kept = {(schema, table) for schema, table, _ in served}
    for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $build",
        {"build": _BUILD},
    ).fetchall():
        if (schema, table) not in kept:
            con.execute(f"DROP TABLE {_BUILD}.{schema}.{table}")
    rows = {f"{schema}.{table}": con.execute(
                f"SELECT count(*) FROM {_BUILD}.{schema}.{table}").fetchone()[0]
            for schema, table, _ in served}
    con.execute(f"DETACH {_BUILD}")
    return rows, written


def _write_parquet(con: duckdb.DuckDBPyConnection, folder: Path,
                   tables: Iterable[str]) -> dict[Path, Path]:
    """These marts tables to temporary Parquet files; returns final path -> temporary path."""
    written = {}
    for table in tables:
        final = folder / f"{table.split('.')[1]}.parquet"
        temporary = _temporary_name(final)
        written[final] = temporary
        con.execute(f"COPY {table} TO {quote_literal(str(temporary))} (FORMAT parquet)")
    return written


def _swap_in_parquet(folder: Path, written: dict[Path, Path], served: set[Path]) -> None:
    for final, temporary in written.items():
        os.replace(temporary, final)
    for stale in set(folder.glob("*.parquet")) - served:
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
    marts = {f"{schema}.{table}": parquet / f"{table}.parquet"
             for schema, table, _ in _served_tables(con) if schema == SERVED_SCHEMA}
    try:
        rows, rewritten = _build_serving_copy(con, building, serving)
        written = _write_parquet(con, parquet, [
            table for table, file in marts.items() if table in rewritten or not file.exists()])
        dictionary = _temporary_name(serving.parent / DICTIONARY_FILE)
        describe_publication(con, SERVED_SCHEMA, list(marts), written, dictionary)
    except BaseException:
        con.execute(f"DETACH DATABASE IF EXISTS {_BUILD}")
        _remove_leftovers(serving.parent)
        _remove_leftovers(parquet)
        raise
    os.replace(building, serving)
    os.replace(dictionary, serving.parent / DICTIONARY_FILE)
    _swap_in_parquet(parquet, written, set(marts.values()))
    return rows
