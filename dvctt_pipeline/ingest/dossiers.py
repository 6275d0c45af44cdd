"""Load dossier exports into `raw.dossier_snapshots`, setting bad records aside in
`quarantine.dossier_snapshots` (registry semantics: ingest.registry)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb

from dvctt_pipeline.ingest.guards import UnreadableFile
from dvctt_pipeline.ingest.landing import LandingFile, dossier_exports
from dvctt_pipeline.ingest.readers import (
    JSON_FORMATS,
    READERS,
    export_format,
    fields_in_another_case,
    judge_again_as_written,
    judged_pieces,
    reader_for,
    shows_spreadsheet_dates,
)
from dvctt_pipeline.ingest.registry import (
    BeforeReading,
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
# Files read in one statement at most: DuckDB's reader takes ≈ 0.35 MB for each file of a
# statement, however small (of 4 kB exports, 6 000 ran out of 2 GB and 1 500 of 512 MB), and
# 8 000 of them were read as fast in batches of 250 as of 4 000. 500 need ≈ 0.2 GB.
BATCH_FILES = 500
# An export of more text than this (a national month in one file) is read in pieces of this
# size, each stored before the next is read; DVCTT_INGEST_PIECE_BYTES sets it.
PIECE_BYTES_ENV = "DVCTT_INGEST_PIECE_BYTES"


def read_dossier_exports(
    con: duckdb.DuckDBPyConnection, files: Sequence[LandingFile]
) -> list[RowCounts | UnreadableFile]:
    reader_for(files[0].path).read(con, [landing_file.path for landing_file in files])
    _judge_again_as_written(con, files)
    judged = {index: (records, quarantined) for index, records, quarantined in con.execute(
        "SELECT file_index, records, quarantined FROM judged_files").fetchall()}
    return [_file_counts(landing_file, *judged.get(index, (0, 0)))
            for index, landing_file in enumerate(files)]


def _judge_again_as_written(
    con: duckdb.DuckDBPyConnection, files: Sequence[LandingFile]
) -> None:
    """Judge again the JSON exports of the batch that a first read misjudged
    (readers.judge_again_as_written): those whose first record names the fields in another
    case (a database's export, in lower case), as a CSV header may; and those whose dates
    are written as a spreadsheet shows them, as a CSV's may be, in the file's order. The
    same files as a read in pieces (readers.judged_pieces). Only a file with a record
    without MaHoSo, or with a date that did not read, is looked at."""
    for index, without_ma_ho_so in con.execute(
            "SELECT file_index, with_ma_ho_so < records FROM judged_files "
            "WHERE with_ma_ho_so < records OR bad_dates > 0 ORDER BY file_index").fetchall():
        path = files[index].path
        if export_format(path) not in JSON_FORMATS:
            continue
        spelling = fields_in_another_case(path) if without_ma_ho_so else {}
        if spelling or shows_spreadsheet_dates(path):
            judge_again_as_written(con, path, index, spelling)


def _file_counts(landing_file: LandingFile, records: int, quarantined: int) -> (
        RowCounts | UnreadableFile):
    if records == 0:
        return UnreadableFile(
            f"{landing_file.name} contains no dossier records; check that the export is complete."
        )
    return RowCounts(records, records - quarantined, quarantined)


def piece_bytes() -> int:
    text = os.environ.get(PIECE_BYTES_ENV, "")
    if text and not text.isdigit():
        raise ValueError(f"{PIECE_BYTES_ENV}={text!r} must be a number of bytes.")
    return int(text) if text else BATCH_BYTES


def read_in_pieces(landing_file: LandingFile) -> bool:
    """Whether the file is an export, of any format, with more text than one piece."""
    return (export_format(landing_file.path) in READERS
            and landing_file.text_bytes > piece_bytes())


def load_dossier_pieces(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, file_id: int
) -> RowCounts:
    """Read, judge and store a big export one piece after the other, each piece committed
    on its own: memory and temporary files hold one piece's records at a time. Positions
    (lines, array elements, CSV records) count on from piece to piece."""
    records = quarantined = lines = 0
    for _ in judged_pieces(con, landing_file.path, piece_bytes()):
        row = con.execute("SELECT lines, records, quarantined FROM judged_files").fetchone()
        store_dossier_records(con, [StoredFile(0, landing_file, file_id)], lines_before=lines)
        piece_lines, piece_records, piece_quarantined = row or (0, 0, 0)
        lines, records = lines + piece_lines, records + piece_records
        quarantined += piece_quarantined
    counts = _file_counts(landing_file, records, quarantined)
    if isinstance(counts, UnreadableFile):
        raise counts
    return counts


def store_dossier_records(
    con: duckdb.DuckDBPyConnection, stored: Sequence[StoredFile], lines_before: int = 0
) -> None:
    """Copy the judged records of the batch into the warehouse; `lines_before`: lines of the
    file read before this piece of it."""
    # the batch's files in one statement: a statement for each took seconds for 20 000 files
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE batch_files AS
        SELECT unnest($indexes)::INTEGER AS file_index, unnest($file_ids)::BIGINT AS file_id,
               unnest($export_dates)::DATE AS export_date, unnest($names)::VARCHAR AS file_name,
               unnest($paths)::VARCHAR AS relative_path
        """,
        {"indexes": [file.index for file in stored],
         "file_ids": [file.file_id for file in stored],
         "export_dates": [file.landing_file.export_date for file in stored],
         "names": [file.landing_file.name for file in stored],
         "paths": [file.landing_file.relative_path for file in stored]},
    )
    # names come NFC or NFD, padded or not; one form is stored (matching by name uses name_key
    # anyway), trimmed and normalised once per distinct name (an export repeats a few thousand)
    # and joined only where that changes it: most exports have no such name, and a join on
    # every record's name cost a quarter of storing them (a national month: 13.0 -> 10.0 s)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE renamed_names AS
        SELECT name, nfc_name
        FROM (
            SELECT name, nullif(trim(nfc_normalize(name)), '') AS nfc_name
            -- any_value, not the grouped column itself: DuckDB would push the filter below
            -- the grouping and normalise every record's name
            FROM (SELECT any_value(don_vi_xu_ly) AS name FROM judged_records
                  GROUP BY don_vi_xu_ly)
        )
        WHERE nfc_name IS DISTINCT FROM name
        """
    )
    con.execute(
        """
        INSERT INTO raw.dossier_snapshots
        SELECT batch.file_id, batch.export_date, batch.file_name,
               record.rowid - judged.first_row + 1 + $lines_before AS line_no, record.ma_ho_so,
               record.ma_don_vi_xu_ly,
               CASE WHEN renamed.name IS NULL THEN record.don_vi_xu_ly ELSE renamed.nfc_name END,
               record.ma_tthc, record.ma_linh_vuc,
               record.kenh_thuc_hien, record.kenh_was_empty, record.ngay_tiep_nhan,
               record.ngay_hen_tra, record.ngay_ket_thuc_xu_ly, record.ngay_tra,
               record.trang_thai, record.thanh_toan_truc_tuyen, record.fee_total,
               dossier_key(record.ma_ho_so)
        FROM judged_records AS record
        JOIN judged_files AS judged USING (file_index)
        JOIN batch_files AS batch USING (file_index)
        LEFT JOIN renamed_names AS renamed ON renamed.name = record.don_vi_xu_ly
        WHERE NOT record.blank AND record.reason IS NULL
        """, {"lines_before": lines_before}
    )
    con.execute(
        """
        INSERT INTO quarantine.dossier_snapshots (file_id, relative_path, line_no, ma_ho_so, reason)
        SELECT batch.file_id, batch.relative_path,
               record.rowid - judged.first_row + 1 + $lines_before, record.ma_ho_so, record.reason
        FROM judged_records AS record
        JOIN judged_files AS judged USING (file_index)
        JOIN batch_files AS batch USING (file_index)
        WHERE record.reason IS NOT NULL
        """, {"lines_before": lines_before}
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
    batch_files=BATCH_FILES,
    in_pieces=read_in_pieces,
    load_pieces=load_dossier_pieces,
)


def ingest_dossier_exports(
    con: duckdb.DuckDBPyConnection, landing: Path,
    before_reading: BeforeReading | None = None,
) -> list[FileOutcome]:
    """Bring `raw` up to date with every dossier export of the landing folder."""
    return ingest_files(con, DOSSIERS, dossier_exports(landing), before_reading)
