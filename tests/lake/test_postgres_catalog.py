"""A DuckLake whose catalog is a real PostgreSQL server (the throw-away one of the tests)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import duckdb
import psycopg2

from dvctt_pipeline.extensions import load_lake_extensions
from dvctt_pipeline.settings import Lake
from dvctt_pipeline.warehouse import attach_lake, ensure_base_tables, retry_on_lake_conflict


def test_a_lake_on_postgresql_is_shared_by_two_connections(postgres, tmp_path):
    dsn = postgres.create_database("catalog_shared")
    attach = f"ATTACH 'ducklake:postgres:{dsn}' AS lake (DATA_PATH '{tmp_path}/files')"
    writer, reader = duckdb.connect(), duckdb.connect()
    for con in (writer, reader):
        load_lake_extensions(con)
        con.execute(attach)
    writer.execute("CREATE TABLE lake.figures AS SELECT range AS n FROM range(1000)")
    assert reader.execute("SELECT sum(n) FROM lake.figures").fetchone() == (499500,)
    # the catalog is PostgreSQL's: DuckLake's own tables are there
    with psycopg2.connect(dsn) as pg, pg.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ducklake_table")
        assert cursor.fetchone()[0] == 1


def test_a_replacement_that_conflicts_with_another_runs_commit_is_done_again(postgres, tmp_path):
    lake = Lake(f"postgres:{postgres.create_database('catalog_conflict')}", str(tmp_path))
    this_run, other_run = duckdb.connect(), duckdb.connect()
    for con in (this_run, other_run):
        attach_lake(con, lake)
    this_run.execute("CREATE TABLE figures AS SELECT * FROM (VALUES (1, 1), (2, 2)) t(month, n)")
    attempts = []

    def replace_february() -> None:
        attempts.append(len(attempts) + 1)
        this_run.execute("BEGIN")
        this_run.execute("DELETE FROM figures WHERE month = 2")
        if len(attempts) == 1:  # meanwhile another run replaces January and commits first
            other_run.execute("BEGIN")
            other_run.execute("DELETE FROM figures WHERE month = 1")
            other_run.execute("INSERT INTO figures VALUES (1, 10)")
            other_run.execute("COMMIT")
        this_run.execute("INSERT INTO figures VALUES (2, 20)")
        this_run.execute("COMMIT")

    retry_on_lake_conflict(replace_february)
    assert attempts == [1, 2]
    assert sorted(other_run.execute("FROM figures").fetchall()) == [(1, 10), (2, 20)]


def test_the_base_tables_are_created_once_without_what_ducklake_lacks(postgres, tmp_path):
    lake = Lake(f"postgres:{postgres.create_database('catalog_base')}", str(tmp_path))
    con = duckdb.connect()
    attach_lake(con, lake)
    ensure_base_tables(con)
    (after_first,) = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()
    ensure_base_tables(con)  # as every later step's connection does: nothing to write
    assert con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone() == (
        after_first,)
    # the sequence's stand-in numbers the registry's files
    assert con.execute("FROM new_source_file_ids(3) ORDER BY 1").fetchall() == [(1,), (2,), (3,)]
    assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = "
                       "'restatements'").fetchone()[0].startswith("Số liệu")


def new_lake(postgres, tmp_path, database: str) -> duckdb.DuckDBPyConnection:
    """A connection to a new lake with its base tables, catalog in a database of its own."""
    con = duckdb.connect()
    attach_lake(con, Lake(f"postgres:{postgres.create_database(database)}", str(tmp_path)))
    ensure_base_tables(con)
    return con


def test_a_lake_registry_of_bare_sha256_digests_is_named_once(postgres, tmp_path):
    con = new_lake(postgres, tmp_path, "catalog_digests")
    # as a lake made before content hashes said their algorithm holds them
    con.execute("ALTER TABLE meta.source_files RENAME COLUMN content_hash TO content_sha256")
    con.execute("INSERT INTO meta.source_files (file_id, relative_path, kind, content_sha256, "
                "status) VALUES (1, 'dossiers/2022-01-05/a.jsonl', 'dossiers', 'ab12', 'loaded')")

    ensure_base_tables(con)
    ensure_base_tables(con)  # named once

    assert con.execute("SELECT content_hash FROM meta.source_files").fetchall() == [
        ("sha256:ab12",)]


def test_lake_snapshots_loaded_before_dossier_keys_get_theirs_once(postgres, tmp_path):
    con = new_lake(postgres, tmp_path, "catalog_keys")
    # as a lake loaded before snapshots carried their dossier's key holds them
    con.execute("ALTER TABLE raw.dossier_snapshots DROP COLUMN dossier_key")
    con.execute("INSERT INTO raw.dossier_snapshots (file_id, export_date, file_name, line_no, "
                "ma_ho_so, kenh_was_empty, ngay_tiep_nhan) VALUES (1, DATE '2022-01-05', "
                "'a.jsonl', 1, 'H17-1', false, TIMESTAMP '2022-01-05 08:00')")

    ensure_base_tables(con)
    (keyed,) = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()
    ensure_base_tables(con)  # keyed once

    assert con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone() == (keyed,)
    assert con.execute("SELECT dossier_key = md5_number('H17-1') FROM raw.dossier_snapshots"
                       ).fetchall() == [(True,)]


def test_runs_attaching_a_new_lake_at_once_all_attach_it(postgres, tmp_path):
    """Each creates the catalog of a lake that has none; PostgreSQL lets one creation through
    and the others attach the catalog it made (seen in CI: two backfills started together)."""
    lake = Lake(f"postgres:{postgres.create_database('catalog_created_at_once')}", str(tmp_path))
    start = threading.Barrier(4)

    def attach() -> list[tuple]:
        with duckdb.connect() as con:
            load_lake_extensions(con)
            start.wait()
            attach_lake(con, lake)
            return con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()

    with ThreadPoolExecutor(4) as pool:
        attached = [future.result() for future in [pool.submit(attach) for _ in range(4)]]

    assert len(attached) == 4
