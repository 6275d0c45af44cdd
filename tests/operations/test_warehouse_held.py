"""The warehouse open in another process, as an analyst's DuckDB shell holds it: `dvctt
materialize` in a new process on a persistent DAGSTER_HOME waits for it (here 2 s,
DVCTT_WAREHOUSE_WAIT_SECONDS), then fails, each failed step naming the process that holds the
warehouse and what to do; only the run's first step waits. Once the warehouse is closed, the
same command succeeds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from operations.commands import dvctt_materialize

MONTH = "2022-01"
WAIT_SECONDS = 2
WAIT = {"DVCTT_WAREHOUSE_WAIT_SECONDS": str(WAIT_SECONDS)}
# an analyst's session on the warehouse: it opens the file for writing, as DuckDB's shell does
HOLDER = ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('open', "
          "flush=True); time.sleep(600)")


def one_month_landing(sample_landing: Path, landing: Path) -> None:
    shutil.copytree(sample_landing, landing)
    shutil.rmtree(landing / "reports", ignore_errors=True)
    for folder in (landing / "dossiers").iterdir():
        if not folder.name.startswith(MONTH):
            shutil.rmtree(folder)


@pytest.mark.slow
def test_a_held_warehouse_fails_the_run_naming_its_holder_and_the_next_run_succeeds(
    tmp_path: Path, sample_landing: Path
):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    one_month_landing(sample_landing, landing)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        run = dvctt_materialize(tmp_path, landing, MONTH, MONTH, **WAIT)
    finally:
        holder.kill()
        holder.wait()

    said = run.stdout + run.stderr
    assert run.returncode == 1, said[-3000:]
    failures = [line for line in said.splitlines()
                if f"The warehouse {warehouse} is open in another process" in line
                and line.lstrip().split(":", 1)[0] in
                {"dossier_snapshots", "reference_tables", "report_rows"}]
    assert len(failures) == 3, said[-3000:]
    assert all(f"(PID {holder.pid})" in line and "Close the warehouse there" in line
               and "DVCTT_WAREHOUSE_WAIT_SECONDS" in line for line in failures), failures
    assert sum(f"(waited {WAIT_SECONDS} s)" in line for line in failures) == 1, failures
    assert sum(f"an earlier step of this run waited {WAIT_SECONDS} s for it" in line
               for line in failures) == 2, failures

    again = dvctt_materialize(tmp_path, landing, MONTH, MONTH, **WAIT)
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
