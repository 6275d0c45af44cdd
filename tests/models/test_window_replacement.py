"""A model's run replaces its window's rows, and only with rows of that window: a model that
gives a row outside it fails, says so, and leaves the rows it had."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.models.sql_models import (
    ModelDefinitionError,
    SqlModel,
    Window,
    load_models,
    run_model,
)
from dvctt_pipeline.warehouse import ensure_base_tables

MARCH = Window(date(2022, 3, 1), date(2022, 4, 1))
APRIL = Window(date(2022, 4, 1), date(2022, 5, 1))
# one row per month of `months`, a model table: `core` inserts straight from its query, a
# `marts` table that replaces months first computes its rows to record restatements
MODEL = """/*
table: {schema}.test_window
replace: months of month
grain: [month]
description: One row per month.
columns:
  month: Month
  dossiers: Dossiers
*/
SELECT month, dossiers FROM test.months WHERE month >= {first}
"""


def model_from(tmp_path: Path, schema: str, first: str = "$window_start") -> SqlModel:
    # a folder per version of the model: load_models keeps what it read of a folder
    folder = tmp_path / str(abs(hash(first))) / "sql" / schema
    folder.mkdir(parents=True)
    (folder / "test_window.sql").write_text(MODEL.format(schema=schema, first=first),
                                            encoding="utf-8")
    (model,) = load_models(folder.parent)
    return model


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_base_tables(con)
    con.execute("CREATE SCHEMA test")
    con.execute("CREATE TABLE test.months AS SELECT * FROM (VALUES (DATE '2022-03-01', 10), "
                "(DATE '2022-04-01', 20)) AS t(month, dossiers)")
    return con


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT month, dossiers FROM {table} ORDER BY month").fetchall()


@pytest.mark.parametrize("schema", ["core", "marts"])
def test_a_run_replaces_the_rows_of_its_window_only(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, schema: str
):
    # the query reads every month from the window's start: March's run gives April too
    model = model_from(tmp_path, schema, first="$window_start AND month < $window_end")
    assert run_model(con, model, APRIL, {}) == 1
    con.execute("UPDATE test.months SET dossiers = dossiers + 1")

    assert run_model(con, model, MARCH, {}) == 1

    assert rows(con, model.table) == [(date(2022, 3, 1), 11), (date(2022, 4, 1), 20)]


@pytest.mark.parametrize("schema", ["core", "marts"])
def test_a_model_giving_rows_outside_its_window_fails_and_keeps_its_rows(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, schema: str
):
    good = model_from(tmp_path, schema, first="$window_start AND month < $window_end")
    run_model(con, good, MARCH, {})
    run_model(con, good, APRIL, {})
    con.execute("UPDATE test.months SET dossiers = 0")
    # the faulty version of the model: its March run gives April's row as well
    faulty = model_from(tmp_path, schema)

    with pytest.raises(ModelDefinitionError, match="fall outside the window it replaces"):
        run_model(con, faulty, MARCH, {})

    assert rows(con, good.table) == [(date(2022, 3, 1), 10), (date(2022, 4, 1), 20)]
