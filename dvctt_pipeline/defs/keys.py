"""How assets are named and which months a run covers."""

from datetime import date

import dagster as dg

from dvctt_pipeline.models.sql_models import Window
from dvctt_pipeline.months import next_month, running_month
from dvctt_pipeline.settings import FIRST_MONTH

REJECTED_SUFFIX = "_rejected"
# a table named like another schema's, and the name of its asset, for what it holds
NAMED_FOR_CONTENT = {"staging.report_rows": "report_rows_matched"}


def table_key(table: str) -> dg.AssetKey:
    """Assets are named after the table they write: `marts.x` is the asset marts/x. A
    quarantine table's asset is named for what it holds, `quarantine.x` → quarantine/x_rejected,
    and so is a table whose name another schema's shares (the report rows as read, raw, and
    matched to agencies, staging), so that no two assets share a label in the UI, where the
    lineage graph and the asset lists show the key's last part alone."""
    schema, name = table.split(".")
    if table in NAMED_FOR_CONTENT:
        name = NAMED_FOR_CONTENT[table]
    elif schema == "quarantine":
        name = f"{name}{REJECTED_SUFFIX}"
    return dg.AssetKey([schema, name])


def window_of(context: dg.AssetExecutionContext) -> Window:
    """The months [start, end) of the run's partition range."""
    time_window = context.partition_time_window
    return Window(time_window.start.date(), time_window.end.date())


def checked_window(context: dg.AssetExecutionContext) -> Window:
    """The months a step's checks cover: the run's range, or every month for a run without
    one (a UI backfill checks the report rows, which are not partitioned, in such a run)."""
    if context.has_partition_key_range:
        return window_of(context)
    return Window(date.fromisoformat(FIRST_MONTH), next_month(running_month()))
