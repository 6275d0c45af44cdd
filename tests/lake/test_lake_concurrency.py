"""Two backfills of different months at the same time on a DuckLake, with the Dagster
instance on PostgreSQL (dagster_home_postgres/): both succeed, a reader attached meanwhile
only ever sees complete publications, and the runs are in PostgreSQL's run storage."""

from __future__ import annotations

import shutil
import time

import dagster as dg
import psycopg2
import pytest
from lake.lake_runs import lake_environment, start_materialize
from operations import servers
from postgres_server import PORT

from dvctt_pipeline.sample.generator import generate_landing
from dvctt_pipeline.settings import Lake
from dvctt_pipeline.warehouse import NoPublication, connect_to_publication

RUN_SECONDS = 600
RATE_TABLES = ("national_period_rates", "province_period_rates", "agency_period_rates")


def published_periods(lake: Lake) -> list[set[tuple]] | None:
    """The periods each rate table holds in the latest publication, as a reader sees them."""
    try:
        con = connect_to_publication(lake)
    except NoPublication:
        return None
    with con:
        return [
            set(con.execute(f"SELECT DISTINCT period_type, period_start, period_end "
                            f"FROM marts.{table}").fetchall())
            for table in RATE_TABLES
        ]


@pytest.mark.slow
def test_two_backfills_at_once_on_ducklake_both_succeed(postgres, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    generate_landing(landing, "2022-01", "2022-02", scale=0.03, seed=7)
    lake = Lake(f"postgres:{postgres.create_database('lake_two_runs')}", str(tmp_path / "lake"))
    runs_db = postgres.create_database("dagster_runs")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(servers.REPO / "dagster_home_postgres" / "dagster.yaml", home)
    url = (f"postgresql+psycopg2://postgres@/dagster_runs?host={postgres.socket_dir}"
           f"&port={PORT}")
    monkeypatch.setenv("DAGSTER_PG_URL", url)
    dg.DagsterInstance.from_config(str(home)).dispose()  # the schema, before two runs race
    env = {**lake_environment(lake, landing, tmp_path, home), "DAGSTER_PG_URL": url}

    logs = [tmp_path / "january.log", tmp_path / "february.log"]
    runs = [start_materialize(env, "2022-01", "2022-01", logs[0]),
            start_materialize(env, "2022-02", "2022-02", logs[1])]
    seen: list[list[set[tuple]]] = []
    deadline = time.monotonic() + RUN_SECONDS
    try:
        while any(run.poll() is None for run in runs):
            if time.monotonic() > deadline:
                pytest.fail("the two runs did not end in time")
            if published := published_periods(lake):
                seen.append(published)
            time.sleep(5)  # each look loads the extensions: a few a run suffice
    finally:
        for run in runs:
            servers.stop(run)
    for run, log in zip(runs, logs, strict=True):
        assert run.returncode == 0, log.read_text()[-4000:]

    # every publication a reader saw during the runs was whole: the rate tables agree
    seen.append(published_periods(lake))
    for periods in seen:
        assert periods[0] and periods[0] == periods[1] == periods[2], periods
    months = sorted(start for kind, start, _ in seen[-1][0] if kind == "month")
    assert [f"{month:%Y-%m}" for month in months] == ["2022-01", "2022-02"]

    # the runs are in PostgreSQL, where the UI lists them from; and they overlapped
    with psycopg2.connect(runs_db) as pg, pg.cursor() as cursor:
        cursor.execute("SELECT status, start_time, end_time FROM runs")
        rows = cursor.fetchall()
    assert [status for status, *_ in rows] == ["SUCCESS", "SUCCESS"]
    assert max(start for _, start, _ in rows) < min(end for *_, end in rows)
