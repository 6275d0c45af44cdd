"""Dagster definitions, one module per domain; `dvctt_pipeline.definitions` assembles them."""
