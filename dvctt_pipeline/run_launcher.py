"""The instance's run launcher: Dagster's default one, plus a health check of the run worker.

The default run launcher starts each run in a worker process of the code server and cannot
tell when that process died (killed, out of memory): the run would stay STARTED and keep its
slot of the warehouse pool until run monitoring's `max_runtime_seconds`. The worker reports
its pid when it starts (the engine event "Started process for run (pid: …)"), so with the
instance's storage on this machine (SQLite under DAGSTER_HOME) a dead worker is one whose
process is gone. Run monitoring (the daemon) and `dvctt materialize` both ask this check.

Before a run is launched, the definitions' pools get their rows (initialize_pools): on
PostgreSQL, Dagster fails a run that claims a new pool at the same moment as another.

A run's events are in a SQLite file of their own, which its worker locks while it writes one.
A worker frozen in that moment (stopped, or waiting on a stalled disk) keeps the lock, and
Dagster's reads of the file wait out SQLite's busy timeout (30 s, ten times over when the
file is new to the process) before failing with "database is locked". SQLite's locks are
POSIX locks, released when their process ends: a locked file means a live writer. So the
check first tries the file without waiting, and reports a locked one's run alive.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass

import dagster as dg
import psutil
import sqlalchemy.exc
from dagster._core.events import DagsterEventType
from dagster._core.launcher import (
    CheckRunHealthResult,
    DefaultRunLauncher,
    LaunchRunContext,
    WorkerStatus,
)
from dagster._core.storage.event_log import SqliteEventLogStorage

from dvctt_pipeline.defs.partitions import MONTHS_POOL, WAREHOUSE_POOL

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


def event_log_is_locked(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether another process holds the lock of the run's SQLite event log right now."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        return False
    try:
        # mode=rw: a run without events yet has no file, and none is created here
        uri = f"file:{storage.path_for_shard(run_id)}?mode=rw"
        with closing(sqlite3.connect(uri, uri=True, timeout=0)) as events:
            events.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as error:
        return is_locked(error)
    return False


def is_locked(error: Exception) -> bool:
    """SQLite's answer when another connection holds the lock past the busy timeout."""
    return "database is locked" in str(error)


def initialize_pools(instance: dg.DagsterInstance) -> None:
    """Give the definitions' pools their rows (Dagster's default limit) before a run claims
    them. Two runs starting together on a new PostgreSQL instance both insert a pool's row
    when their first step claims it: Dagster catches the second one's unique violation, then
    updates the row in the transaction that error aborted, and that run fails ("the run
    itself"). Made here, a race lost to another launch leaves the row there, which is all
    that is needed."""
    storage = instance.event_log_storage
    for pool in sorted({WAREHOUSE_POOL, MONTHS_POOL} - storage.get_concurrency_keys()):
        try:
            storage.initialize_concurrency_limit_to_default(pool)
        except sqlalchemy.exc.DBAPIError:
            if pool not in storage.get_concurrency_keys():
                raise


class WatchedRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose runs run monitoring can check: alive while the worker is."""

    def launch_run(self, context: LaunchRunContext) -> None:
        initialize_pools(self._instance)
        super().launch_run(context)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        if event_log_is_locked(self._instance, run.run_id):
            return CheckRunHealthResult(
                WorkerStatus.RUNNING, "its event log is locked by a live process"
            )
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
