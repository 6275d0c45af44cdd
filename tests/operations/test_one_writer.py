"""DuckDB has one writer: every step that opens the warehouse waits for the one slot of the
pool, in the instance configuration `make ui` uses, and runs execute their steps in turn."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from dvctt_pipeline.definitions import defs
from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME
from dvctt_pipeline.defs.partitions import WAREHOUSE_POOL

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def committed_instance(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text((REPO / "dagster_home" / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def warehouse_steps(job: dg.JobDefinition) -> list[dg.OpDefinition]:
    return [op for op in job.graph.iterate_op_defs() if "warehouse" in op.required_resource_keys]


@pytest.mark.parametrize("job_name", [REFRESH_JOB_NAME, "__ASSET_JOB"])
def test_every_asset_and_check_that_opens_the_warehouse_is_in_the_pool(job_name):
    # __ASSET_JOB is what a backfill launched from the UI runs
    job = defs().resolve_job_def(job_name)
    steps = warehouse_steps(job)
    assert {"reference_tables", "dossier_snapshots", "report_rows", "sql_models",
            "publication"} <= {op.name for op in steps}
    assert {op.name: op.pool for op in steps} == {op.name: WAREHOUSE_POOL for op in steps}
    assert job.executor_def.name == "in_process"


def test_the_committed_instance_gives_the_pool_one_slot_and_retries_runs(committed_instance):
    pools = committed_instance.get_concurrency_config().pool_config
    assert pools.default_pool_limit == 1
    assert pools.pool_granularity.value == "op"
    assert committed_instance.run_retries_enabled
    assert committed_instance.run_retries_max_retries >= 1
    # a dead run must not keep its slot for ever
    assert committed_instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
