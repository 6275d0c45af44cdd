"""`make superset` as an analyst runs it: Superset in its own virtual environment, the
dashboard imported on the serving file read-only, and every chart's query returning rows
through Superset's API. The first run installs Superset (minutes); later runs reuse
data/superset/venv."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "bi" / "superset" / "setup.py"
CHARTS = {
    "Tỷ lệ hồ sơ trực tuyến theo tỉnh, lũy kế / Online share by province, year to date",
    "Tỷ lệ DVCTT phát sinh hồ sơ trực tuyến theo tỉnh, lũy kế / DVCTT uptake by province, "
    "year to date",
    "Xu hướng toàn quốc theo tháng / National trend by month",
    "Đơn vị đạt chỉ tiêu theo cấp / Agencies meeting their target by level",
    "Chất lượng dữ liệu / Data quality",
}


def run_setup(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SETUP), *arguments], capture_output=True,
                          text=True, timeout=1800)


@pytest.fixture(scope="module")
def superset(sample_run, tmp_path_factory) -> tuple[Path, Path, str]:
    """Superset set up on the sample's serving file: (home, serving file, setup's output)."""
    home = tmp_path_factory.mktemp("superset")
    serving = sample_run.folders.serving
    result = run_setup("--serving", str(serving), "--home", str(home))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return home, serving, result.stdout


@pytest.mark.slow
def test_the_dashboard_is_imported_and_every_chart_returns_rows(superset):
    home, serving, output = superset
    rows = {line.strip().rsplit(": ", 1)[0]: line.strip().rsplit(": ", 1)[1]
            for line in output.splitlines() if line.endswith(" rows")}
    assert set(rows) == CHARTS
    # 63 provinces of the time are ranked in the sample; a chart without rows fails the setup
    assert rows[next(c for c in CHARTS if "Online share by province" in c)] == "63 rows"
    assert all(int(count.split()[0]) > 0 for count in rows.values())
    with sqlite3.connect(home / "superset.db") as metadata:
        uri, extra = metadata.execute(
            "SELECT sqlalchemy_uri, extra FROM dbs WHERE database_name = 'dvctt'").fetchone()
    assert uri == f"duckdb:///{serving}"
    assert json.loads(extra)["engine_params"] == {"connect_args": {"read_only": True}}


@pytest.mark.slow
def test_the_dashboard_shows_in_a_browser(superset, tmp_path):
    missing = [tool for tool in ("/usr/bin/chromium", "npm") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"the screenshot needs {', '.join(missing)} (apt-get install chromium npm)")
    home, _, _ = superset
    png = tmp_path / "dashboard.png"
    result = run_setup("screenshot", "--home", str(home), "--screenshot", str(png))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert png.stat().st_size > 0  # the driver fails unless all five charts have drawn
