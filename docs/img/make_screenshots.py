"""Make the README's pictures again: `make screenshots` (after `make demo`).

Starts the Dagster UI on the demo's data (the project's dagster_home and data/) on a free
port of 3200–3299, drives headless Chromium through playwright-core (a Node package, installed
into a temporary folder with npm, as Chromium itself is not a Python dependency), and writes
under docs/img/:
- lineage.png: the asset lineage graph, every group expanded so the asset names read;
- marts_asset.png: the asset page of marts/province_rankings with its column docs;
- lineage_marts.png: the marts group's lineage, with full names;
- monthly_report_events.png: the monthly_report asset's latest month, its national chart;
- report_chart.png: the top of the April 2022 monthly report, its ranking chart;
- province_report.png: the whole April 2022 report of Hòa Bình, a province with targets.

Needs `chromium` (e.g. `apt-get install -y chromium`; path in $CHROMIUM, default
/usr/bin/chromium) and `npm`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "img"
PORTS = range(3200, 3300)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-quic"]
REPORT = ROOT / "data" / "reports" / "2022-04" / "bao_cao_dvctt_2022-04.html"
PROVINCE_REPORT = (ROOT / "data" / "reports" / "2022-04" / "tinh_17"
                   / "bao_cao_dvctt_2022-04_tinh_17.html")

DRIVER = Path(__file__).with_name("shoot.js")


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit("no free port in 3200–3299")


def wait_for_ui(base: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(2)
    raise SystemExit(f"the Dagster UI did not answer at {base} within {timeout:.0f} s")


def install_playwright(folder: Path) -> dict[str, str]:
    """playwright-core into a temporary folder; the environment that lets node find it."""
    subprocess.run(["npm", "install", "--silent", "--prefix", str(folder), "playwright-core@1"],
                   check=True)
    return {**os.environ, "NODE_PATH": str(folder / "node_modules")}


def main() -> int:
    for report in (REPORT, PROVINCE_REPORT):
        if not report.exists():
            raise SystemExit(f"{report.relative_to(ROOT)} is missing: run `make demo` first.")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DAGSTER_HOME": str(ROOT / "dagster_home")}
    webserver = subprocess.Popen(
        [Path(sys.executable).parent / "dagster-webserver", "-w", "workspace.yaml",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with tempfile.TemporaryDirectory() as folder:
            node_env = install_playwright(Path(folder))
            wait_for_ui(base)
            subprocess.run(["node", str(DRIVER), base, str(OUT), str(REPORT), chromium,
                            json.dumps(CHROMIUM_FLAGS), str(PROVINCE_REPORT)],
                           check=True, env=node_env)
    finally:
        webserver.terminate()
        webserver.wait(timeout=30)
    print(f"Pictures written to {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
