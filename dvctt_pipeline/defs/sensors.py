"""A sensor that notices dossier exports landing and refreshes the months they touch.

It shares its memory of seen files with the daily schedule, so a file refreshes its months
once, whichever notices it first. Stopped by default: the schedule alone already picks up
late data every morning; turn the sensor on (UI → Automation) to refresh within minutes.
"""

from datetime import UTC, datetime

import dagster as dg

from dvctt_pipeline.defs.jobs import refresh_months
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.defs.schedules import (
    describe,
    months_to_refresh,
    notice_landed_files,
    refresh_requests,
)
from dvctt_pipeline.models.sql_models import month_of

# Exports land a few times a day; looking every five minutes costs a directory listing.
LANDING_POLL_SECONDS = 300


@dg.sensor(
    job=refresh_months,
    minimum_interval_seconds=LANDING_POLL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Notices new or changed dossier exports in the landing folder and refreshes "
    "the months whose dossiers they received or finished, one run per range of consecutive "
    "months.",
)
def landing_files(
    context: dg.SensorEvaluationContext, warehouse: Warehouse
) -> list[dg.RunRequest] | dg.SkipReason:
    now = datetime.now(UTC)
    changes = notice_landed_files(warehouse)
    months = months_to_refresh(changes.months, month_of(now))
    if not months:
        return dg.SkipReason(describe(changes))
    context.log.info(describe(changes))
    return refresh_requests(months, f"landed:{now:%Y-%m-%dT%H:%M:%S}")
