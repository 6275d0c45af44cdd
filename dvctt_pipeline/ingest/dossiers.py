"""Load dossier exports into `raw.dossier_snapshots`, setting bad records aside in
`quarantine.dossier_snapshots` (registry semantics: ingest.registry)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from dvctt_pipeline.ingest.guards import UnreadableFile
from dvctt_pipeline.ingest.landing import LandingFile, dossier_exports
from dvctt_pipeline.ingest.readers import export_format, reader_for
from dvctt_pipeline.ingest.registry import (
    FileOutcome,
    RowCounts,
    SourceKind,
    StoredFile,
    ingest_files,
)

# Export text read in one statement at most. A national day is about 0.25 GB, a national
# month 6 GB: a batch of 1 GB keeps the judged records of a batch near 0.3 GB of memory while
# DuckDB still reads on every core.
BATCH_BYTES = 1 << 30


def read_dossier_exports(
    con: duckdb.DuckDBPyConnection, files: Sequence[LandingFile]
) -> list[RowCounts | UnreadableFile]:
    reader_for(files[0].path).read(con, [landing_file.path for landing_file in files])
    judged = {index: (records, quarantined) for index, records, quarantined in con.execute(
        "SELECT file_index, records, quarantined FROM judged_files").fetchall()}
    return [_file_counts(landing_file, *judged.get(index, (0, 0)))
            for index, landing_file in enumerate(files)]


def _file_counts(landing_file: LandingFile, records: int, quarantined: int) -> (
        RowCounts | UnreadableFile):
    if records == 0:
        return UnreadableFile(
            f"{landing_file.name} contains no dossier records; check that the export is complete."
        )
    return RowCounts(records, records - quarantined, quarantined)


def store_dossier_records(con: duckdb.DuckDBPyConnection, stored: Sequence[StoredFile]) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE batch_files (file_index INTEGER, file_id BIGINT, "
        "export_date DATE, file_name VARCHAR, relative_path VARCHAR)"
    )
    con.executemany(
        "INSERT INTO batch_files VALUES (?, ?, ?, ?, ?)",
        [(file.index, file.file_id, file.landing_file.export_date, file.landing_file.name,
          file.landing_file.relative_path) for file in stored],
    )
    con.execute(
        """
        INSERT INTO raw.dossier_snapshots
        SELECT batch.file_id, batch.export_date, batch.file_name,
               record.rowid - judged.first_row + 1 AS line_no, record.ma_ho_so,
               record.ma_don_vi_xu_ly, names.nfc_name, record.ma_tthc, record.ma_linh_vuc,
               record.kenh_thuc_hien, record.kenh_was_empty, record.ngay_tiep_nhan,
               record.ngay_hen_tra, record.ngay_ket_thuc_xu_ly, record.ngay_tra,
               record.trang_thai, record.thanh_toan_truc_tuyen, record.fee_total
        FROM judged_records AS record
        JOIN judged_files AS judged USING (file_index)
        JOIN batch_files AS batch USING (file_index)
        -- names come NFC or NFD; one form is stored (matching by name uses name_key anyway),
        -- normalised once per distinct name: an export repeats a few thousand names
        LEFT JOIN (
            SELECT name, nfc_normalize(name) AS nfc_name
            FROM (SELECT DISTINCT don_vi_xu_ly AS name FROM judged_records)
        ) AS names ON names.name = record.don_vi_xu_ly
        WHERE NOT record.blank AND record.reason IS NULL
        """
    )
    con.execute(
        """
        INSERT INTO quarantine.dossier_snapshots (file_id, relative_path, line_no, ma_ho_so, reason)
        SELECT batch.file_id, batch.relative_path, record.rowid - judged.first_row + 1,
               record.ma_ho_so, record.reason
        FROM judged_records AS record
        JOIN judged_files AS judged USING (file_index)
        JOIN batch_files AS batch USING (file_index)
        WHERE record.reason IS NOT NULL
        """
    )


def batch_key(landing_file: LandingFile) -> str | None:
    """Files of one format are read together when the format allows it; plain and gzipped
    files apart, as DuckDB sets compression per statement."""
    try:
        if not reader_for(landing_file.path).batches:
            return None
    except UnreadableFile:
        return None
    gzipped = landing_file.name.lower().endswith(".gz")
    return export_format(landing_file.path) + (".gz" if gzipped else "")


DOSSIERS = SourceKind(
    name="dossiers",
    row_tables=("raw.dossier_snapshots", "quarantine.dossier_snapshots"),
    read=read_dossier_exports,
    store=store_dossier_records,
    batch_key=batch_key,
    batch_bytes=BATCH_BYTES,
)


def ingest_dossier_exports(con: duckdb.DuckDBPyConnection, landing: Path) -> list[FileOutcome]:
    """Bring `raw` up to date with every dossier export of the landing folder."""
    return ingest_files(con, DOSSIERS, dossier_exports(landing))
