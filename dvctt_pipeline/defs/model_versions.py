"""Whether a SQL model's months must be computed again, from Dagster's record of them.

Each materialization of a model's month records a data version: a digest of what the rows
were computed from — the model's SQL and the macros, its parameters, the content of the
tables it reads that no model writes (for the dossier snapshots, the loaded files of
meta.source_files, which also tells a rebuilt warehouse), for each model it reads the run that
last computed that model's rows, and the size of its own table once written. A run computes a
model's months again unless the version recorded for every month of the run's range equals
the one its inputs give now: then its rows would come out the same, and the run records the
last materialization again, with `recomputed: false`.

A model that is computed again counts as changed for the models that read it, whichever
months it wrote (the run that computed it is part of their version): a model's rows may read
other months of its parents (year-to-date periods from January, rankings a year back), so only
an untouched parent is an unchanged input. A model whose parent this run computed is computed
again without reading Dagster's record of its months (no version recorded before can name
this run).
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg
import duckdb
from dagster._core.events import DagsterEventType

from dvctt_pipeline.defs.data_versions import recorded_version
from dvctt_pipeline.defs.keys import table_key
from dvctt_pipeline.models.sql_models import DOSSIER_TABLE, MACROS_DIR, SqlModel
from dvctt_pipeline.warehouse import table_exists

CHECK_RESULTS = "meta.check_results"
# the metadata entry naming the run that last computed the model's rows
COMPUTED_IN_RUN = "computed_in_run"
# the ingest's record of the dossier files: it changes whenever the snapshots do
SOURCE_FILES_SQL = ("SELECT count(*), coalesce(sum(hash(file_id, content_hash, status, "
                    "loaded_at)), 0)::VARCHAR FROM meta.source_files")


def macros_text() -> str:
    return "".join(path.read_text(encoding="utf-8") for path in sorted(MACROS_DIR.glob("*.sql")))


def rows_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Row count and a digest of a table's rows (of the loaded files for the snapshots): a
    model's rows depend on these only, not on the comments and columns a served table's
    fingerprint also holds (serve/publish.py); recorded data versions are made of this text."""
    if table == DOSSIER_TABLE:
        return str(con.execute(SOURCE_FILES_SQL).fetchone())
    return str(con.execute(
        f"SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR FROM {table} AS t").fetchone())


@dataclass(frozen=True)
class Recorded:
    """The last materialization of each month of a model in a run's range."""

    versions: dict[str, str]  # partition -> data version
    metadata: Mapping[str, dg.MetadataValue]  # of the latest of them

    @property
    def version(self) -> str:
        """The version of the months, once `unchanged` found them all equal."""
        return next(iter(self.versions.values()))


def recorded_months(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions: list[str]
) -> Recorded | None:
    storage_ids = instance.event_log_storage.get_latest_storage_id_by_partition(
        key, DagsterEventType.ASSET_MATERIALIZATION, set(partitions))
    if set(storage_ids) != set(partitions):
        return None
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=list(storage_ids.values())),
        limit=len(storage_ids)).records
    materializations = [record.asset_materialization for record in records]
    if len(materializations) != len(partitions) or None in materializations:
        return None
    latest = max(records, key=lambda record: record.storage_id).asset_materialization
    return Recorded({m.partition: recorded_version(m) or ""
                     for m in materializations if m.partition},
                    latest.metadata)


class ModelVersions:
    """The versions of one run's models, in dependency order."""

    def __init__(self, instance: dg.DagsterInstance, con: duckdb.DuckDBPyConnection,
                 models: tuple[SqlModel, ...], settings: Mapping[str, object],
                 run_id: str) -> None:
        self.instance, self.con, self.run_id = instance, con, run_id
        self.models = {model.table: model for model in models}
        self.shared = repr((macros_text(), sorted(settings.items())))
        latest = instance.get_latest_materialization_events(
            [table_key(table) for table in self.models])
        # the run that last computed each model; updated as this run computes them
        self.computed_in: dict[str, str] = {}
        for table in self.models:
            event = latest.get(table_key(table))
            materialization = event.asset_materialization if event else None
            run = materialization.metadata.get(COMPUTED_IN_RUN) if materialization else None
            self.computed_in[table] = str(run.value) if run else "never"
        # tables no model writes keep their content through the step (but for the check
        # results, which the checks write between models)
        self.fingerprints: dict[str, str] = {}

    def inputs(self, model: SqlModel) -> str:
        """What the model's rows are computed from, now."""
        parts = [model.sql, self.shared]
        for table in sorted(model.depends_on):
            if table in self.models:
                parts.append(f"{table} computed in {self.computed_in[table]}")
            else:
                parts.append(f"{table} {self.fingerprint(table)}")
        return "\n".join(parts)

    def fingerprint(self, table: str) -> str:
        if table == CHECK_RESULTS:
            return rows_fingerprint(self.con, table)
        if table not in self.fingerprints:
            self.fingerprints[table] = rows_fingerprint(self.con, table)
        return self.fingerprints[table]

    def version(self, model: SqlModel, inputs: str) -> str:
        """The inputs and the size of the model's own table, as a data version."""
        size = (self.con.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]
                if table_exists(self.con, model.schema, model.name) else -1)
        return hashlib.sha256(f"{inputs}\n{size}".encode()).hexdigest()[:24]

    def unchanged(self, model: SqlModel, inputs: str, partitions: list[str]) -> Recorded | None:
        """The recorded months, if every one of them was computed from these inputs."""
        if any(self.computed_in.get(table) == self.run_id for table in model.depends_on):
            return None
        recorded = recorded_months(self.instance, table_key(model.table), partitions)
        if recorded is None:
            return None
        version = self.version(model, inputs)
        if any(recorded.versions.get(partition) != version for partition in partitions):
            return None
        return recorded

    def computed(self, model: SqlModel) -> None:
        self.computed_in[model.table] = self.run_id

    def metadata(self, model: SqlModel, recomputed: bool) -> dict[str, object]:
        """Whether the run computed the model's rows, and the run that last did (a month
        recorded again carries the table's, not its own: the models that read this one
        compare it with the run they were computed after)."""
        return {"recomputed": recomputed, COMPUTED_IN_RUN: self.computed_in[model.table]}
