"""Which months the dossier exports that landed since the last look touch.

A dossier belongs to the month of its NgayTiepNhan, and its completion counts in the month
of its NgayKetThucXuLy (DESIGN §4), so a status update for a March dossier that finishes in
May touches March and May. Only the new files are read, in an in-memory DuckDB connection:
the working warehouse may be locked by a running writer, and the schedule and the sensor
must not wait for it. What was already seen is a small JSON file beside the warehouse
(relative path -> size and modification time), shared by the schedule and the sensor so a
file triggers one refresh, not two.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from dvctt_pipeline.ingest.landing import LandingFile, dossier_exports
from dvctt_pipeline.ingest.readers import UnreadableFile, reader_for

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
    """Files landed since the last look, the months they touch, and the new memory."""

    new_files: list[str]
    months: set[date]
    unreadable: list[str]
    fingerprints: Fingerprints


def fingerprint(landing_file: LandingFile) -> str:
    return f"{landing_file.size_bytes}:{landing_file.mtime_ns}"


def seen_state_path(warehouse: Path) -> Path:
    """Beside the warehouse, so that starting from an empty warehouse starts from scratch."""
    return warehouse.with_name(f"{warehouse.stem}.landing_seen.json")


def load_seen(state_path: Path) -> Fingerprints:
    if not state_path.exists():
        return {}
    return json.loads(state_path.read_text(encoding="utf-8"))["dossier_exports"]


def save_seen(state_path: Path, fingerprints: Mapping[str, str]) -> None:
    """Write the new memory atomically: a crash leaves the old one, never half a file."""
    state_path.parent.mkdir(parents=True, exist_ok=True)
    partial = state_path.with_name(f".{state_path.name}.{os.getpid()}.partial")
    partial.write_text(
        json.dumps({"dossier_exports": dict(fingerprints)}, indent=1, sort_keys=True),
        encoding="utf-8",
    )
    os.replace(partial, state_path)


def months_in_file(con: duckdb.DuckDBPyConnection, landing_file: LandingFile) -> set[date]:
    """Months of NgayTiepNhan and NgayKetThucXuLy in one export, read with the ingest reader
    (only the fields the metrics use, never personal data) and typed by the same rules."""
    reader_for(landing_file.path).read(con, [landing_file.path])
    return {month for (month,) in con.execute(MONTHS_OF_RECORDS_SQL).fetchall()}


def landing_changes(landing: Path, seen: Mapping[str, str]) -> LandingChanges:
    """Compare the landing folder with what was seen and read the months of the new files."""
    exports = list(dossier_exports(landing))
    fresh = [f for f in exports if seen.get(f.relative_path) != fingerprint(f)]
    months: set[date] = set()
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
                months |= months_in_file(con, landing_file)
            except (UnreadableFile, duckdb.Error):
                # the ingest records why it fails; there is no month to refresh for it
                unreadable.append(landing_file.relative_path)
    return LandingChanges(
        new_files=[f.relative_path for f in fresh],
        months=months,
        unreadable=unreadable,
        fingerprints={f.relative_path: fingerprint(f) for f in exports},
    )


def contiguous_ranges(months: Iterable[date]) -> list[tuple[date, date]]:
    """Months grouped into runs of consecutive months: [Mar, May, Jun] -> [Mar–Mar, May–Jun]."""
    ranges: list[tuple[date, date]] = []
    for month in sorted(set(months)):
        if ranges and month_index(month) == month_index(ranges[-1][1]) + 1:
            ranges[-1] = (ranges[-1][0], month)
        else:
            ranges.append((month, month))
    return ranges


def month_index(month: date) -> int:
    return month.year * 12 + month.month - 1
