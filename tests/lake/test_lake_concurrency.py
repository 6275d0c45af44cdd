"""Two backfills of different months at the same time on a DuckLake, with the Dagster
instance on PostgreSQL (dagster_home_postgres/): both succeed, a reader attached meanwhile
only ever sees complete publications, and the Dagster UI lists the runs from PostgreSQL.

The two runs are made once, by two `dvctt materialize` in new processes, for every test of
this module."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import sqlalchemy.exc
from lake.lake_runs import lake_environment, start_materialize
from operations import browser, servers
from postgres_server import PORT, PostgresServer

from dvctt_pipeline.defs.partitions import WAREHOUSE_POOL
from dvctt_pipeline.run_launcher import initialize_pools
from dvctt_pipeline.sample.generator import generate_landing
from dvctt_pipeline.settings import Lake
from dvctt_pipeline.warehouse import NoPublication, connect_to_publication

pytestmark = pytest.mark.slow

RUN_SECONDS = 600
RATE_TABLES = ("national_period_rates", "province_period_rates", "agency_period_rates")
RUNS_PAGE = Path(__file__).with_name("runs_page.js")
RUNS = "{ runsOrError { ... on Runs { results { runId status jobName } } } }"


@dataclass(frozen=True)
class TwoRuns:
    lake: Lake
    home: Path
    env: dict[str, str]  # the runs' environment, DAGSTER_PG_URL included
    runs_db: str  # libpq connection string of the instance's database
    root: Path
    seen: list[list[set[tuple]]]  # what a reader saw of the lake during the runs, in order

    def runs_in_postgres(self) -> list[tuple]:
        """(run_id, status, start_time, end_time) of every run in PostgreSQL's run storage."""
        with psycopg2.connect(self.runs_db) as pg, pg.cursor() as cursor:
            cursor.execute("SELECT run_id, status, start_time, end_time FROM runs")
            return cursor.fetchall()


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


def postgres_instance(postgres: PostgresServer, root: Path, database: str = "dagster_runs"
                      ) -> tuple[Path, str, str]:
    """A DAGSTER_HOME with the committed dagster_home_postgres/dagster.yaml on a new database,
    its schema created once before two runs race to: (home, SQLAlchemy URL, libpq string)."""
    runs_db = postgres.create_database(database)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(servers.REPO / "dagster_home_postgres" / "dagster.yaml", home)
    url = (f"postgresql+psycopg2://postgres@/{database}?host={postgres.socket_dir}"
           f"&port={PORT}")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_PG_URL", url)
        dg.DagsterInstance.from_config(str(home)).dispose()
    return home, url, runs_db


@pytest.fixture(scope="module")
def two_runs(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    root = tmp_path_factory.mktemp("two_runs")
    landing = root / "landing"
    generate_landing(landing, "2022-01", "2022-02", scale=0.03, seed=7)
    lake = Lake(f"postgres:{postgres.create_database('lake_two_runs')}", str(root / "lake"))
    home, url, runs_db = postgres_instance(postgres, root)
    env = {**lake_environment(lake, landing, root, home), "DAGSTER_PG_URL": url}

    logs = [root / "january.log", root / "february.log"]
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
    seen.append(published_periods(lake))
    return TwoRuns(lake, home, env, runs_db, root, seen)


def test_two_backfills_at_once_on_ducklake_both_succeed(two_runs: TwoRuns):
    # every publication a reader saw during the runs was whole: the rate tables agree
    for periods in two_runs.seen:
        assert periods[0] and periods[0] == periods[1] == periods[2], periods
    months = sorted(start for kind, start, _ in two_runs.seen[-1][0] if kind == "month")
    assert [f"{month:%Y-%m}" for month in months] == ["2022-01", "2022-02"]

    # the runs are in PostgreSQL's run storage, and they overlapped
    rows = two_runs.runs_in_postgres()
    assert [status for _, status, *_ in rows] == ["SUCCESS", "SUCCESS"]
    assert max(start for _, _, start, _ in rows) < min(end for *_, end in rows)


@pytest.mark.skipif(browser.missing_system_packages() is not None,
                    reason=browser.missing_system_packages() or "")
def test_the_dagster_ui_lists_the_runs_from_postgresql(two_runs: TwoRuns):
    in_postgres = {run_id: status for run_id, status, *_ in two_runs.runs_in_postgres()}
    serving = two_runs.root / "serving" / "dvctt.duckdb"  # a lake has none; the UI needs a path
    with servers.webserver_and_daemon(two_runs.home, serving, two_runs.env, two_runs.root,
                                      daemon=False) as ui:
        info = ui.graphql("{ instance { info } }")["instance"]["info"]
        listed = ui.graphql(RUNS)["runsOrError"]["results"]
        seen = json.loads(browser.run_driver(RUNS_PAGE, ui.url, str(two_runs.root / "runs.png")))

    # the webserver's instance keeps its runs in PostgreSQL, and nothing on local files
    assert "PostgresRunStorage" in info and "PostgresEventLogStorage" in info, info
    assert not [path.name for path in two_runs.home.rglob("*.db")]
    # its run list is PostgreSQL's table, run for run, with each run's status
    assert {run["runId"]: run["status"] for run in listed} == in_postgres
    assert {run["jobName"] for run in listed} == {"refresh_months"}
    # and the Runs page shows both, each linked to its own page, with its status
    shown = {row["run"] for row in seen["rows"]}
    assert shown == set(in_postgres), seen["rows"]
    for row in seen["rows"]:
        assert row["run"][:8] in row["text"] and "Success" in row["text"], row
        assert "refresh_months" in row["text"], row
    assert {f"/runs/{run_id}" for run_id in in_postgres} <= {row["href"] for row in seen["rows"]}


def test_a_pool_another_launch_makes_meanwhile_does_not_fail_this_one(
        postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two launches on a new PostgreSQL instance: the other one gives the warehouse pool its
    row between this one's look and its insert. Dagster's own insert then fails (it updates
    the row in the transaction its unique violation aborted: a run starting with it failed
    as "the run itself"); the launch goes on, and the pool has its one slot."""
    home, url, _ = postgres_instance(postgres, tmp_path, "dagster_pools")
    monkeypatch.setenv("DAGSTER_PG_URL", url)
    with (dg.DagsterInstance.from_config(str(home)) as this,
          dg.DagsterInstance.from_config(str(home)) as other):
        storage = this.event_log_storage
        looks = [storage.get_concurrency_keys()]  # this launch looks first: no pool yet
        other.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        with pytest.raises(sqlalchemy.exc.DBAPIError):
            storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        keys = storage.get_concurrency_keys
        monkeypatch.setattr(storage, "get_concurrency_keys",
                            lambda: looks.pop() if looks else keys())

        initialize_pools(this)

        assert not looks
        assert storage.get_concurrency_info(WAREHOUSE_POOL).slot_count == 1
