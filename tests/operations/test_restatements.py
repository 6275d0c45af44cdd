"""A refresh that changes a published figure of a closed month says so in meta.restatements."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.models.sql_models import (
    ModelDefinitionError,
    Window,
    load_models,
    run_model,
)
from dvctt_pipeline.months import running_month
from dvctt_pipeline.warehouse import ensure_base_tables

MARCH = Window(date(2022, 3, 1), date(2022, 4, 1))

RATES_MODEL = """/*
table: marts.{name}
replace: periods
grain: [province_code, period_type, period_start, period_end]
description: Test rates per province and month.
columns:
  province_code: Province
  period_type: Period type
  period_start: First day
  period_end: Last day
  received: Received
  online_share_all: Online share
*/
SELECT province_code, 'month' AS period_type, month AS period_start,
       last_day(month) AS period_end, {received} AS received,
       received_online / nullif(received, 0) AS online_share_all
FROM core.test_counts
WHERE month >= $window_start AND month < $window_end
"""


def model_from(tmp_path: Path, name: str = "test_rates", received: str = "received"):
    folder = tmp_path / f"sql_{name}" / "marts"
    folder.mkdir(parents=True)
    (folder / f"{name}.sql").write_text(
        RATES_MODEL.format(name=name, received=received), encoding="utf-8"
    )
    (model,) = load_models(folder.parent)
    return model


@pytest.fixture
def con():
    connection = duckdb.connect()
    ensure_base_tables(connection)
    connection.execute(
        "CREATE TABLE core.test_counts (province_code VARCHAR, month DATE, received BIGINT, "
        "received_online BIGINT)"
    )
    yield connection
    connection.close()


def set_counts(con, rows: list[tuple[str, date, int, int]]) -> None:
    con.execute("DELETE FROM core.test_counts")
    con.executemany("INSERT INTO core.test_counts VALUES (?, ?, ?, ?)", rows)


def restatements(con) -> list[tuple]:
    return con.execute(
        "SELECT table_name, row_key, column_name, old_value, new_value, run_id "
        "FROM meta.restatements ORDER BY row_key, column_name"
    ).fetchall()


def test_a_changed_figure_of_a_closed_month_is_recorded_with_both_values(con, tmp_path):
    model = model_from(tmp_path)
    set_counts(con, [("17", date(2022, 3, 1), 100, 40), ("31", date(2022, 3, 1), 200, 50)])
    run_model(con, model, MARCH, {}, run_id="first")
    assert restatements(con) == []  # nothing was published before

    # a late export: three more Hòa Bình dossiers of March, two of them online
    set_counts(con, [("17", date(2022, 3, 1), 103, 42), ("31", date(2022, 3, 1), 200, 50)])
    run_model(con, model, MARCH, {}, run_id="late-data")
    key = "province_code=17, period_type=month, period_start=2022-03-01, period_end=2022-03-31"
    assert restatements(con) == [
        ("marts.test_rates", key, "online_share_all", 0.4, pytest.approx(42 / 103), "late-data"),
        ("marts.test_rates", key, "received", 100.0, 103.0, "late-data"),
    ]


def test_a_refresh_with_the_same_inputs_restates_nothing(con, tmp_path):
    model = model_from(tmp_path)
    set_counts(con, [("17", date(2022, 3, 1), 100, 40)])
    for run_id in ("first", "second", "third"):
        run_model(con, model, MARCH, {}, run_id=run_id)
    assert restatements(con) == []


def test_a_row_that_disappears_is_recorded_as_gone(con, tmp_path):
    model = model_from(tmp_path)
    set_counts(con, [("17", date(2022, 3, 1), 100, 40), ("31", date(2022, 3, 1), 200, 50)])
    run_model(con, model, MARCH, {}, run_id="first")
    set_counts(con, [("17", date(2022, 3, 1), 100, 40)])
    run_model(con, model, MARCH, {}, run_id="second")
    assert [(row[2], row[3], row[4]) for row in restatements(con)] == [
        ("online_share_all", 0.25, None), ("received", 200.0, None),
    ]


def test_a_figure_that_appears_is_recorded_beside_the_unchanged_ones(con, tmp_path):
    model = model_from(tmp_path)
    # no dossier received in March yet: no online share
    set_counts(con, [("17", date(2022, 3, 1), 0, 0), ("31", date(2022, 3, 1), 200, 50)])
    run_model(con, model, MARCH, {}, run_id="first")
    set_counts(con, [("17", date(2022, 3, 1), 4, 1), ("31", date(2022, 3, 1), 200, 50)])
    run_model(con, model, MARCH, {}, run_id="second")
    assert [(row[1][:16], row[2], row[3], row[4]) for row in restatements(con)] == [
        ("province_code=17", "online_share_all", None, 0.25),
        ("province_code=17", "received", 0.0, 4.0),
    ]


def test_figures_of_the_running_month_are_not_restatements(con, tmp_path):
    model = model_from(tmp_path)
    this_month = running_month()
    window = Window(this_month, date(this_month.year + this_month.month // 12,
                                     this_month.month % 12 + 1, 1))
    set_counts(con, [("17", this_month, 10, 4)])
    run_model(con, model, window, {}, run_id="morning")
    set_counts(con, [("17", this_month, 12, 5)])
    run_model(con, model, window, {}, run_id="evening")
    assert restatements(con) == []


def test_a_marts_table_whose_rows_are_not_unique_on_its_key_is_refused(con, tmp_path):
    # `received` is not a key column: two rows per province and month look like one
    model = model_from(tmp_path, "test_doubled", received="unnest([received, received_online])")
    set_counts(con, [("17", date(2022, 3, 1), 100, 40)])
    with pytest.raises(ModelDefinitionError, match="have several rows"):
        run_model(con, model, MARCH, {}, run_id="first")


def test_a_marts_model_without_a_declared_grain_is_refused(tmp_path):
    folder = tmp_path / "sql" / "marts"
    folder.mkdir(parents=True)
    without_grain = RATES_MODEL.replace(
        "grain: [province_code, period_type, period_start, period_end]\n", "")
    (folder / "test_rates.sql").write_text(without_grain.format(name="test_rates",
                                                                received="received"), "utf-8")
    with pytest.raises(ModelDefinitionError, match="declares its grain"):
        load_models(folder.parent)
