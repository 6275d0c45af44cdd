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
The new rows are computed first, then deleted-and-inserted in one transaction, so a re-run
of the same window with the same inputs gives the same rows, and a run that dies leaves the
previous rows in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import sqlglot
import yaml
from sqlglot import exp

SQL_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql"
_HEADER = re.compile(r"^\s*/\*(?P<header>.*?)\*/(?P<body>.*)$", re.DOTALL)
_MONTH_WINDOW = re.compile(r"^months of (?P<column>\w+)$")


class ModelDefinitionError(ValueError):
    """A SQL model file that does not follow the conventions above."""


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

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    def window_predicate(self) -> str | None:
        """SQL condition selecting the rows a run of the window replaces; None for all rows."""
        if self.replace == "all":
            return None
        if self.replace == "periods":
            return "period_start < $window_end AND period_end >= $window_start"
        column = _MONTH_WINDOW.match(self.replace)["column"]
        return f"{column} >= $window_start AND {column} < $window_end"


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
    return SqlModel(
        path=path,
        table=header["table"],
        group=header.get("group", header["table"].split(".")[0]),
        description=" ".join(str(header["description"]).split()),
        replace=replace,
        columns={name: " ".join(str(text).split()) for name, text in header["columns"].items()},
        sql=body,
        depends_on=depends_on,
        parameters=parameters,
    )


@cache
def load_models(sql_dir: Path = SQL_DIR) -> tuple[SqlModel, ...]:
    """Every model, in an order where each comes after the models it reads."""
    models = {model.table: model for model in map(_parse_model, sorted(sql_dir.rglob("*.sql")))}
    graph = {
        table: {dep for dep in model.depends_on if dep in models}
        for table, model in models.items()
    }
    return tuple(models[table] for table in TopologicalSorter(graph).static_order())


@dataclass(frozen=True)
class Window:
    """Months [start, end): the partition range a run covers."""

    start: date
    end: date


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ensure_table(con: duckdb.DuckDBPyConnection, model: SqlModel) -> None:
    """Create the table from the model's columns, or rebuild it if the model's columns changed."""
    expected = [row[0] for row in con.execute("DESCRIBE SELECT * FROM new_rows").fetchall()]
    existing = [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = $schema AND table_name = $name ORDER BY ordinal_position",
            {"schema": model.schema, "name": model.name},
        ).fetchall()
    ]
    if existing == expected:
        return
    con.execute(f"DROP TABLE IF EXISTS {model.table}")
    con.execute(f"CREATE TABLE {model.table} AS SELECT * FROM new_rows LIMIT 0")
    _document(con, model, expected)


def _document(con: duckdb.DuckDBPyConnection, model: SqlModel, columns: list[str]) -> None:
    """COMMENT ON the table and its columns, so BI tools show the documentation."""
    undocumented = [column for column in columns if column not in model.columns]
    if undocumented:
        raise ModelDefinitionError(
            f"{model.path}: document the columns {', '.join(undocumented)} in the header."
        )
    con.execute(f"COMMENT ON TABLE {model.table} IS {_quote(model.description)}")
    for column in columns:
        con.execute(
            f"COMMENT ON COLUMN {model.table}.{column} IS {_quote(model.columns[column])}"
        )


def run_model(
    con: duckdb.DuckDBPyConnection, model: SqlModel, window: Window, settings: dict[str, object]
) -> int:
    """Replace the model's rows for the window; returns the number of rows written."""
    window_values = {"window_start": window.start, "window_end": window.end}
    values = {**window_values, **settings}
    unknown = model.parameters - values.keys()
    if unknown:
        names = ", ".join(sorted(unknown))
        raise ModelDefinitionError(f"{model.path}: unknown parameters {names}.")
    con.execute("BEGIN")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE new_rows AS {model.sql}",
            {name: values[name] for name in model.parameters},
        )
        _ensure_table(con, model)
        predicate = model.window_predicate()
        if predicate:
            outside = con.execute(
                f"SELECT count(*) FROM new_rows WHERE NOT ({predicate})", window_values
            ).fetchone()[0]
            if outside:
                raise ModelDefinitionError(
                    f"{model.path}: {outside} rows fall outside the window it replaces."
                )
            con.execute(f"DELETE FROM {model.table} WHERE {predicate}", window_values)
        else:
            con.execute(f"DELETE FROM {model.table}")
        con.execute(f"INSERT INTO {model.table} BY NAME SELECT * FROM new_rows")
        written = con.execute("SELECT count(*) FROM new_rows").fetchone()[0]
        con.execute("DROP TABLE new_rows")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return written

