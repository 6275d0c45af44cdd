"""`make bench` at a tiny size, so the benchmark cannot rot: it runs end to end on both shapes
of month (many snapshots per dossier; one snapshot for each of as many dossiers) and reports
every stage. No timing is asserted (the figures are in benchmarks/RESULTS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROWS = 5_000


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    workdir = tmp_path_factory.mktemp("bench")
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--rows", str(ROWS), "--workdir", str(workdir)],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout, json.loads((workdir / "results.json").read_text(encoding="utf-8"))


def test_prints_the_reference_the_stages_and_the_ratios(bench_run: tuple[str, dict]) -> None:
    table, _ = bench_run
    for shape in ("snapshots", "distinct"):
        assert f"shape: {shape}" in table
        assert f"{shape:<10} pipeline / reference: " in table
    for label in ("reference: DuckDB alone", "pipeline (Dagster run)", "  ingest", "  staging",
                  "  checks (GE)", "  marts", "  serve", "row rules alone",
                  "daily run (tick + runs)", "pipeline / reference:", "validation (row rules"):
        assert label in table


@pytest.mark.parametrize("shape", ["snapshots", "distinct"])
def test_pipeline_and_reference_read_the_same_records(bench_run: tuple[str, dict],
                                                      shape: str) -> None:
    results = bench_run[1][shape]
    ingest = next(s for s in results["pipeline"]["stages"] if s["name"] == "ingest")
    exports = ingest["rows_by_asset"]["raw/dossier_snapshots"]  # not the Biểu 06 rows
    assert results["reference"]["rows"] > ROWS / 2
    # the reference skips the few lines that are not JSON; the pipeline quarantines them
    assert 0 <= exports - results["reference"]["rows"] <= 10


def test_the_distinct_shape_has_one_snapshot_per_dossier(bench_run: tuple[str, dict]) -> None:
    results = bench_run[1]["distinct"]
    staging = next(s for s in results["pipeline"]["stages"] if s["name"] == "staging")
    dossiers = staging["rows_by_asset"]["staging/dossiers"]
    snapshots = bench_run[1]["snapshots"]
    # as many dossiers as snapshots in the distinct shape (but the few records the row rules
    # set aside); about two snapshots a dossier in the generator's shape
    assert 0.99 * results["snapshots"] <= dossiers <= results["snapshots"]
    staged = next(s for s in snapshots["pipeline"]["stages"] if s["name"] == "staging")
    assert staged["rows_by_asset"]["staging/dossiers"] < 0.8 * snapshots["snapshots"]


@pytest.mark.parametrize("shape", ["snapshots", "distinct"])
def test_the_daily_run_loads_the_held_back_day(bench_run: tuple[str, dict], shape: str) -> None:
    results = bench_run[1][shape]
    daily_ingest = [s for run in results["daily"]["runs"] for s in run["stages"]
                    if s["name"] == "ingest"]
    assert daily_ingest and daily_ingest[0]["rows"] == results["daily"]["rows"]
