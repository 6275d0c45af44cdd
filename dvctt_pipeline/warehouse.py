"""The working DuckDB file: its schemas and the tables that are loaded rather than derived.

Derived tables are defined by the SQL files of `dbt_like_sql/`; the tables here are the ones
Python code writes into (reference data, file registry, raw snapshots, quarantine).

The warehouse may instead be a DuckLake (DVCTT_WAREHOUSE=ducklake:...): a connection then
attaches it and makes it the default database, so every query and model runs unchanged. What
DuckLake lacks is handled here, once (`_for_ducklake`): it has no sequences, no PRIMARY KEY
or UNIQUE constraints and no compression chosen per column. Temporary tables and macros,
COMMENT ON, DEFAULT current_timestamp, CREATE OR REPLACE, ALTER TABLE ADD COLUMN and
multi-statement transactions work as in a DuckDB file.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from dvctt_pipeline.extensions import load_lake_extensions
from dvctt_pipeline.settings import Lake
from dvctt_pipeline.sqltext import quote_literal

SCHEMAS = ("raw", "staging", "quarantine", "core", "marts", "meta")

BASE_TABLES_DDL = """
CREATE SEQUENCE IF NOT EXISTS meta.source_file_ids;

CREATE TABLE IF NOT EXISTS meta.source_files (
    file_id BIGINT PRIMARY KEY,
    relative_path VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    size_bytes BIGINT,
    mtime_ns BIGINT,
    content_hash VARCHAR,             -- algorithm:hex digest of the file's bytes
    export_date DATE,
    status VARCHAR NOT NULL,  -- loading | loaded | failed | duplicate | skipped | superseded
    message VARCHAR,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT,
    loaded_at TIMESTAMPTZ DEFAULT current_timestamp
);

-- Figures of closed months that a refresh changed after they were published (run_model).
-- No DEFAULT expression: DuckDB 1.5 cannot replay a WAL holding a COMMENT ON COLUMN of a table
-- whose default calls a function, so a run killed after these comments would leave the
-- warehouse unopenable.
CREATE TABLE IF NOT EXISTS meta.restatements (
    table_name VARCHAR NOT NULL,
    row_key VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    old_value DOUBLE,
    new_value DOUBLE,
    run_id VARCHAR,
    restated_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE meta.restatements IS 'Số liệu của tháng đã khóa sổ bị thay đổi khi chạy lại '
    '(dữ liệu đến muộn) / Published figures of closed months that a later refresh changed';
COMMENT ON COLUMN meta.restatements.table_name IS 'Bảng marts / The marts table';
COMMENT ON COLUMN meta.restatements.row_key IS
    'Khóa của dòng (cột=giá trị, ...) / The row''s key (column=value, ...)';
COMMENT ON COLUMN meta.restatements.column_name IS 'Cột thay đổi / The column that changed';
COMMENT ON COLUMN meta.restatements.old_value IS 'Giá trị đã công bố / The published value';
COMMENT ON COLUMN meta.restatements.new_value IS
    'Giá trị mới (NULL: dòng không còn) / The new value (NULL: the row is gone)';
COMMENT ON COLUMN meta.restatements.run_id IS 'Lần chạy Dagster / The Dagster run';
COMMENT ON COLUMN meta.restatements.restated_at IS 'Thời điểm thay đổi / When it changed';

CREATE TABLE IF NOT EXISTS meta.incremental_state (
    table_name VARCHAR NOT NULL,
    month DATE NOT NULL,
    last_file_id BIGINT NOT NULL,
    files_loaded BIGINT NOT NULL,
    inputs_hash HUGEINT NOT NULL
);
COMMENT ON TABLE meta.incremental_state IS 'Trạng thái tính tăng dần của bảng theo tháng / '
    'What the rows of an incremental table''s month were computed from';
COMMENT ON COLUMN meta.incremental_state.table_name IS 'Bảng tính tăng dần / The incremental table';
COMMENT ON COLUMN meta.incremental_state.month IS 'Tháng (ngày đầu tháng) / Month (first day)';
COMMENT ON COLUMN meta.incremental_state.last_file_id IS
    'Tệp hồ sơ cuối cùng đã tính / The last dossier file loaded when the month was computed';
COMMENT ON COLUMN meta.incremental_state.files_loaded IS
    'Số tệp hồ sơ đã nạp khi đó / Dossier files loaded then (a superseded file changes it)';
COMMENT ON COLUMN meta.incremental_state.inputs_hash IS
    'Dấu vân tay các bảng tham chiếu / Fingerprint of the table''s other inputs (core.agencies)';

-- The text columns' compression is fixed, not chosen: DuckDB would otherwise try every
-- method on each row group of each column, a sixth of writing a national month's snapshots
-- (benchmarks/RESULTS.md). Codes and names repeat (a dictionary); MaHoSo do not (FSST).
CREATE TABLE IF NOT EXISTS raw.dossier_snapshots (
    file_id BIGINT NOT NULL,
    export_date DATE NOT NULL,
    file_name VARCHAR NOT NULL USING COMPRESSION dictionary,
    line_no BIGINT NOT NULL,
    ma_ho_so VARCHAR NOT NULL USING COMPRESSION fsst,
    ma_don_vi_xu_ly VARCHAR USING COMPRESSION dictionary,
    don_vi_xu_ly VARCHAR USING COMPRESSION dictionary,
    ma_tthc VARCHAR USING COMPRESSION dictionary,
    ma_linh_vuc VARCHAR USING COMPRESSION dictionary,
    kenh_thuc_hien TINYINT,
    kenh_was_empty BOOLEAN NOT NULL,
    ngay_tiep_nhan TIMESTAMP NOT NULL,
    ngay_hen_tra TIMESTAMP,
    ngay_ket_thuc_xu_ly TIMESTAMP,
    ngay_tra TIMESTAMP,
    trang_thai TINYINT,
    thanh_toan_truc_tuyen TINYINT,
    fee_total DECIMAL(18, 2),
    dossier_key UHUGEINT NOT NULL         -- dossier_key(ma_ho_so), see DOSSIER_KEY
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

-- catalog/services_<YYYY-MM-DD>.csv (DESIGN §3.4); MucDo normalised to service_level:
-- information (legacy 1–2, not a DVCTT) | partial (một phần, legacy 3) | full (toàn trình, 4)
CREATE TABLE IF NOT EXISTS core.service_catalog (
    effective_date DATE NOT NULL,
    province_code VARCHAR NOT NULL,
    admin_level VARCHAR NOT NULL,
    ma_tthc VARCHAR NOT NULL,
    ten_tthc VARCHAR,
    service_level VARCHAR NOT NULL,
    eligible_full_online BOOLEAN NOT NULL,
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL
);

-- targets/targets_<YYYY>.csv (DESIGN §3.5); admin_level '*' = every level
CREATE TABLE IF NOT EXISTS core.targets (
    year INTEGER NOT NULL,
    province_code VARCHAR NOT NULL,
    admin_level VARCHAR NOT NULL,
    agency_code VARCHAR,
    metric VARCHAR NOT NULL,
    target_min DOUBLE NOT NULL,
    target_stretch DOUBLE,
    decision_ref VARCHAR,
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL
);

-- fees/fee_policies.csv (DESIGN §3.6)
CREATE TABLE IF NOT EXISTS core.fee_policies (
    province_code VARCHAR NOT NULL,
    ma_tthc VARCHAR NOT NULL,
    reduction_pct DOUBLE NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    decision_ref VARCHAR,
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL
);

-- rows of the reference files above set aside: the row as read (JSON) and why
CREATE TABLE IF NOT EXISTS quarantine.agencies (
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    row_values VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine.service_catalog (
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    row_values VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine.targets (
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    row_values VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine.fee_policies (
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    row_values VARCHAR NOT NULL
);

-- each reference file's outcome at its last load: loaded (its bad rows named in message) or
-- failed (message: what to fix); kind is the source (agencies, service_catalog, targets,
-- fee_policies)
CREATE TABLE IF NOT EXISTS meta.reference_files (
    kind VARCHAR NOT NULL,
    relative_path VARCHAR NOT NULL,
    status VARCHAR NOT NULL,          -- loaded | failed
    message VARCHAR,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);

-- Biểu 06 report rows (reports/<YYYY-MM>/*.xlsx, DESIGN §3.3), one per agency row, the unit
-- as written (matched to an agency by staging.report_rows at each run)
CREATE TABLE IF NOT EXISTS raw.report_rows (
    file_id BIGINT,
    relative_path VARCHAR,
    row_no INTEGER,
    report_month DATE,
    agency_name_in_report VARCHAR,
    unit_key VARCHAR,                 -- the unit's name key (reference.names), for matching
    received_total BIGINT,
    received_carried_over BIGINT,
    received_online BIGINT,
    received_in_person BIGINT,
    finished BIGINT,
    finished_early BIGINT,
    finished_on_time BIGINT,
    finished_late BIGINT,
    in_progress BIGINT,
    in_progress_on_time BIGINT,
    in_progress_late BIGINT
);

-- the total rows (Tổng cộng, Tổng số) and subtotal rows (Cộng, a section row with counts) of
-- each report, one row per count column: what the report states beside what the agency rows
-- it covers add up to (NULL: one of them has an unreadable cell there; checked before
-- publishing)
CREATE TABLE IF NOT EXISTS raw.report_totals (
    file_id BIGINT NOT NULL,
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL,
    report_month DATE NOT NULL,
    label VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,            -- total | subtotal
    column_name VARCHAR NOT NULL,
    stated BIGINT NOT NULL,
    agency_rows_sum BIGINT
);

-- where in each report the form was read: the sheet, its header rows, the sheets passed over
CREATE TABLE IF NOT EXISTS raw.report_files (
    file_id BIGINT NOT NULL,
    relative_path VARCHAR NOT NULL,
    report_month DATE NOT NULL,
    sheet_name VARCHAR NOT NULL,
    header_rows VARCHAR NOT NULL,
    sheets_passed_over VARCHAR
);

-- report rows set aside: where, which unit (agency names are public, not personal) and why
CREATE TABLE IF NOT EXISTS quarantine.report_rows (
    file_id BIGINT NOT NULL,
    relative_path VARCHAR NOT NULL,
    row_no INTEGER NOT NULL,
    report_month DATE NOT NULL,
    agency_name_in_report VARCHAR,
    reason VARCHAR NOT NULL,
    quarantined_at TIMESTAMPTZ DEFAULT current_timestamp
);

-- the latest result of each data-quality check (Great Expectations suites run as Dagster
-- asset checks) on each month, with one row per failing item (file_id where it has one)
CREATE TABLE IF NOT EXISTS meta.check_results (
    check_name VARCHAR NOT NULL,
    asset_key VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,        -- ERROR (blocks publication) | WARN
    month DATE NOT NULL,
    passed BOOLEAN NOT NULL,
    file_id BIGINT,
    detail VARCHAR,
    observed DOUBLE,                  -- a figure later checks compare with (dossiers kept)
    checked_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
"""


T = TypeVar("T")
# A DuckLake commits optimistically: a transaction that deletes from or inserts into a table
# another one has deleted from since it began (two runs replacing different months of a
# model) conflicts at commit, and is done again on the new snapshot.
LAKE_CONFLICT_ATTEMPTS = 8
_LAKE_CONFLICT = "Transaction conflict"

# The name a DuckLake warehouse is attached under.
LAKE_ALIAS = "lake"
_BASE_TABLES = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+\.\w+)", BASE_TABLES_DDL)
# The next n file ids of meta.source_files: from a sequence in a DuckDB file, after the
# largest in a DuckLake (the ingest writes the registry one run at a time, in the warehouse
# pool).
_NEW_FILE_IDS = {
    False: "SELECT nextval('meta.source_file_ids') AS file_id FROM range(n)",
    True: "SELECT (SELECT coalesce(max(file_id), 0) FROM meta.source_files) + 1 + range "
          "AS file_id FROM range(n)",
}

# A dossier's key: its MaHoSo as a 128-bit number (MD5), so that the staging groups and joins
# a month's snapshots on integers, not on text (a third less time to rank them). The chance
# that two of a billion MaHoSo share a key is below 10^-20; MD5, not DuckDB's hash(), as the
# key is stored and must not change with the DuckDB version.
DOSSIER_KEY = "md5_number(ma_ho_so)"


def attach_lake(
    con: duckdb.DuckDBPyConnection, lake: Lake, read_only: bool = False,
    snapshot: int | None = None,
) -> None:
    """Attach the DuckLake as the connection's default database (at a snapshot if given)."""
    load_lake_extensions(con)
    if lake.is_local and not read_only:
        Path(lake.data_path).mkdir(parents=True, exist_ok=True)
    options = [f"DATA_PATH {quote_literal(lake.data_path)}"]
    if read_only:
        options.append("READ_ONLY")
    if snapshot is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    attach = (f"ATTACH {quote_literal('ducklake:' + lake.catalog)} AS {LAKE_ALIAS} "
              f"({', '.join(options)})")
    # two runs attaching a new lake at once both create its catalog; the one whose creation
    # lost finds the other's catalog when it attaches again
    _retried(lambda: con.execute(attach), _lost_catalog_creation)
    con.execute(f"USE {LAKE_ALIAS}")


def _lost_catalog_creation(error: duckdb.Error) -> bool:
    text = str(error)
    return "Failed to initialize DuckLake" in text and (
        "duplicate key value" in text or "already exists" in text)


class NoPublication(RuntimeError):
    """A DuckLake no run has published yet."""


def connect_to_publication(lake: Lake, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the lake as a publication left it (the latest by default),
    as BI reads it: the runs writing meanwhile are not seen."""
    con = duckdb.connect()
    # the catalog's queries may take seconds: no progress bar amid a command's output
    con.execute("SET enable_progress_bar = false")
    if snapshot is None:
        try:
            attach_lake(con, lake, read_only=True)
        except duckdb.InvalidInputException as error:
            if "does not exist" not in str(error):
                raise
            raise NoPublication("This DuckLake does not exist yet: run `dvctt materialize`.") \
                from None
        if table_exists(con, "meta", "publications", database=LAKE_ALIAS):
            (snapshot,) = con.execute("SELECT max(snapshot_id) FROM meta.publications").fetchone()
        if snapshot is None:
            raise NoPublication("No run has published this DuckLake yet: run `dvctt materialize`.")
        con.execute(f"USE memory; DETACH {LAKE_ALIAS}")
    attach_lake(con, lake, read_only=True, snapshot=snapshot)
    return con


def retry_on_lake_conflict(transaction: Callable[[], T]) -> T:
    """Run a transaction (a function that begins and commits it), again after a pause when its
    commit conflicts with another run's on a DuckLake; other errors are raised at once."""
    return _retried(transaction, _is_lake_conflict)


def _is_lake_conflict(error: duckdb.Error) -> bool:
    return isinstance(error, duckdb.TransactionException) and _LAKE_CONFLICT in str(error)


def _retried(action: Callable[[], T], is_transient: Callable[[duckdb.Error], bool]) -> T:
    """The action's result, trying again after a growing random pause (so that two runs
    that collided do not collide again) while it fails with a transient error."""
    for attempt in range(1, LAKE_CONFLICT_ATTEMPTS + 1):
        try:
            return action()
        except duckdb.Error as error:
            if not is_transient(error) or attempt == LAKE_CONFLICT_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.5, 1.5) * attempt)
    raise AssertionError("unreachable")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The block's statements in one transaction: committed when the block ends, rolled back
    when it raises (and the error raised again).

    The COMMIT stays outside the rollback: a COMMIT that fails has rolled back already, and
    a ROLLBACK then would fail in turn and hide its error (a DuckLake conflict, which
    retry_on_lake_conflict recognises by its message)."""
    con.execute("BEGIN")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def table_exists(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, database: str | None = None
) -> bool:
    """Whether the table exists in the database (the connection's default one if None)."""
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = "
        "coalesce($database, current_database()) AND schema_name = $schema "
        "AND table_name = $table",
        {"database": database, "schema": schema, "table": table}).fetchone()[0])


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's default database is a DuckLake."""
    (kind,) = con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return kind == "ducklake"


def _for_ducklake(ddl: str) -> str:
    """The base tables' DDL without what DuckLake lacks: the sequence (see _NEW_FILE_IDS), key
    constraints (the ingest and reference loads keep their keys unique themselves) and a
    column's compression (its Parquet files' writer chooses)."""
    ddl = re.sub(r"CREATE SEQUENCE [^;]*;", "", ddl)
    ddl = re.sub(r" USING COMPRESSION \w+", "", ddl)
    return ddl.replace(" PRIMARY KEY", " NOT NULL")


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating the folder, schemas and base tables on first use."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    ensure_base_tables(con)
    return con


def ensure_base_tables(con: duckdb.DuckDBPyConnection) -> None:
    lake = is_lake(con)
    if lake:
        # runs starting together on a new lake both create the tables
        retry_on_lake_conflict(lambda: _ensure_lake_tables(con))
    else:
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        _reload_reports_matched_at_load(con)
        _name_content_hashes(con)
        _key_dossier_snapshots(con)
        con.execute(BASE_TABLES_DDL)
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO new_source_file_ids(n) AS TABLE {_NEW_FILE_IDS[lake]}")
    con.execute(f"CREATE OR REPLACE TEMP MACRO dossier_key(ma_ho_so) AS {DOSSIER_KEY}")


def _ensure_lake_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing, in one transaction: every DDL statement on a DuckLake is a
    commit to its catalog and a snapshot, so a connection that finds everything in place
    writes nothing (and runs starting together do not collide over comments)."""
    existing = {f"{schema}.{table}" for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database()").fetchall()}
    if existing >= set(_BASE_TABLES):
        _name_content_hashes(con)
        _key_dossier_snapshots(con)
        return
    with transaction(con):
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(_for_ducklake(BASE_TABLES_DDL))


def _name_content_hashes(con: duckdb.DuckDBPyConnection) -> None:
    """A registry made when content hashes were bare SHA-256 digests (column content_sha256):
    the column becomes content_hash and its digests say their algorithm ("sha256:..."). No
    digest made since (ingest.landing.HASH_ALGORITHM) equals them, so a file registered then
    is read again if its modification time changes, and a copy of it is not recognised as
    one."""
    if "content_sha256" not in _columns(con, "meta.source_files"):
        return
    with transaction(con):
        con.execute("ALTER TABLE meta.source_files RENAME COLUMN content_sha256 TO content_hash")
        con.execute("UPDATE meta.source_files SET content_hash = 'sha256:' || content_hash "
                    "WHERE content_hash IS NOT NULL")


def _key_dossier_snapshots(con: duckdb.DuckDBPyConnection) -> None:
    """Snapshots loaded before they carried their dossier's key get it, once. The column stays
    without its NOT NULL (the ingest always fills it): a DuckDB file refuses the constraint in
    the transaction that filled the column, a DuckLake outside it."""
    columns = _columns(con, "raw.dossier_snapshots")
    if not columns or "dossier_key" in columns:
        return
    with transaction(con):
        con.execute("ALTER TABLE raw.dossier_snapshots ADD COLUMN dossier_key UHUGEINT")
        con.execute(f"UPDATE raw.dossier_snapshots SET dossier_key = {DOSSIER_KEY}")


def _reload_reports_matched_at_load(con: duckdb.DuckDBPyConnection) -> None:
    """Report rows of a warehouse made before they were matched to agencies at each run (they
    carried the agency_code found at load, and unmatched rows were set aside): their tables
    are rebuilt and the reports forgotten by the registry, so the next run loads them again."""
    if "agency_code" not in _columns(con, "raw.report_rows"):
        return
    with transaction(con):
        for table in ("raw.report_rows", "raw.report_totals", "quarantine.report_rows"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("DELETE FROM meta.source_files WHERE kind = 'reports'")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of `table` of the connection's default database, none if it does not exist.
    Asked of the table itself: duckdb_columns() and duckdb_tables() list every attached
    database's, 1.5–8 ms at each connect where this takes 0.4."""
    try:
        return [name for name, *_ in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
    except duckdb.CatalogException:
        return []


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Swap the whole content of a small reference table in one transaction."""
    con.register("incoming_frame", frame)
    try:
        with transaction(con):
            con.execute(f"DELETE FROM {table}")
            columns = ", ".join(frame.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming_frame")
    finally:
        con.unregister("incoming_frame")
    return len(frame)
