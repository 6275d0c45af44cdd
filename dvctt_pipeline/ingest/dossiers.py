"""Load dossier exports into `raw.dossier_snapshots`, setting bad records aside in
`quarantine.dossier_snapshots` (registry semantics: ingest.registry)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dvctt_pipeline.ingest.landing import LandingFile, dossier_exports
from dvctt_pipeline.ingest.readers import reader_for
from dvctt_pipeline.ingest.registry import FileOutcome, RowCounts, SourceKind, ingest_files
from dvctt_pipeline.validate.dossier_rules import judge_incoming_records


def read_dossier_export(con: duckdb.DuckDBPyConnection, landing_file: LandingFile) -> RowCounts:
    reader_for(landing_file.path)(con, landing_file.path)
    judge_incoming_records(con)
    read, quarantined = con.execute(
        "SELECT count(*), count(reason) FROM judged_records"
    ).fetchone()
    return RowCounts(read, read - quarantined, quarantined)


def store_dossier_records(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, file_id: int
) -> None:
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


DOSSIERS = SourceKind(
    name="dossiers",
    row_tables=("raw.dossier_snapshots", "quarantine.dossier_snapshots"),
    read=read_dossier_export,
    store=store_dossier_records,
)


def ingest_dossier_exports(con: duckdb.DuckDBPyConnection, landing: Path) -> list[FileOutcome]:
    """Bring `raw` up to date with every dossier export of the landing folder."""
    return ingest_files(con, DOSSIERS, dossier_exports(landing))
