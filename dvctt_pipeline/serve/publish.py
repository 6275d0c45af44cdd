"""Publish `marts` to the serving file, and one Parquet file per marts table, atomically.

BI tools never open the working warehouse (DuckDB has one writer). After each run the marts
are copied, with their comments, into a new DuckDB file beside the serving file, which is
then renamed over it: a reader that holds the old file keeps reading a complete old version,
and the next connection sees the new one. `meta.restatements` goes with them, so analysts
can see why a published figure of a closed month moved.

The new file starts as a copy of the last publication, and only the tables whose content
differs from it are written again: of a model's table, the rows of the run's months when
that gives the warehouse's table (checked by its fingerprint), else the whole table;
`meta.restatements`, which only grows (every run that restates a closed month adds its
figures), gets the rows of the runs it lacks. A daily run then writes the rows its month
changed, not a year of rankings nor the whole history of restatements.

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

A run that changed no served table publishes nothing: `read_content` fingerprints what a
publication would hold, and the serving asset compares its version with the data version
Dagster recorded at its last publication (defs/assets.py). A publication finds the tables to
write again, and counts their rows, by those same fingerprints.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dvctt_pipeline.models.sql_models import Window, models_by_table
from dvctt_pipeline.serve.dictionary import DICTIONARY_FILE, describe_publication
from dvctt_pipeline.sqltext import quote_literal
from dvctt_pipeline.warehouse import is_lake, table_exists, transaction

SERVED_SCHEMA = "marts"
# Tables of other schemas that BI may read beside the marts.
ALSO_SERVED = (("meta", "restatements"),)
# Served tables whose rows are only ever added, a run's at a time (by run_id).
GROWING_BY_RUNS = {("meta", "restatements")}
PARQUET_DIR = "parquet"
_BUILD = "serving_build"
_TEMPORARY_SUFFIX = ".building"

# A table as a reader sees it: its comment, its columns (name, type, comment) and its rows
# (count, and a digest in any order).
Fingerprint = tuple[str | None, list[tuple[str, str, str | None]], tuple[int, int]]


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
                      database: str | None = None) -> Fingerprint | None:
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


@dataclass(frozen=True)
class Content:
    """Tables (`schema.table`) as a reader sees them, each fingerprinted once: a fingerprint
    reads every row, and the version and the publication of a run both need it."""

    fingerprints: dict[str, Fingerprint | None]  # None: the table does not exist

    @property
    def version(self) -> str:
        """A digest of the tables: comments, columns and rows, in any row order."""
        digest = hashlib.sha256()
        for table, fingerprint in self.fingerprints.items():
            # laid out as before the fingerprint had a home of its own, so that the data
            # version of an unchanged publication stays what Dagster recorded
            comment, columns, rows = fingerprint or (None, [], None)
            digest.update(
                repr((table, [(comment,)] if fingerprint else [], columns, rows)).encode())
        return digest.hexdigest()[:16]

    def rows(self) -> dict[str, int]:
        """Rows per table that exists."""
        return {table: fingerprint[2][0]
                for table, fingerprint in self.fingerprints.items() if fingerprint}


def read_content(con: duckdb.DuckDBPyConnection, tables: Iterable[str],
                 known: Content | None = None) -> Content:
    """The tables' content; the fingerprints `known` holds are not read again."""
    have = known.fingerprints if known else {}
    return Content({table: have[table] if table in have else table_fingerprint(con, table)
                    for table in tables})


def served_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [f"{schema}.{table}" for schema, table, _ in _served_tables(con)]


def _parquet_files(con: duckdb.DuckDBPyConnection, serving: Path) -> dict[str, Path]:
    """The Parquet file of each marts table (`schema.table`)."""
    return {f"{schema}.{table}": parquet_dir(serving) / f"{table}.parquet"
            for schema, table, _ in _served_tables(con) if schema == SERVED_SCHEMA}


def published_files(con: duckdb.DuckDBPyConnection, serving: Path) -> list[Path]:
    """The files a publication writes: the serving file and a Parquet file per marts table."""
    return [serving, *_parquet_files(con, serving).values()]


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
                  comment: str | None, wanted: Fingerprint | None, window: Window | None
                  ) -> bool:
    """Make the copy's table what the warehouse holds (its fingerprint `wanted`); whether it
    had to be written."""
    name = f"{schema}.{table}"
    published = table_fingerprint(con, name, _BUILD)
    if published == wanted:
        return False
    # rows changed since outside what the run wrote (by hand, or by a run that published
    # nothing) make the copy differ still: then it is copied whole
    if (_updated_in_place(con, schema, table, published, wanted, window)
            and table_fingerprint(con, name, _BUILD) == wanted):
        return True
    _replace_table(con, schema, table, comment)
    return True


def _updated_in_place(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, published: Fingerprint | None,
    wanted: Fingerprint | None, window: Window | None,
) -> bool:
    """Bring the copy's table up to date with only the rows a run adds or replaces, where its
    comment and columns are the warehouse's; whether it was tried. A table that only grows
    gets the rows of the runs it lacks; a model that replaces its window's rows gets the
    window's (a daily run's agency rankings: 59 000 rows written, not a year's 680 000)."""
    if not published or not wanted or published[:2] != wanted[:2]:
        return False
    if (schema, table) in GROWING_BY_RUNS:
        _append_new_runs(con, schema, table)
        return True
    predicate = _window_predicate(f"{schema}.{table}", {column for column, *_ in wanted[1]})
    if window is None or predicate is None:
        return False
    values = {"window_start": window.start, "window_end": window.end}
    con.execute(f"DELETE FROM {_BUILD}.{schema}.{table} WHERE {predicate}", values)
    con.execute(f"INSERT INTO {_BUILD}.{schema}.{table} BY NAME "
                f"SELECT * FROM {schema}.{table} WHERE {predicate}", values)
    return True


def _window_predicate(table: str, columns: set[str]) -> str | None:
    """The rows of a window the model writing `table` replaces; None for a table it writes
    whole, one no model writes, or one without the columns the model's window reads (a
    table left from before the model changed)."""
    model = models_by_table().get(table)
    if model is None or not set(model.window_columns()) <= columns:
        return None
    return model.window_predicate()


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
    con: duckdb.DuckDBPyConnection, building: Path, previous: Path, content: Content,
    window: Window | None,
) -> set[str]:
    """The new file: a copy of the previous publication where the served tables that changed
    from their `content` are written again and the tables no longer served are dropped.
    Returns the tables written."""
    _attach_copy_of(con, previous, building)
    # one transaction: on its own each statement is a commit to the new file, and a
    # publication is hundreds of them (a comment per column)
    with transaction(con):
        written = _update_tables(con, content, window)
    con.execute(f"DETACH {_BUILD}")
    return written


def _update_tables(con: duckdb.DuckDBPyConnection, content: Content, window: Window | None
                   ) -> set[str]:
    """Make the attached copy's tables the served ones (`content`): those that differ written
    again, those no longer served dropped. Returns the tables written."""
    served = _served_tables(con)
    written = {f"{schema}.{table}" for schema, table, comment in served
               if _update_table(con, schema, table, comment,
                                content.fingerprints[f"{schema}.{table}"], window)}
    kept = {(schema, table) for schema, table, _ in served}
    for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $build",
        {"build": _BUILD},
    ).fetchall():
        if (schema, table) not in kept:
            con.execute(f"DROP TABLE {_BUILD}.{schema}.{table}")
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


def record_lake_publication(con: duckdb.DuckDBPyConnection,
                            content: Content) -> dict[str, int]:
    """Record the lake's current snapshot as a publication; returns rows per served table (of
    their `content`) and the snapshot (`ducklake_snapshot`)."""
    (snapshot,) = con.execute("FROM current_snapshot()").fetchone()
    if not table_exists(con, "meta", "publications"):
        con.execute(PUBLICATIONS_DDL)
    con.execute("INSERT INTO meta.publications VALUES ($snapshot, current_timestamp)",
                {"snapshot": snapshot})
    return {**content.rows(), "ducklake_snapshot": snapshot}


def publish_serving_file(con: duckdb.DuckDBPyConnection, serving: Path,
                         content: Content | None = None, window: Window | None = None
                         ) -> dict[str, int]:
    """Write the served tables to a new file and the marts to new Parquet files, then swap
    them in; returns rows per table. On a DuckLake, records the publication instead.

    `content`: the served tables as `read_content` found them in this state of the warehouse
    (the caller that has read them for their version), read here when not given.
    `window`: the months the run wrote, whose rows alone are written again where that gives
    the table the warehouse holds."""
    if content is None:
        content = read_content(con, served_tables(con))
    if is_lake(con):
        return record_lake_publication(con, content)
    parquet = parquet_dir(serving)
    parquet.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(serving.parent)
    _remove_leftovers(parquet)
    building = _temporary_name(serving)
    marts = _parquet_files(con, serving)
    try:
        rewritten = _build_serving_copy(con, building, serving, content, window)
        written = {final: _temporary_name(final) for table, final in marts.items()
                   if table in rewritten or not final.exists()}
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
    # each table of the copy was made to match its fingerprint, row count included
    return content.rows()
