"""A landing folder of many small exports (a province's office exporting each agency's file
every day): read in batches of a bounded number of files, a bad file found by halving its
batch, and an unchanged folder recognised from one read of the registry; the landing sensor's
look reads the new ones in the same batches, a bad one failing alone."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.ingest import changes
from dvctt_pipeline.ingest.changes import landing_changes
from dvctt_pipeline.ingest.dossiers import BATCH_FILES, DOSSIERS, ingest_dossier_exports
from dvctt_pipeline.ingest.landing import LandingFile, dossier_exports
from dvctt_pipeline.ingest.registry import SourceKind, ingest_files
from dvctt_pipeline.warehouse import connect


def land_small_exports(landing: Path, files: int) -> None:
    """One record per agency file, 63 files a day, as JSON lines."""
    for n in range(files):
        day, agency = divmod(n, 63)
        path = landing / "dossiers" / f"2022-03-{day + 1:02d}" / f"don_vi_{agency:02d}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'{{"MaHoSo": "H{n:05d}", "KenhThucHien": 2, '
            f'"NgayTiepNhan": "202203{day + 1:02d}080000", "TrangThaiHoSo": 4}}\n',
            encoding="utf-8")


class CountedReads:
    """The dossier kind, recording the files of each statement that reads a batch; a
    statement holding `bad` fails as a whole, as DuckDB's does on a file it cannot read."""

    def __init__(self, bad: str | None = None) -> None:
        self.batches: list[int] = []
        self.bad = bad

    def read(self, con: duckdb.DuckDBPyConnection, files: Sequence[LandingFile]) -> list:
        self.batches.append(len(files))
        if any(file.name == self.bad for file in files):
            raise duckdb.IOException(f"{self.bad} could not be read")
        return DOSSIERS.read(con, files)

    def kind(self, **changes: object) -> SourceKind:
        return dataclasses.replace(DOSSIERS, read=self.read, **changes)


@pytest.fixture
def con(tmp_path: Path):
    with connect(tmp_path / "warehouse.duckdb") as connection:
        # DuckDB's reader takes memory for each file of a statement: 1 000 small exports in
        # one statement run out of 256 MB
        connection.execute("SET memory_limit = '256MB'")
        yield connection


def test_many_small_exports_load_in_batches_of_bounded_files(tmp_path: Path, con):
    land_small_exports(tmp_path, files=BATCH_FILES * 2 + 10)
    reads = CountedReads()

    outcomes = ingest_files(con, reads.kind(), dossier_exports(tmp_path))

    assert reads.batches == [BATCH_FILES, BATCH_FILES, 10]
    assert {outcome.status for outcome in outcomes} == {"loaded"}
    assert con.execute("SELECT count(*) FROM raw.dossier_snapshots").fetchone()[0] == \
        BATCH_FILES * 2 + 10
    # each file registered under an id of its own, with its own row
    assert con.execute(
        "SELECT count(DISTINCT file_id), count(*) FILTER (WHERE rows_loaded = 1) "
        "FROM meta.source_files JOIN raw.dossier_snapshots USING (file_id)"
    ).fetchone() == (BATCH_FILES * 2 + 10,) * 2


def test_a_bad_file_of_a_batch_is_found_by_halving_it(tmp_path: Path, con):
    land_small_exports(tmp_path, files=64)
    reads = CountedReads(bad="don_vi_40.jsonl")

    outcomes = {o.relative_path: o for o in ingest_files(
        con, reads.kind(batch_files=64), dossier_exports(tmp_path))}

    bad = outcomes.pop("dossiers/2022-03-01/don_vi_40.jsonl")
    assert bad.status == "failed" and "don_vi_40.jsonl" in bad.message
    assert {outcome.status for outcome in outcomes.values()} == {"loaded"}
    # the batch, then two halves at each of six levels (64 → 1), not 64 reads alone
    assert len(reads.batches) == 1 + 2 * 6
    assert con.execute("SELECT count(*) FROM raw.dossier_snapshots").fetchone()[0] == 63


class Recorded:
    """A connection that records the statements sent to it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.statements = con, []

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        self.statements.append(sql)
        return self.con.execute(sql, *args)

    def executemany(self, sql: str, rows: list) -> duckdb.DuckDBPyConnection:
        self.statements += [sql] * len(rows)
        return self.con.executemany(sql, rows)

    def __getattr__(self, name: str) -> object:
        return getattr(self.con, name)


def test_the_registry_is_read_once_for_many_files_new_or_unchanged(tmp_path: Path, con):
    land_small_exports(tmp_path, files=200)
    first = Recorded(con)

    loaded = ingest_dossier_exports(first, tmp_path)  # type: ignore[arg-type]
    again = Recorded(con)
    unchanged = ingest_dossier_exports(again, tmp_path)  # type: ignore[arg-type]

    assert {outcome.status for outcome in loaded} == {"loaded"}
    assert {outcome.status for outcome in unchanged} == {"unchanged"}
    # not a statement per file: the registry read once, the files read, registered and
    # stored together
    assert len(first.statements) < 30 and len(again.statements) < 10


def test_the_sensor_s_look_reads_new_small_exports_in_batches_a_bad_one_found_by_halving(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    land_small_exports(tmp_path, files=BATCH_FILES + 20)  # days 1-9 of March
    bad = tmp_path / "dossiers" / "2022-03-02" / "hong.jsonl"  # the only file of its name
    bad.write_text('{"MaHoSo": "H-APRIL", "NgayTiepNhan": "20220402080000"}\n',
                   encoding="utf-8")
    reads = CountedReads(bad=bad.name)
    monkeypatch.setattr(changes, "DOSSIERS", reads.kind())

    looked = landing_changes(tmp_path, {})

    # a statement per batch; the failed batch read again in halves (two reads at each of
    # nine levels, 500 → 1), not 500 reads alone; then the rest
    assert reads.batches[0] == BATCH_FILES and reads.batches[-1] == 21
    assert len(reads.batches) == 2 + 2 * 9
    assert looked.unreadable == ["dossiers/2022-03-02/hong.jsonl"]
    assert looked.months == {date(2022, 3, 1)}  # not April: the file that failed
    assert len(looked.file_months) == BATCH_FILES + 20
    assert looked.file_months["dossiers/2022-03-09/don_vi_00.jsonl"] == {date(2022, 3, 1)}
