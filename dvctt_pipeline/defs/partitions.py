"""Monthly partitions: the unit of refresh and backfill of the monthly assets (DESIGN §6).

The reference tables and the landing-file ingest hold no monthly data and are not
partitioned; in a run over a month range they run once, before the months.
"""

from datetime import date

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from dvctt_pipeline.settings import FIRST_MONTH, TIMEZONE, lake_from_env

# end_offset=1 includes the running month, which the daily schedule refreshes.
MONTHLY_PARTITIONS = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, timezone=TIMEZONE, end_offset=1
)

# A backfill of N months is one run that processes the range in one pass.
SINGLE_RUN_BACKFILL = dg.BackfillPolicy.single_run()

# DuckDB allows one writer: every asset and check that opens the warehouse shares this pool,
# whose limit of 1 is set in dagster.yaml.
WAREHOUSE_POOL = "duckdb_warehouse"
# On a DuckLake, whose writers commit snapshots concurrently, the monthly steps (SQL models,
# publication, report) have a pool of their own: one run's models and publication run while
# another run ingests or loads reference files. Each pool still has one slot: the ingest
# keeps file ids and whole-table reloads one writer at a time, and one run at a time writes
# marts, so the snapshot a run publishes holds no other run's half-written months.
MONTHS_POOL = WAREHOUSE_POOL if lake_from_env() is None else "ducklake_months"

# The tags Dagster reads a run's partition range from (a UI backfill sets the same ones).
RANGE_START_TAG = ASSET_PARTITION_RANGE_START_TAG
RANGE_END_TAG = ASSET_PARTITION_RANGE_END_TAG


def range_tags(first: date, last: date) -> dict[str, str]:
    """Tags of a run over the months [first, last]."""
    return {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}


def months_of_run(tags: dict[str, str]) -> tuple[date, date] | None:
    """The first and last month of a run's partition range, None for a run without one."""
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
    if "dagster/partition" in tags:
        month = date.fromisoformat(tags["dagster/partition"])
        return month, month
    return None
