"""The DuckLake and PostgreSQL extensions load from their Python packages, without a download."""

import duckdb

from dvctt_pipeline.extensions import extension_files, load_lake_extensions


def test_extensions_load_offline_and_a_lake_attaches(tmp_path):
    con = duckdb.connect()
    load_lake_extensions(con)
    loaded = {name for (name,) in con.execute(
        "SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert {"ducklake", "postgres_scanner"} <= loaded
    # a lake with a local catalog file: the ducklake extension works without PostgreSQL
    con.execute(f"ATTACH 'ducklake:{tmp_path / 'catalog.ducklake'}' AS lake "
                f"(DATA_PATH '{tmp_path / 'files'}')")
    con.execute("CREATE TABLE lake.figures AS SELECT 42 AS answer")
    assert con.execute("SELECT answer FROM lake.figures").fetchall() == [(42,)]
    # the lake keeps its history: the table's creation is a snapshot of its own
    assert con.execute("SELECT count(*) FROM lake.snapshots()").fetchone()[0] >= 2


def test_the_postgres_extension_is_loaded_under_its_entry_points_name():
    names = [path.name for path in extension_files()]
    assert names == ["postgres_scanner.duckdb_extension", "ducklake.duckdb_extension"]
