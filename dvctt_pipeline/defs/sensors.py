"""The landing sensor: the months new files touch, kept by Dagster until a run refreshes them.

Why a sensor cursor: it is the one piece of state Dagster keeps for us that both remembers
which files were seen and survives a failed run, and reads the new files outside the
warehouse (which a running writer may lock). What it learns it also records where the UI
shows it: each month's data version of the landing exports (defs/landing.py), so that the
months run before their exports changed show as stale. The cursor holds the files seen and
the months each touched (an export delivered again withdraws its earlier version's rows, so
those months are refreshed too, even when the new file is unreadable), the data versions of
the reference sources, and the months still to refresh with the time they last changed. A
month leaves that list only when a refresh_months run created after its last change and
covering it has succeeded, so a failed run's months (after Dagster's own run retries) are
requested again at the next tick, and a tick with nothing new and nothing pending requests
nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

import dagster as dg

from dvctt_pipeline.defs.data_versions import version_tags
from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME, refresh_months
from dvctt_pipeline.defs.landing import LANDING_EXPORTS, month_versions
from dvctt_pipeline.defs.partitions import months_of_run, range_tags
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.ingest.changes import LandingChanges, landing_changes
from dvctt_pipeline.months import contiguous_ranges, month_of
from dvctt_pipeline.reference.freshness import SOURCE_FOLDERS, source_version
from dvctt_pipeline.settings import FIRST_MONTH

# Exports land a few times a day; looking every five minutes costs a directory listing.
LANDING_POLL_SECONDS = int(os.environ.get("DVCTT_LANDING_POLL_SECONDS", "300"))
IN_PROGRESS = {
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING,
}
REFERENCE_SOURCES = ("admin_units", *SOURCE_FOLDERS)
# set by Dagster on a failed run that its run retries will run again
WILL_RETRY_TAG = "dagster/will_retry"


@dataclass
class LandingState:
    """What the sensor's cursor holds."""

    seen: dict[str, str] = field(default_factory=dict)  # dossier export -> size:mtime
    reference: dict[str, str] = field(default_factory=dict)  # source -> data version
    pending: dict[str, float] = field(default_factory=dict)  # month -> last change (epoch s)
    # every month the exports seen so far touched: the months a reference change refreshes
    months: list[str] = field(default_factory=list)
    # export -> the months its last readable version touched: the months whose rows go when
    # an unreadable file replaces it
    file_months: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> LandingState:
        return cls(**json.loads(cursor)) if cursor else cls()

    def to_cursor(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def months_to_refresh(touched: Iterable[date], running_month: date) -> set[date]:
    """Touched months that are partitions: none before the first month nor after the running
    one (a dossier received in 2020 and finished in 2021 only counts in 2021)."""
    first = date.fromisoformat(FIRST_MONTH)
    return {month for month in touched if first <= month <= running_month}


def changed_reference(state: LandingState, versions: dict[str, str]) -> list[str]:
    """Reference sources whose files changed since the last look (none on the first look:
    the dossier files' months are all new then)."""
    return [name for name, version in versions.items()
            if state.reference and state.reference.get(name) != version]


def withdrawn_months(state: LandingState, changes: LandingChanges) -> set[date]:
    """The months of the earlier versions of exports delivered again: the ingest withdraws
    those versions' rows, whatever the new file holds — other months, only rejected rows, or
    nothing readable. A cursor from before the sensor kept each export's months gives every
    month with data."""
    withdrawn = set()
    for path in changes.new_files:
        if path in state.seen:
            withdrawn |= set(state.file_months.get(path, state.months))
    return {date.fromisoformat(month) for month in withdrawn}


def refresh_runs(instance: dg.DagsterInstance, since: float) -> list[dg.RunRecord]:
    """The runs of refresh_months created after a moment, read once per tick."""
    return list(instance.get_run_records(dg.RunsFilter(
        job_name=REFRESH_JOB_NAME, created_after=datetime.fromtimestamp(since, UTC))))


def run_outcome(records: list[dg.RunRecord], month: date, since: float) -> str:
    """'done' when a refresh run created after `since` and covering the month succeeded,
    'running' while one is under way (or failed and is being retried), else 'due'."""
    outcome = "due"
    for record in records:
        run, covered = record.dagster_run, months_of_run(record.dagster_run.tags)
        if record.create_timestamp.timestamp() < since or covered is None:
            continue
        if not covered[0] <= month <= covered[1]:
            continue
        if run.status == dg.DagsterRunStatus.SUCCESS:
            return "done"
        if run.status in IN_PROGRESS or run.tags.get(WILL_RETRY_TAG) == "true":
            outcome = "running"
    return outcome


def month_list(months: Iterable[date]) -> str:
    return ", ".join(f"{month:%Y-%m}" for month in sorted(months)) or "none"


def describe(
    changes: LandingChanges, reference: list[str], due: set[date], waiting: set[date]
) -> str:
    text = (f"{len(changes.new_files)} new or changed dossier exports; months touched: "
            f"{month_list(changes.months)}.")
    if reference:
        text += (f" Reference sources changed: {', '.join(reference)} (every month with data "
                 "depends on them).")
    if changes.unreadable:
        text += f" Unreadable (the ingest will record why): {', '.join(changes.unreadable)}."
    text += f" Months to refresh now: {month_list(due)}."
    if waiting:
        text += f" Waiting for the runs under way of: {month_list(waiting)}."
    return text


@dg.sensor(
    job=refresh_months,
    minimum_interval_seconds=LANDING_POLL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Notices new or changed dossier exports and reference files in the landing "
    "folder and refreshes the months they touch (a dossier's months of receipt and of "
    "completion; every month with data for a reference file), one run per range of "
    "consecutive months; a month whose run failed is requested again until a run covering it "
    "succeeds.",
)
def landing_files(
    context: dg.SensorEvaluationContext, warehouse: Warehouse
) -> dg.SensorResult:
    now = time.time()
    running = month_of(datetime.fromtimestamp(now, UTC))
    state = LandingState.from_cursor(context.cursor)
    changes = landing_changes(warehouse.landing, state.seen)
    versions = {name: source_version(warehouse.landing, name) for name in REFERENCE_SOURCES}
    reference = changed_reference(state, versions)
    touched = months_to_refresh(changes.months | withdrawn_months(state, changes), running)
    with_data = touched | {date.fromisoformat(month) for month in state.months}
    if reference:
        touched = with_data
    pending = {**state.pending, **{month.isoformat(): now for month in touched}}
    records = refresh_runs(context.instance, min(pending.values())) if pending else []
    outcomes = {month: run_outcome(records, date.fromisoformat(month), since)
                for month, since in pending.items()}
    due = {date.fromisoformat(month) for month, outcome in outcomes.items() if outcome == "due"}
    new_state = LandingState(
        seen=changes.fingerprints, reference=versions,
        pending={month: since for month, since in pending.items() if outcomes[month] != "done"},
        months=sorted(month.isoformat() for month in with_data),
        file_months={**state.file_months, **{
            path: sorted(month.isoformat() for month in months)
            for path, months in changes.file_months.items()}},
    )
    requests = [
        dg.RunRequest(run_key=f"landed:{now:.0f}:{start:%Y-%m}..{end:%Y-%m}",
                      tags=range_tags(start, end))
        for start, end in contiguous_ranges(due)
    ]
    waiting = {date.fromisoformat(month) for month, outcome in outcomes.items()
               if outcome == "running"}
    message = describe(changes, reference, due, waiting)
    if requests:
        context.log.info(message)
    return dg.SensorResult(run_requests=requests, cursor=new_state.to_cursor(),
                           asset_events=landing_observations(state, new_state, running),
                           skip_reason=None if requests else message)


def landing_observations(
    before: LandingState, after: LandingState, running: date
) -> list[dg.AssetObservation]:
    """The new data version of each month whose exports changed, for Dagster to show the
    months run before the change as stale."""
    old = month_versions(before.seen, before.file_months)
    new = month_versions(after.seen, after.file_months)
    months = months_to_refresh({date.fromisoformat(month) for month in new}, running)
    return [
        dg.AssetObservation(asset_key=LANDING_EXPORTS, partition=month.isoformat(),
                            tags=version_tags(new[month.isoformat()]))
        for month in sorted(months) if old.get(month.isoformat()) != new[month.isoformat()]
    ]
