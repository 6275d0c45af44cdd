"""A national month in one file, as the national portal dumps it, through the path a file of
several gigabytes takes: more text than one piece (DVCTT_INGEST_PIECE_BYTES, set here far
below the file's size), so it is read, judged and stored piece by piece.

The month's figures are those of the same snapshots in the portal's daily files; every row
keeps the line number it has in the dump; rows read = rows loaded + rows quarantined; a bad
file beside the dump still fails alone."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
from conftest import PipelineFolders, materialize_or_fail, materialized_copy

from dvctt_pipeline.ingest.changes import landing_changes
from dvctt_pipeline.ingest.dossiers import DOSSIERS, PIECE_BYTES_ENV, ingest_dossier_exports
from dvctt_pipeline.ingest.landing import LandingFile
from dvctt_pipeline.ingest.registry import Batch, Candidate
from dvctt_pipeline.warehouse import ensure_base_tables

MONTH = "2022-03"
DUMP_DAY = "2022-03-31"
PIECES = 6
MONTH_FIGURES = {
    "national_period_rates": "period_start = DATE '2022-03-01'",
    "province_period_rates": "period_start = DATE '2022-03-01'",
    "agency_period_rates": "period_start = DATE '2022-03-01'",
    "province_rankings": "period_start = DATE '2022-03-01'",
}
RAW_COLUMNS = "* EXCLUDE (file_id, export_date, file_name)"


def portal_dump_lines(daily: Path) -> list[str]:
    """The month's snapshots in load order, re-serialised as another tool writes them: keys
    in another order, non-ASCII letters escaped; lines it cannot parse are kept as they are,
    and blank lines appear between records."""
    lines: list[str] = []
    for path in sorted((daily / "dossiers").glob("*/*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                lines.append(json.dumps(dict(reversed(json.loads(line).items()))))
            except json.JSONDecodeError:
                lines.append(line)
            if len(lines) % 500 == 499:
                lines.append("")
    return lines


def national_dump(daily: Path, landing: Path, name: str) -> list[str]:
    """A copy of the daily landing folder whose exports are one file of the whole month,
    CRLF line ends, in the folder of the month's last day; the dump's lines."""
    shutil.copytree(daily, landing, ignore=shutil.ignore_patterns("dossiers"))
    lines = portal_dump_lines(daily)
    text = "".join(f"{line}\r\n" for line in lines).encode()
    dump = landing / "dossiers" / DUMP_DAY / name
    dump.parent.mkdir(parents=True)
    dump.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    return lines


def month_figures(folders: PipelineFolders) -> dict[str, list[tuple]]:
    return {table: folders.query(f"SELECT * FROM marts.{table} WHERE {where} ORDER BY ALL")
            for table, where in MONTH_FIGURES.items()}


def test_a_month_in_one_gzipped_file_read_in_pieces_gives_the_march_exports_figures(
        tmp_path, march_exports, monkeypatch):
    daily = materialized_copy(march_exports, tmp_path / "daily", monkeypatch, MONTH)

    dumped = PipelineFolders.under(tmp_path / "dump")
    lines = national_dump(march_exports, dumped.landing, f"dvcqg_{MONTH}.jsonl.gz")
    (dumped.landing / "dossiers" / DUMP_DAY / "trong.jsonl").write_bytes(b"")  # fails alone
    dumped.point_environment(monkeypatch)
    monkeypatch.setenv(PIECE_BYTES_ENV, str(sum(map(len, lines)) // PIECES))
    materialize_or_fail(MONTH, MONTH)

    files = dumped.query("SELECT relative_path, status, rows_read, rows_loaded, "
                         "rows_quarantined FROM meta.source_files ORDER BY ALL")
    (read, loaded, quarantined), = daily.query(
        "SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM meta.source_files "
        "WHERE kind = 'dossiers'")
    assert files == [
        (f"dossiers/{DUMP_DAY}/dvcqg_{MONTH}.jsonl.gz", "loaded", read, loaded, quarantined),
        (f"dossiers/{DUMP_DAY}/trong.jsonl", "failed", 0, 0, 0),
    ]
    assert read == loaded + quarantined and quarantined > 0
    assert month_figures(dumped) == month_figures(daily)
    assert month_figures(dumped)["national_period_rates"]

    # each row, loaded or set aside, at its line of the dump
    rows = dumped.query("SELECT line_no, ma_ho_so FROM raw.dossier_snapshots UNION ALL "
                        "SELECT line_no, ma_ho_so FROM quarantine.dossier_snapshots "
                        "WHERE ma_ho_so IS NOT NULL")
    assert len(rows) > loaded
    assert all(f'"MaHoSo": "{ma_ho_so}"' in lines[line_no - 1] for line_no, ma_ho_so in rows)


def test_the_same_dump_uncompressed_in_pieces_loads_the_same_rows_and_months(
        tmp_path, march_exports, monkeypatch):
    landing = tmp_path / "landing"
    lines = national_dump(march_exports, landing, f"dvcqg_{MONTH}.jsonl")
    months = landing_changes(landing, {}).months  # what the landing sensor reads
    with duckdb.connect() as whole, duckdb.connect() as in_pieces:
        ensure_base_tables(whole)
        (outcome,) = ingest_dossier_exports(whole, landing)
        monkeypatch.setenv(PIECE_BYTES_ENV, str(sum(map(len, lines)) // PIECES))
        ensure_base_tables(in_pieces)
        assert ingest_dossier_exports(in_pieces, landing) == [outcome]
        assert outcome.status == "loaded" and outcome.rows_read == len(
            [line for line in lines if line])
        for table in ("raw.dossier_snapshots", "quarantine.dossier_snapshots"):
            columns = RAW_COLUMNS if table.startswith("raw") else "line_no, ma_ho_so, reason"
            query = f"SELECT {columns} FROM {table} ORDER BY line_no"
            assert in_pieces.execute(query).fetchall() == whole.execute(query).fetchall()
    assert landing_changes(landing, {}).months == months and date(2022, 3, 1) in months


def test_gzipped_exports_are_batched_by_the_text_they_hold_not_their_bytes_on_disk(tmp_path):
    """Two gzipped exports of 100 MB each hold about 1.6 GB of records: more than one batch
    reads in a statement, so they are read apart; as plain files they are read together."""
    def export(name: str, size_bytes: int) -> Candidate:
        landing_file = LandingFile(tmp_path / name, f"dossiers/{DUMP_DAY}/{name}",
                                   date(2022, 3, 31), size_bytes, 0)
        return Candidate(landing_file, None, None)

    def read_together(first: Candidate, second: Candidate) -> bool:
        batch = Batch(DOSSIERS)
        batch.add(first)
        return batch.takes(second)

    size = 100 * 1000**2
    assert read_together(export("a.jsonl", size), export("b.jsonl", size))
    assert not read_together(export("a.jsonl.gz", size), export("b.jsonl.gz", size))
    assert read_together(export("a.jsonl.gz", size // 10), export("b.jsonl.gz", size // 10))
