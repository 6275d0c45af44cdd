"""The file registry `meta.source_files`: each landing file is loaded once, in its own
transaction, whatever its kind.

A file that cannot be read is recorded as failed with a message saying what to fix, and the
other files still load. A file already loaded (same content hash) is not loaded twice; a
changed file with the same name supersedes its earlier version: the old rows go, the old
registry entry stays, marked superseded. Per file, rows read = rows loaded + rows
quarantined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb

from dvctt_pipeline.ingest.guards import UnreadableFile, check_landing_file
from dvctt_pipeline.ingest.landing import (
    LandingFile,
    RegisteredFile,
    loaded_elsewhere,
    registered_version,
)


@dataclass(frozen=True)
class RowCounts:
    read: int
    loaded: int
    quarantined: int


@dataclass(frozen=True)
class FileOutcome:
    relative_path: str
    status: str  # loaded | unchanged | duplicate | failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str | None = None


@dataclass(frozen=True)
class SourceKind:
    """How one kind of landing file is loaded.

    `read` fills and judges connection-local temporary tables, outside any transaction, and
    returns the counts; `store` copies the judged rows of one file into the warehouse tables
    under its file_id. `row_tables` are the tables holding a file's rows by file_id.
    """

    name: str
    row_tables: tuple[str, ...]
    read: Callable[[duckdb.DuckDBPyConnection, LandingFile], RowCounts]
    store: Callable[[duckdb.DuckDBPyConnection, LandingFile, int], None]


def ingest_files(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, files: Iterable[LandingFile]
) -> list[FileOutcome]:
    return [ingest_file(con, kind, landing_file) for landing_file in files]


def ingest_file(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, landing_file: LandingFile
) -> FileOutcome:
    registered = registered_version(con, landing_file.relative_path)
    if registered and (registered.size_bytes, registered.mtime_ns) == (
        landing_file.size_bytes, landing_file.mtime_ns
    ):
        return FileOutcome(landing_file.relative_path, "unchanged")
    # a link leaving the landing folder is refused unread, so it has no hash
    sha256 = None if landing_file.outside_landing else landing_file.sha256()
    if registered and sha256 and registered.content_sha256 == sha256:
        return FileOutcome(landing_file.relative_path, "unchanged")
    if sha256 and (twin := loaded_elsewhere(con, sha256, landing_file.relative_path)):
        message = f"same content as {twin}, which is already loaded"
        return _record(con, kind, landing_file, sha256, registered, "duplicate", message)
    try:
        check_landing_file(landing_file)
        counts = kind.read(con, landing_file)
    except (UnreadableFile, duckdb.Error) as error:
        return _record(con, kind, landing_file, sha256, registered, "failed",
                       failure_message(landing_file, error))
    try:
        con.execute("BEGIN")
        if registered:
            _supersede(con, kind, registered.file_id)
        file_id = _register(con, kind, landing_file, sha256, "loaded", None, counts)
        kind.store(con, landing_file, file_id)
        con.execute("COMMIT")
    except duckdb.Error as error:
        con.execute("ROLLBACK")
        return _record(con, kind, landing_file, sha256, registered, "failed",
                       failure_message(landing_file, error))
    return FileOutcome(landing_file.relative_path, "loaded", counts.read, counts.loaded,
                       counts.quarantined)


def failure_message(landing_file: LandingFile, error: Exception) -> str:
    if isinstance(error, UnreadableFile):
        return str(error)
    # DuckDB's message may quote the record, personal data included: keep only its kind and
    # the position.
    kind = type(error).__name__
    position = re.search(r"at byte \d+|on line: \d+", str(error), flags=re.IGNORECASE)
    where = f" {position[0].lower().replace(':', '')}" if position else ""
    return f"{landing_file.name} could not be read ({kind}{where}); check or re-export the file."


def _record(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, landing_file: LandingFile,
    sha256: str | None, registered: RegisteredFile | None, status: str, message: str,
) -> FileOutcome:
    """Register a file that brings no rows; it replaces the path's earlier version, so that
    the warehouse holds what the landing folder holds now."""
    con.execute("BEGIN")
    if registered:
        _supersede(con, kind, registered.file_id)
    _register(con, kind, landing_file, sha256, status, message, RowCounts(0, 0, 0))
    con.execute("COMMIT")
    return FileOutcome(landing_file.relative_path, status, message=message)


def _supersede(con: duckdb.DuckDBPyConnection, kind: SourceKind, file_id: int) -> None:
    for table in kind.row_tables:
        con.execute(f"DELETE FROM {table} WHERE file_id = $id", {"id": file_id})
    con.execute(
        "UPDATE meta.source_files SET status = 'superseded' WHERE file_id = $id", {"id": file_id}
    )


def _register(
    con: duckdb.DuckDBPyConnection, kind: SourceKind, landing_file: LandingFile,
    sha256: str | None, status: str, message: str | None, counts: RowCounts,
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
            "path": landing_file.relative_path, "kind": kind.name,
            "size": landing_file.size_bytes, "mtime": landing_file.mtime_ns, "sha": sha256,
            "export_date": landing_file.export_date, "status": status, "message": message,
            "read": counts.read, "loaded": counts.loaded, "quarantined": counts.quarantined,
        },
    ).fetchone()
    return file_id


def run_counts(outcomes: list[FileOutcome]) -> dict[str, int]:
    """What one ingest run did, in numbers (no file content: safe for logs and metadata)."""
    return {
        "files_loaded": sum(o.status == "loaded" for o in outcomes),
        "files_failed": sum(o.status == "failed" for o in outcomes),
        "files_duplicate": sum(o.status == "duplicate" for o in outcomes),
        "rows_read": sum(o.rows_read for o in outcomes),
        "rows_loaded": sum(o.rows_loaded for o in outcomes),
        "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
    }
