"""A model can switch DuckDB optimizers off while it runs, and only then."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.models.sql_models import SqlModel, Window, load_models, run_model
from dvctt_pipeline.warehouse import ensure_base_tables

MARCH = Window(date(2022, 3, 1), date(2022, 4, 1))
MODEL = """/*
table: core.test_settings
replace: all
disabled_optimizers: [build_side_probe_side]
description: The optimizers switched off while the model runs.
columns:
  disabled: Optimizers switched off
*/
SELECT current_setting('disabled_optimizers') AS disabled
"""


def model_from(tmp_path: Path, text: str) -> SqlModel:
    folder = tmp_path / "sql" / "core"
    folder.mkdir(parents=True)
    (folder / "test_settings.sql").write_text(text, encoding="utf-8")
    (model,) = load_models(folder.parent)
    return model


def test_a_model_computes_with_its_optimizers_off_and_gives_back_the_setting(tmp_path: Path):
    model = model_from(tmp_path, MODEL)
    con = duckdb.connect()
    ensure_base_tables(con)
    con.execute("SET disabled_optimizers = 'late_materialization'")

    run_model(con, model, MARCH, {})

    (disabled,) = con.execute("SELECT disabled FROM core.test_settings").fetchone()
    assert set(disabled.split(",")) == {"late_materialization", "build_side_probe_side"}
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone() == (
        "late_materialization",)


def test_a_failing_model_says_why_and_gives_back_the_setting(tmp_path: Path):
    model = model_from(tmp_path, MODEL.replace(
        "SELECT current_setting('disabled_optimizers') AS disabled",
        "SELECT error('the model fails here') AS disabled"))
    con = duckdb.connect()
    ensure_base_tables(con)

    with pytest.raises(duckdb.Error, match="the model fails here"):
        run_model(con, model, MARCH, {})

    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone() == ("",)
