"""The daily schedule refreshes the running month; the landing sensor refreshes exactly the
months new exports or reference files touch, and keeps asking for them until a run covering
them succeeds. Its memory is Dagster's: the sensor cursor and the instance's runs.

The run outcomes here are recorded in a persistent instance the way the daemon records them;
tests/operations/test_landing_sensor_daemon.py runs the same promises with the real daemon.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME
from dvctt_pipeline.defs.partitions import range_tags
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.defs.schedules import daily_refresh
from dvctt_pipeline.defs.sensors import landing_files
from dvctt_pipeline.months import contiguous_ranges

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
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


class Sensor:
    """The landing sensor ticking against a persistent instance, its cursor kept between
    ticks as the daemon keeps it."""

    def __init__(self, instance: dg.DagsterInstance, warehouse: Warehouse) -> None:
        self.instance, self.warehouse, self.cursor = instance, warehouse, None

    def tick(self) -> list[tuple[str, str]]:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                          resources={"warehouse": self.warehouse})
        result = landing_files.evaluate_tick(context)
        self.cursor = result.cursor
        return ranges_of(result.run_requests)

    def record_runs(self, status: dg.DagsterRunStatus, **tags: str) -> None:
        """Record a run of refresh_months for each range the last tick requested."""
        for start, end in self.requested:
            create_run_for_test(
                self.instance, job_name=REFRESH_JOB_NAME, status=status,
                tags={**range_tags(date.fromisoformat(start), date.fromisoformat(end)), **tags})

    def tick_and_run(self, status: dg.DagsterRunStatus, **tags: str) -> list[tuple[str, str]]:
        self.requested = self.tick()
        self.record_runs(status, **tags)
        return self.requested


def ranges_of(requests: list[dg.RunRequest] | None) -> list[tuple[str, str]]:
    return [(r.partition_key_range.start, r.partition_key_range.end) for r in requests or []]


@pytest.fixture
def sensor(tmp_path: Path) -> Sensor:
    """Exports of January, March and April 2022, seen by a first tick whose run succeeded."""
    landing = tmp_path / "landing"
    land(landing, "2022-01-31", "dvcqg.jsonl", [snapshot("H17-1", "20220110080000")])
    land(landing, "2022-03-31", "dvcqg.jsonl", [snapshot("H17-2", "20220302080000")])
    land(landing, "2022-04-30", "dvcqg.jsonl", [snapshot("H17-3", "20220415080000")])
    (landing / "targets").mkdir()
    (landing / "targets" / "targets_2022.csv").write_text(
        "year,province_code,admin_level,agency_code,metric,min_rate,stretch_rate\n"
        "2022,17,*,,online_share_all,0.3,0.5\n", encoding="utf-8")
    warehouse = Warehouse(database=str(tmp_path / "warehouse.duckdb"), landing_dir=str(landing),
                          serving_path=str(tmp_path / "serving.duckdb"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        ticking = Sensor(instance, warehouse)
        assert ticking.tick_and_run(dg.DagsterRunStatus.SUCCESS) == [
            ("2022-01-01", "2022-01-01"), ("2022-03-01", "2022-04-01")]
        yield ticking


def test_a_tick_with_nothing_new_requests_nothing(sensor):
    assert sensor.tick() == []
    assert sensor.tick() == []


def test_late_status_update_refreshes_the_months_it_was_received_and_finished_in(sensor):
    # a March dossier finished in May arrives in June's export, with a new June dossier
    land(sensor.warehouse.landing, "2022-06-05", "dvcqg.jsonl", [
        snapshot("H17-2", "20220302080000", finished="20220520160000"),
        snapshot("H17-9", "20220604090000"),
    ])
    assert sensor.tick_and_run(dg.DagsterRunStatus.SUCCESS) == [
        ("2022-03-01", "2022-03-01"), ("2022-05-01", "2022-06-01"),
    ]
    assert sensor.tick() == []


def test_a_failed_runs_months_are_requested_again_until_a_run_succeeds(sensor):
    land(sensor.warehouse.landing, "2022-06-05", "dvcqg.jsonl", [
        snapshot("H17-2", "20220302080000", finished="20220401160000"),
    ])
    assert sensor.tick_and_run(dg.DagsterRunStatus.FAILURE) == [("2022-03-01", "2022-04-01")]
    assert sensor.tick_and_run(dg.DagsterRunStatus.FAILURE) == [("2022-03-01", "2022-04-01")]
    assert sensor.tick_and_run(dg.DagsterRunStatus.SUCCESS) == [("2022-03-01", "2022-04-01")]
    assert sensor.tick() == []


def test_a_run_under_way_or_being_retried_is_not_requested_twice(sensor):
    land(sensor.warehouse.landing, "2022-06-05", "dvcqg.jsonl", [
        snapshot("H17-9", "20220503080000"),
    ])
    assert sensor.tick_and_run(dg.DagsterRunStatus.STARTED) == [("2022-05-01", "2022-05-01")]
    assert sensor.tick() == []
    # Dagster's run retries will run a failed run again: the sensor waits for them
    sensor.record_runs(dg.DagsterRunStatus.FAILURE, **{"dagster/will_retry": "true"})
    assert sensor.tick() == []


def test_a_re_exported_file_is_read_again(sensor):
    path = land(sensor.warehouse.landing, "2022-01-31", "dvcqg.jsonl", [
        snapshot("H17-1", "20220110080000", finished="20220203100000"),
    ])
    later = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))
    assert sensor.tick() == [("2022-01-01", "2022-02-01")]


def test_months_outside_the_partitions_are_not_requested(sensor):
    land(sensor.warehouse.landing, "2022-06-05", "legacy.jsonl", [
        snapshot("H17-0", "20201215080000", finished="20210105080000"),  # received before 2021
        snapshot("H17-8", "20220601080000", finished="29990101080000"),  # impossible future
    ])
    assert sensor.tick() == [("2021-01-01", "2021-01-01"), ("2022-06-01", "2022-06-01")]


def test_an_unreadable_file_does_not_stop_the_refresh(sensor):
    landing = sensor.warehouse.landing
    land(landing, "2022-06-05", "dvcqg.jsonl", [snapshot("H17-9", "20220503080000")])
    (landing / "dossiers" / "2022-06-05" / "broken.json").write_text("[{", "utf-8")
    assert sensor.tick() == [("2022-05-01", "2022-05-01")]


def test_a_changed_reference_file_refreshes_every_month_with_data(sensor):
    targets = sensor.warehouse.landing / "targets" / "targets_2022.csv"
    targets.write_text(targets.read_text(encoding="utf-8").replace("0.3", "0.35"), "utf-8")
    assert sensor.tick_and_run(dg.DagsterRunStatus.SUCCESS) == [
        ("2022-01-01", "2022-01-01"), ("2022-03-01", "2022-04-01")]
    assert sensor.tick() == []


def test_consecutive_months_make_one_range():
    months = [date(2022, 5, 1), date(2022, 3, 1), date(2021, 12, 1), date(2022, 1, 1),
              date(2022, 6, 1)]
    assert contiguous_ranges(months) == [
        (date(2021, 12, 1), date(2022, 1, 1)), (date(2022, 3, 1), date(2022, 3, 1)),
        (date(2022, 5, 1), date(2022, 6, 1)),
    ]


def test_the_schedule_refreshes_the_running_month_every_day_at_six_in_vietnam():
    assert daily_refresh.cron_schedule == "0 6 * * *"
    assert daily_refresh.execution_timezone == "Asia/Ho_Chi_Minh"
    assert daily_refresh.job_name == "refresh_months"
    context = dg.build_schedule_context(scheduled_execution_time=JUNE_6_AT_SIX)
    assert ranges_of(daily_refresh.evaluate_tick(context).run_requests) == [
        ("2022-06-01", "2022-06-01")]


@pytest.mark.parametrize("delivered_again", [
    pytest.param(lambda export: export[: len(export) // 2], id="cut short by a failed transfer"),
    pytest.param(lambda export: gzip.compress(export), id="compressed under the same name"),
])
def test_a_re_delivery_without_usable_rows_refreshes_the_months_of_the_version_it_replaces(
    sensor, delivered_again
):
    # March's export delivered again, its rows unusable: the ingest withdraws the rows of the
    # earlier version (the file at that path is now this one), so March's figures must be
    # computed again although the new file gives no month
    march = sensor.warehouse.landing / "dossiers" / "2022-03-31" / "dvcqg.jsonl"
    march.write_bytes(delivered_again(march.read_bytes()))
    assert sensor.tick_and_run(dg.DagsterRunStatus.SUCCESS) == [("2022-03-01", "2022-03-01")]
    assert sensor.tick() == []
