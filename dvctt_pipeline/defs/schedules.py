"""The daily refresh at 06:00 Vietnam time: the running month and every month late data touched.

Written by hand rather than with build_schedule_from_partitioned_job, which can only run a
monthly job once a month and cannot tell which earlier months changed. The months are worked
out from the dossier exports landed since the last look (ingest.changes), so nothing is
recomputed that did not change; consecutive months go into one run over the range (the
single-run backfill policy processes it in one pass).
"""

from datetime import date
from pathlib import Path

import dagster as dg

from dvctt_pipeline.defs.jobs import refresh_months
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.ingest.changes import (
    LandingChanges,
    contiguous_ranges,
    landing_changes,
    load_seen,
    save_seen,
    seen_state_path,
)
from dvctt_pipeline.models.sql_models import month_of
from dvctt_pipeline.settings import FIRST_MONTH, TIMEZONE

DAILY_CRON = "0 6 * * *"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def months_to_refresh(touched: set[date], running_month: date) -> set[date]:
    """Touched months that are partitions: none before the first month nor after the running
    one (a dossier received in 2020 and finished in 2021 only counts in 2021)."""
    first = date.fromisoformat(FIRST_MONTH)
    return {month for month in touched if first <= month <= running_month}


def notice_landed_files(warehouse: Warehouse) -> LandingChanges:
    """Read the months of the files landed since the last look, and remember them as seen."""
    state_path = seen_state_path(Path(warehouse.database))
    changes = landing_changes(warehouse.landing, load_seen(state_path))
    if changes.new_files:
        save_seen(state_path, changes.fingerprints)
    return changes


def refresh_requests(months: set[date], run_key_prefix: str) -> list[dg.RunRequest]:
    """One run of refresh_months per range of consecutive months."""
    return [
        dg.RunRequest(
            run_key=f"{run_key_prefix}:{start:%Y-%m}..{end:%Y-%m}",
            tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()},
        )
        for start, end in contiguous_ranges(months)
    ]


def describe(changes: LandingChanges) -> str:
    months = ", ".join(f"{month:%Y-%m}" for month in sorted(changes.months)) or "none"
    text = f"{len(changes.new_files)} new or changed dossier exports; months touched: {months}."
    if changes.unreadable:
        text += f" Unreadable (the ingest will record why): {', '.join(changes.unreadable)}."
    return text


@dg.schedule(
    cron_schedule=DAILY_CRON,
    execution_timezone=TIMEZONE,
    job=refresh_months,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 Vietnam time: refresh the running month and every earlier "
    "month whose dossiers changed in the exports landed since the last look (received or "
    "finished in that month), one run per range of consecutive months.",
)
def daily_refresh(
    context: dg.ScheduleEvaluationContext, warehouse: Warehouse
) -> list[dg.RunRequest]:
    running_month = month_of(context.scheduled_execution_time)
    changes = notice_landed_files(warehouse)
    context.log.info(describe(changes))
    months = months_to_refresh(changes.months, running_month) | {running_month}
    return refresh_requests(months, f"daily:{context.scheduled_execution_time:%Y-%m-%d}")
