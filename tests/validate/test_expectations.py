"""Great Expectations imported without the modules only an unused expectation needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# in a new interpreter: validate a suite, say which of the modules behind GX_UNUSED_IMPORTS
# (Altair, SciPy's statistics) ran, then use one of them
VALIDATE_THEN_USE = """
import json, sys
import pandas as pd
from dvctt_pipeline.validate.expectations import validate_frame
from dvctt_pipeline.validate.quality_checks import QUALITY_CHECKS

check = next(check for check in QUALITY_CHECKS if check.name == "month_keeps_its_dossiers")
frame = pd.DataFrame({
    "month": pd.to_datetime(["2022-02-01", "2022-03-01"]), "dossiers": [10, 2],
    "previous_dossiers": [9, 8], "kept_share": [10 / 9, 2 / 8], "observed": [10, 2]})
outcome = validate_frame(check.name, frame, check.expectations)
ran = [name for name in ("altair.vegalite", "scipy.stats._stats_py") if name in sys.modules]
import scipy.stats
print(json.dumps({"success": outcome.success, "failures": len(outcome.failures), "ran": ran,
                  "cdf": scipy.stats.norm.cdf(0.0)}))
"""


def test_a_validation_runs_without_altair_and_scipy_stats_which_still_load_when_used():
    completed = subprocess.run([sys.executable, "-c", VALIDATE_THEN_USE], cwd=REPO,
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout.splitlines()[-1])
    # the month that kept a quarter of its dossiers breaks the suite, as in this process
    assert (result["success"], result["failures"]) == (False, 1)
    assert result["ran"] == []
    assert result["cdf"] == 0.5
