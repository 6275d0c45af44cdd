"""Read the SQL models of `dbt_like_sql/` and run them against the warehouse.

A model is one `.sql` file: a header comment in YAML that documents the table and its
columns, then one SELECT. The table it writes and how much of it a run replaces come from
the header; the tables it reads and the parameters it takes are found by parsing the SQL
with sqlglot.

How a run replaces rows (`replace:` in the header):
- `all`: the whole table (small reference-like tables);
- `months of <column>`: rows whose <column> (a month's first day) falls in the window;
- `periods`: rows whose [period_start, period_end] overlaps the window, so that the
  year-to-date and year figures that include a refreshed month are refreshed too.
The window's rows are deleted and the model's rows inserted in one transaction, so a re-run
of the same window with the same inputs gives the same rows, and a run that dies (or a model
that gives a row outside its window) leaves the previous rows in place.

Incremental models (`incremental: <key column>` in the header, staging.dossiers) recompute
only the keys (dossiers) that have a snapshot in a dossier file loaded since the window's
months were last computed: the model takes `$after_file_id`, the last file of that previous
run, and the run replaces only those keys' rows of the window. `meta.incremental_state`
remembers per month the last file, how many files were loaded then and a fingerprint of the
model's other inputs; when a file was superseded since, the other inputs changed (a new
agencies.csv) or a month has no state, `$after_file_id` is 0 and the whole window is
recomputed. A daily export then costs the dossiers it touches, not the month's millions.

Restatements: before a marts model replaces rows of a closed month (one before the running
month, Vietnam time), its new rows are computed first and its old rows compared with them on
the table's grain, the columns that identify a row (`grain:` in its header; period_end too,
since the year-to-date periods of a year share their period_start); every number that moved
is written to `meta.restatements`, so analysts can see why a published figure changed. Other
models insert their rows straight from their query.

A model whose plan DuckDB gets wrong can name optimizers to switch off while it runs
(`disabled_optimizers:` in the header, with a comment in the model saying why). A model of
millions of rows can fix its text columns' compression (`compression: {method: [column, ...]}`),
which DuckDB would otherwise choose by trying every method on each row group as it writes them;
a DuckLake's Parquet files are compressed by their writer and ignore it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path
from types import MappingProxyType

import duckdb
import sqlglot
import yaml
from sqlglot import exp

from dvctt_pipeline.months import months_between, running_month
from dvctt_pipeline.sqltext import quote_identifier, quote_literal
from dvctt_pipeline.warehouse import is_lake, retry_on_lake_conflict, transaction

SQL_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql"
# Definitions shared by models (DuckDB macros), created on the connection before a model runs.
MACROS_DIR = SQL_DIR / "macros"
# The columns of the tables models read but do not build (raw, reference, quarantine, meta),
# documented as the models' headers document theirs.
SOURCES_FILE = SQL_DIR / "sources.yml"
_HEADER = re.compile(r"^\s*/\*(?P<header>.*?)\*/(?P<body>.*)$", re.DOTALL)
_MONTH_WINDOW = re.compile(r"^months of (?P<column>\w+)$")
# Figures are compared as DOUBLE; a rate recomputed from the same counts is equal to well
# within this, a changed one differs by far more.
_TOLERANCE = 1e-9
# The parameter of incremental models: the last dossier file their previous run had seen.
AFTER_FILE_ID = "after_file_id"
DOSSIER_TABLE = "raw.dossier_snapshots"
# The registry of the files the snapshots come from: like the snapshots, followed by file id
# (meta.incremental_state), not by a fingerprint of its rows, which every ingest changes.
SOURCE_FILES_TABLE = "meta.source_files"
# The run tag that lets a model whose columns changed drop and rebuild its table.
FULL_REFRESH_TAG = "dvctt/full_refresh"
# What a number means (`units:` in a header, for the data dictionary); other columns' types
# say it (text, date, boolean).
UNITS = ("count", "fraction", "percentage_points", "percent", "rank", "year")
# The methods a header may fix for a text column (`compression:`): values that repeat, or not.
COMPRESSIONS = ("dictionary", "fsst")


class ModelDefinitionError(ValueError):
    """A SQL model file that does not follow the conventions above."""


class ModelSchemaChanged(ModelDefinitionError):
    """A model whose columns are no longer those of its stored table."""


@dataclass(frozen=True)
class SqlModel:
    path: Path
    table: str
    group: str
    description: str
    replace: str
    columns: dict[str, str]
    sql: str
    depends_on: frozenset[str]
    parameters: frozenset[str]
    incremental: str | None = None  # key column of an incremental model
    grain: tuple[str, ...] = ()  # the columns that identify a row
    units: dict[str, str] = field(default_factory=dict)  # column -> one of UNITS
    disabled_optimizers: tuple[str, ...] = ()  # DuckDB optimizers off while it runs
    compression: dict[str, str] = field(default_factory=dict)  # column -> one of COMPRESSIONS

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    def window_columns(self) -> tuple[str, ...]:
        """The columns the window's predicates read: none for a model that replaces all its
        rows, the period's bounds for one that replaces periods, else its month column."""
        if self.replace == "all":
            return ()
        if self.replace == "periods":
            return ("period_start", "period_end")
        return (_MONTH_WINDOW.match(self.replace)["column"],)

    def window_predicate(self) -> str | None:
        """SQL condition selecting the rows a run of the window replaces; None for all rows."""
        match self.window_columns():
            case ():
                return None
            case (start, end):
                return f"{start} < $window_end AND {end} >= $window_start"
            case (month,):
                return f"{month} >= $window_start AND {month} < $window_end"

    def closed_predicate(self) -> str | None:
        """SQL condition selecting rows of closed months (before $running_month)."""
        columns = self.window_columns()
        # a period is closed when it ends before the running month, a month when it is before
        return f"{columns[-1]} < $running_month" if columns else None


def _parse_model(path: Path) -> SqlModel:
    match = _HEADER.match(path.read_text(encoding="utf-8"))
    if not match:
        raise ModelDefinitionError(f"{path}: must start with a /* YAML header */ comment.")
    header = yaml.safe_load(match["header"])
    missing = {"table", "description", "replace", "columns"} - set(header)
    if missing:
        raise ModelDefinitionError(f"{path}: header lacks {', '.join(sorted(missing))}.")
    replace = header["replace"]
    if replace not in ("all", "periods") and not _MONTH_WINDOW.match(replace):
        raise ModelDefinitionError(
            f"{path}: replace must be 'all', 'periods' or 'months of <column>', not {replace!r}."
        )
    body = match["body"].strip().rstrip(";")
    tree = sqlglot.parse_one(body, read="duckdb")
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    depends_on = frozenset(
        f"{table.db}.{table.name}"
        for table in tree.find_all(exp.Table)
        if table.db and table.name not in cte_names
    )
    parameters = frozenset(placeholder.name for placeholder in tree.find_all(exp.Placeholder))
    incremental = header.get("incremental")
    if incremental and (AFTER_FILE_ID not in parameters or not _MONTH_WINDOW.match(replace)):
        raise ModelDefinitionError(
            f"{path}: an incremental model replaces 'months of <column>' and reads only the "
            f"dossiers of files after ${AFTER_FILE_ID}."
        )
    grain = tuple(header.get("grain", ()))
    undocumented = [column for column in grain if column not in header["columns"]]
    if undocumented:
        raise ModelDefinitionError(f"{path}: the grain names undocumented columns "
                                   f"{', '.join(undocumented)}.")
    units = _columns_by_value(path, header, "units", UNITS)
    if header["table"].startswith("marts.") and replace != "all" and not grain:
        raise ModelDefinitionError(f"{path}: a marts model that replaces a window declares its "
                                   "grain (the columns that identify a row), for restatements.")
    return SqlModel(
        path=path,
        table=header["table"],
        group=header.get("group", header["table"].split(".")[0]),
        description=_one_line(header["description"]),
        replace=replace,
        columns=_column_docs(header["columns"]),
        sql=body,
        depends_on=depends_on,
        parameters=parameters,
        incremental=incremental,
        grain=grain,
        units=units,
        disabled_optimizers=tuple(header.get("disabled_optimizers", ())),
        compression=_columns_by_value(path, header, "compression", COMPRESSIONS),
    )


def _columns_by_value(
    path: Path, header: dict, key: str, allowed: tuple[str, ...]
) -> dict[str, str]:
    """`<key>: {value: [column, ...]}` of the header (units, compression), as column -> value."""
    by_column = {}
    for value, columns in header.get(key, {}).items():
        if value not in allowed:
            raise ModelDefinitionError(f"{path}: {key}: {value!r} is not one of "
                                       f"{', '.join(allowed)}.")
        by_column |= dict.fromkeys(columns, value)
    undocumented = sorted(set(by_column) - set(header["columns"]))
    if undocumented:
        raise ModelDefinitionError(f"{path}: {key} name undocumented columns "
                                   f"{', '.join(undocumented)}.")
    return by_column


@cache
def load_models(sql_dir: Path = SQL_DIR) -> tuple[SqlModel, ...]:
    """Every model, in an order where each comes after the models it reads."""
    files = sorted(path for path in sql_dir.rglob("*.sql") if MACROS_DIR not in path.parents)
    models = {model.table: model for model in map(_parse_model, files)}
    graph = {
        table: {dep for dep in model.depends_on if dep in models}
        for table, model in models.items()
    }
    return tuple(models[table] for table in TopologicalSorter(graph).static_order())


@cache
def models_by_table() -> Mapping[str, SqlModel]:
    """Every model of the project's SQL folder, by the table it writes; read-only, as every
    caller shares the one cached mapping."""
    return MappingProxyType({model.table: model for model in load_models()})


@cache
def source_columns(path: Path = SOURCES_FILE) -> dict[str, dict[str, str]]:
    """table -> column -> description, for the tables the pipeline loads."""
    return {table: _column_docs(columns)
            for table, columns in yaml.safe_load(path.read_text(encoding="utf-8")).items()}


def _column_docs(columns: Mapping[str, object]) -> dict[str, str]:
    """column -> description, each description on one line (YAML folds or keeps line ends)."""
    return {column: _one_line(text) for column, text in columns.items()}


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def define_macros(con: duckdb.DuckDBPyConnection, macros_dir: Path = MACROS_DIR) -> None:
    for path in sorted(macros_dir.glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Window:
    """Months [start, end): the partition range a run covers."""

    start: date
    end: date

    def months(self) -> list[date]:
        """The first day of each month of the window."""
        return [month for month in months_between(self.start, self.end) if month < self.end]


# Sums of BIGINT counts are HUGEINT in DuckDB; BI drivers (ODBC, older JDBC) handle 128-bit
# integers badly, and no count comes near 2^63, so tables store them as BIGINT.
_STORED_TYPES = {"HUGEINT": "BIGINT"}


def _model_columns(
    con: duckdb.DuckDBPyConnection, model: SqlModel, values: Mapping[str, object]
) -> list[tuple[str, str]]:
    """(name, stored type) of each column the model's query gives (bound, not run)."""
    return [
        (name, _STORED_TYPES.get(data_type, data_type))
        for name, data_type, *_ in con.execute(
            f"DESCRIBE {model.sql}", {name: values[name] for name in model.parameters}
        ).fetchall()
    ]


def _ensure_table(
    con: duckdb.DuckDBPyConnection, model: SqlModel, values: Mapping[str, object],
    full_refresh: bool,
) -> bool:
    """Create the table from the model's columns; whether it was (re)created empty. A table
    whose columns differ from the model's holds rows of another version of the model: it is
    rebuilt only on a full refresh, else the run fails and says so."""
    expected = _model_columns(con, model, values)
    existing = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = $schema AND table_name = $name ORDER BY ordinal_position",
        {"schema": model.schema, "name": model.name},
    ).fetchall()
    if existing == expected:
        return False
    if existing and not full_refresh:
        changed = sorted(set(existing) ^ set(expected))
        raise ModelSchemaChanged(
            f"{model.table}: the model's columns changed ({', '.join(map(str, changed))}), so "
            "its stored rows come from another version of the model. Rebuild it: backfill "
            f"every month with the run tag {FULL_REFRESH_TAG}=true."
        )
    con.execute(f"DROP TABLE IF EXISTS {model.table}")
    con.execute("DELETE FROM meta.incremental_state WHERE table_name = $table",
                {"table": model.table})
    compression = {} if is_lake(con) else model.compression
    definitions = ", ".join(
        f"{quote_identifier(name)} {data_type}"
        + (f" USING COMPRESSION {compression[name]}" if name in compression else "")
        for name, data_type in expected)
    con.execute(f"CREATE TABLE {model.table} ({definitions})")
    _document(con, model, [name for name, _ in expected])
    return True


def _document(con: duckdb.DuckDBPyConnection, model: SqlModel, columns: list[str]) -> None:
    """COMMENT ON the table and its columns, so BI tools show the documentation."""
    undocumented = [column for column in columns if column not in model.columns]
    if undocumented:
        raise ModelDefinitionError(
            f"{model.path}: document the columns {', '.join(undocumented)} in the header."
        )
    con.execute(f"COMMENT ON TABLE {model.table} IS {quote_literal(model.description)}")
    for column in columns:
        con.execute(
            f"COMMENT ON COLUMN {model.table}.{column} IS {quote_literal(model.columns[column])}"
        )


_NUMERIC_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE",
}


def _numeric_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("DESCRIBE SELECT * FROM new_rows").fetchall()
    return [
        name for name, kind, *_ in rows
        if kind in _NUMERIC_TYPES or kind.startswith("DECIMAL")
    ]


def _moved(old_value: str, new_value: str) -> str:
    """SQL condition: a figure (as DOUBLE) that moved, appeared or disappeared."""
    return (f"({old_value} IS NULL) <> ({new_value} IS NULL) "
            f"OR abs({old_value} - {new_value}) > {_TOLERANCE}")


def _restatements_sql(model: SqlModel, key: list[str], figures: list[str]) -> str:
    """Old rows of the window's closed months joined to their new rows on the key, unnested
    into one row per figure that moved (or whose row is gone)."""
    row_key = ", ".join(f"concat('{column}=', old.{column})" for column in key)
    joined_on = " AND ".join(f"old.{column} IS NOT DISTINCT FROM new.{column}" for column in key)
    cells = ", ".join(
        f"{{'column_name': '{column}', 'old_value': old.{column}::DOUBLE, "
        f"'new_value': new.{column}::DOUBLE}}"
        for column in figures
    )
    # the cells' own condition, asked of each row first: a run leaves most rows' figures as
    # they were, and unnesting every row of the window into one row per figure was most of
    # the statement's time (the same cells pass)
    row_moved = " OR ".join(
        f"({_moved(f'old.{column}::DOUBLE', f'new.{column}::DOUBLE')})" for column in figures
    )
    return f"""
        INSERT INTO meta.restatements
            (table_name, row_key, column_name, old_value, new_value, run_id, restated_at)
        SELECT $table, row_key, cell.column_name, cell.old_value, cell.new_value, $run_id,
               current_timestamp
        FROM (
            SELECT concat_ws(', ', {row_key}) AS row_key, unnest([{cells}]) AS cell
            FROM (
                SELECT * FROM {model.table}
                WHERE ({model.window_predicate()}) AND ({model.closed_predicate()})
            ) AS old
            LEFT JOIN new_rows AS new ON {joined_on}
            WHERE {row_moved}
        )
        WHERE {_moved("cell.old_value", "cell.new_value")}
    """


def _record_restatements(
    con: duckdb.DuckDBPyConnection, model: SqlModel, window: Window, run_id: str | None
) -> None:
    """Write to meta.restatements every published figure of a closed month the run changes."""
    key = list(model.grain)
    figures = [column for column in _numeric_columns(con) if column not in key]
    if not figures:
        return
    duplicated = con.execute(
        f"SELECT count(*) FROM (SELECT {', '.join(key)} FROM new_rows "
        "GROUP BY ALL HAVING count(*) > 1)"
    ).fetchone()[0]
    if duplicated:
        raise ModelDefinitionError(
            f"{model.path}: {duplicated} keys ({', '.join(key)}) have several rows; the grain "
            "of its header must identify a row."
        )
    con.execute(
        _restatements_sql(model, key, figures),
        {"window_start": window.start, "window_end": window.end,
         "running_month": running_month(), "table": model.table, "run_id": run_id},
    )


def _inputs_hash(con: duckdb.DuckDBPyConnection, model: SqlModel) -> int:
    """A fingerprint of every table the model reads besides the dossier snapshots and their
    files."""
    others = sorted(model.depends_on - {DOSSIER_TABLE, SOURCE_FILES_TABLE})
    return sum(
        con.execute(f"SELECT coalesce(sum(hash(t)), 0)::HUGEINT FROM {table} AS t").fetchone()[0]
        for table in others
    )


def _dossier_files(con: duckdb.DuckDBPyConnection, up_to: int | None = None) -> tuple[int, int]:
    """The last dossier file id loaded and how many are loaded (up to a file id)."""
    return con.execute(
        f"SELECT coalesce(max(file_id), 0), count(*) FROM {SOURCE_FILES_TABLE} "
        "WHERE kind = 'dossiers' AND status = 'loaded' AND file_id <= coalesce($up_to, file_id)",
        {"up_to": up_to},
    ).fetchone()


def _after_file_id(
    con: duckdb.DuckDBPyConnection, model: SqlModel, window: Window, inputs_hash: int
) -> int:
    """The last file every month of the window was computed with, or 0 to recompute all."""
    states = con.execute(
        "SELECT last_file_id, files_loaded, inputs_hash FROM meta.incremental_state "
        "WHERE table_name = $table AND month >= $start AND month < $end",
        {"table": model.table, "start": window.start, "end": window.end},
    ).fetchall()
    if len(states) != len(window.months()) or any(row[2] != inputs_hash for row in states):
        return 0
    # the months of one run share their state: each distinct one is checked once
    for last_file_id, files_loaded in {(row[0], row[1]) for row in states}:
        if _dossier_files(con, last_file_id)[1] != files_loaded:
            return 0
    return min(row[0] for row in states)


def _save_incremental_state(
    con: duckdb.DuckDBPyConnection, model: SqlModel, window: Window, inputs_hash: int
) -> None:
    last_file_id, files_loaded = _dossier_files(con)
    con.execute(
        "DELETE FROM meta.incremental_state "
        "WHERE table_name = $table AND month >= $start AND month < $end",
        {"table": model.table, "start": window.start, "end": window.end},
    )
    con.executemany(
        "INSERT INTO meta.incremental_state VALUES (?, ?, ?, ?, ?)",
        [(model.table, month, last_file_id, files_loaded, inputs_hash)
         for month in window.months()],
    )


def _replaced_rows(
    model: SqlModel, window: Window, after_file_id: int
) -> tuple[str, dict[str, object]]:
    """SQL condition selecting the window's rows the run replaces, and its parameters."""
    predicate = model.window_predicate()
    values: dict[str, object] = {"window_start": window.start, "window_end": window.end}
    if model.incremental and after_file_id:
        key = model.incremental
        predicate += (f" AND {key} IN (SELECT {key} FROM {DOSSIER_TABLE} "
                      f"WHERE file_id > ${AFTER_FILE_ID})")
        values[AFTER_FILE_ID] = after_file_id
    return predicate, values


def _delete_replaced_rows(
    con: duckdb.DuckDBPyConnection, model: SqlModel, window: Window, after_file_id: int
) -> None:
    if model.window_predicate() is None:
        con.execute(f"DELETE FROM {model.table}")
        return
    replaced, replaced_values = _replaced_rows(model, window, after_file_id)
    con.execute(f"DELETE FROM {model.table} WHERE {replaced}", replaced_values)


def _outside_window(model: SqlModel, count: int | None = None) -> ModelDefinitionError:
    rows = f"{count} rows" if count is not None else "rows"
    return ModelDefinitionError(f"{model.path}: {rows} fall outside the window it replaces.")


# The error a row outside its model's window raises inside the insert (_insert_directly).
_OUTSIDE_WINDOW_MARK = "dvctt: a row outside the window"


@contextmanager
def _optimizers_disabled(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> Iterator[None]:
    """Switch DuckDB optimizers off for the statements inside, then back to what they were.
    DuckDB sets this option for the whole database, not a connection: the step that runs the
    models is the only one using the warehouse then. Outside the model's transaction: a
    failed statement aborts it, and the setting could not be given back inside it."""
    if not names:
        yield
        return
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    disabled = ",".join(filter(None, (before, *names)))
    con.execute(f"SET disabled_optimizers = {quote_literal(disabled)}")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {quote_literal(before)}")


def run_model(
    con: duckdb.DuckDBPyConnection, model: SqlModel, window: Window,
    settings: Mapping[str, object], run_id: str | None = None, full_refresh: bool = False,
) -> int:
    """Replace the model's rows for the window, recording restatements of closed months (with
    the Dagster run's id); returns the number of rows written. `full_refresh` rebuilds a
    table whose columns changed. On a DuckLake, a run writing the same table at the same time
    makes the replacement start again from the rows that run committed."""
    with _optimizers_disabled(con, model.disabled_optimizers):
        return retry_on_lake_conflict(
            lambda: _replace_window(con, model, window, settings, run_id, full_refresh)
        )


def _records_restatements(model: SqlModel) -> bool:
    """Whether the model publishes figures of months that can close (a marts table replacing
    months or periods), whose changes are recorded."""
    return model.schema == "marts" and model.closed_predicate() is not None


def _replace_window(
    con: duckdb.DuckDBPyConnection, model: SqlModel, window: Window, settings: dict[str, object],
    run_id: str | None, full_refresh: bool,
) -> int:
    values = {"window_start": window.start, "window_end": window.end, **settings}
    define_macros(con)
    with transaction(con):
        if model.incremental:
            inputs_hash = _inputs_hash(con, model)
            values[AFTER_FILE_ID] = _after_file_id(con, model, window, inputs_hash)
        unknown = model.parameters - values.keys()
        if unknown:
            names = ", ".join(sorted(unknown))
            raise ModelDefinitionError(f"{model.path}: unknown parameters {names}.")
        if _ensure_table(con, model, values, full_refresh) and values.get(AFTER_FILE_ID):
            # a rebuilt table is empty: an incremental run must fill the whole window
            values[AFTER_FILE_ID] = 0
        if _records_restatements(model):
            written = _replace_through_new_rows(con, model, window, values, run_id)
        else:
            _delete_replaced_rows(con, model, window, values.get(AFTER_FILE_ID, 0))
            written = _insert_directly(con, model, values)
        if model.incremental:
            _save_incremental_state(con, model, window, inputs_hash)
    return written


def _insert_directly(
    con: duckdb.DuckDBPyConnection, model: SqlModel, values: Mapping[str, object]
) -> int:
    """Insert the model's rows straight from its query; the number of rows. Copying them to a
    temporary table first, to check them there, cost a third of `staging.dossiers` at
    national scale: a row outside the window stops the insert itself (and rolls the run's
    replacement back) instead."""
    query = f"SELECT * FROM ({model.sql})"
    parameters = {name: values[name] for name in model.parameters}
    if predicate := model.window_predicate():
        query += (f" WHERE CASE WHEN NOT ({predicate}) "
                  f"THEN error({quote_literal(_OUTSIDE_WINDOW_MARK)}) ELSE true END")
        parameters |= {"window_start": values["window_start"],
                       "window_end": values["window_end"]}
    try:
        return con.execute(f"INSERT INTO {model.table} BY NAME {query}", parameters).fetchone()[0]
    except duckdb.InvalidInputException as error:
        if _OUTSIDE_WINDOW_MARK not in str(error):
            raise
        raise _outside_window(model) from None


def _replace_through_new_rows(
    con: duckdb.DuckDBPyConnection, model: SqlModel, window: Window,
    values: dict[str, object], run_id: str | None,
) -> int:
    """Compute the new rows first, so that the figures of closed months they change are
    recorded (restatements) before the old rows are deleted."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE new_rows AS {model.sql}",
        {name: values[name] for name in model.parameters},
    )
    outside = con.execute(
        f"SELECT count(*) FROM new_rows WHERE NOT ({model.window_predicate()})",
        {"window_start": window.start, "window_end": window.end},
    ).fetchone()[0]
    if outside:
        raise _outside_window(model, outside)
    _record_restatements(con, model, window, run_id)
    _delete_replaced_rows(con, model, window, values.get(AFTER_FILE_ID, 0))
    con.execute(f"INSERT INTO {model.table} BY NAME SELECT * FROM new_rows")
    written = con.execute("SELECT count(*) FROM new_rows").fetchone()[0]
    con.execute("DROP TABLE new_rows")
    return written
