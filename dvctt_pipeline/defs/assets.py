"""The asset graph: reference → ingest → staging/core (SQL) → marts (SQL) → serving file and
monthly report (serve.py).

The reference tables and the landing-file ingest are not partitioned: they hold no monthly
data, and a run loads what changed. The SQL models, the serving file and the monthly report
are monthly partitioned with a single-run backfill policy, so a backfill of any month range
is one run; the SQL models are one step that writes them in dependency order, like
dagster-dbt's @dbt_assets, and any subset of them can be materialized from the UI. Every
asset that opens the warehouse is in the one-writer pool.
"""


import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from dvctt_pipeline.defs.checks import QUALITY_CHECK_SPECS, check_key, evaluate_check
from dvctt_pipeline.defs.gx_worker import GxWorker
from dvctt_pipeline.defs.keys import checked_window, table_key
from dvctt_pipeline.defs.landing import LANDING_EXPORTS
from dvctt_pipeline.defs.model_versions import ModelVersions
from dvctt_pipeline.defs.partitions import (
    MONTHLY_PARTITIONS,
    MONTHS_POOL,
    SINGLE_RUN_BACKFILL,
    WAREHOUSE_POOL,
)
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.ingest.dossiers import ingest_dossier_exports
from dvctt_pipeline.ingest.registry import FileOutcome, run_counts
from dvctt_pipeline.models.sql_models import (
    DOSSIER_TABLE,
    FULL_REFRESH_TAG,
    SqlModel,
    Window,
    load_models,
    run_model,
    source_columns,
)
from dvctt_pipeline.reference.agencies import ReferenceFileError, load_agencies
from dvctt_pipeline.reference.catalog import load_catalog
from dvctt_pipeline.reference.fees import load_fee_policies
from dvctt_pipeline.reference.freshness import reference_code_version, source_version
from dvctt_pipeline.reference.geography import load_admin_units
from dvctt_pipeline.reference.rows import file_messages
from dvctt_pipeline.reference.targets import load_targets
from dvctt_pipeline.sqltext import quote_identifier
from dvctt_pipeline.validate.quality_checks import QUALITY_CHECKS, QualityCheck

PARTITIONED = {
    "partitions_def": MONTHLY_PARTITIONS,
    "backfill_policy": SINGLE_RUN_BACKFILL,
    "pool": MONTHS_POOL,
}
PREVIEW_ROWS = 10


def column_schema(con: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    """The table's columns and types, described by their comment (a model's header) or, for a
    table the pipeline loads, by dbt_like_sql/sources.yml."""
    schema, name = table.split(".")
    documented = source_columns().get(table, {})
    rows = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = $schema AND table_name = $name ORDER BY column_index",
        {"schema": schema, "name": name},
    ).fetchall()
    return dg.TableSchema(
        columns=[dg.TableColumn(column, data_type,
                                description=comment or documented.get(column))
                 for column, data_type, comment in rows]
    )


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# Types pandas has no column for (the 128-bit dossier keys): shown as their digits.
_TYPES_PREVIEWED_AS_TEXT = ("HUGEINT", "UHUGEINT")


def _previewed_columns(schema: dg.TableSchema) -> str:
    return ", ".join(
        f"{quote_identifier(column.name)}::VARCHAR AS {quote_identifier(column.name)}"
        if column.type in _TYPES_PREVIEWED_AS_TEXT else quote_identifier(column.name)
        for column in schema.columns)


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, window: Window | None = None,
    window_rows: str | None = None,
) -> dict[str, object]:
    """Row count, column docs and a preview of the rows a materialization speaks for.

    Dagster shows `dagster/row_count` as the count of the materialized partition, so a model
    run for a range of months (`window`) records the rows of those months, selected by
    `window_rows` (a condition on $window_start and $window_end); only an unpartitioned
    asset (a reference table, the ingest) records the whole table's. A model that rewrites
    its whole table at every run (`replace: all`: no month of its own) records the table's
    size as `table_rows`, which no one reads as the partition's."""
    if window is None or window_rows:
        count_name = "dagster/row_count"
        where = f"WHERE {window_rows}" if window else ""
    else:
        count_name, where = "table_rows", ""
    params = {"window_start": window.start, "window_end": window.end} if where else {}
    rows = con.execute(f"SELECT count(*) FROM {table} {where}", params).fetchone()[0]
    schema = column_schema(con, table)
    preview = con.execute(
        f"SELECT {_previewed_columns(schema)} FROM {table} {where} LIMIT {PREVIEW_ROWS}", params
    ).df()
    return {
        count_name: rows,
        "dagster/column_schema": schema,
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
    }


# ---------------------------------------------------------------------------- reference

@dataclass(frozen=True)
class ReferenceSource:
    """A reference source of the landing folder (or the admin-units package): the tables it
    loads, the first being its main table, and how it loads them."""

    name: str
    tables: dict[str, str]  # table -> description
    load: Callable[[duckdb.DuckDBPyConnection, Path], object]
    deps: tuple[str, ...] = ()


def quarantine_description(table: str) -> str:
    quarantine = f"quarantine.{table.split('.')[1]}"
    return (f"Rows of {table}'s files set aside (table {quarantine}): file, line, reason code "
            "and the row as read.")


REFERENCE_SOURCES = (
    ReferenceSource(
        "admin_units",
        {
            table: f"{text} From the vietnamadminunits package's bundled dataset."
            for table, text in {
                "core.provinces": "Provinces before (63) and after (34) the 1 July 2025 "
                "reorganisation.",
                "core.districts": "Districts of the 63-province geography (abolished on "
                "1 July 2025).",
                "core.communes": "Communes and wards of both geographies.",
                "core.province_mapping_2025": "Each of the 63 former provinces mapped onto one "
                "of the 34.",
            }.items()
        },
        lambda con, _landing: load_admin_units(con),
    ),
    ReferenceSource(
        "agencies",
        {"core.agencies": "The agency registry, reference/agencies.csv of the landing folder, "
         "with the normalised spellings of each agency's name used to match export names.",
         "quarantine.agencies": quarantine_description("core.agencies")},
        load_agencies,
    ),
    ReferenceSource(
        "service_catalog",
        {"core.service_catalog": "Service-catalogue snapshots, "
         "`catalog/services_YYYY-MM-DD.csv`: per province, level and procedure, the service "
         "level (MucDo 2/3/4 and một phần/toàn trình as one vocabulary) and eligibility for "
         "end-to-end service.",
         "quarantine.service_catalog": quarantine_description("core.service_catalog")},
        load_catalog,
    ),
    ReferenceSource(
        "targets",
        {"core.targets": "Assigned targets, `targets/targets_YYYY.csv`: per year, province and "
         "level ('*' = every level) or named agency, a metric's minimum and stretch rates.",
         "quarantine.targets": quarantine_description("core.targets")},
        load_targets, deps=("core.agencies",),
    ),
    ReferenceSource(
        "fee_policies",
        {"core.fee_policies": "Fee-reduction policies for online filing, fees/fee_policies.csv "
         "(optional).",
         "quarantine.fee_policies": quarantine_description("core.fee_policies")},
        load_fee_policies,
    ),
)
REFERENCE_CODE_VERSION = reference_code_version()


def recorded_load(instance: dg.DagsterInstance, key: dg.AssetKey) -> tuple[str, str, int] | None:
    """The data and code versions Dagster recorded with the asset's last materialization, and
    the row count it had then."""
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return None
    materialization = event.asset_materialization
    tags, metadata = materialization.tags or {}, materialization.metadata
    rows = metadata["dagster/row_count"].value if "dagster/row_count" in metadata else -1
    return tags.get("dagster/data_version", ""), tags.get("dagster/code_version", ""), rows


@dg.multi_asset(
    name="reference_tables",
    specs=[
        dg.AssetSpec(table_key(table), group_name="reference", kinds={"duckdb"},
                     description=description, code_version=REFERENCE_CODE_VERSION,
                     deps=[table_key(dep) for dep in source.deps], skippable=True)
        for source in REFERENCE_SOURCES
        for table, description in source.tables.items()
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def reference_tables(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult]:
    """Each source is loaded when the data version of its files, the reference code version or
    its table's row count differs from what Dagster recorded at its last materialization;
    otherwise its tables are recorded again with the same data version, which tells Dagster
    nothing downstream is stale."""
    selected = context.selected_asset_keys
    with warehouse.connect() as con:
        for source in REFERENCE_SOURCES:
            keys = [table_key(table) for table in source.tables]
            if not selected & set(keys):
                continue
            version = source_version(warehouse.landing, source.name)
            # the row count tells a new warehouse under an old Dagster history
            current = (version, REFERENCE_CODE_VERSION, row_count(con, next(iter(source.tables))))
            reload = recorded_load(context.instance, keys[0]) != current
            if reload:
                load_reference_source(context, con, source, warehouse.landing)
            for table, key in zip(source.tables, keys, strict=True):
                if key in selected:
                    yield dg.MaterializeResult(
                        asset_key=key, data_version=dg.DataVersion(version),
                        metadata={**table_metadata(con, table), "reloaded": reload},
                    )


def load_reference_source(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, source: ReferenceSource,
    landing: Path,
) -> None:
    """Load one source; warn of each of its files that failed or had rows set aside."""
    try:
        source.load(con, landing)
    except ReferenceFileError as error:
        # only an unusable agencies.csv stops the run: say what to fix, in the log's own line
        # and as the step's failure, not as a traceback of our code
        context.log.error(str(error))
        raise dg.Failure(description=str(error), allow_retries=False) from None
    context.log.info(f"Reference source {source.name} loaded.")
    for message in file_messages(con, source.name):
        context.log.warning(message)


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
            "Loads the files not loaded yet (by content hash), whatever months they hold.",
        ),
        dg.AssetSpec(
            table_key("quarantine.dossier_snapshots"), group_name="ingest", kinds={"duckdb"},
            description="Export records set aside by the row rules (table "
            "quarantine.dossier_snapshots): file, position, reason.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def dossier_snapshots(
    context: dg.AssetExecutionContext, warehouse: Warehouse, gx_worker: GxWorker
) -> Iterator[dg.MaterializeResult]:
    with warehouse.connect() as con:
        # new snapshots change the rows the checks validate: GX is imported while they load
        outcomes = ingest_dossier_exports(con, warehouse.landing,
                                          before_reading=gx_worker.start_for)
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
    # written by the asset checks on the staged dossiers (defs/checks.py)
    "meta.check_results": table_key("staging.dossiers"),
    # written by every reference-file asset; a model reading it reads their quarantine
    # tables too, which puts it after all of them
    "meta.reference_files": table_key("core.agencies"),
}
SQL_MODELS = load_models()
MARTS_KEYS = [table_key(model.table) for model in SQL_MODELS if model.schema == "marts"]


def _upstream_keys(model: SqlModel) -> list[dg.AssetKey]:
    keys = {TABLE_WRITERS.get(table, table_key(table)) for table in model.depends_on}
    if DOSSIER_TABLE in model.depends_on:
        # the months of the exports, so that a month with new exports shows as stale
        keys.add(LANDING_EXPORTS)
    return sorted(keys)


def _checks_on(table: str, selected: set[dg.AssetCheckKey]) -> list[QualityCheck]:
    return [check for check in QUALITY_CHECKS
            if check.table == table and check_key(check) in selected]


@dg.multi_asset(
    name="sql_models",
    specs=[
        dg.AssetSpec(
            table_key(model.table), group_name=model.group, description=model.description,
            deps=_upstream_keys(model), kinds={"duckdb", "sql"}, skippable=True,
            metadata={"sql_file": model.path.name, "replace": model.replace,
                      "dagster/table_name": model.table},
        )
        for model in SQL_MODELS
    ],
    check_specs=QUALITY_CHECK_SPECS,
    can_subset=True,
    # the checks of the report rows, written by the ingest, run here with the run's months
    allow_arbitrary_check_specs=True,
    **PARTITIONED,
)
def sql_models(
    context: dg.AssetExecutionContext, warehouse: Warehouse, gx_worker: GxWorker
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The selected models of dbt_like_sql/ in dependency order, each table's checks right
    after it. A failing blocking check stops the models downstream of its table (the others
    still run) and fails the step."""
    window, selected = checked_window(context), context.selected_asset_keys
    checks = set(context.selected_asset_check_keys)
    full_refresh = context.run.tags.get(FULL_REFRESH_TAG) == "true"
    blocked: set[dg.AssetKey] = set()
    why: list[str] = []
    # the months whose recorded versions tell which models need computing again
    partitions = (context.partition_keys if context.has_partition_key_range and not full_refresh
                  else [])
    with warehouse.connect() as con:
        written_here = {table_key(model.table) for model in SQL_MODELS} & selected
        yield from _checked(
            con, [check for check in QUALITY_CHECKS
                  if check_key(check) in checks and table_key(check.table) not in written_here],
            window, blocked, why, context.instance, gx_worker)
        settings = warehouse.model_settings()
        versions = ModelVersions(context.instance, con, SQL_MODELS, settings, context.run_id)
        for model in SQL_MODELS:
            key = table_key(model.table)
            if key not in selected:
                continue
            if blocked & set(_upstream_keys(model)):
                blocked.add(key)
                continue
            inputs = versions.inputs(model)
            if partitions and (recorded := versions.unchanged(model, inputs, partitions)):
                yield dg.MaterializeResult(
                    asset_key=key, data_version=dg.DataVersion(recorded.version),
                    metadata={**recorded.metadata, **versions.metadata(model, recomputed=False)},
                )
            else:
                yield _computed(context, con, model, window, settings, versions, inputs,
                                full_refresh)
            yield from _checked(con, _checks_on(model.table, checks), window, blocked, why,
                                context.instance, gx_worker)
    # the run's checks are done: the worker exits while the run publishes
    gx_worker.let_go()
    if blocked:
        names = ", ".join(key.to_user_string() for key in sorted(blocked))
        raise dg.Failure(f"A blocking check failed ({'; '.join(why)}); not written: {names}; "
                         "the serving file keeps its last published figures. See the Checks "
                         "tab.")


def _computed(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, model: SqlModel,
    window: Window, settings: Mapping[str, object], versions: ModelVersions, inputs: str,
    full_refresh: bool,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    written = run_model(con, model, window, settings, run_id=context.run_id,
                        full_refresh=full_refresh)
    # one step writes every model: each one's time, for the UI and the benchmark
    seconds = round(time.perf_counter() - started, 2)
    versions.computed(model)
    return dg.MaterializeResult(
        asset_key=table_key(model.table),
        data_version=dg.DataVersion(versions.version(model, inputs)),
        metadata={"rows_written": written, "seconds": seconds,
                  **table_metadata(con, model.table, window, model.window_predicate()),
                  **versions.metadata(model, recomputed=True)},
    )


def _checked(
    con: duckdb.DuckDBPyConnection, checks: list[QualityCheck], window: Window,
    blocked: set[dg.AssetKey], why: list[str], instance: dg.DagsterInstance,
    gx_worker: GxWorker,
) -> Iterator[dg.AssetCheckResult]:
    """Evaluate checks of rows nothing writes in between, a query they share run once; a
    failing blocking check blocks its table's downstream models and says why in `why`."""
    shared: dict[str, pd.DataFrame] = {}
    for check in checks:
        result = evaluate_check(con, check, window, instance, gx_worker, shared)
        if check.blocking and not result.passed:
            blocked.add(table_key(check.table))
            why.append(f"{check.name}: {result.description}")
        yield result

