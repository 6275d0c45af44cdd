"""Shared fixtures: the pipeline pointed at temporary folders, run through Dagster."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dvctt_pipeline.cli import materialize_months
from dvctt_pipeline.sample.generator import generate_landing


@dataclass(frozen=True)
class PipelineFolders:
    landing: Path
    warehouse: Path
    serving: Path

    @classmethod
    def under(cls, root: Path) -> PipelineFolders:
        return cls(root / "landing", root / "warehouse.duckdb", root / "serving" / "dvctt.duckdb")

    @property
    def reports(self) -> Path:
        """Where the monthly reports go by default: beside the warehouse."""
        return self.warehouse.parent / "reports"

    def point_environment(self, env: pytest.MonkeyPatch) -> None:
        """Environment variables that send the pipeline here, with an ephemeral Dagster."""
        env.setenv("DVCTT_LANDING_DIR", str(self.landing))
        env.setenv("DVCTT_WAREHOUSE", str(self.warehouse))
        env.setenv("DVCTT_SERVING", str(self.serving))
        env.delenv("DVCTT_REPORTS_DIR", raising=False)
        env.delenv("DAGSTER_HOME", raising=False)

    def query(self, sql: str, params: dict | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or {}).fetchall()


# agencies.csv with the one agency of land_export's dossiers
ONE_AGENCY = (
    "agency_code,agency_name,admin_level,province_code,district_code,commune_code,valid_from,"
    "valid_to,aliases\n"
    "000.00.12.H17,Sở Tư pháp tỉnh Hòa Bình,province,17,,,,,\n"
)


def land_export(folders: PipelineFolders, day: str, dossiers: int) -> None:
    """A JSON-lines export of the day (yyyy-mm-dd), its dossiers received that day by the
    agency of ONE_AGENCY."""
    export = folders.landing / "dossiers" / day / "dvcqg.jsonl"
    export.parent.mkdir(parents=True)
    export.write_text("".join(json.dumps({
        "MaHoSo": f"000.00.12.H17-{day}-{n}", "KenhThucHien": 2,
        "NgayTiepNhan": day.replace("-", "") + "080000", "TrangThaiHoSo": 4}) + "\n"
        for n in range(dossiers)), encoding="utf-8")


def materialize_or_fail(first: str, last: str) -> dg.ExecuteInProcessResult:
    result = materialize_months(first, last)
    assert result.success, [event.message for event in result.get_step_failure_events()]
    return result


@pytest.fixture(scope="session")
def march_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """March 2022 as the sample's daily exports and reference files, without the report
    workbooks (read-only: tests copy it)."""
    landing = tmp_path_factory.mktemp("march") / "landing"
    generate_landing(landing, "2022-03", "2022-03", scale=0.05, seed=7)
    shutil.rmtree(landing / "reports")
    return landing


def materialized_copy(landing: Path, root: Path, env: pytest.MonkeyPatch, month: str,
                      edit: Callable[[Path], None] | None = None) -> PipelineFolders:
    """The pipeline under `root`, run for `month` on a copy of `landing` (`edit`ed first)."""
    folders = PipelineFolders.under(root)
    shutil.copytree(landing, folders.landing)
    if edit:
        edit(folders.landing)
    folders.point_environment(env)
    materialize_or_fail(month, month)
    return folders


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PipelineFolders:
    """A pipeline on empty temporary folders."""
    paths = PipelineFolders.under(tmp_path)
    paths.point_environment(monkeypatch)
    return paths


@pytest.fixture
def materialize() -> Callable[[str, str], None]:
    return materialize_or_fail


@dataclass(frozen=True)
class SampleRun:
    folders: PipelineFolders
    result: dg.ExecuteInProcessResult  # of the materialization of the four months

    def materializations(self, asset: str) -> list[dg.AssetMaterialization]:
        return materializations(self.result, asset)


def materializations(result: dg.ExecuteInProcessResult, asset: str
                     ) -> list[dg.AssetMaterialization]:
    """The asset's materializations in the run, in the order the run recorded them."""
    return [event.event_specific_data.materialization
            for event in result.get_asset_materialization_events()
            if event.asset_key == dg.AssetKey(asset)]


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRun]:
    """January–April 2022 of the sample (scale 0.3) through the real Dagster job, once for
    the whole session. Tests that use it may re-run months (the result must not change)."""
    paths = PipelineFolders.under(tmp_path_factory.mktemp("sample_run"))
    generate_landing(paths.landing, "2022-01", "2022-04", scale=0.3, seed=2022)
    with pytest.MonkeyPatch.context() as env:
        paths.point_environment(env)
        yield SampleRun(paths, materialize_or_fail("2022-01", "2022-04"))
