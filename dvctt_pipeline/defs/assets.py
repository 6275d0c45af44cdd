"""The asset graph: reference → ingest → staging/core (SQL) → marts (SQL) → serving file.

Every asset is monthly partitioned with a single-run backfill policy, so a backfill of any
month range is one run, and every asset that opens the warehouse is in the one-writer pool.
"""


from collections.abc import Iterator

import dagster as dg
import duckdb
import pandas as pd

from dvctt_pipeline.defs.partitions import MONTHLY_PARTITIONS, SINGLE_RUN_BACKFILL, WAREHOUSE_POOL
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.ingest.dossiers import FileOutcome, ingest_dossier_exports
from dvctt_pipeline.models.sql_models import SqlModel, Window, load_models, run_model
from dvctt_pipeline.reference.agencies import load_agencies
from dvctt_pipeline.reference.geography import load_admin_units
from dvctt_pipeline.serve.publish import publish_serving_file

PARTITIONED = {
    "partitions_def": MONTHLY_PARTITIONS,
    "backfill_policy": SINGLE_RUN_BACKFILL,
    "pool": WAREHOUSE_POOL,
}
PREVIEW_ROWS = 10


def table_key(table: str) -> dg.AssetKey:
    """Assets are named after the table they write: `marts.x` is the asset marts/x."""
    return dg.AssetKey(table.split("."))


def window_of(context: dg.AssetExecutionContext) -> Window:
    """The months [start, end) of the run's partition range."""
    time_window = context.partition_time_window
    return Window(time_window.start.date(), time_window.end.date())


def preview_markdown(con: duckdb.DuckDBPyConnection, table: str) -> dg.MarkdownMetadataValue:
    frame = con.sql(f"SELECT * FROM {table} LIMIT {PREVIEW_ROWS}").df()
    return dg.MetadataValue.md(frame.to_markdown(index=False))


def column_schema(con: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = $schema AND table_name = $name ORDER BY column_index",
        {"schema": schema, "name": name},
    ).fetchall()
    return dg.TableSchema(
        columns=[dg.TableColumn(column, data_type, description=comment)
                 for column, data_type, comment in rows]
    )


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, object]:
    return {
        "dagster/row_count": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
        "dagster/column_schema": column_schema(con, table),
        "preview": preview_markdown(con, table),
    }


# ---------------------------------------------------------------------------- reference

ADMIN_UNIT_TABLES = {
    "core.provinces": "Provinces before (63) and after (34) the 1 July 2025 reorganisation.",
    "core.districts": "Districts of the 63-province geography (abolished on 1 July 2025).",
    "core.communes": "Communes and wards of both geographies.",
    "core.province_mapping_2025": "Each of the 63 former provinces mapped onto one of the 34.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            table_key(table), group_name="reference", kinds={"duckdb"},
            description=f"{text} From the vietnamadminunits package's bundled dataset.",
        )
        for table, text in ADMIN_UNIT_TABLES.items()
    ],
    **PARTITIONED,
)
def admin_units(warehouse: Warehouse) -> Iterator[dg.MaterializeResult]:
    with warehouse.connect() as con:
        load_admin_units(con)
        for table in ADMIN_UNIT_TABLES:
            yield dg.MaterializeResult(
                asset_key=table_key(table), metadata=table_metadata(con, table)
            )


@dg.asset(
    key=table_key("core.agencies"), group_name="reference", kinds={"duckdb"},
    description="The agency registry, reference/agencies.csv of the landing folder, with the "
    "normalised spellings of each agency's name used to match export names.",
    **PARTITIONED,
)
def agencies(warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        load_agencies(con, warehouse.landing)
        return dg.MaterializeResult(metadata=table_metadata(con, "core.agencies"))


# ---------------------------------------------------------------------------- ingest

def _files_markdown(outcomes: list[FileOutcome]) -> dg.MarkdownMetadataValue:
    rows = [outcome for outcome in outcomes if outcome.status != "unchanged"]
    frame = pd.DataFrame(rows, columns=list(FileOutcome.__dataclass_fields__))
    return dg.MetadataValue.md(frame.to_markdown(index=False) if rows else "No new files.")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            table_key("raw.dossier_snapshots"), group_name="ingest", kinds={"duckdb"},
            description="Every dossier snapshot of the landing folder's exports that passes "
            "the row rules, typed; only the fields the metrics need, never personal data. "
            "Loads the files not loaded yet (by content hash), whatever the partition.",
        ),
        dg.AssetSpec(
            table_key("quarantine.dossier_snapshots"), group_name="ingest", kinds={"duckdb"},
            description="Export records set aside by the row rules: file, position, reason.",
        ),
    ],
    **PARTITIONED,
)
def dossier_snapshots(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult]:
    with warehouse.connect() as con:
        outcomes = ingest_dossier_exports(con, warehouse.landing)
        for outcome in outcomes:
            if outcome.status == "failed":
                context.log.warning(f"{outcome.relative_path} failed: {outcome.message}")
        run_counts = {
            "files_loaded": sum(o.status == "loaded" for o in outcomes),
            "files_failed": sum(o.status == "failed" for o in outcomes),
            "files_duplicate": sum(o.status == "duplicate" for o in outcomes),
            "rows_read": sum(o.rows_read for o in outcomes),
            "rows_loaded": sum(o.rows_loaded for o in outcomes),
            "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
        }
        context.log.info(f"Dossier exports: {run_counts}")
        yield dg.MaterializeResult(
            asset_key=table_key("raw.dossier_snapshots"),
            metadata={**table_metadata(con, "raw.dossier_snapshots"), **run_counts,
                      "files": _files_markdown(outcomes)},
        )
        yield dg.MaterializeResult(
            asset_key=table_key("quarantine.dossier_snapshots"),
            metadata={**table_metadata(con, "quarantine.dossier_snapshots"),
                      "rows_quarantined": run_counts["rows_quarantined"]},
        )


# ---------------------------------------------------------------------------- SQL models

# Tables written by Python assets under another name than the asset's.
TABLE_WRITERS = {"meta.source_files": table_key("raw.dossier_snapshots")}


def _upstream_keys(model: SqlModel) -> list[dg.AssetKey]:
    return sorted({TABLE_WRITERS.get(table, table_key(table)) for table in model.depends_on})


def sql_model_asset(model: SqlModel) -> dg.AssetsDefinition:
    """One asset per SQL file of dbt_like_sql/, reading the tables its SQL names."""

    @dg.asset(
        key=table_key(model.table),
        group_name=model.group,
        description=model.description,
        deps=_upstream_keys(model),
        kinds={"duckdb", "sql"},
        metadata={"sql_file": model.path.name, "replace": model.replace},
        **PARTITIONED,
    )
    def _model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            written = run_model(con, model, window_of(context), warehouse.model_settings())
            return dg.MaterializeResult(
                metadata={"rows_written": written, **table_metadata(con, model.table)}
            )

    return _model


SQL_MODEL_ASSETS = [sql_model_asset(model) for model in load_models()]
MARTS_KEYS = [table_key(model.table) for model in load_models() if model.schema == "marts"]


# ---------------------------------------------------------------------------- serving

@dg.asset(
    group_name="serve", kinds={"duckdb"}, deps=MARTS_KEYS,
    description="The serving DuckDB file BI tools read ($DVCTT_SERVING): a copy of every marts "
    "table with its comments, swapped in atomically so open readers are never disturbed.",
    **PARTITIONED,
)
def serving_file(warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        rows = publish_serving_file(con, warehouse.serving)
    return dg.MaterializeResult(metadata={"path": str(warehouse.serving), **rows})
