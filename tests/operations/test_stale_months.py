"""A month whose exports changed since its last run shows as stale in the Dagster UI, and only
that month, until a run covers it: `dvctt materialize` in new processes on a persistent
DAGSTER_HOME, the landing sensor's ticks recorded in that instance as the daemon records
them, and what the webserver's GraphQL answers for each month."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from operations.servers import Instance, webserver_and_daemon

from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.defs.sensors import landing_files

MARCH, APRIL = "2022-03-01", "2022-04-01"
RUN_TIMEOUT_SECONDS = 1200
STALENESS = """
query Staleness($path: [String!]!, $partition: String!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode { staleStatus(partition: $partition)
                       staleCauses(partition: $partition) { key { path } reason } }
  }
}
"""
# the month's first monthly asset and the file users read
SHOWN_STALE = (["staging", "dossiers"], ["serving_file"])


def dvctt_materialize(env: dict[str, str], first: str, last: str) -> None:
    run = subprocess.run(
        [str(Path(sys.executable).parent / "dvctt"), "materialize", "--from", first,
         "--to", last], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    assert run.returncode == 0, run.stderr[-3000:]


def sensor_tick(home: Path, warehouse: Warehouse, cursor: str | None) -> str | None:
    """One tick of the landing sensor, its observations recorded as the daemon records them;
    the cursor it leaves (the run requests are not what is tested here)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                          resources={"warehouse": warehouse})
        result = landing_files.evaluate_tick(context)
        for observation in result.asset_events:
            instance.report_runless_asset_event(observation)
    return result.cursor


def land_late_april_export(landing: Path) -> None:
    """A province's late export, a JSON array written by another tool than the portal's
    exports: one dossier received in April, still being processed."""
    folder = landing / "dossiers" / "2022-05-03"
    folder.mkdir(parents=True, exist_ok=True)
    dossier = {
        "MaHoSo": "000.00.01.H17-220429-9001", "MaDonViXuLy": "000.00.01.H17",
        "MaTTHC": "1.001", "KenhThucHien": 3, "NgayTiepNhan": "20220429091500",
        "NgayHenTra": "20220506170000", "NgayKetThucXuLy": "", "TrangThaiHoSo": 4,
        "DuocThanhToanTrucTuyen": 0,
    }
    (folder / "bo_sung_thang_4.json").write_text(
        json.dumps([dossier], ensure_ascii=False, indent=2), encoding="utf-8")


def staleness(ui: Instance, path: list[str], month: str) -> tuple[str, set[str]]:
    node = ui.graphql(STALENESS, {"path": path, "partition": month})["assetNodeOrError"]
    # the root causes: the assets whose new data version makes this one stale
    return node["staleStatus"], {"/".join(cause["key"]["path"]) for cause in node["staleCauses"]}


@pytest.mark.slow
def test_a_month_with_new_exports_shows_stale_until_a_run_covers_it(
    tmp_path: Path, sample_landing: Path, dagster_home: Path
) -> None:
    landing, serving = tmp_path / "landing", tmp_path / "serving" / "dvctt.duckdb"
    shutil.copytree(sample_landing, landing)
    env = {"DVCTT_LANDING_DIR": str(landing), "DVCTT_WAREHOUSE": str(tmp_path / "wh.duckdb"),
           "DVCTT_SERVING": str(serving), "DVCTT_REPORTS_DIR": str(tmp_path / "reports")}
    warehouse = Warehouse(database=env["DVCTT_WAREHOUSE"], landing_dir=str(landing),
                          serving_path=str(serving))
    cursor = sensor_tick(dagster_home, warehouse, None)
    dvctt_materialize({**os.environ, **env, "DAGSTER_HOME": str(dagster_home)},
                      "2022-03", "2022-04")

    with webserver_and_daemon(dagster_home, serving, env, tmp_path, daemon=False) as ui:
        for path in SHOWN_STALE:
            assert staleness(ui, path, APRIL) == ("FRESH", set())

        land_late_april_export(landing)
        sensor_tick(dagster_home, warehouse, cursor)
        for path in SHOWN_STALE:
            assert staleness(ui, path, APRIL) == ("STALE", {"landing/dossier_exports"}), path
            assert staleness(ui, path, MARCH) == ("FRESH", set()), path

        dvctt_materialize({**os.environ, **env, "DAGSTER_HOME": str(dagster_home)},
                          "2022-04", "2022-04")
        for path in SHOWN_STALE:
            assert staleness(ui, path, APRIL) == ("FRESH", set()), path
