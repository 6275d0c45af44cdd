"""A model can switch DuckDB optimizers off while it runs, and only then, and fix the
compression of its text columns."""

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


COMPRESSED = """/*
table: core.test_settings
replace: all
compression:
  fsst: [province]
  dictionary: [dossier]
description: Text columns stored as the header says.
columns:
  province: One name, repeated
  dossier: A different id on each row
  line: A number, compressed as DuckDB chooses
*/
SELECT 'Tỉnh Quảng Nam' AS province, 'H' || range AS dossier, range AS line
FROM range(300000)
"""


def test_a_model_stores_its_text_columns_compressed_as_its_header_says(tmp_path: Path):
    """Methods DuckDB would not choose for such values (it stores one repeated name as a
    constant, ids that all differ with FSST), so that the header is seen to decide."""
    model = model_from(tmp_path, COMPRESSED)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_base_tables(con)

    run_model(con, model, MARCH, {})
    con.execute("CHECKPOINT")

    stored = dict(con.execute(
        "SELECT column_name, list_distinct(list(compression)) FROM "
        "pragma_storage_info('core.test_settings') WHERE segment_type = 'VARCHAR' GROUP BY 1"
    ).fetchall())
    assert stored == {"province": ["FSST"], "dossier": ["Dictionary"]}


def test_a_header_with_an_unknown_compression_is_refused(tmp_path: Path):
    with pytest.raises(ModelDefinitionError, match="compression: 'zstd' is not one of"):
        model_from(tmp_path, COMPRESSED.replace("fsst: [province]", "zstd: [province]"))
