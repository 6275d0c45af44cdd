"""A month on DuckLake against the embedded DuckDB file, side by side in one run.

    python -m benchmarks.lake --catalog 'dbname=bench host=... user=...' [--rows 1000000]

The catalog is a libpq connection string to an empty PostgreSQL database. Both runs are
`dvctt materialize` of the same month in a new process on a persistent instance (the
project's dagster.yaml), on the same landing folder (benchmarks/landing.py, kept under
--workdir and reused), embedded first; the load average is recorded before and after each.

On a shared machine the wall times follow the other users' load; the CPU seconds of the
command's process tree (the code server and the run worker included, PostgreSQL's server
not), which the load changes far less, and each stage's seconds from the run's event log
(benchmarks/stages.py) say where the difference is.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import psutil

from benchmarks.landing import prepare_landing
from benchmarks.run import DAGSTER_YAML
from benchmarks.stages import run_stages, stage_of_node

DVCTT = Path(sys.executable).parent / "dvctt"


def folder_bytes(path: Path) -> int:
    files = [path] if path.is_file() else path.rglob("*")
    return sum(item.stat().st_size for item in files if item.is_file())


CPU_SAMPLE_SECONDS = 0.5


def run_counting_cpu(command: list[str], env: dict[str, str], log: Path) -> float:
    """Run the command to its end; the CPU seconds of its process tree. The run worker is a
    child of the code server, which is not waited for by the command, so the tree's
    processes are sampled (the last half second of each one's life is not counted)."""
    used: dict[tuple[int, float], float] = {}
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        root = psutil.Process(process.pid)
        while process.poll() is None:
            for member in [root, *root.children(recursive=True)]:
                try:
                    with member.oneshot():
                        times = member.cpu_times()
                        used[(member.pid, member.create_time())] = times.user + times.system
                except psutil.Error:  # ended between the listing and the reading
                    continue
            time.sleep(CPU_SAMPLE_SECONDS)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return sum(used.values())


def stage_seconds(home: Path, start: float, end: float) -> dict[str, float]:
    """Seconds of each stage of the home's one run, from its event log."""
    from dvctt_pipeline.definitions import defs

    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs(limit=1)
        # no memory sampled here: the stages' peaks are 0
        stages = run_stages(instance, run.run_id, stage_of_node(defs()), lambda *_: 0,
                            start, end)
    return {stage.name: round(stage.seconds, 1) for stage in stages}


def measure(mode: str, warehouse: dict[str, str], run_dir: Path, landing: Path,
            month: str) -> dict[str, object]:
    """One `dvctt materialize` of the month: seconds, load average around it, size."""
    shutil.rmtree(run_dir, ignore_errors=True)
    (run_dir / "dagster_home").mkdir(parents=True)
    shutil.copy(DAGSTER_YAML, run_dir / "dagster_home" / "dagster.yaml")
    env = {**os.environ, **warehouse, "DVCTT_LANDING_DIR": str(landing),
           "DVCTT_SERVING": str(run_dir / "serving" / "dvctt.duckdb"),
           "DVCTT_REPORTS_DIR": str(run_dir / "reports"),
           "DAGSTER_HOME": str(run_dir / "dagster_home")}
    load_before = os.getloadavg()[0]
    start = time.time()
    cpu = run_counting_cpu([str(DVCTT), "materialize", "--from", month, "--to", month], env,
                           run_dir / "materialize.log")
    end = time.time()
    stored = run_dir / ("lake" if mode == "ducklake" else "warehouse.duckdb")
    return {"mode": mode, "seconds": round(end - start, 1), "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "cpu_seconds": round(cpu, 1),
            "stages": stage_seconds(run_dir / "dagster_home", start, end),
            "stored_bytes": folder_bytes(stored)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lake", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", required=True,
                        help="libpq connection string of an empty PostgreSQL database")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--first", default="2022-03", metavar="YYYY-MM")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    args = parser.parse_args(argv)
    bench = prepare_landing(args.workdir.resolve(), args.first, 1, args.rows, args.seed)
    bench.land_last_day()
    runs = args.workdir.resolve() / "lake_vs_file"
    results = [
        measure("embedded", {"DVCTT_WAREHOUSE": str(runs / "embedded" / "warehouse.duckdb")},
                runs / "embedded", bench.landing, args.first),
        measure("ducklake", {"DVCTT_WAREHOUSE": f"ducklake:postgres:{args.catalog}",
                             "DVCTT_DATA_PATH": str(runs / "ducklake" / "lake")},
                runs / "ducklake", bench.landing, args.first),
    ]
    summary = {"rows": bench.snapshots, "month": args.first, "cpus": os.cpu_count(),
               "runs": results}
    (runs / "results.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
