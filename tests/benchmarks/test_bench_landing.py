"""`make bench FILES=N`: the month's exports packed into N files, as a national portal's dump
comes, hold the generated lines in their load order, the last day still held apart."""

from __future__ import annotations

from pathlib import Path

from benchmarks.landing import prepare_landing
from dvctt_pipeline.ingest.landing import DOSSIER_DIR


def export_lines(folders: list[Path]) -> list[bytes]:
    return [line for folder in folders for path in sorted(folder.iterdir())
            for line in path.read_bytes().splitlines()]


def test_the_month_packed_into_two_files_keeps_every_line_in_order(tmp_path):
    daily = prepare_landing(tmp_path, "2022-03", 1, 3000, 2022)
    packed = prepare_landing(tmp_path, "2022-03", 1, 3000, 2022, files=2)

    daily_days = sorted((daily.landing / DOSSIER_DIR).iterdir())
    packed_days = sorted((packed.landing / DOSSIER_DIR).iterdir())
    assert [day.name for day in packed_days] == ["2022-03-30", "2022-03-31"]
    parts = sorted(packed_days[0].iterdir())
    assert [part.name for part in parts] == ["dvcqg_2022-03_001.jsonl", "dvcqg_2022-03_002.jsonl"]
    assert abs(parts[0].stat().st_size - parts[1].stat().st_size) < parts[0].stat().st_size / 10
    assert export_lines(packed_days[:1]) == export_lines(daily_days[:-1])
    assert export_lines(packed_days[1:]) == export_lines(daily_days[-1:])
    assert packed.held_day.name == "2022-03-31" and packed.snapshots == daily.snapshots
