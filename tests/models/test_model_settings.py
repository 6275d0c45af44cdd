"""A model can switch DuckDB optimizers off while it is computed, and only then."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from dvctt_pipeline.models.sql_models import Window, load_models, run_model
from dvctt_pipeline.warehouse import ensure_base_tables

MODEL = """/*
table: core.test_settings
replace: all
disabled_optimizers: [build_side_probe_side]
description: The optimizers switched off while the model is computed.
columns:
  disabled: Optimizers switched off
*/
SELECT current_setting('disabled_optimizers') AS disabled
"""


def test_a_model_computes_with_its_optimizers_off_and_gives_back_the_setting(tmp_path: Path):
    folder = tmp_path / "sql" / "core"
    folder.mkdir(parents=True)
    (folder / "test_settings.sql").write_text(MODEL, encoding="utf-8")
    (model,) = load_models(folder.parent)
    con = duckdb.connect()
    ensure_base_tables(con)
    con.execute("SET disabled_optimizers = 'late_materialization'")

    run_model(con, model, Window(date(2022, 3, 1), date(2022, 4, 1)), {})

    (disabled,) = con.execute("SELECT disabled FROM core.test_settings").fetchone()
    assert set(disabled.split(",")) == {"late_materialization", "build_side_probe_side"}
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone() == (
        "late_materialization",)
