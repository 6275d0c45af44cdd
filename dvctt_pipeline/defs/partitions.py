"""Monthly partitions: the unit of refresh and backfill (DESIGN §6)."""

import dagster as dg

from dvctt_pipeline.settings import FIRST_MONTH, TIMEZONE

# end_offset=1 includes the running month, which the daily schedule refreshes.
MONTHLY_PARTITIONS = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, timezone=TIMEZONE, end_offset=1
)

# A backfill of N months is one run that processes the range in one pass.
SINGLE_RUN_BACKFILL = dg.BackfillPolicy.single_run()

# DuckDB allows one writer: every asset and check that opens the warehouse shares this pool,
# whose limit of 1 is set in dagster.yaml.
WAREHOUSE_POOL = "duckdb_warehouse"
