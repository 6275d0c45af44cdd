"""A DuckLake whose catalog is a real PostgreSQL server (the throw-away one of the tests)."""

import duckdb
import psycopg2

from dvctt_pipeline.extensions import load_lake_extensions


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
