"""The daily refresh at 06:00 Vietnam time: the running month.

Its figures change every day (dossiers are received and finished, deadlines pass), so it is
refreshed every morning whatever landed; the months that late data or a changed reference
file touch are the landing sensor's (defs/sensors.py), which keeps asking for them until a
run covering them succeeds. Written by hand rather than with
build_schedule_from_partitioned_job, which can only run a monthly job once a month.
"""

import dagster as dg

from dvctt_pipeline.defs.jobs import refresh_months
from dvctt_pipeline.defs.partitions import range_tags
from dvctt_pipeline.months import month_of
from dvctt_pipeline.settings import TIMEZONE

DAILY_CRON = "0 6 * * *"


@dg.schedule(
    cron_schedule=DAILY_CRON,
    execution_timezone=TIMEZONE,
    job=refresh_months,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 Vietnam time: refresh the running month (the landing "
    "sensor refreshes the earlier months new files touch).",
)
def daily_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    running = month_of(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"daily:{context.scheduled_execution_time:%Y-%m-%d}",
                         tags=range_tags(running, running))
