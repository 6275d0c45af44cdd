"""Load dossier exports into `raw.dossier_snapshots`, setting bad records aside.

Each file loads in its own transaction: a file that cannot be read is recorded as failed
with its message and rolled back whole, and the other files still load. Per file,
rows read = rows loaded + rows quarantined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dvctt_pipeline.ingest.landing import (
    LandingFile,
    dossier_exports,
    loaded_elsewhere,
    registered_version,
)
from dvctt_pipeline.ingest.readers import UnreadableFile, reader_for
from dvctt_pipeline.validate.dossier_rules import judge_incoming_records

KIND = "dossiers"


@dataclass(frozen=True)
class FileOutcome:
    relative_path: str
    status: str  # loaded | unchanged | duplicate | failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str | None = None


def ingest_dossier_exports(con: duckdb.DuckDBPyConnection, landing: Path) -> list[FileOutcome]:
    """Bring `raw` up to date with every dossier export of the landing folder."""
    return [ingest_file(con, landing_file) for landing_file in dossier_exports(landing)]


def ingest_file(con: duckdb.DuckDBPyConnection, landing_file: LandingFile) -> FileOutcome:
    registered = registered_version(con, landing_file.relative_path)
    if registered and (registered.size_bytes, registered.mtime_ns) == (
        landing_file.size_bytes, landing_file.mtime_ns
    ):
        return FileOutcome(landing_file.relative_path, "unchanged")
    sha256 = landing_file.sha256()
    if registered and registered.content_sha256 == sha256:
        return FileOutcome(landing_file.relative_path, "unchanged")
    if twin := loaded_elsewhere(con, sha256, landing_file.relative_path):
        message = f"same content as {twin}, which is already loaded"
        _register(con, landing_file, sha256, "duplicate", message)
        return FileOutcome(landing_file.relative_path, "duplicate", message=message)
    try:
        con.execute("BEGIN")
        if registered:
            _supersede(con, registered.file_id)
        outcome = _load(con, landing_file, sha256)
        con.execute("COMMIT")
        return outcome
    except (UnreadableFile, duckdb.Error) as error:
        con.execute("ROLLBACK")
        message = _failure_message(landing_file, error)
        _register(con, landing_file, sha256, "failed", message)
        return FileOutcome(landing_file.relative_path, "failed", message=message)


def _failure_message(landing_file: LandingFile, error: Exception) -> str:
    if isinstance(error, UnreadableFile):
        return str(error)
    # DuckDB's message may quote the record, personal data included: keep only its kind and
    # the byte position.
    kind = type(error).__name__
    position = re.search(r"at byte \d+", str(error))
    where = f" {position[0]}" if position else ""
    return f"{landing_file.name} could not be read ({kind}{where}); check or re-export the file."


def _supersede(con: duckdb.DuckDBPyConnection, file_id: int) -> None:
    """A changed file replaces its earlier version: the old rows go, the old entry stays."""
    for table in ("raw.dossier_snapshots", "quarantine.dossier_snapshots"):
        con.execute(f"DELETE FROM {table} WHERE file_id = $id", {"id": file_id})
    con.execute(
        "UPDATE meta.source_files SET status = 'superseded' WHERE file_id = $id", {"id": file_id}
    )


def _register(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, sha256: str, status: str,
    message: str | None, counts: tuple[int, int, int] = (0, 0, 0),
) -> int:
    (file_id,) = con.execute(
        """
        INSERT INTO meta.source_files (file_id, relative_path, kind, size_bytes, mtime_ns,
            content_sha256, export_date, status, message, rows_read, rows_loaded,
            rows_quarantined)
        VALUES (nextval('meta.source_file_ids'), $path, $kind, $size, $mtime, $sha, $export_date,
            $status, $message, $read, $loaded, $quarantined)
        RETURNING file_id
        """,
        {
            "path": landing_file.relative_path, "kind": KIND, "size": landing_file.size_bytes,
            "mtime": landing_file.mtime_ns, "sha": sha256, "export_date": landing_file.export_date,
            "status": status, "message": message, "read": counts[0], "loaded": counts[1],
            "quarantined": counts[2],
        },
    ).fetchone()
    return file_id


def _load(con: duckdb.DuckDBPyConnection, landing_file: LandingFile, sha256: str) -> FileOutcome:
    reader_for(landing_file.path)(con, landing_file.path)
    judge_incoming_records(con)
    read, quarantined = con.execute(
        "SELECT count(*), count(reason) FROM judged_records"
    ).fetchone()
    file_id = _register(
        con, landing_file, sha256, "loaded", None, (read, read - quarantined, quarantined)
    )
    con.execute(
        """
        INSERT INTO raw.dossier_snapshots
        SELECT $file_id, $export_date, $file_name, line_no, ma_ho_so, ma_don_vi_xu_ly,
               don_vi_xu_ly, ma_tthc, ma_linh_vuc, kenh_thuc_hien, kenh_was_empty,
               ngay_tiep_nhan, ngay_hen_tra, ngay_ket_thuc_xu_ly, ngay_tra, trang_thai,
               thanh_toan_truc_tuyen, fee_total
        FROM judged_records WHERE reason IS NULL
        """,
        {"file_id": file_id, "export_date": landing_file.export_date,
         "file_name": landing_file.name},
    )
    con.execute(
        """
        INSERT INTO quarantine.dossier_snapshots (file_id, relative_path, line_no, ma_ho_so, reason)
        SELECT $file_id, $path, line_no, ma_ho_so, reason FROM judged_records
        WHERE reason IS NOT NULL
        """,
        {"file_id": file_id, "path": landing_file.relative_path},
    )
    return FileOutcome(landing_file.relative_path, "loaded", read, read - quarantined, quarantined)
