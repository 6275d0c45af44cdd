"""The warehouse on DuckLake (catalog in a real PostgreSQL, tables as Parquet files): the same
assets, models and checks give the same marts as the embedded DuckDB file, and the same
reports, drawn by the run and by `dvctt report` from the lake's latest publication.

The demo's months are materialized on the lake once, by `dvctt materialize` in a new process,
for every test of this module."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from lake.lake_runs import lake_environment, marts_content, start_materialize
from operations import servers
from postgres_server import PostgresServer

from dvctt_pipeline.cli import main
from dvctt_pipeline.settings import Lake
from dvctt_pipeline.warehouse import connect_to_publication

pytestmark = pytest.mark.slow

RUN_SECONDS = 900
REPORT = Path("2022-04") / "bao_cao_dvctt_2022-04.html"
# a report's footer says where its figures come from and when it was drawn: all that differs
FOOTER = re.compile(r"Nguồn: [^<]*")


@dataclass(frozen=True)
class LakeRun:
    lake: Lake
    env: dict[str, str]
    root: Path
    log: str


@pytest.fixture(scope="module")
def lake_run(postgres: PostgresServer, sample_run, tmp_path_factory) -> LakeRun:
    root = tmp_path_factory.mktemp("lake_run")
    lake = Lake(f"postgres:{postgres.create_database('lake_same_marts')}",
                str(root / "lake_files"))
    env = lake_environment(lake, sample_run.folders.landing, root, servers.dagster_home(root))
    log = root / "materialize.log"
    run = start_materialize(env, "2022-01", "2022-04", log)
    assert run.wait(timeout=RUN_SECONDS) == 0, log.read_text()[-4000:]
    return LakeRun(lake, env, root, log.read_text())


def test_materialize_on_ducklake_gives_the_marts_of_the_embedded_file(lake_run, sample_run):
    assert "published in the DuckLake" in lake_run.log
    with duckdb.connect(str(sample_run.folders.warehouse), read_only=True) as con:
        embedded = marts_content(con)
    with connect_to_publication(lake_run.lake) as con:
        on_the_lake = marts_content(con)
    assert sorted(on_the_lake) == sorted(embedded)
    for table, rows in embedded.items():
        assert len(on_the_lake[table]) == len(rows), table
        assert on_the_lake[table] == rows, table
    assert len(embedded["province_rankings"]) > 1000
    # the lake is what BI reads: no serving copy, and the tables are Parquet files
    assert not (lake_run.root / "serving").exists()
    assert list((lake_run.root / "lake_files").rglob("*.parquet"))


def report_without_source(path: Path) -> str:
    return FOOTER.sub("", path.read_text(encoding="utf-8"))


def test_the_reports_on_ducklake_are_the_embedded_files(
    lake_run, sample_run, tmp_path, monkeypatch, capsys
):
    # the run drew them from the lake (the monthly_report asset), as the embedded run did
    drawn_by_the_run = lake_run.root / "reports" / REPORT
    page = drawn_by_the_run.read_text(encoding="utf-8")
    # its footer names the run that drew it, never the lake's folder on this machine
    assert "lần chạy " in page and str(lake_run.root) not in page
    drawn_on_the_file = sample_run.folders.reports / REPORT
    assert report_without_source(drawn_by_the_run) == report_without_source(drawn_on_the_file)

    # `dvctt report` reads the lake's latest publication, as it reads the serving file
    for name in ("DVCTT_WAREHOUSE", "DVCTT_DATA_PATH", "DVCTT_SERVING"):
        monkeypatch.setenv(name, lake_run.env[name])
    assert main(["report", "--month", "2022-04", "--out", str(tmp_path)]) == 0
    assert main(["report", "--month", "2022-04", "--province", "17", "--out",
                 str(tmp_path)]) == 0
    from_the_lake = tmp_path / REPORT
    assert str(from_the_lake) in capsys.readouterr().out
    assert "bản công bố (snapshot)" in from_the_lake.read_text(encoding="utf-8")
    assert report_without_source(from_the_lake) == report_without_source(drawn_on_the_file)
    (province_lake,) = (tmp_path / "2022-04").glob("tinh_17/*.html")
    province_file = sample_run.folders.reports / province_lake.relative_to(tmp_path)
    assert report_without_source(province_lake) == report_without_source(province_file)
