"""Backfills launched the way the Dagster UI launches them, against the real webserver and
daemon, while a BI tool holds the serving file open.

Two backfills of the whole graph are launched at once, January–June and May–June 2022, on a
fresh warehouse. Each must run its months as a single run (the reference tables and the
ingest, which are not monthly, run once before in a run of their own), both must succeed,
their steps must take turns on the warehouse (the pool of size 1 in dagster.yaml), and a
reader that keeps a read-only connection to the serving file and queries it in a loop must
never see an error nor a mix of versions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from operations.servers import Instance, webserver_and_daemon

from dvctt_pipeline.serve.publish import parquet_dir, publish_serving_file

BACKFILL_SECONDS = 900
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

READER = """
import duckdb, json, sys, time, pathlib
serving, stop, report = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
answers, errors = [], []
con = duckdb.connect(serving, read_only=True)
deadline = time.monotonic() + 1200
while not stop.exists() and time.monotonic() < deadline:
    try:
        answers.append(con.execute(
            "SELECT count(*), sum(received) FROM marts.national_period_rates").fetchone())
    except Exception as error:
        errors.append(repr(error))
    time.sleep(0.05)
report.write_text(json.dumps({"answers": answers, "errors": errors}))
"""

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on UnauthorizedError { message }
  }
}
"""

BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}
"""


def previous_version(serving: Path) -> None:
    """The serving file as an earlier run left it: December 2021 only."""
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.national_period_rates AS SELECT 'month' AS period_type, "
                    "DATE '2021-12-01' AS period_start, 1234 AS received")
        publish_serving_file(con, serving)


@pytest.fixture
def instance(tmp_path: Path, sample_landing: Path, dagster_home: Path) -> Iterator[Instance]:
    home = dagster_home
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing, landing)
    serving = tmp_path / "serving" / "dvctt.duckdb"
    previous_version(serving)
    env = {"DVCTT_LANDING_DIR": str(landing), "DVCTT_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    with webserver_and_daemon(home, serving, env, tmp_path) as running:
        yield running


@dataclass
class BiReader:
    """Another process holding a read-only connection to the serving file, querying it."""

    process: subprocess.Popen
    stop_file: Path
    report: Path

    def finish(self) -> dict[str, list]:
        self.stop_file.touch()
        self.process.wait(timeout=60)
        return json.loads(self.report.read_text())


@pytest.fixture
def bi_reader(instance: Instance, tmp_path: Path) -> Iterator[BiReader]:
    stop_file, report = tmp_path / "stop-reading", tmp_path / "reader.json"
    reader = BiReader(
        subprocess.Popen([sys.executable, "-c", READER, str(instance.serving), str(stop_file),
                          str(report)]),
        stop_file, report,
    )
    yield reader
    if reader.process.poll() is None:
        reader.finish()


def launch_backfill(instance: Instance, first: str, last: str) -> str:
    """What the UI sends from asset graph → select all → Materialize → a range of months:
    the materializable assets (the landing exports are a source, observed, not materialized)."""
    nodes = instance.graphql(
        "{ assetNodes { assetKey { path } isMaterializable } }")["assetNodes"]
    selection = [node["assetKey"] for node in nodes if node["isMaterializable"]]
    months = [f"2022-{month:02d}-01" for month in range(int(first[5:]), int(last[5:]) + 1)]
    result = instance.graphql(LAUNCH_BACKFILL, {"params": {
        "assetSelection": selection, "partitionNames": months,
        "fromFailure": False,
    }})["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


def wait_for_backfills(instance: Instance, backfill_ids: list[str]) -> dict[str, dict]:
    deadline = time.monotonic() + BACKFILL_SECONDS
    while time.monotonic() < deadline:
        states = {b: instance.graphql(BACKFILL_STATUS, {"id": b}) for b in backfill_ids}
        if all(s["partitionBackfillOrError"]["status"] in DONE for s in states.values()):
            return states
        time.sleep(3)
    pytest.fail(f"backfills still running after {BACKFILL_SECONDS}s\n{instance.log_tails()}")


def step_intervals(home: Path, run_ids: list[str]) -> list[tuple[float, float, str]]:
    """(start, end, step) of every step of the runs, from the instance's event log."""
    intervals = []
    with dg.DagsterInstance.from_config(str(home)) as dagster_instance:
        for run_id in run_ids:
            started = {}
            for event in dagster_instance.all_logs(run_id):
                kind = event.dagster_event.event_type_value if event.dagster_event else None
                if kind == "STEP_START":
                    started[event.step_key] = event.timestamp
                elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                    intervals.append((started[event.step_key], event.timestamp,
                                      f"{run_id[:8]}:{event.step_key}"))
    return sorted(intervals)


def range_of(run: dict) -> tuple[str, str] | None:
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    if "dagster/asset_partition_range_start" not in tags:
        return None
    return tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]


@pytest.mark.slow
def test_two_backfills_from_the_ui_succeed_while_bi_holds_the_serving_file(
    instance: Instance, bi_reader: BiReader
):
    # the bundled instance opens on the pipeline, without Dagster's newcomer dialog
    assert instance.graphql("{ shouldShowNux }")["shouldShowNux"] is False

    backfills = {
        # everything for half a year, and an analyst re-running May–June's marts meanwhile
        launch_backfill(instance, "2022-01", "2022-06"): ("2022-01-01", "2022-06-01"),
        launch_backfill(instance, "2022-05", "2022-06"): ("2022-05-01", "2022-06-01"),
    }
    states = wait_for_backfills(instance, list(backfills))

    run_ids = []
    for backfill_id, month_range in backfills.items():
        state = states[backfill_id]
        runs = state["runsOrError"]["results"]
        assert state["partitionBackfillOrError"]["status"] == "COMPLETED_SUCCESS", (
            state, instance.log_tails())
        assert all(run["status"] == "SUCCESS" for run in runs), runs
        ranges = [range_of(run) for run in runs]
        # single-run backfill policy: the months are never split into runs; every partitioned
        # run covers the whole range, after the run of the reference tables and the ingest,
        # which are not partitioned. Dagster may defer the models that read a reference table
        # the other backfill's run was writing meanwhile into a second run over the same range.
        assert None in ranges and set(ranges) == {month_range, None}, ranges
        run_ids.extend(run["runId"] for run in runs)

    # the pool of size 1: no two steps of the two runs ever held the warehouse together
    intervals = step_intervals(instance.home, run_ids)
    overlapping = [(a[2], b[2]) for a, b in pairwise(intervals) if b[0] < a[1]]
    assert overlapping == []

    with duckdb.connect(str(instance.serving), read_only=True) as con:
        months = con.execute(
            "SELECT strftime(period_start, '%Y-%m'), received FROM marts.national_period_rates "
            "WHERE period_type = 'month' ORDER BY period_start"
        ).fetchall()
        (year_to_june,) = con.execute(
            "SELECT received FROM marts.national_period_rates "
            "WHERE period_type = 'ytd' AND period_end = DATE '2022-06-30'"
        ).fetchone()
    assert [month for month, _ in months] == [f"2022-{m:02d}" for m in range(1, 7)]
    assert all(received > 0 for _, received in months)
    assert year_to_june == sum(received for _, received in months)
    parquet = parquet_dir(instance.serving) / "national_period_rates.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM '{parquet}' WHERE period_type = 'month' "
                      "AND period_start >= DATE '2022-01-01'").fetchone() == (6,)

    # the BI tool held the previous version the whole time: every query answered, always
    # with the same complete old figures (it sees the new ones when it reconnects)
    read = bi_reader.finish()
    assert read["errors"] == []
    assert len(read["answers"]) > 100
    assert {tuple(answer) for answer in read["answers"]} == {(1, 1234)}
