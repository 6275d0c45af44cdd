"""A run with nothing new, as the daily schedule or an operator repeats it: `dvctt materialize`
in a new process on a persistent DAGSTER_HOME, twice over the same month and the same landing
folder. The second run succeeds, computes no SQL model again (their inputs did not change),
and leaves the published files alone — the serving file and
its Parquet copies keep their inode and modification time, so a BI tool holding them is not
disturbed — and the month's report is not drawn again; Dagster records why (its Events tab),
and every check still shows a passing result."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType

from dvctt_pipeline.defs.checks import QUALITY_CHECK_SPECS

MONTH = "2022-03"
RUN_TIMEOUT_SECONDS = 1200


def dvctt_materialize(env: dict[str, str]) -> None:
    run = subprocess.run(
        [str(Path(sys.executable).parent / "dvctt"), "materialize", "--from", MONTH,
         "--to", MONTH], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    assert run.returncode == 0, run.stderr[-3000:]


def file_stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, modification time) of every file under the folder: a file replaced by a new
    one, or written again, changes them."""
    return {str(path.relative_to(folder)): (path.stat().st_ino, path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def served_figures(serving: Path) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(
            "SELECT * FROM marts.national_period_rates ORDER BY ALL").fetchall()


def latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, object]:
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    return {name: value.value for name, value in event.asset_materialization.metadata.items()}


def recomputed_models(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """The SQL models whose rows the run computed again (the others it recorded again)."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    materializations = [record.asset_materialization for record in records]
    return {m.asset_key.to_user_string() for m in materializations
            if m and "recomputed" in m.metadata and m.metadata["recomputed"].value}


def check_results(instance: dg.DagsterInstance, run_id: str) -> dict[str, bool]:
    """Whether each check the run evaluated passed."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = [record.event_log_entry.dagster_event.asset_check_evaluation_data
                   for record in records]
    return {evaluation.check_name: evaluation.passed for evaluation in evaluations}


@pytest.mark.slow
def test_a_second_run_with_nothing_new_rewrites_no_published_file(
    tmp_path: Path, sample_landing: Path, dagster_home: Path
) -> None:
    landing, serving = tmp_path / "landing", tmp_path / "serving" / "dvctt.duckdb"
    reports = tmp_path / "reports"
    shutil.copytree(sample_landing, landing)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "DVCTT_LANDING_DIR": str(landing),
           "DVCTT_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
           "DVCTT_SERVING": str(serving), "DVCTT_REPORTS_DIR": str(reports)}
    dvctt_materialize(env)
    published, drawn = file_stamps(serving.parent), file_stamps(reports)
    figures = served_figures(serving)
    assert any(name.startswith("parquet/") for name in published) and drawn

    dvctt_materialize(env)

    assert file_stamps(serving.parent) == published
    assert file_stamps(reports) == drawn
    assert served_figures(serving) == figures
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert instance.get_run_records(limit=1)[0].dagster_run.status == (
            dg.DagsterRunStatus.SUCCESS)
        assert latest_metadata(instance, dg.AssetKey("serving_file"))["rewritten"] is False
        assert latest_metadata(instance, dg.AssetKey("monthly_report"))["redrawn"] is False
        runs = [record.dagster_run.run_id for record in instance.get_run_records(limit=2)]
        first, second = (check_results(instance, run_id) for run_id in reversed(runs))
        # the models' inputs did not change: none is computed again, but the data-quality
        # mart, which reads the log the checks append to at every run
        assert "marts/agency_rankings" in recomputed_models(instance, runs[1])
        assert recomputed_models(instance, runs[0]) == {"marts/data_quality"}
    # every check shows a result of the second run, the one it had after the first
    assert len(second) == len(QUALITY_CHECK_SPECS)
    assert second == first
