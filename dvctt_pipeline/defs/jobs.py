"""The job that refreshes a month range: the same graph a UI backfill materializes."""

import dagster as dg

from dvctt_pipeline.defs.partitions import MONTHLY_PARTITIONS

REFRESH_JOB_NAME = "refresh_months"

refresh_months = dg.define_asset_job(
    REFRESH_JOB_NAME,
    selection=dg.AssetSelection.all(),
    partitions_def=MONTHLY_PARTITIONS,
    description="Ingest new landing files and rebuild staging, core, marts and the serving "
    "file for the selected months.",
)
