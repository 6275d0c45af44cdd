"""The working DuckDB file: its schemas and the tables that are loaded rather than derived.

Derived tables are defined by the SQL files of `dbt_like_sql/`; the tables here are the ones
Python code writes into (reference data, file registry, raw snapshots, quarantine).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

SCHEMAS = ("raw", "staging", "quarantine", "core", "marts", "meta")

BASE_TABLES_DDL = """
CREATE SEQUENCE IF NOT EXISTS meta.source_file_ids;

CREATE TABLE IF NOT EXISTS meta.source_files (
    file_id BIGINT PRIMARY KEY,
    relative_path VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    size_bytes BIGINT,
    mtime_ns BIGINT,
    content_sha256 VARCHAR,
    export_date DATE,
    status VARCHAR NOT NULL,          -- loaded | failed | duplicate | superseded
    message VARCHAR,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT,
    loaded_at TIMESTAMPTZ DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS raw.dossier_snapshots (
    file_id BIGINT NOT NULL,
    export_date DATE NOT NULL,
    file_name VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    ma_ho_so VARCHAR NOT NULL,
    ma_don_vi_xu_ly VARCHAR,
    don_vi_xu_ly VARCHAR,
    ma_tthc VARCHAR,
    ma_linh_vuc VARCHAR,
    kenh_thuc_hien TINYINT,
    kenh_was_empty BOOLEAN NOT NULL,
    ngay_tiep_nhan TIMESTAMP NOT NULL,
    ngay_hen_tra TIMESTAMP,
    ngay_ket_thuc_xu_ly TIMESTAMP,
    ngay_tra TIMESTAMP,
    trang_thai TINYINT,
    thanh_toan_truc_tuyen TINYINT,
    fee_total DECIMAL(18, 2)
);

CREATE TABLE IF NOT EXISTS quarantine.dossier_snapshots (
    file_id BIGINT NOT NULL,
    relative_path VARCHAR NOT NULL,
    line_no BIGINT,
    ma_ho_so VARCHAR,
    reason VARCHAR NOT NULL,
    quarantined_at TIMESTAMPTZ DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS core.provinces (
    geography_version VARCHAR NOT NULL,   -- legacy (63 provinces) | 2025 (34 provinces)
    province_code VARCHAR NOT NULL,
    province_name VARCHAR NOT NULL,
    province_full_name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.province_mapping_2025 (
    old_province_code VARCHAR NOT NULL,
    new_province_code VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.districts (
    province_code VARCHAR NOT NULL,
    district_code VARCHAR NOT NULL,
    district_name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.communes (
    geography_version VARCHAR NOT NULL,
    province_code VARCHAR NOT NULL,
    district_code VARCHAR,
    commune_code VARCHAR NOT NULL,
    commune_name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.agencies (
    agency_code VARCHAR PRIMARY KEY,
    agency_name VARCHAR NOT NULL,
    admin_level VARCHAR NOT NULL,
    province_code VARCHAR NOT NULL,
    district_code VARCHAR,
    commune_code VARCHAR,
    valid_from DATE,
    valid_to DATE,
    name_keys VARCHAR[] NOT NULL      -- normalised name and aliases, for matching export names
);
"""


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating the folder, schemas and base tables on first use."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    ensure_base_tables(con)
    return con


def ensure_base_tables(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(BASE_TABLES_DDL)


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Swap the whole content of a small reference table in one transaction."""
    con.register("incoming_frame", frame)
    try:
        con.execute("BEGIN")
        con.execute(f"DELETE FROM {table}")
        columns = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("incoming_frame")
    return len(frame)
