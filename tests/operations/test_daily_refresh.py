"""The daily schedule and the landing sensor refresh exactly the months new exports touch."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.defs.schedules import daily_refresh
from dvctt_pipeline.defs.sensors import landing_files
from dvctt_pipeline.ingest.changes import contiguous_ranges

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# 06:00 on 6 June 2022 in Hà Nội: the running month is June 2022.
JUNE_6_AT_SIX = datetime(2022, 6, 6, 6, 0, tzinfo=VIETNAM)


def snapshot(ma_ho_so: str, received: str, finished: str = "") -> dict[str, object]:
    return {
        "MaHoSo": ma_ho_so, "MaDonViXuLy": "000.00.01.H17", "MaTTHC": "1.001",
        "KenhThucHien": 2, "NgayTiepNhan": received, "NgayHenTra": "",
        "NgayKetThucXuLy": finished, "TrangThaiHoSo": 9 if finished else 4,
        "DuocThanhToanTrucTuyen": 0, "ChuHoSo": "Nguyễn Văn An",
    }


def land(landing: Path, day: str, name: str, records: list[dict[str, object]]) -> Path:
    path = landing / "dossiers" / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    """Exports of January to April 2022, already seen by a first evaluation."""
    landing = tmp_path / "landing"
    land(landing, "2022-01-31", "dvcqg.jsonl", [snapshot("H17-1", "20220110080000")])
    land(landing, "2022-03-31", "dvcqg.jsonl", [snapshot("H17-2", "20220302080000")])
    land(landing, "2022-04-30", "dvcqg.jsonl", [snapshot("H17-3", "20220415080000")])
    resource = Warehouse(database=str(tmp_path / "warehouse.duckdb"), landing_dir=str(landing),
                         serving_path=str(tmp_path / "serving.duckdb"))
    evaluate_schedule(resource, datetime(2022, 5, 1, 6, 0, tzinfo=VIETNAM))
    return resource


def evaluate_schedule(warehouse: Warehouse, at: datetime) -> list[tuple[str, str]]:
    context = dg.build_schedule_context(
        scheduled_execution_time=at, resources={"warehouse": warehouse}
    )
    return ranges_of(daily_refresh.evaluate_tick(context).run_requests)


def evaluate_sensor(warehouse: Warehouse) -> list[tuple[str, str]]:
    context = dg.build_sensor_context(resources={"warehouse": warehouse})
    return ranges_of(landing_files.evaluate_tick(context).run_requests)


def ranges_of(requests: list[dg.RunRequest] | None) -> list[tuple[str, str]]:
    return [(r.partition_key_range.start, r.partition_key_range.end) for r in requests or []]


def test_a_quiet_day_refreshes_only_the_running_month(warehouse):
    assert evaluate_schedule(warehouse, JUNE_6_AT_SIX) == [("2022-06-01", "2022-06-01")]


def test_late_status_update_refreshes_the_months_it_was_received_and_finished_in(warehouse):
    # a March dossier finished in May arrives in June's export, with a new June dossier
    land(warehouse.landing, "2022-06-05", "dvcqg.jsonl", [
        snapshot("H17-2", "20220302080000", finished="20220520160000"),
        snapshot("H17-9", "20220604090000"),
    ])
    assert evaluate_schedule(warehouse, JUNE_6_AT_SIX) == [
        ("2022-03-01", "2022-03-01"), ("2022-05-01", "2022-06-01"),
    ]
    # the next morning nothing new has landed
    tomorrow = datetime(2022, 6, 7, 6, 0, tzinfo=VIETNAM)
    assert evaluate_schedule(warehouse, tomorrow) == [("2022-06-01", "2022-06-01")]


def test_a_re_exported_file_is_read_again(warehouse):
    path = land(warehouse.landing, "2022-01-31", "dvcqg.jsonl", [
        snapshot("H17-1", "20220110080000", finished="20220203100000"),
    ])
    later = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))
    assert evaluate_schedule(warehouse, JUNE_6_AT_SIX) == [
        ("2022-01-01", "2022-02-01"), ("2022-06-01", "2022-06-01"),
    ]


def test_months_outside_the_partitions_are_not_requested(warehouse):
    land(warehouse.landing, "2022-06-05", "legacy.jsonl", [
        snapshot("H17-0", "20201215080000", finished="20210105080000"),  # received before 2021
        snapshot("H17-8", "20220601080000", finished="20230101080000"),  # impossible future
    ])
    assert evaluate_schedule(warehouse, JUNE_6_AT_SIX) == [
        ("2021-01-01", "2021-01-01"), ("2022-06-01", "2022-06-01"),
    ]


def test_an_unreadable_file_does_not_stop_the_refresh(warehouse):
    land(warehouse.landing, "2022-06-05", "dvcqg.jsonl", [snapshot("H17-9", "20220503080000")])
    (warehouse.landing / "dossiers" / "2022-06-05" / "broken.json").write_text("[{", "utf-8")
    assert evaluate_schedule(warehouse, JUNE_6_AT_SIX) == [("2022-05-01", "2022-06-01")]


def test_the_sensor_and_the_schedule_share_what_they_have_seen(warehouse):
    assert evaluate_sensor(warehouse) == []
    land(warehouse.landing, "2022-06-05", "dvcqg.jsonl", [
        snapshot("H17-2", "20220302080000", finished="20220401160000"),
    ])
    assert evaluate_sensor(warehouse) == [("2022-03-01", "2022-04-01")]
    assert evaluate_sensor(warehouse) == []
    # the morning run does not refresh March and April a second time
    assert evaluate_schedule(warehouse, JUNE_6_AT_SIX) == [("2022-06-01", "2022-06-01")]


def test_consecutive_months_make_one_range():
    months = [date(2022, 5, 1), date(2022, 3, 1), date(2021, 12, 1), date(2022, 1, 1),
              date(2022, 6, 1)]
    assert contiguous_ranges(months) == [
        (date(2021, 12, 1), date(2022, 1, 1)), (date(2022, 3, 1), date(2022, 3, 1)),
        (date(2022, 5, 1), date(2022, 6, 1)),
    ]


def test_the_schedule_runs_every_day_at_six_in_vietnam():
    assert daily_refresh.cron_schedule == "0 6 * * *"
    assert daily_refresh.execution_timezone == "Asia/Ho_Chi_Minh"
    assert daily_refresh.job_name == "refresh_months"
