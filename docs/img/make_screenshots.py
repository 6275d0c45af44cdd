"""Make the README's pictures again: `make screenshots` (after `make demo`).

Starts the Dagster UI on the demo's data (the project's dagster_home and data/) on a free
port, drives headless Chromium through playwright-core (a Node package, installed with npm
into the virtual environment, as Chromium itself is not a Python dependency), and writes
under docs/img/:
- lineage.png: the asset lineage, one box per group;
- lineage_<group>.png: each group's lineage, its assets named in full;
- marts_asset.png: the asset page of marts/province_rankings with its column docs;
- monthly_report_events.png: the monthly_report asset's latest month, its national chart;
- report_chart.png: the top of the April 2022 monthly report, its ranking chart;
- province_report.png: the whole April 2022 report of Hòa Bình, a province with targets.

Needs `chromium` (e.g. `apt-get install -y chromium`; path in $CHROMIUM, default
/usr/bin/chromium), `node` and `npm`. The browser and server helpers are the UI test's
(tests/operations/).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from operations import browser  # noqa: E402
from operations.servers import webserver_and_daemon  # noqa: E402

OUT = ROOT / "docs" / "img"
REPORT = ROOT / "data" / "reports" / "2022-04" / "bao_cao_dvctt_2022-04.html"
PROVINCE_REPORT = (ROOT / "data" / "reports" / "2022-04" / "tinh_17"
                   / "bao_cao_dvctt_2022-04_tinh_17.html")

SERVING = ROOT / "data" / "serving" / "dvctt.duckdb"
DRIVER = Path(__file__).with_name("shoot.js")


def main() -> int:
    for report in (REPORT, PROVINCE_REPORT):
        if not report.exists():
            raise SystemExit(f"{report.relative_to(ROOT)} is missing: run `make demo` first.")
    if missing := browser.missing_system_packages():
        raise SystemExit(missing)
    with (tempfile.TemporaryDirectory() as logs,
          webserver_and_daemon(ROOT / "dagster_home", SERVING, {}, Path(logs),
                               daemon=False) as ui):
        browser.run_driver(DRIVER, ui.url, str(OUT), str(REPORT), str(PROVINCE_REPORT))
    print(f"Pictures written to {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
