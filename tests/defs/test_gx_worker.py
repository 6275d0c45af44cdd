"""The GX worker: a run about to load large new exports validates its checks in a worker process
that imported Great Expectations meanwhile, with the outcomes this process would give; a run
with nothing new, or too little, starts none; no worker outlives its run, failed or not."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from conftest import ONE_AGENCY, land_export, materializations

from dvctt_pipeline.cli import materialize_months
from dvctt_pipeline.defs import gx_worker, serve
from dvctt_pipeline.defs.gx_worker import GxWorker
from dvctt_pipeline.ingest.landing import LandingFile, dossier_exports
from dvctt_pipeline.validate.expectations import validate_frame
from dvctt_pipeline.validate.quality_checks import QUALITY_CHECKS, QualityCheck


class SpyPool(ProcessPoolExecutor):
    """A process pool that records itself, the tasks it is given and when it is stopped."""

    started: list[SpyPool] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks: list[str] = []
        SpyPool.started.append(self)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        self.tasks.append(fn.__name__)
        return super().submit(fn, *args, **kwargs)

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        self.tasks.append("shutdown")
        super().shutdown(*args, **kwargs)


@pytest.fixture
def spied_pools(monkeypatch: pytest.MonkeyPatch) -> list[SpyPool]:
    """The pools the GX worker starts."""
    monkeypatch.setattr(SpyPool, "started", [])
    monkeypatch.setattr(gx_worker, "ProcessPoolExecutor", SpyPool)
    return SpyPool.started


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch, spied_pools: list[SpyPool]) -> list[SpyPool]:
    """The pools the GX worker starts, from new exports of a single byte on."""
    monkeypatch.setattr(gx_worker, "MIN_TEXT_BYTES_FOR_WORKER", 1)
    return spied_pools


@pytest.fixture
def exports(tmp_path: Path) -> list[LandingFile]:
    """One small dossier export, as the ingest lists it."""
    export = tmp_path / "dossiers" / "2022-03-02" / "dvcqg.jsonl"
    export.parent.mkdir(parents=True)
    export.write_text('{"MaHoSo": "000.00.12.H17-1"}\n', encoding="utf-8")
    return list(dossier_exports(tmp_path))


def check(name: str) -> QualityCheck:
    return next(check for check in QUALITY_CHECKS if check.name == name)


def test_the_worker_gives_the_outcome_of_this_process(pools: list[SpyPool],
                                                     exports: list[LandingFile]):
    """Failing rows, a NULL bound (no previous load), a row breaking two expectations of a
    suite of three."""
    frames = {
        "month_keeps_its_dossiers": pd.DataFrame({
            "month": pd.to_datetime(["2022-01-01", "2022-02-01", "2022-03-01"]),
            "dossiers": [10, 2, 5], "previous_dossiers": [9, 8, None],
            "kept_share": [10 / 9, 2 / 8, None], "observed": [10, 2, 5]}),
        "report_rows_add_up": pd.DataFrame({
            "month": pd.to_datetime(["2022-03-01"] * 2), "file_id": [1, 1], "row_no": [5, 6],
            "received_total": [10, 7], "received_parts": [10, 6], "finished": [4, 4],
            "finished_parts": [4, 3], "in_progress": [6, 3], "in_progress_parts": [6, 3]}),
    }
    worker = GxWorker()
    worker.start_for(exports)
    try:
        (pool,) = pools
        assert len(multiprocessing.active_children()) == 1
        # no usage statistics from the worker either
        assert pool.submit(os.getenv, "GX_ANALYTICS_ENABLED").result() == "false"
        for name, frame in frames.items():
            here = validate_frame(name, frame, check(name).expectations)
            there = worker.validate(check(name), frame)
            assert not there.success and there.expectations == here.expectations
            assert len(there.failures) == 1
            pd.testing.assert_frame_equal(there.failures, here.failures)
        worker.let_go()
        # a check after the worker was let go validates in this process
        after = worker.validate(check(name), frame)
        assert after.expectations == here.expectations
        assert pool.tasks[-1] == "shutdown"
    finally:
        worker.teardown_after_execution(dg.build_init_resource_context())
    assert multiprocessing.active_children() == []


def test_exports_too_small_to_hide_the_import_behind_start_no_worker(
    spied_pools: list[SpyPool], exports: list[LandingFile]
):
    worker = GxWorker()

    worker.start_for(exports)

    assert spied_pools == [] and multiprocessing.active_children() == []


def test_a_run_that_fails_stops_its_worker(pools: list[SpyPool], exports: list[LandingFile]):
    @dg.asset
    def loads_and_fails(gx_worker: GxWorker) -> None:
        gx_worker.start_for(exports)
        raise RuntimeError("the load failed")

    result = dg.materialize([loads_and_fails], resources={"gx_worker": GxWorker()},
                            raise_on_error=False)

    assert not result.success
    assert len(pools) == 1
    assert multiprocessing.active_children() == []


def test_new_snapshots_are_checked_in_a_worker_and_nothing_new_starts_none(
    folders, pools: list[SpyPool], monkeypatch: pytest.MonkeyPatch
):
    (folders.landing / "reference").mkdir(parents=True)
    (folders.landing / "reference" / "agencies.csv").write_text(ONE_AGENCY, encoding="utf-8")
    land_export(folders, "2022-03-02", dossiers=3)
    publish = serve.publish_serving_file

    def publish_after_the_worker_was_let_go(*args: Any, **kwargs: Any) -> dict[str, int]:
        (pool,) = pools
        assert pool.tasks[-1] == "shutdown", "the serving file was published before the " \
            "worker was let go"
        return publish(*args, **kwargs)

    monkeypatch.setattr(serve, "publish_serving_file", publish_after_the_worker_was_let_go)

    loaded = materialize_months("2022-03", "2022-03")

    assert loaded.success
    (pool,) = pools
    assert pool.tasks[0] == "import_gx" and "validate_check" in pool.tasks[1:]
    assert multiprocessing.active_children() == []
    validated = {e.check_name for e in loaded.get_asset_check_evaluations()
                 if e.metadata["validated_again"].value}
    assert pool.tasks.count("validate_check") == len(validated)
    assert materializations(loaded, "serving_file")

    nothing_new = materialize_months("2022-03", "2022-03")

    assert nothing_new.success
    assert len(pools) == 1
    assert all(e.passed for e in nothing_new.get_asset_check_evaluations())
