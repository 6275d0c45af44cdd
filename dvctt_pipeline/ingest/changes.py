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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from dvctt_pipeline.ingest.dossiers import DOSSIERS, piece_bytes, read_in_pieces
from dvctt_pipeline.ingest.guards import check_not_cut_short
from dvctt_pipeline.ingest.landing import LandingFile, dossier_exports
from dvctt_pipeline.ingest.readers import UnreadableFile, judged_pieces
from dvctt_pipeline.ingest.registry import Batch, Candidate

# relative path -> "size:mtime_ns"; a file whose fingerprint changed is read again.
Fingerprints = dict[str, str]

log = logging.getLogger(__name__)

MONTHS_OF_RECORDS_SQL = """
SELECT DISTINCT file_index, CAST(date_trunc('month', moment) AS DATE)
FROM (
    SELECT file_index, ngay_tiep_nhan AS moment FROM judged_records
    UNION ALL
    SELECT file_index, ngay_ket_thuc_xu_ly FROM judged_records
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
        return months_of_batch(con, [landing_file])[landing_file.relative_path]
    months: set[date] = set()
    for _ in judged_pieces(con, landing_file.path, piece_bytes()):
        months |= {month for _, month in con.execute(MONTHS_OF_RECORDS_SQL).fetchall()}
    return months


def months_of_batch(con: duckdb.DuckDBPyConnection, files: Sequence[LandingFile]
                    ) -> dict[str, set[date]]:
    """The months each of `files` touches, read in one statement as the ingest reads a batch
    (raises when the batch cannot be read as a whole, or a file of it would fail its load)."""
    for outcome in DOSSIERS.read(con, files):
        if isinstance(outcome, UnreadableFile):
            raise outcome
    months: dict[str, set[date]] = {landing_file.relative_path: set() for landing_file in files}
    for index, month in con.execute(MONTHS_OF_RECORDS_SQL).fetchall():
        months[files[index].relative_path].add(month)
    return months


def months_of_files(con: duckdb.DuckDBPyConnection, files: Iterable[LandingFile]
                    ) -> tuple[dict[str, set[date]], list[str]]:
    """The months each readable file touches, and the files that cannot be read. Files are
    read in the ingest's batches: a statement per file cost 2.1 s for a day of 63 provinces'
    small exports. A batch that cannot be read as a whole is read again in halves, as the
    ingest does, so that a bad file fails alone."""
    file_months: dict[str, set[date]] = {}
    unreadable: list[str] = []

    def read_alone(landing_file: LandingFile) -> None:
        try:
            file_months[landing_file.relative_path] = months_in_file(con, landing_file)
        except (UnreadableFile, duckdb.Error):
            # the ingest records why it fails; there is no month to refresh for it
            unreadable.append(landing_file.relative_path)

    def read_files(files_of_batch: Sequence[LandingFile]) -> None:
        if len(files_of_batch) == 1:
            read_alone(files_of_batch[0])
            return
        try:
            file_months.update(months_of_batch(con, files_of_batch))
        except (UnreadableFile, duckdb.Error):
            half = len(files_of_batch) // 2
            read_files(files_of_batch[:half])
            read_files(files_of_batch[half:])

    def read_batch(batch: Batch) -> None:
        if files_of_batch := [candidate.landing_file for candidate in batch.taken()]:
            read_files(files_of_batch)

    batch = Batch(DOSSIERS)
    for landing_file in files:
        try:
            check_not_cut_short(landing_file)
        except UnreadableFile:
            # read as it is, it would give the months of its first records only
            unreadable.append(landing_file.relative_path)
            continue
        if read_in_pieces(landing_file):
            read_alone(landing_file)
            continue
        candidate = Candidate(landing_file, content_hash=None, registered=None)
        if not batch.takes(candidate):
            read_batch(batch)
        batch.add(candidate)
    read_batch(batch)
    return file_months, unreadable


def landing_changes(landing: Path, seen: Mapping[str, str]) -> LandingChanges:
    """Compare the landing folder with what was seen and read the months of the new files."""
    exports = list(dossier_exports(landing))
    fresh = [f for f in exports if seen.get(f.relative_path) != fingerprint(f)]
    not_read = [landing_file for landing_file in fresh if landing_file.not_read]
    for landing_file in not_read:
        # a badly named folder or file, a named pipe...: the ingest records it
        log.warning("%s is not read: %s", landing_file.relative_path,
                    landing_file.not_read.message)
    with duckdb.connect(":memory:") as con:
        # a big export takes seconds: no progress bar in the daemon's log
        con.execute("SET enable_progress_bar = false")
        file_months, unreadable = months_of_files(
            con, (landing_file for landing_file in fresh if not landing_file.not_read))
    unreadable += [landing_file.relative_path for landing_file in not_read]
    return LandingChanges(
        new_files=[f.relative_path for f in fresh],
        months=set().union(*file_months.values()),
        unreadable=unreadable,
        fingerprints={f.relative_path: fingerprint(f) for f in exports},
        file_months=file_months,
    )
