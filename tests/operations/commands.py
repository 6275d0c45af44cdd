"""`dvctt` as a user runs it: a new process, on a persistent DAGSTER_HOME, warehouse and
serving file under a test's folder, the same from one command to the next."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_SECONDS = 1200


def dvctt_materialize(root: Path, landing: Path, first: str, last: str,
                      **env: str) -> subprocess.CompletedProcess[str]:
    """`dvctt materialize --from first --to last` in a new process, with `env` besides the
    folders; the reports go beside the warehouse."""
    home = root / "dagster_home"
    if not home.exists():
        home.mkdir(parents=True)
        shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    environment = {**os.environ, "DAGSTER_HOME": str(home), "DVCTT_LANDING_DIR": str(landing),
                   "DVCTT_WAREHOUSE": str(root / "warehouse.duckdb"),
                   "DVCTT_SERVING": str(root / "serving" / "dvctt.duckdb"), **env}
    environment.pop("DVCTT_REPORTS_DIR", None)
    return subprocess.run(
        [str(Path(sys.executable).parent / "dvctt"), "materialize", "--from", first,
         "--to", last], env=environment, cwd=root, capture_output=True, text=True,
        timeout=RUN_TIMEOUT_SECONDS)
