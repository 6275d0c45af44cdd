"""The benchmark's landings not written by the generator itself: the month's exports packed
into N files (`make bench FILES=N`), as a national portal's dump comes, hold the generated
lines in their load order, the last day still held apart; split into a file per province and
day, as provinces' portals drop their own exports, they hold every line of the day, each in
its province's file."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.landing import prepare_landing, prepare_province_files_landing
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


def test_a_day_split_by_province_keeps_every_line_in_its_province_s_file(tmp_path):
    daily = prepare_landing(tmp_path, "2022-03", 1, 3000, 2022)
    by_province = prepare_province_files_landing(tmp_path, daily)

    days = sorted((by_province.landing / DOSSIER_DIR).iterdir())
    assert [day.name for day in days] == [day.name for day in
                                          sorted((daily.landing / DOSSIER_DIR).iterdir())]
    for day in days:
        generated = export_lines([daily.landing / DOSSIER_DIR / day.name])
        assert sorted(export_lines([day])) == sorted(generated)
    files = [path for day in days for path in day.iterdir()]
    # the 63 provinces, and the file of the records that name no agency code
    assert len(files) > 30 * len(days)
    assert len({path.stem for path in files} - {"other"}) == 63
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            # each valid record in the file of the province its handling agency belongs to
            record = json.loads(line) if line.endswith("}") else {}
            if record.get("MaDonViXuLy"):
                assert record["MaDonViXuLy"].endswith("." + path.stem), (path, line)
    assert by_province.held_day.name == daily.held_day.name
    assert by_province.files == len(files)  # the last day is held back by the run, not here
