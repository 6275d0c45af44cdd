"""How assets are named and which months a run covers."""

import dagster as dg

from dvctt_pipeline.models.sql_models import Window


def table_key(table: str) -> dg.AssetKey:
    """Assets are named after the table they write: `marts.x` is the asset marts/x."""
    return dg.AssetKey(table.split("."))


def window_of(context: dg.AssetExecutionContext) -> Window:
    """The months [start, end) of the run's partition range."""
    time_window = context.partition_time_window
    return Window(time_window.start.date(), time_window.end.date())
