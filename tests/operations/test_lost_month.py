"""A month that loses all its data is not published as if nothing happened, run through
`dvctt materialize` in a new process on a persistent DAGSTER_HOME, as a user runs it.

February comes as the national portal's monthly dump, one gzipped file; January as the
portal's daily exports. February is published, then its dump is delivered again cut short
(a re-delivery that went wrong): the run fails naming February and why, and the serving
file keeps February's figures. (A month whose exports all fail on their first delivery is
blocked by the same check: tests/validate/test_quality_checks.py.)"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest
from operations.commands import dvctt_materialize

DUMP = Path("dossiers") / "2022-02-28" / "dvcqg_2022-02.jsonl.gz"
NATIONAL_FIGURES = """
SELECT period_type, period_start, received, received_online
FROM marts.national_period_rates
WHERE period_start = DATE '2022-02-01' ORDER BY ALL
"""


def january_and_february_dump(sample_landing: Path, landing: Path) -> bytes:
    """January's daily exports and the reference files in `landing`; February's exports
    packed, in load order, into the bytes of one gzipped JSON-lines dump."""
    shutil.copytree(sample_landing, landing)
    shutil.rmtree(landing / "reports", ignore_errors=True)
    lines = b""
    for folder in sorted((landing / "dossiers").iterdir()):
        if folder.name >= "2022-02":
            if folder.name < "2022-03":
                lines += b"".join(path.read_bytes() for path in sorted(folder.iterdir()))
            shutil.rmtree(folder)
    assert lines
    return gzip.compress(lines)


def deliver(landing: Path, content: bytes) -> None:
    path = landing / DUMP
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def national_figures(serving: Path) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(NATIONAL_FIGURES).fetchall()


@pytest.mark.slow
def test_a_month_that_loses_its_export_keeps_its_published_figures(tmp_path, sample_landing):
    landing, serving = tmp_path / "landing", tmp_path / "serving" / "dvctt.duckdb"
    dump = january_and_february_dump(sample_landing, landing)
    deliver(landing, dump)
    run = dvctt_materialize(tmp_path, landing, "2022-01", "2022-02")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    published = national_figures(serving)
    assert [row[0] for row in published] == ["month"] and published[0][2] > 0

    # the re-delivery cannot be read: its previous version's rows go, February is lost, the
    # run says so and the serving file keeps February's figures
    deliver(landing, dump[: len(dump) // 2])
    run = dvctt_materialize(tmp_path, landing, "2022-01", "2022-02")
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "month_has_a_readable_export: 2022-02: " in run.stderr, run.stderr[-2000:]
    assert f"every dossier export dated in the month failed ({DUMP.as_posix()})" in run.stderr
    assert "month_keeps_its_dossiers: 2022-02: dossiers=0" in run.stderr
    assert "the serving file keeps its last published figures" in run.stderr
    assert national_figures(serving) == published
