"""The instance's run launcher: Dagster's default one, plus a health check of the run worker.

The default run launcher starts each run in a worker process of the code server and cannot
tell when that process died (killed, out of memory): the run would stay STARTED and keep its
slot of the warehouse pool until run monitoring's `max_runtime_seconds`. The worker reports
its pid when it starts (the engine event "Started process for run (pid: …)"), so with the
instance's storage on this machine (SQLite under DAGSTER_HOME) a dead worker is one whose
process is gone. Run monitoring (the daemon) and `dvctt materialize` both ask this check.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import psutil
from dagster._core.events import DagsterEventType
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

# the worker reports its pid after it started: a process created later is another one
PID_REUSE_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class Worker:
    pid: int
    reported_at: float  # when the worker reported its pid (epoch seconds)

    def is_alive(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return (process.status() != psutil.STATUS_ZOMBIE
                    and process.create_time() <= self.reported_at + PID_REUSE_SLACK_SECONDS)
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:  # another user's process by that pid: not our worker
            return False


def run_worker(instance: dg.DagsterInstance, run_id: str) -> Worker | None:
    """The last worker process that reported itself for the run (a resumed run has several)."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ENGINE_EVENT, ascending=False
    ).records
    for record in records:
        data = record.event_log_entry.dagster_event.engine_event_data  # type: ignore[union-attr]
        if data and "pid" in data.metadata:
            return Worker(int(data.metadata["pid"].value), record.event_log_entry.timestamp)
    return None


class WatchedRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose runs run monitoring can check: alive while the worker is."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        worker = run_worker(self._instance, run.run_id)
        if worker is None:
            # not started by a worker yet, or executed in-process by another program: the
            # start timeout and the maximum run time of run monitoring still apply
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker reported yet")
        if worker.is_alive():
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"its run worker process (pid {worker.pid}) is gone"
        )
