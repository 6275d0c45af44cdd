"""The publication step: the serving file and the monthly report, either alone, the report
drawn while the serving file is published."""

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dvctt_pipeline.definitions import defs
from dvctt_pipeline.defs import serve
from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME
from dvctt_pipeline.serve import monthly_report, publish
from dvctt_pipeline.serve.report.data import REPORT_TABLES

SERVING_FILE, MONTHLY_REPORT = dg.AssetKey("serving_file"), dg.AssetKey("monthly_report")


def publish_april(*assets: dg.AssetKey) -> dg.ExecuteInProcessResult:
    return defs().resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        partition_key="2022-04-01", asset_selection=list(assets),
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {event.asset_key for event in result.get_asset_materialization_events()}


@pytest.fixture
def april(sample_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample's warehouse, publishing and drawing into folders of this test's own."""
    sample_run.folders.point_environment(monkeypatch)
    monkeypatch.setenv("DVCTT_SERVING", str(tmp_path / "serving" / "dvctt.duckdb"))
    monkeypatch.setenv("DVCTT_REPORTS_DIR", str(tmp_path / "reports"))
    return tmp_path


def test_either_asset_is_materialized_alone(april: Path):
    serving_alone = publish_april(SERVING_FILE)

    assert serving_alone.success
    assert materialized(serving_alone) == {SERVING_FILE}
    assert (april / "serving" / "dvctt.duckdb").exists()
    assert not (april / "reports").exists()

    report_alone = publish_april(MONTHLY_REPORT)

    assert report_alone.success
    assert materialized(report_alone) == {MONTHLY_REPORT}
    assert (april / "reports" / "2022-04" / "bao_cao_dvctt_2022-04.html").exists()


def test_the_report_is_drawn_while_the_serving_file_is_published(
    april: Path, monkeypatch: pytest.MonkeyPatch
):
    drawing = threading.Event()
    draw, publish = monthly_report.render_monthly_reports, serve.publish_serving_file

    def drawn(*args: Any) -> list[monthly_report.MonthlyReport]:
        drawing.set()
        return draw(*args)

    def published_once_drawing_began(*args: Any) -> dict[str, int]:
        # one after the other, the drawing would start only after this returns
        assert drawing.wait(timeout=60), "the report was not being drawn during the publication"
        return publish(*args)

    monkeypatch.setattr(monthly_report, "render_monthly_reports", drawn)
    monkeypatch.setattr(serve, "publish_serving_file", published_once_drawing_began)

    both = publish_april(SERVING_FILE, MONTHLY_REPORT)

    assert both.success, [event.message for event in both.get_step_failure_events()]
    assert materialized(both) == {SERVING_FILE, MONTHLY_REPORT}


def test_the_step_reads_each_table_of_the_warehouse_once(
    april: Path, monkeypatch: pytest.MonkeyPatch
):
    """The report's tables are served tables too: read for the report's version, they are
    not read again for the serving file's."""
    read: Counter[str] = Counter()
    fingerprint = publish.table_fingerprint

    def counted(con: Any, table: str, database: str | None = None) -> Any:
        if database is None:
            read[table] += 1
        return fingerprint(con, table, database)

    monkeypatch.setattr(publish, "table_fingerprint", counted)

    both = publish_april(SERVING_FILE, MONTHLY_REPORT)

    assert both.success
    assert set(REPORT_TABLES) < set(read)
    assert set(read.values()) == {1}, read


def test_a_report_that_cannot_be_drawn_leaves_the_publication_recorded(
    april: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken(*_args: Any) -> None:
        raise RuntimeError("no room left for the charts")

    monkeypatch.setattr(monthly_report, "render_monthly_reports", broken)

    both = publish_april(SERVING_FILE, MONTHLY_REPORT)

    assert not both.success
    (failure,) = both.get_step_failure_events()
    assert "no room left for the charts" in failure.event_specific_data.error.to_string()
    assert materialized(both) == {SERVING_FILE}
    assert (april / "serving" / "dvctt.duckdb").exists()
