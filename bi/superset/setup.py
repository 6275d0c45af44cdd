"""`make superset`: Apache Superset on the serving file, with the DVCTT dashboard.

    python bi/superset/setup.py [--serving FILE] [--home DIR] [--venv DIR] [--screenshot PNG]
    python bi/superset/setup.py serve [--port 8088]
    python bi/superset/setup.py screenshot --screenshot PNG   (of a Superset already set up)

1. Superset's own virtual environment (default data/superset/venv, never the pipeline's .venv)
   from requirements.txt with the pins of constraints.txt, once;
2. its metadata database and an admin user in --home (default data/superset; the password is
   $SUPERSET_ADMIN_PASSWORD, default "admin": a local, single-user setup);
3. the bundle of dashboard/ (Superset's export format) imported, its database connection
   pointed at the serving file read-only (the README's "Where BI connects");
4. every chart's query run through Superset's API: the rows each returns are printed, and the
   setup fails if one returns none;
5. with --screenshot, the dashboard as a browser shows it (headless Chromium, playwright-core
   from npm; needs `chromium` and `npm`).

Runs with any Python 3.11 and its standard library; Superset's own steps run in its venv
(in_superset.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUNDLE = HERE / "dashboard"
DASHBOARD_SLUG = "dvctt"
ADMIN = "admin"
SERVING_PLACEHOLDER = "SERVING_FILE"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


def admin_password() -> str:
    return os.environ.get("SUPERSET_ADMIN_PASSWORD", "admin")


def _requirements_stamp() -> str:
    pins = (HERE / "requirements.txt").read_bytes() + (HERE / "constraints.txt").read_bytes()
    return hashlib.sha256(pins).hexdigest()


def ensure_venv(venv: Path) -> None:
    """Superset's virtual environment, (re)installed when its pins changed."""
    stamp = venv / ".dvctt-requirements"
    if stamp.exists() and stamp.read_text() == _requirements_stamp():
        return
    print(f"Installing Superset into {venv} (a few minutes, once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(HERE / "requirements.txt"),
                    "-c", str(HERE / "constraints.txt")], check=True)
    stamp.write_text(_requirements_stamp())


def superset_env(home: Path) -> dict[str, str]:
    return {**os.environ, "SUPERSET_CONFIG_PATH": str(HERE / "superset_config.py"),
            "DVCTT_SUPERSET_HOME": str(home), "FLASK_APP": "superset.app:create_app()"}


def run_in_superset(venv: Path, home: Path, *arguments: str) -> None:
    subprocess.run([str(venv / "bin" / arguments[0]), *arguments[1:]], env=superset_env(home),
                   check=True)


def write_bundle(serving: Path, zip_path: Path) -> None:
    """The dashboard folder as Superset's import zip, the connection on this serving file."""
    with zipfile.ZipFile(zip_path, "w") as bundle:
        for path in sorted(BUNDLE.rglob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if path.parent.name == "databases":
                text = text.replace(SERVING_PLACEHOLDER, str(serving))
            bundle.writestr(f"dvctt_dashboard/{path.relative_to(BUNDLE)}", text)


def set_up(serving: Path, home: Path, venv: Path) -> dict[str, int]:
    if not serving.exists():
        raise SystemExit(f"No serving file at {serving}: run `make demo` (or a materialization) "
                         "first, or give its path with --serving.")
    home.mkdir(parents=True, exist_ok=True)
    ensure_venv(venv)
    run_in_superset(venv, home, "superset", "db", "upgrade")
    # leaves an existing admin as it is
    run_in_superset(venv, home, "superset", "fab", "create-admin", "--username", ADMIN,
                    "--firstname", "DVCTT", "--lastname", "Analyst",
                    "--email", "admin@localhost", "--password", admin_password())
    run_in_superset(venv, home, "superset", "init")
    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder) / "dvctt_dashboard.zip"
        write_bundle(serving, bundle)
        run_in_superset(venv, home, "superset", "import-dashboards", "-p", str(bundle),
                        "-u", ADMIN)
    checked = subprocess.run(
        [str(venv / "bin" / "python"), str(HERE / "in_superset.py"), DASHBOARD_SLUG, ADMIN,
         admin_password()],
        env=superset_env(home), text=True, stdout=subprocess.PIPE)
    rows = json.loads(checked.stdout.strip().splitlines()[-1])
    for chart, count in rows.items():
        print(f"  {chart}: {count} rows")
    if checked.returncode:
        raise SystemExit("A chart of the dashboard returned no rows (above).")
    return rows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(venv: Path, home: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(venv / "bin" / "superset"), "run", "-h", "127.0.0.1", "-p", str(port),
         "--with-threads"],
        env=superset_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                return server
        except OSError:
            time.sleep(2)
    stop_server(server)
    raise SystemExit(f"Superset did not answer on port {port} within 180 s.")


def screenshot(venv: Path, home: Path, png: Path, chromium: str) -> None:
    """The dashboard as a logged-in analyst sees it, through headless Chromium."""
    charts = len(list((BUNDLE / "charts").glob("*.yaml")))
    port = free_port()
    server = start_server(venv, home, port)
    try:
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(["npm", "install", "--silent", "--prefix", folder,
                            "playwright-core@1"], check=True)
            subprocess.run(
                ["node", str(HERE / "shoot_dashboard.js"), f"http://127.0.0.1:{port}",
                 DASHBOARD_SLUG, ADMIN, admin_password(), str(png), chromium,
                 json.dumps(CHROMIUM_FLAGS), str(charts)],
                env={**os.environ, "NODE_PATH": str(Path(folder) / "node_modules")},
                check=True, timeout=300)
    finally:
        stop_server(server)


def stop_server(server: subprocess.Popen) -> None:
    """Ask the server to stop, then stop it: its request threads can outlive SIGTERM (seen
    once after a screenshot that had succeeded), and a server left behind holds a port and a
    read-only handle on the serving file."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


def serve(venv: Path, home: Path, port: int) -> None:
    print(f"Superset on http://127.0.0.1:{port}/superset/dashboard/{DASHBOARD_SLUG}/ "
          f"(user {ADMIN}); Ctrl-C stops it.", flush=True)
    os.execve(str(venv / "bin" / "superset"),
              ["superset", "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
              superset_env(home))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["setup", "serve", "screenshot"],
                        default="setup")
    parser.add_argument("--serving", type=Path, default=Path(
        os.environ.get("DVCTT_SERVING", ROOT / "data" / "serving" / "dvctt.duckdb")))
    parser.add_argument("--home", type=Path, default=ROOT / "data" / "superset")
    parser.add_argument("--venv", type=Path, default=ROOT / "data" / "superset" / "venv")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    home, venv = args.home.resolve(), args.venv.resolve()
    if args.command == "serve":
        serve(venv, home, args.port)
    if args.command == "screenshot":  # of a Superset already set up
        screenshot(venv, home, args.screenshot.resolve(), args.chromium)
        return
    set_up(args.serving.resolve(), home, venv)
    if args.screenshot:
        screenshot(venv, home, args.screenshot.resolve(), args.chromium)
    print(f"Ready: `make superset-ui`, then http://127.0.0.1:{args.port}/superset/dashboard/"
          f"{DASHBOARD_SLUG}/ (user {ADMIN}).")


if __name__ == "__main__":
    main()
