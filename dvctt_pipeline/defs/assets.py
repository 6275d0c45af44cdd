"""The asset graph: reference → ingest → staging/core (SQL) → marts (SQL) → serving file.

Every asset is monthly partitioned with a single-run backfill policy, so a backfill of any
month range is one run, and every asset that opens the warehouse is in the one-writer pool.
"""


from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from dvctt_pipeline.defs.partitions import MONTHLY_PARTITIONS, SINGLE_RUN_BACKFILL, WAREHOUSE_POOL
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.ingest.dossiers import ingest_dossier_exports
from dvctt_pipeline.ingest.registry import FileOutcome, run_counts
from dvctt_pipeline.models.sql_models import SqlModel, Window, load_models, run_model
from dvctt_pipeline.reference.agencies import ReferenceFileError, load_agencies
from dvctt_pipeline.reference.catalog import load_catalog
from dvctt_pipeline.reference.fees import load_fee_policies
from dvctt_pipeline.reference.freshness import load_when_changed
from dvctt_pipeline.reference.geography import load_admin_units
from dvctt_pipeline.reference.rows import file_messages
from dvctt_pipeline.reference.targets import load_targets
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
        loaded = load_when_changed(con, "admin_units", warehouse.landing,
                                   lambda: load_admin_units(con))
        for table in ADMIN_UNIT_TABLES:
            yield dg.MaterializeResult(
                asset_key=table_key(table),
                metadata={**table_metadata(con, table), "reloaded": loaded is not None},
            )


@dataclass(frozen=True)
class ReferenceFileSource:
    """A reference CSV source of the landing folder: its table and its quarantine table."""

    name: str
    table: str
    description: str
    load: Callable[[duckdb.DuckDBPyConnection, Path], dict[str, int]]
    deps: tuple[str, ...] = ()

    @property
    def quarantine_table(self) -> str:
        return f"quarantine.{self.table.split('.')[1]}"


REFERENCE_FILE_SOURCES = (
    ReferenceFileSource(
        "agencies", "core.agencies",
        "The agency registry, reference/agencies.csv of the landing folder, with the "
        "normalised spellings of each agency's name used to match export names.",
        load_agencies,
    ),
    ReferenceFileSource(
        "service_catalog", "core.service_catalog",
        "Service-catalogue snapshots, catalog/services_<YYYY-MM-DD>.csv: per province, level "
        "and procedure, the service level (MucDo 2/3/4 and một phần/toàn trình as one "
        "vocabulary) and eligibility for end-to-end service.",
        load_catalog,
    ),
    ReferenceFileSource(
        "targets", "core.targets",
        "Assigned targets, targets/targets_<YYYY>.csv: per year, province and level ('*' = "
        "every level) or named agency, a metric's minimum and stretch rates.",
        load_targets, deps=("core.agencies",),
    ),
    ReferenceFileSource(
        "fee_policies", "core.fee_policies",
        "Fee-reduction policies for online filing, fees/fee_policies.csv (optional).",
        load_fee_policies,
    ),
)


def reference_file_asset(source: ReferenceFileSource) -> dg.AssetsDefinition:
    """The table of a reference CSV source and the quarantine table of its bad rows."""

    @dg.multi_asset(
        name=source.name,
        specs=[
            dg.AssetSpec(table_key(source.table), group_name="reference", kinds={"duckdb"},
                         description=source.description,
                         deps=[table_key(dep) for dep in source.deps]),
            dg.AssetSpec(table_key(source.quarantine_table), group_name="reference",
                         kinds={"duckdb"},
                         description=f"Rows of {source.table}'s files set aside: file, "
                         "line, reason code and the row as read."),
        ],
        **PARTITIONED,
    )
    def _load(
        context: dg.AssetExecutionContext, warehouse: Warehouse
    ) -> Iterator[dg.MaterializeResult]:
        with warehouse.connect() as con:
            try:
                rows = load_when_changed(con, source.name, warehouse.landing,
                                         lambda: source.load(con, warehouse.landing))
            except ReferenceFileError as error:
                # only an unusable agencies.csv stops the run: say what to fix, in the log's
                # own line and as the step's failure, not as a traceback of our code
                context.log.error(str(error))
                raise dg.Failure(description=str(error), allow_retries=False) from None
            for message in file_messages(con, source.name):
                context.log.warning(message)
            for table in (source.table, source.quarantine_table):
                yield dg.MaterializeResult(
                    asset_key=table_key(table),
                    metadata={**table_metadata(con, table), "reloaded": rows is not None},
                )

    return _load


REFERENCE_FILE_ASSETS = [reference_file_asset(source) for source in REFERENCE_FILE_SOURCES]


# ---------------------------------------------------------------------------- ingest

def files_markdown(outcomes: list[FileOutcome]) -> dg.MarkdownMetadataValue:
    rows = [outcome for outcome in outcomes if outcome.status != "unchanged"]
    frame = pd.DataFrame(rows, columns=list(FileOutcome.__dataclass_fields__))
    return dg.MetadataValue.md(frame.to_markdown(index=False) if rows else "No new files.")


def log_ingest_run(
    context: dg.AssetExecutionContext, what: str, outcomes: list[FileOutcome]
) -> dict[str, int]:
    """Warn about each failed file (its message names the file and what to fix, never its
    content) and log the run's counts."""
    for outcome in outcomes:
        if outcome.status == "failed":
            context.log.warning(f"{outcome.relative_path} failed: {outcome.message}")
    counts = run_counts(outcomes)
    context.log.info(f"{what}: {counts}")
    return counts


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
        counts = log_ingest_run(context, "Dossier exports", outcomes)
        yield dg.MaterializeResult(
            asset_key=table_key("raw.dossier_snapshots"),
            metadata={**table_metadata(con, "raw.dossier_snapshots"), **counts,
                      "files": files_markdown(outcomes)},
        )
        yield dg.MaterializeResult(
            asset_key=table_key("quarantine.dossier_snapshots"),
            metadata={**table_metadata(con, "quarantine.dossier_snapshots"),
                      "rows_quarantined": counts["rows_quarantined"]},
        )


# ---------------------------------------------------------------------------- SQL models

# Tables written by Python assets under another name than the asset's.
TABLE_WRITERS = {
    "meta.source_files": table_key("raw.dossier_snapshots"),
    # written by the asset checks of defs/checks.py on the staged dossiers
    "meta.check_results": table_key("staging.dossiers"),
    # written by every reference-file asset; a model reading it reads their quarantine
    # tables too, which puts it after all of them
    "meta.reference_files": table_key("core.agencies"),
}


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
            written = run_model(con, model, window_of(context), warehouse.model_settings(),
                                run_id=context.run_id)
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
