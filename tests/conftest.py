"""Shared fixtures: a pipeline pointed at temporary folders, run through Dagster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dvctt_pipeline.cli import materialize_months


@dataclass(frozen=True)
class PipelineFolders:
    landing: Path
    warehouse: Path
    serving: Path

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or {}).fetchall()


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PipelineFolders:
    """Environment pointing the pipeline at tmp_path, with an ephemeral Dagster instance."""
    paths = PipelineFolders(
        landing=tmp_path / "landing",
        warehouse=tmp_path / "warehouse.duckdb",
        serving=tmp_path / "serving" / "dvctt.duckdb",
    )
    monkeypatch.setenv("DVCTT_LANDING_DIR", str(paths.landing))
    monkeypatch.setenv("DVCTT_WAREHOUSE", str(paths.warehouse))
    monkeypatch.setenv("DVCTT_SERVING", str(paths.serving))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return paths


@pytest.fixture
def materialize() -> Callable[[str, str], None]:
    def run(first: str, last: str) -> None:
        result = materialize_months(first, last)
        assert result.success, [event.message for event in result.get_step_failure_events()]

    return run
