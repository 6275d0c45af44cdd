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
from dvctt_pipeline.reference.agencies import load_agencies
from dvctt_pipeline.reference.catalog import load_catalog
from dvctt_pipeline.reference.fees import load_fee_policies
from dvctt_pipeline.reference.freshness import load_when_changed
from dvctt_pipeline.reference.geography import load_admin_units
from dvctt_pipeline.reference.targets import load_targets
from dvctt_pipeline.serve.publish import publish_serving_file

PARTITIONED = {
    "partitions_def": MONTHLY_PARTITIONS,
    "backfill_policy": SINGLE_RUN_BACKFILL,
    "pool": WAREHOUSE_POOL,
}
PREVIEW_ROWS = 10
REJECTED_SUFFIX = "_rejected"


def table_key(table: str) -> dg.AssetKey:
    """Assets are named after the table they write: `marts.x` is the asset marts/x. A
    quarantine table's asset is named for what it holds, `quarantine.x` → quarantine/x_rejected,
    so that no two assets share a label in the UI, where the lineage graph and the asset lists
    show the key's last part alone."""
    schema, name = table.split(".")
    return dg.AssetKey([schema, f"{name}{REJECTED_SUFFIX}" if schema == "quarantine" else name])


def window_of(context: dg.AssetExecutionContext) -> Window:
    """The months [start, end) of the run's partition range."""
    time_window = context.partition_time_window
    return Window(time_window.start.date(), time_window.end.date())


def partition_window(context: dg.AssetExecutionContext) -> Window | None:
    """The run's months for a partitioned asset, None for an unpartitioned one."""
    return window_of(context) if context.has_partition_key_range else None


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


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, window: Window | None = None,
    window_rows: str | None = None,
) -> dict[str, object]:
    """Row count, column docs and a preview of the rows a materialization speaks for.

    Dagster shows `dagster/row_count` as the count of the materialized partition, so an asset
    run for a range of months (`window`) records the rows of those months, selected by
    `window_rows` (a condition on $window_start and $window_end); only an unpartitioned
    asset records the whole table's. A partitioned asset whose table is not by month (a
    reference table) records the table's size as `table_rows`, which no one reads as the
    partition's."""
    if window is None or window_rows:
        count_name = "dagster/row_count"
        where = f"WHERE {window_rows}" if window else ""
    else:
        count_name, where = "table_rows", ""
    params = {"window_start": window.start, "window_end": window.end} if where else {}
    rows = con.execute(f"SELECT count(*) FROM {table} {where}", params).fetchone()[0]
    preview = con.execute(f"SELECT * FROM {table} {where} LIMIT {PREVIEW_ROWS}", params).df()
    return {
        count_name: rows,
        "dagster/column_schema": column_schema(con, table),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
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
def admin_units(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult]:
    with warehouse.connect() as con:
        loaded = load_when_changed(con, "admin_units", warehouse.landing,
                                   lambda: load_admin_units(con))
        for table in ADMIN_UNIT_TABLES:
            yield dg.MaterializeResult(
                asset_key=table_key(table),
                metadata={**table_metadata(con, table, partition_window(context)),
                          "reloaded": loaded is not None},
            )


@dg.asset(
    key=table_key("core.agencies"), group_name="reference", kinds={"duckdb"},
    description="The agency registry, reference/agencies.csv of the landing folder, with the "
    "normalised spellings of each agency's name used to match export names.",
    **PARTITIONED,
)
def agencies(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        loaded = load_when_changed(con, "agencies", warehouse.landing,
                                   lambda: load_agencies(con, warehouse.landing))
        return dg.MaterializeResult(metadata={
            **table_metadata(con, "core.agencies", partition_window(context)),
            "reloaded": loaded is not None,
        })


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
        "service_catalog", "core.service_catalog",
        "Service-catalogue snapshots, `catalog/services_YYYY-MM-DD.csv`: per province, level "
        "and procedure, the service level (MucDo 2/3/4 and một phần/toàn trình as one "
        "vocabulary) and eligibility for end-to-end service.",
        load_catalog,
    ),
    ReferenceFileSource(
        "targets", "core.targets",
        "Assigned targets, `targets/targets_YYYY.csv`: per year, province and level ('*' = "
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
                         description=f"Rows of {source.table}'s files set aside (table "
                         f"{source.quarantine_table}): file, "
                         "line, reason code and the row as read."),
        ],
        **PARTITIONED,
    )
    def _load(
        context: dg.AssetExecutionContext, warehouse: Warehouse
    ) -> Iterator[dg.MaterializeResult]:
        with warehouse.connect() as con:
            rows = load_when_changed(con, source.name, warehouse.landing,
                                     lambda: source.load(con, warehouse.landing))
            if rows and (quarantined := rows[source.quarantine_table]):
                context.log.warning(f"{quarantined} rows of {source.table}'s files set aside; "
                                    f"see {source.quarantine_table}.")
            for table in (source.table, source.quarantine_table):
                yield dg.MaterializeResult(
                    asset_key=table_key(table),
                    metadata={**table_metadata(con, table, partition_window(context)),
                              "reloaded": rows is not None},
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
            description="Export records set aside by the row rules (table "
            "quarantine.dossier_snapshots): file, position, reason.",
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
            metadata={**table_metadata(con, "raw.dossier_snapshots", partition_window(context)),
                      **counts,
                      "files": files_markdown(outcomes)},
        )
        yield dg.MaterializeResult(
            asset_key=table_key("quarantine.dossier_snapshots"),
            metadata={**table_metadata(con, "quarantine.dossier_snapshots",
                                     partition_window(context)),
                      "rows_quarantined": counts["rows_quarantined"]},
        )


# ---------------------------------------------------------------------------- SQL models

# Tables written by Python assets under another name than the asset's.
TABLE_WRITERS = {
    "meta.source_files": table_key("raw.dossier_snapshots"),
    # written by the asset checks of defs/checks.py on the staged dossiers
    "meta.check_results": table_key("staging.dossiers"),
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
        metadata={"sql_file": model.path.name, "replace": model.replace,
                  "dagster/table_name": model.table},
        **PARTITIONED,
    )
    def _model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            window = window_of(context)
            written = run_model(con, model, window, warehouse.model_settings(),
                                run_id=context.run_id)
            return dg.MaterializeResult(metadata={
                "rows_written": written,
                **table_metadata(con, model.table, window, model.window_predicate()),
            })

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
