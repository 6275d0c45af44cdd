"""The landing sensor run by the real Dagster daemon, as an operator runs `make ui`.

On a fresh DAGSTER_HOME the sensor's first tick asks for the months the sample exports hold.
That run fails (a file stands where the warehouse's folder should be; another process holding
the warehouse would fail it too, after 100 s of waiting: tests/operations/test_warehouse_held.py),
and with Dagster's own run retries off, only the sensor can ask again: it must, at its next tick,
and that run must succeed; the ticks after it, with nothing new, must ask for nothing. The
checks' status the UI shows (GraphQL) must be each check's result, not "Skipped". Then a
reference file changes: the next run must reload that reference table, and only it, and
refresh every month with data.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
from operations.servers import Instance, dagster_home, webserver_and_daemon

TICK_SECONDS = 5
WAIT_SECONDS = 900
SAMPLE_MONTHS = ("2022-01-01", "2022-06-01")
# the committed configuration with Dagster's run retries off: a failed run stays failed
NO_RUN_RETRIES = "run_retries:\n  enabled: false\n"

CHECKS = """
query Checks($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks {
      name executionForLatestMaterialization { status runId evaluation { success } }
    } } } }
  }
}
"""


def without_run_retries() -> str:
    committed = (Path(__file__).resolve().parents[2] / "dagster_home" / "dagster.yaml")
    text = committed.read_text()
    start = text.index("run_retries:")
    end = text.index("run_monitoring:")
    return text[:start] + NO_RUN_RETRIES + text[end:]


def sensor_runs(home: Path) -> list[dg.DagsterRun]:
    """The runs the landing sensor launched, oldest first."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/sensor_name": "landing_files"}))
    return list(reversed(runs))  # Dagster lists the newest first


def wait_for(what: str, condition: Callable[[], list[dg.DagsterRun]],
             instance: Instance) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(2)
    pytest.fail(f"waited {WAIT_SECONDS}s for {what}\n{instance.log_tails()}")


def finished(runs: list[dg.DagsterRun], status: dg.DagsterRunStatus) -> list[dg.DagsterRun]:
    return [run for run in runs if run.status == status]


def months_of(run: dg.DagsterRun) -> tuple[str, str]:
    return (run.tags["dagster/asset_partition_range_start"],
            run.tags["dagster/asset_partition_range_end"])


def every_run(home: Path) -> list[dg.RunRecord]:
    """Every run of the instance, whoever launched it, oldest first."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return sorted(instance.get_run_records(), key=lambda record: record.create_timestamp)


def listed(records: list[dg.RunRecord]) -> str:
    return "\n".join(
        f"{record.create_timestamp:%H:%M:%S} {record.dagster_run.run_id} "
        f"{record.dagster_run.status.value} {dict(record.dagster_run.tags)}"
        for record in records)


def step_count(home: Path, run_id: str) -> int:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return sum(1 for event in instance.all_logs(run_id)
                   if event.dagster_event and event.dagster_event.event_type_value == "STEP_START")


def reloaded_in(home: Path, run_id: str) -> dict[str, bool]:
    """Whether each reference table was loaded again by the run (its materialization's
    metadata)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        events = [event.asset_materialization for event in instance.all_logs(run_id)
                  if event.asset_materialization is not None]
    return {event.asset_key.to_user_string(): event.metadata["reloaded"].value
            for event in events if "reloaded" in event.metadata}


def step_failures(home: Path, run_id: str) -> list[str]:
    """What the run's failed steps say, as the run's page shows it."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [event.dagster_event.step_failure_data.user_failure_data.description
                for event in instance.all_logs(run_id)
                if event.dagster_event and event.dagster_event.is_step_failure]


def check_evaluations(home: Path, run_id: str) -> dict[str, bool]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {event.dagster_event.event_specific_data.check_name:
                event.dagster_event.event_specific_data.passed
                for event in instance.all_logs(run_id)
                if event.dagster_event
                and event.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"}


@pytest.mark.slow
def test_the_sensor_asks_again_for_a_failed_runs_months_and_then_for_nothing(
    tmp_path: Path, sample_landing: Path
):
    home = dagster_home(tmp_path, without_run_retries())
    landing, warehouse = tmp_path / "landing", tmp_path / "data" / "warehouse.duckdb"
    shutil.copytree(sample_landing, landing)
    env = {"DVCTT_LANDING_DIR": str(landing), "DVCTT_WAREHOUSE": str(warehouse),
           "DVCTT_REPORTS_DIR": str(tmp_path / "reports"),
           "DVCTT_LANDING_POLL_SECONDS": str(TICK_SECONDS)}
    serving = tmp_path / "serving" / "dvctt.duckdb"
    warehouse.parent.write_text("")  # not a folder: the first run cannot open the warehouse
    with webserver_and_daemon(home, serving, env, tmp_path) as instance:
        failed = wait_for("a failed sensor run", lambda: finished(
            sensor_runs(home), dg.DagsterRunStatus.FAILURE), instance)
        assert months_of(failed[0]) == SAMPLE_MONTHS
        said = step_failures(home, failed[0].run_id)
        assert said and all(f"{warehouse.parent}, or a folder above it, is a file" in text
                            for text in said), said
        warehouse.parent.unlink()

        succeeded = wait_for("a successful sensor run", lambda: finished(
            sensor_runs(home), dg.DagsterRunStatus.SUCCESS), instance)
        assert months_of(succeeded[0]) == SAMPLE_MONTHS
        assert step_count(home, succeeded[0].run_id) <= 10

        # nothing new: two more ticks, no more runs (of any kind: the UI below shows the
        # latest run's checks)
        time.sleep(3 * TICK_SECONDS)
        runs = every_run(home)
        assert runs[-1].dagster_run.run_id == succeeded[0].run_id, (
            f"runs after the successful one:\n{listed(runs)}\n{instance.log_tails()}")

        # the UI shows each check's result
        evaluations = check_evaluations(home, succeeded[0].run_id)
        assert evaluations
        shown = {}
        for path in (["staging", "dossiers"], ["raw", "report_rows"]):
            node = instance.graphql(CHECKS, {"path": path})["assetNodeOrError"]
            for check in node["assetChecksOrError"]["checks"]:
                shown[check["name"]] = check["executionForLatestMaterialization"]
        for name, passed in evaluations.items():
            assert shown[name]["runId"] == succeeded[0].run_id, name
            assert shown[name]["status"] == ("SUCCEEDED" if passed else "FAILED"), name
            assert shown[name]["evaluation"]["success"] is passed, name

        # a corrected targets file: the targets reload, every month with data is refreshed
        targets = sorted((landing / "targets").glob("*.csv"))[0]
        targets.write_text(targets.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        refreshed = wait_for("the run after the reference change", lambda: finished(
            sensor_runs(home), dg.DagsterRunStatus.SUCCESS)[1:], instance)
        assert months_of(refreshed[0]) == SAMPLE_MONTHS
        reloaded = reloaded_in(home, refreshed[0].run_id)
        assert reloaded["core/targets"] is True
        assert reloaded["core/agencies"] is False
        assert reloaded["core/provinces"] is False
