"""Which months the dossier exports that landed since the last look touch.

A dossier belongs to the month of its NgayTiepNhan, and its completion counts in the month
of its NgayKetThucXuLy (DESIGN §4), so a status update for a March dossier that finishes in
May touches March and May. Only the new files are read, in an in-memory DuckDB connection:
the working warehouse may be locked by a running writer, and the schedule and the sensor
must not wait for it. What was already seen (relative path -> size and modification time)
is kept by Dagster, in the landing sensor's cursor (defs/sensors.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from dvctt_pipeline.ingest.dossiers import piece_bytes, read_in_pieces
from dvctt_pipeline.ingest.landing import LandingFile, dossier_exports
from dvctt_pipeline.ingest.readers import UnreadableFile, judged_pieces, reader_for

# relative path -> "size:mtime_ns"; a file whose fingerprint changed is read again.
Fingerprints = dict[str, str]

log = logging.getLogger(__name__)

MONTHS_OF_RECORDS_SQL = """
SELECT DISTINCT CAST(date_trunc('month', moment) AS DATE)
FROM (
    SELECT ngay_tiep_nhan AS moment FROM judged_records
    UNION ALL
    SELECT ngay_ket_thuc_xu_ly FROM judged_records
)
WHERE moment IS NOT NULL
"""


@dataclass(frozen=True)
class LandingChanges:
    """Files landed since the last look, the months they touch, and what is seen now."""

    new_files: list[str]
    months: set[date]
    unreadable: list[str]
    fingerprints: Fingerprints
    # the months each readable new file touches
    file_months: dict[str, set[date]] = field(default_factory=dict)


def fingerprint(landing_file: LandingFile) -> str:
    return f"{landing_file.size_bytes}:{landing_file.mtime_ns}"


def months_in_file(con: duckdb.DuckDBPyConnection, landing_file: LandingFile) -> set[date]:
    """Months of NgayTiepNhan and NgayKetThucXuLy in one export, read with the ingest reader
    (only the fields the metrics use, never personal data) and typed by the same rules; a
    big export piece by piece, as the ingest reads it."""
    if not read_in_pieces(landing_file):
        reader_for(landing_file.path).read(con, [landing_file.path])
        return {month for (month,) in con.execute(MONTHS_OF_RECORDS_SQL).fetchall()}
    months: set[date] = set()
    for _ in judged_pieces(con, landing_file.path, piece_bytes()):
        months |= {month for (month,) in con.execute(MONTHS_OF_RECORDS_SQL).fetchall()}
    return months


def landing_changes(landing: Path, seen: Mapping[str, str]) -> LandingChanges:
    """Compare the landing folder with what was seen and read the months of the new files."""
    exports = list(dossier_exports(landing))
    fresh = [f for f in exports if seen.get(f.relative_path) != fingerprint(f)]
    file_months: dict[str, set[date]] = {}
    unreadable = []
    with duckdb.connect(":memory:") as con:
        # a big export takes seconds: no progress bar in the daemon's log
        con.execute("SET enable_progress_bar = false")
        for landing_file in fresh:
            if landing_file.not_read:
                # a badly named folder or file, a named pipe...: the ingest records it
                log.warning("%s is not read: %s", landing_file.relative_path,
                            landing_file.not_read.message)
                unreadable.append(landing_file.relative_path)
                continue
            try:
                file_months[landing_file.relative_path] = months_in_file(con, landing_file)
            except (UnreadableFile, duckdb.Error):
                # the ingest records why it fails; there is no month to refresh for it
                unreadable.append(landing_file.relative_path)
    return LandingChanges(
        new_files=[f.relative_path for f in fresh],
        months=set().union(*file_months.values()),
        unreadable=unreadable,
        fingerprints={f.relative_path: fingerprint(f) for f in exports},
        file_months=file_months,
    )
