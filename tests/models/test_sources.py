"""The tables the pipeline loads rather than derives have their columns described
(dbt_like_sql/sources.yml), as the models' headers describe theirs, and the Dagster UI shows
those descriptions."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dvctt_pipeline.defs.assets import column_schema
from dvctt_pipeline.models.sql_models import source_columns
from dvctt_pipeline.warehouse import ensure_base_tables


def loaded_columns(tmp_path: Path) -> dict[str, dict[str, str | None]]:
    """table -> column -> its comment in the warehouse, for every table of a new warehouse."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_base_tables(con)
    tables: dict[str, dict[str, str | None]] = {}
    for schema, table, column, comment in con.execute(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
            "WHERE database_name = current_database() ORDER BY column_index").fetchall():
        tables.setdefault(f"{schema}.{table}", {})[column] = comment
    return tables


def test_every_column_of_a_loaded_table_is_described(tmp_path: Path):
    documented = source_columns()
    undescribed = [f"{table}.{column}"
                   for table, columns in loaded_columns(tmp_path).items()
                   for column, comment in columns.items()
                   if not comment and not documented.get(table, {}).get(column)]
    assert undescribed == []


def test_sources_describe_only_columns_that_exist(tmp_path: Path):
    tables = loaded_columns(tmp_path)
    unknown = [f"{table}.{column}" for table, columns in source_columns().items()
               for column in columns if column not in tables.get(table, {})]
    assert unknown == []


def test_the_ui_shows_a_raw_column_with_its_description(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_base_tables(con)
    columns = {column.name: column for column in
               column_schema(con, "raw.dossier_snapshots").columns}
    assert columns["ma_ho_so"].description == "Mã hồ sơ / Dossier id (MaHoSo)"
    assert columns["ngay_tiep_nhan"].type == "TIMESTAMP"
