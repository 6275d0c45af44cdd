"""Headless Chromium driven by playwright-core (a Node package), for the UI test and the
README's pictures (docs/img/make_screenshots.py): one place that knows where the browser is,
its flags, and how playwright-core is installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic"]
# installed once per virtual environment, beside its Python packages (npm, not pip: Chromium
# is a system package and playwright-core only drives it)
PLAYWRIGHT_PREFIX = Path(sys.prefix) / "node"
PLAYWRIGHT_PACKAGE = "playwright-core@1"


def missing_system_packages() -> str | None:
    """What this machine lacks to drive a browser (install it, as .ci/run does), or None."""
    missing = [name for name, found in (
        (f"chromium ({CHROMIUM})", CHROMIUM.exists()),
        ("node", shutil.which("node")), ("npm", shutil.which("npm")),
    ) if not found]
    if not missing:
        return None
    return (f"{', '.join(missing)} not installed: `apt-get install -y chromium nodejs npm` "
            "(Debian), or set $CHROMIUM to a Chromium binary.")


def node_environment() -> dict[str, str]:
    """The environment in which `node` finds playwright-core, installed first if need be."""
    if not (PLAYWRIGHT_PREFIX / "node_modules" / "playwright-core").exists():
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        str(PLAYWRIGHT_PREFIX), PLAYWRIGHT_PACKAGE], check=True)
    return {**os.environ, "NODE_PATH": str(PLAYWRIGHT_PREFIX / "node_modules")}


def run_driver(script: Path, *args: str, env: dict[str, str] | None = None,
               timeout: float = 600) -> str:
    """Run a playwright-core script as `node script BASE… CHROMIUM FLAGS_JSON`; its stdout."""
    done = subprocess.run(
        ["node", str(script), *args, str(CHROMIUM), json.dumps(CHROMIUM_FLAGS)],
        env={**node_environment(), **(env or {})}, capture_output=True, text=True,
        timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"{script.name} failed:\n{done.stderr[-3000:]}")
    return done.stdout
