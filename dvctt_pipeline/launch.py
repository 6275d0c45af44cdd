"""`dvctt materialize` on a persistent Dagster instance: a run of the workspace's code location,
executed in the command's own process.

The run is created with the origin of the code location workspace.yaml serves (the origin the
UI, the schedule and `dagster job launch -w workspace.yaml` give their runs), so it is on the
UI's timeline, tied to its job and re-executable from the UI. It is executed here by Dagster's
own `execute_run`, not through the instance's run launcher: the launcher would start a code
server and a run worker, two more Python processes that each import Dagster and load the
definitions, most of the time of a run with nothing new. The run reports this process as its
worker (the engine event "Started process for run (pid: …)"), so run monitoring and the next
`dvctt materialize` mark it failed if the command is killed (dvctt_pipeline/run_launcher.py).
Its steps take the warehouse pool's slot one by one, as in any run, so runs of the UI, the
schedule and other commands take turns with it. The run does not go through the run queue:
the queue needs the daemon, and `make demo` runs without one.

Before the run, runs of the instance whose worker process is gone are marked failed and their
slots of the warehouse pool given back: a killed run would otherwise hold its slot and block
every later run. Ctrl-C or SIGTERM cancels the run (a step cut short rolls back its
transaction; the serving file is only ever replaced whole)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

import dagster as dg
import sqlalchemy.exc
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.events import (
    DagsterEvent,
    DagsterEventType,
    EngineEventData,
    JobFailureData,
    RunFailureReason,
)
from dagster._core.execution.api import execute_run
from dagster._core.launcher import WorkerStatus
from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from dagster._core.workspace.load_target import WorkspaceFileTarget

from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME
from dvctt_pipeline.defs.partitions import WAREHOUSE_POOL
from dvctt_pipeline.run_launcher import initialize_pools, is_locked

WORKSPACE = Path(__file__).resolve().parent.parent / "workspace.yaml"
CODE_LOCATION = "dvctt_pipeline"  # the location_name in workspace.yaml
DEFINITIONS = ("dvctt_pipeline.definitions", "defs")  # the module and attribute it loads
POLL_SECONDS = 0.5
# who holds the warehouse pool is a query of every pending step of the instance (tens of ms,
# competing with the run for the cores): asked every few polls, not at each
POOL_CHECK_SECONDS = 2.0
HEALTH_CHECK_SECONDS = 5.0
# how long a run may take to stop after Ctrl-C/SIGTERM before the command gives up on it: a
# step notices the cancellation when it returns from DuckDB
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


def refresh_job() -> tuple[ReconstructableJob, RemoteJobOrigin]:
    """The refresh job as this process loads it, and its origin in the workspace's code
    location: the same module, so the same job snapshot the code server would serve."""
    (location,) = WorkspaceFileTarget(paths=[str(WORKSPACE)]).create_origins()
    assert location.location_name == CODE_LOCATION, location.location_name
    module, attribute = DEFINITIONS
    repository = ReconstructableRepository.for_module(
        module, attribute, working_directory=str(WORKSPACE.parent))
    job = repository.get_reconstructable_job(REFRESH_JOB_NAME)
    origin = RemoteJobOrigin(
        RemoteRepositoryOrigin(location, repository.get_definition().name), REFRESH_JOB_NAME)
    return job, origin


def create_run(
    instance: dg.DagsterInstance, job: ReconstructableJob, origin: RemoteJobOrigin,
    tags: Mapping[str, str], run_config: Mapping[str, object],
) -> dg.DagsterRun:
    for attempt in range(LOCKED_STORAGE_ATTEMPTS):
        try:
            return instance.create_run_for_job(
                job_def=job.get_definition(), run_config=run_config, tags=tags,
                remote_job_origin=origin, job_code_origin=job.get_python_origin(),
            )
        except sqlalchemy.exc.OperationalError as error:
            # the instance's SQLite storage is briefly locked while another run writes events
            if not is_locked(error) or attempt == LOCKED_STORAGE_ATTEMPTS - 1:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


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


@dataclass
class StopRequest:
    """Ctrl-C or SIGTERM received while the run executes."""

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


def interrupt(execution: threading.Thread) -> None:
    """Raise Dagster's interruption in the executing thread, as its signal handler does in a
    run worker's main thread: at the thread's next Python instruction (a step inside DuckDB
    gets it when the statement returns), and the run ends canceled."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(execution.ident or 0), ctypes.py_object(DagsterExecutionInterruptedError))


def stop_run(
    instance: dg.DagsterInstance, run: dg.DagsterRun, execution: threading.Thread,
    request: StopRequest,
) -> None:
    """Cancel the run the way Dagster's run launcher does (mark it canceling, then interrupt
    its execution); past the grace period record it canceled and end the command."""
    if not request.cancel_requested:
        request.cancel_requested = True
        print(f"dvctt: stopping run {short(run.run_id)} "
              f"({signal.Signals(request.signal_number or 0).name}) …", flush=True)
        instance.report_run_canceling(run)
        interrupt(execution)
    if time.monotonic() < request.deadline:
        return
    instance.report_run_canceled(
        run, f"Stopped by dvctt: the run did not stop within {STOP_GRACE_SECONDS:.0f} s of "
             "the request, so its process was ended.")
    give_back_slots(instance, run.run_id)
    print(stopped_message(run.run_id, dg.DagsterRunStatus.CANCELED), file=sys.stderr, flush=True)
    # the step still inside DuckDB ends with the process: DuckDB rolls back its transaction
    os._exit(128 + (request.signal_number or signal.SIGTERM))


def stopped_message(run_id: str, status: dg.DagsterRunStatus) -> str:
    return (f"Run {run_id} stopped ({status.value}): the warehouse keeps what its completed "
            "steps wrote, the serving file its last published version; run the same command "
            "again to finish.")


def start_execution(
    instance: dg.DagsterInstance, job: ReconstructableJob, run: dg.DagsterRun
) -> threading.Thread:
    """Execute the run in a thread of this process, which reports itself as the run's worker.

    Not in the main thread: there Dagster would replace the handlers of SIGINT and SIGTERM
    with its own, and a signal would interrupt the run before it is marked canceling (the run
    would count as failed); in another thread it leaves them to the command."""
    instance.report_engine_event(
        f"Started process for run (pid: {os.getpid()}).", run,
        EngineEventData.in_process(os.getpid()))
    execution = threading.Thread(target=execute_run, args=(job, run, instance),
                                 name=f"run {short(run.run_id)}", daemon=True)
    execution.start()
    return execution


def follow(
    instance: dg.DagsterInstance, run: dg.DagsterRun, execution: threading.Thread
) -> int | None:
    """Wait for the run to end, saying when it waits on the warehouse pool and for whom; the
    signal that stopped it, if one did."""
    holders: frozenset[tuple[str, str]] = frozenset()
    next_pool_check = time.monotonic()
    next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
    with stop_on_signals() as stop:
        while execution.is_alive():
            if stop.signal_number:
                stop_run(instance, run, execution, stop)
            elif time.monotonic() >= next_pool_check:
                next_pool_check = time.monotonic() + POOL_CHECK_SECONDS
                if (now_holding := pool_holders(instance, run.run_id)) != holders:
                    holders = now_holding
                    if holders:
                        print(f"dvctt: waiting for the {WAREHOUSE_POOL} pool, held by "
                              f"{describe_holders(instance, holders)}.", flush=True)
            if time.monotonic() > next_health_check:
                next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
                for message in fail_dead_runs(instance):
                    print(f"dvctt: {message}", flush=True)
            execution.join(POLL_SECONDS)
    return stop.signal_number


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


def run_in_this_process(
    instance: dg.DagsterInstance, tags: Mapping[str, str], run_config: Mapping[str, object],
) -> RunOutcome:
    for message in fail_dead_runs(instance):
        print(f"dvctt: {message}", flush=True)
    job, origin = refresh_job()
    initialize_pools(instance)
    run = create_run(instance, job, origin, tags, run_config)
    print(f"dvctt: run {run.run_id} of {REFRESH_JOB_NAME} ({describe_range(tags)}) of code "
          f"location {CODE_LOCATION}, executed in this process; it is listed in the Dagster UI "
          "under Runs.", flush=True)
    stopped_by = follow(instance, run, start_execution(instance, job, run))
    finished = instance.get_run_by_id(run.run_id)
    records = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.STEP_FAILURE)
    return RunOutcome(run.run_id, finished.status,  # type: ignore[union-attr]
                      [describe_failure(record.event_log_entry.dagster_event)
                       for record in records.records],
                      stopped_by)
