"""The warehouse on DuckLake (catalog in a real PostgreSQL, tables as Parquet files): the same
assets, models and checks give the same marts as the embedded DuckDB file."""

from __future__ import annotations

import duckdb
import pytest
from lake.lake_runs import lake_environment, marts_content, start_materialize
from operations import servers

from dvctt_pipeline.settings import Lake
from dvctt_pipeline.warehouse import connect_to_publication

RUN_SECONDS = 900


@pytest.mark.slow
def test_materialize_on_ducklake_gives_the_marts_of_the_embedded_file(
    postgres, sample_run, tmp_path
):
    lake = Lake(f"postgres:{postgres.create_database('lake_same_marts')}",
                str(tmp_path / "lake_files"))
    env = lake_environment(lake, sample_run.folders.landing, tmp_path,
                           servers.dagster_home(tmp_path))
    log = tmp_path / "materialize.log"
    run = start_materialize(env, "2022-01", "2022-04", log)
    assert run.wait(timeout=RUN_SECONDS) == 0, log.read_text()[-4000:]
    assert "published in the DuckLake" in log.read_text()

    with duckdb.connect(str(sample_run.folders.warehouse), read_only=True) as con:
        embedded = marts_content(con)
    with connect_to_publication(lake) as con:
        on_the_lake = marts_content(con)
    assert sorted(on_the_lake) == sorted(embedded)
    for table, rows in embedded.items():
        assert len(on_the_lake[table]) == len(rows), table
        assert on_the_lake[table] == rows, table
    assert len(embedded["province_rankings"]) > 1000
    # the lake is what BI reads: no serving copy, and the tables are Parquet files
    assert not (tmp_path / "serving").exists()
    assert list((tmp_path / "lake_files").rglob("*.parquet"))
