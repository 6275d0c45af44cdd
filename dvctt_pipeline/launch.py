"""`dvctt materialize` on a persistent Dagster instance: a run of the workspace's code location.

The run is created from the job as the code location of workspace.yaml serves it (the origin
the UI, the schedule and `dagster job launch -w workspace.yaml` give their runs) and launched
through the instance's run launcher, so it is on the UI's timeline, tied to its job,
re-executable from the UI and watched by the daemon's run monitoring. The launch does not go
through the run queue: the queue needs the daemon, and `make demo` runs without one. The
command then follows the run until it ends; the run worker prints the assets' messages to
the same terminal.

Before launching, runs of the instance whose worker process is gone are marked failed and
their slots of the warehouse pool given back: a killed run would otherwise hold its slot and
block every later run. Ctrl-C or SIGTERM cancels the run (a step cut short rolls back its
transaction; the serving file is only ever replaced whole).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

import dagster as dg
import sqlalchemy.exc
from dagster._cli.job import _create_run
from dagster._core.events import DagsterEvent, DagsterEventType, JobFailureData, RunFailureReason
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from dagster._core.workspace.context import WorkspaceProcessContext, WorkspaceRequestContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME
from dvctt_pipeline.defs.partitions import WAREHOUSE_POOL
from dvctt_pipeline.run_launcher import run_worker

WORKSPACE = Path(__file__).resolve().parent.parent / "workspace.yaml"
CODE_LOCATION = "dvctt_pipeline"  # the location_name in workspace.yaml
POLL_SECONDS = 0.5
HEALTH_CHECK_SECONDS = 5.0
# how long a run may take to stop after Ctrl-C/SIGTERM before its worker is killed: a step
# notices the cancellation when it returns from DuckDB
STOP_GRACE_SECONDS = 5.0
# tries at creating the run while the instance's SQLite storage is locked by another writer
LOCKED_STORAGE_ATTEMPTS = 5


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: dg.DagsterRunStatus
    failures: list[str]  # each failed step with what it said
    stopped_by: int | None = None  # the signal that stopped the command

    @property
    def success(self) -> bool:
        return self.status == dg.DagsterRunStatus.SUCCESS


def short(run_id: str) -> str:
    return run_id[:8]


def give_back_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs whose worker process is gone, give back their pool slots (and the
    slots finished runs still hold); one message per run, naming it."""
    launcher = instance.run_launcher
    if not launcher.supports_check_run_worker_health:
        return []
    messages = []
    for record in instance.get_run_records(RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES)):
        run = record.dagster_run
        health = launcher.check_run_worker_health(run)
        if health.status != WorkerStatus.FAILED:
            continue
        instance.report_run_failed(
            run, f"Marked failed by dvctt: {health.msg}.",
            JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION),
        )
        give_back_slots(instance, run.run_id)
        started = datetime.fromtimestamp(record.start_time or record.create_timestamp.timestamp())
        messages.append(
            f"Run {run.run_id} ({describe_range(run.tags)}, started {started:%Y-%m-%d %H:%M}) "
            f"was still marked {run.status.value} but {health.msg}: marked it failed and gave "
            f"back its slots of the {WAREHOUSE_POOL} pool."
        )
    for run_id in instance.event_log_storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            give_back_slots(instance, run_id)
    return messages


def describe_range(tags: Mapping[str, str]) -> str:
    start = tags.get(ASSET_PARTITION_RANGE_START_TAG, "?")[:7]
    end = tags.get(ASSET_PARTITION_RANGE_END_TAG, "?")[:7]
    return f"months {start} … {end}"


def create_and_launch(
    instance: dg.DagsterInstance, workspace: WorkspaceRequestContext,
    tags: Mapping[str, str], run_config: Mapping[str, object],
) -> dg.DagsterRun:
    """What `dagster job launch -w workspace.yaml` does, without the run queue."""
    location = workspace.get_code_location(CODE_LOCATION)
    (repository,) = location.get_repositories().values()
    for attempt in range(LOCKED_STORAGE_ATTEMPTS):
        try:
            run = _create_run(
                instance=instance, code_location=location, remote_repo=repository,
                remote_job=repository.get_full_job(REFRESH_JOB_NAME), run_config=run_config,
                tags=tags, op_selection=None, run_id=None,
            )
            break
        except sqlalchemy.exc.OperationalError as error:
            # the instance's SQLite storage is briefly locked while another run writes events
            if "database is locked" not in str(error) or attempt == LOCKED_STORAGE_ATTEMPTS - 1:
                raise
            time.sleep(1 + attempt)
    return instance.launch_run(run.run_id, workspace)


@dataclass
class StopRequest:
    """Ctrl-C or SIGTERM received while following the run."""

    signal_number: int | None = None
    deadline: float = field(default=0.0)
    cancel_requested: bool = False

    def handle(self, signal_number: int, _frame: FrameType | None) -> None:
        # a second signal does not wait for the grace period
        self.deadline = time.monotonic() + (0 if self.signal_number else STOP_GRACE_SECONDS)
        self.signal_number = signal_number


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    request = StopRequest()
    previous = {sig: signal.signal(sig, request.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_run(instance: dg.DagsterInstance, run: dg.DagsterRun, request: StopRequest) -> None:
    """Ask the worker to cancel the run; past the grace period kill it and record that."""
    if not request.cancel_requested:
        request.cancel_requested = True
        print(f"dvctt: stopping run {short(run.run_id)} "
              f"({signal.Signals(request.signal_number or 0).name}) …", flush=True)
        try:
            instance.run_launcher.terminate(run.run_id)
        except Exception as error:  # the code server may be gone already (Ctrl-C hits it too)
            print(f"dvctt: could not ask the run worker to stop ({error}); killing it.")
            request.deadline = 0
    if time.monotonic() < request.deadline:
        return
    worker = run_worker(instance, run.run_id)
    if worker and worker.is_alive():
        os.kill(worker.pid, signal.SIGKILL)
    instance.report_run_canceled(
        run, f"Stopped by dvctt: the run did not stop within {STOP_GRACE_SECONDS:.0f} s of "
             "the request, so its worker was killed.")
    give_back_slots(instance, run.run_id)


def pool_holders(instance: dg.DagsterInstance, run_id: str) -> frozenset[tuple[str, str]]:
    """(run, step) holding the warehouse pool while a step of run_id waits for it."""
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    waiting = any(step.run_id == run_id and step.assigned_timestamp is None
                  for step in info.pending_steps)
    if not waiting:
        return frozenset()
    return frozenset((slot.run_id, slot.step_key) for slot in info.claimed_slots
                     if slot.run_id != run_id)


def describe_holders(instance: dg.DagsterInstance, holders: frozenset[tuple[str, str]]) -> str:
    described = []
    for run_id, step_key in sorted(holders):
        holder = instance.get_run_by_id(run_id)
        state = holder.status.value if holder else "unknown to this instance"
        described.append(f"run {run_id} (step {step_key}, {state})")
    return ", ".join(described)


def follow(instance: dg.DagsterInstance, run_id: str) -> RunOutcome:
    """Wait for the run to end, saying when it waits on the warehouse pool and for whom."""
    holders: frozenset[tuple[str, str]] = frozenset()
    next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
    with stop_on_signals() as stop:
        while not (run := instance.get_run_by_id(run_id)).is_finished:  # type: ignore[union-attr]
            if stop.signal_number:
                stop_run(instance, run, stop)
            elif (now_holding := pool_holders(instance, run_id)) != holders:
                holders = now_holding
                if holders:
                    print(f"dvctt: waiting for the {WAREHOUSE_POOL} pool, held by "
                          f"{describe_holders(instance, holders)}.", flush=True)
            if time.monotonic() > next_health_check:
                next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
                for message in fail_dead_runs(instance):
                    print(f"dvctt: {message}", flush=True)
            time.sleep(POLL_SECONDS)
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE)
    return RunOutcome(run_id, run.status,
                      [describe_failure(record.event_log_entry.dagster_event)
                       for record in records.records],
                      stop.signal_number)


def describe_failure(event: DagsterEvent | None) -> str:
    """A failed step and what it said: the description a step gives when it fails on purpose
    (a blocking check, an unusable agencies.csv), else the error's first line."""
    if event is None:
        return "?"
    data = event.step_failure_data
    said = data.user_failure_data.description if data.user_failure_data else None
    if not said and data.error:
        said = next(iter(data.error.message.strip().splitlines()), "")
    return f"{event.step_key}: {said}" if said else str(event.step_key)


def launch_and_follow(
    instance: dg.DagsterInstance, tags: Mapping[str, str], run_config: Mapping[str, object],
) -> RunOutcome:
    for message in fail_dead_runs(instance):
        print(f"dvctt: {message}", flush=True)
    target = WorkspaceFileTarget(paths=[str(WORKSPACE)])
    with WorkspaceProcessContext(instance, target, code_server_log_level="WARNING") as process:
        run = create_and_launch(instance, process.create_request_context(), tags, run_config)
        print(f"dvctt: run {run.run_id} of {REFRESH_JOB_NAME} ({describe_range(tags)}) "
              f"launched in code location {CODE_LOCATION}; it is listed in the Dagster UI "
              "under Runs.", flush=True)
        return follow(instance, run.run_id)
