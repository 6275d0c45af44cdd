"""`make bench`: the pipeline on N dossier snapshots a month against DuckDB alone, for each
shape of month (`--shape`, default all: the generator's many snapshots per dossier, and one
snapshot for each of as many distinct dossiers; benchmarks.landing).

1. A landing folder of `--months` months of about `--rows` snapshots each (sample generator,
   kept under --workdir and reused), the last export day held back.
2. The reference: DuckDB alone reads the same files into a typed table with the columns of
   raw.dossier_snapshots (no validation, no Dagster), with the reader's fastest options:
   columns and types given, records without detection.
3. The pipeline: the job `refresh_months` over the months, through Dagster with a persistent
   instance, run in a new process exactly as `dvctt materialize` runs it: per stage rows,
   seconds, rows/s, peak memory of the process tree.
4. The row rules alone on the same records, for the share of validation in the pipeline.
5. The daily run: the held-back day lands, the landing sensor is evaluated and its runs
   executed each in a new process, as the daemon launches them, timed end to end (Python
   start, imports and Dagster run start included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import duckdb
import psutil

from benchmarks.landing import (
    SHAPES,
    BenchLanding,
    describe,
    prepare_distinct_landing,
    prepare_landing,
)
from benchmarks.memory import MemorySampler
from benchmarks.stages import run_stages, stage_of_node
from dvctt_pipeline.ingest.changes import fingerprint
from dvctt_pipeline.ingest.landing import DOSSIER_DIR, dossier_exports
from dvctt_pipeline.ingest.readers import USED_FIELDS
from dvctt_pipeline.validate.dossier_rules import judge_records

GB = 1024**3
DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster_home" / "dagster.yaml"
T = TypeVar("T")

# The reference: what DuckDB alone needs to turn the exports into the typed columns of
# raw.dossier_snapshots. Types are applied with try_ functions, as a bad line must not stop it.
REFERENCE_SQL = """
CREATE OR REPLACE TABLE reference AS
SELECT
    filename AS file_name,
    MaHoSo AS ma_ho_so, MaDonViXuLy AS ma_don_vi_xu_ly, DonViXuLy AS don_vi_xu_ly,
    MaTTHC AS ma_tthc, MaLinhVuc AS ma_linh_vuc,
    try_cast(KenhThucHien AS TINYINT) AS kenh_thuc_hien,
    try_strptime(NgayTiepNhan, '%Y%m%d%H%M%S') AS ngay_tiep_nhan,
    try_strptime(NgayHenTra, '%Y%m%d%H%M%S') AS ngay_hen_tra,
    try_strptime(NgayKetThucXuLy, '%Y%m%d%H%M%S') AS ngay_ket_thuc_xu_ly,
    try_strptime(NgayTra, '%Y%m%d%H%M%S') AS ngay_tra,
    TrangThaiHoSo AS trang_thai, DuocThanhToanTrucTuyen AS thanh_toan_truc_tuyen,
    list_sum(list_transform(DanhSachLePhi, fee -> fee.Gia)) AS fee_total
FROM read_json($paths, format = 'newline_delimited', records = true, filename = true,
    ignore_errors = true, columns = {
        MaHoSo: 'VARCHAR', MaDonViXuLy: 'VARCHAR', DonViXuLy: 'VARCHAR', MaTTHC: 'VARCHAR',
        MaLinhVuc: 'VARCHAR', KenhThucHien: 'VARCHAR', NgayTiepNhan: 'VARCHAR',
        NgayHenTra: 'VARCHAR', NgayKetThucXuLy: 'VARCHAR', NgayTra: 'VARCHAR',
        TrangThaiHoSo: 'TINYINT', DuocThanhToanTrucTuyen: 'TINYINT',
        DanhSachLePhi: 'STRUCT(Gia DECIMAL(18, 2))[]'})
"""


@dataclass(frozen=True)
class Timed:
    seconds: float
    peak_bytes: int
    rows: int


@contextmanager
def pipeline_environment(workdir: Path, landing: Path) -> Iterator[None]:
    """A fresh warehouse, serving file and persistent Dagster instance (the project's
    dagster.yaml, so the same pools) under workdir/run."""
    run_dir = workdir / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    (run_dir / "dagster_home").mkdir(parents=True)
    shutil.copy(DAGSTER_YAML, run_dir / "dagster_home" / "dagster.yaml")
    values = {"DVCTT_LANDING_DIR": landing, "DVCTT_WAREHOUSE": run_dir / "warehouse.duckdb",
              "DVCTT_SERVING": run_dir / "serving" / "dvctt.duckdb",
              "DVCTT_REPORTS_DIR": run_dir / "reports", "DAGSTER_HOME": run_dir / "dagster_home"}
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update({name: str(value.resolve()) for name, value in values.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def timed(action: Callable[[], T]) -> tuple[T, float, float]:
    """Run `action`; return its result and the time.time() stamps around it."""
    start = time.time()
    result = action()
    return result, start, time.time()


def export_paths(landing: Path) -> list[str]:
    return [str(f.path) for f in dossier_exports(landing)]


def warm_page_cache(paths: Sequence[str]) -> None:
    """Read every export once, so neither contender pays the first read from disk."""
    for path in paths:
        with open(path, "rb") as stream:
            while stream.read(1 << 24):
                pass


def run_reference(workdir: Path, paths: list[str], sampler: MemorySampler) -> Timed:
    database = workdir / "reference.duckdb"
    database.unlink(missing_ok=True)

    def load() -> int:
        with duckdb.connect(str(database)) as con:
            con.execute(REFERENCE_SQL, {"paths": paths})
            return con.execute("SELECT count(*) FROM reference").fetchone()[0]

    rows, start, end = timed(load)
    database.unlink()
    return Timed(end - start, sampler.peak(start, end), rows)


def run_rules_alone(paths: list[str], sampler: MemorySampler) -> Timed:
    """The ingest's row rules on every record at once. The records are read beforehand as
    the readers give them (the used fields as text), by DuckDB's own JSON reader."""
    fields = ", ".join(f"{field} AS {column}" for field, column in USED_FIELDS.items())
    with duckdb.connect() as con:
        con.execute(f"""
            CREATE TEMP TABLE records_as_text AS
            SELECT 0 AS file_index, false AS blank, NULL::VARCHAR AS read_error, {fields},
                list_sum(list_transform(DanhSachLePhi, fee -> fee.Gia)) AS fee_total
            FROM read_json($paths, format = 'newline_delimited', ignore_errors = true,
                columns = {{{", ".join(f"{field}: 'VARCHAR'" for field in USED_FIELDS)},
                    DanhSachLePhi: 'STRUCT(Gia DECIMAL(18, 2))[]'}})
            """, {"paths": paths})
        rows = con.execute("SELECT count(*) FROM records_as_text").fetchone()[0]
        _, start, end = timed(
            lambda: judge_records(con, "SELECT * FROM records_as_text", {}))
    return Timed(end - start, sampler.peak(start, end), rows)


def measured_run_in_new_process(first: str, last: str, sampler: MemorySampler) -> dict[str, Any]:
    """The run as the daemon launches it: a new Python process loads the definitions and
    executes the run, so its imports (Dagster, the definitions, Great Expectations) count."""
    command = [sys.executable, "-m", "dvctt_pipeline.cli", "materialize", "--from", first,
               "--to", last]
    _, start, end = timed(lambda: subprocess.run(command, check=True, capture_output=True))
    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs(limit=1)
    return _run_figures(run.run_id, sampler, start, end)


def _run_figures(run_id: str, sampler: MemorySampler, start: float, end: float
                 ) -> dict[str, Any]:
    from dvctt_pipeline.definitions import defs

    with dg.DagsterInstance.get() as instance:
        stages = run_stages(instance, run_id, stage_of_node(defs()), sampler, start, end)
    return {"seconds": end - start, "stages": [asdict(stage) for stage in stages]}


def run_daily(bench: BenchLanding, sampler: MemorySampler) -> dict[str, Any]:
    """The sensor's previous tick saw every file so far; the held-back day lands; the
    sensor's tick and the runs it requests are timed together."""
    from dvctt_pipeline.defs.partitions import RANGE_END_TAG, RANGE_START_TAG
    from dvctt_pipeline.defs.resources import warehouse_from_env
    from dvctt_pipeline.defs.sensors import LandingState, landing_files

    warehouse = warehouse_from_env()
    seen = {f.relative_path: fingerprint(f) for f in dossier_exports(bench.landing)}
    bench.land_last_day()
    day_files = list((bench.landing / DOSSIER_DIR / bench.held_day.name).iterdir())
    rows = sum(1 for path in day_files for _ in path.open("rb"))

    def tick_and_runs() -> list[dict[str, Any]]:
        with dg.DagsterInstance.ephemeral() as instance:
            context = dg.build_sensor_context(
                instance=instance, cursor=LandingState(seen=seen).to_cursor(),
                resources={"warehouse": warehouse})
            requests = landing_files.evaluate_tick(context).run_requests or []
        return [measured_run_in_new_process(request.tags[RANGE_START_TAG][:7],
                                            request.tags[RANGE_END_TAG][:7], sampler)
                for request in requests]

    runs, start, end = timed(tick_and_runs)
    return {**asdict(Timed(end - start, sampler.peak(start, end), rows)), "runs": runs}


def machine() -> dict[str, object]:
    return {"cpu": platform.processor() or platform.machine(), "cores": psutil.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / GB, 1),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "dagster": dg.__version__, "load_average": [round(x, 2) for x in os.getloadavg()]}


def _rate(rows: int | None, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if rows and seconds > 0 else ""


def _line(name: str, rows: int | None, seconds: float, peak_bytes: int) -> str:
    rows_text = f"{rows:,}" if rows is not None else ""
    return (f"{name:<28}{rows_text:>13}{seconds:>10.1f}{_rate(rows, seconds):>13}"
            f"{peak_bytes / GB:>9.2f}")


def report(results: dict[str, Any]) -> str:
    """The table `make bench` prints."""
    pipeline, reference = results["pipeline"], results["reference"]
    lines = [f"{'stage':<28}{'rows':>13}{'seconds':>10}{'rows/s':>13}{'peak GB':>9}"]
    lines.append(_line("reference: DuckDB alone", reference["rows"], reference["seconds"],
                       reference["peak_bytes"]))
    lines.append(_line("pipeline (Dagster run)", results["snapshots"], pipeline["seconds"],
                       max(s["peak_bytes"] for s in pipeline["stages"])))
    lines += [_line(f"  {s['name']}", s["rows"], s["seconds"], s["peak_bytes"])
              for s in pipeline["stages"]]
    rules = results["rules_alone"]
    lines.append(_line("row rules alone", rules["rows"], rules["seconds"], rules["peak_bytes"]))
    if daily := results.get("daily"):
        lines.append(_line("daily run (tick + runs)", daily["rows"], daily["seconds"],
                           daily["peak_bytes"]))
        lines += [_line(f"  {s['name']}", s["rows"], s["seconds"], s["peak_bytes"])
                  for run in daily["runs"] for s in run["stages"]]
    checks = sum(s["seconds"] for s in pipeline["stages"] if s["name"] == "checks (GE)")
    validation = rules["seconds"] + checks
    lines += [
        "",
        f"pipeline / reference: {pipeline['seconds'] / reference['seconds']:.2f} (target <= 2.5)",
        f"validation (row rules {rules['seconds']:.1f} s + checks {checks:.1f} s): "
        f"{validation / pipeline['seconds']:.0%} of the pipeline (target <= 25 %)",
        f"load average before / after: {results['machine']['load_average']} / "
        f"{results['load_average_after']}",
    ]
    return "\n".join(lines)


def ratios(shapes: dict[str, dict[str, Any]]) -> str:
    """One line per shape: pipeline / reference, the figure `make bench` is judged by."""
    return "\n".join(
        f"{shape:<10} pipeline / reference: "
        f"{r['pipeline']['seconds'] / r['reference']['seconds']:.2f} "
        f"({r['pipeline']['seconds']:.1f} s / {r['reference']['seconds']:.1f} s, "
        f"{r['snapshots']:,} snapshots, load {r['machine']['load_average']} / "
        f"{r['load_average_after']})"
        for shape, r in shapes.items())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000,
                        help="dossier snapshots per month (default 10 million)")
    parser.add_argument("--months", type=int, default=1, help="months in one run (default 1)")
    parser.add_argument("--first", default="2022-03", metavar="YYYY-MM",
                        help="first month (default 2022-03)")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--files", type=int, metavar="N",
                        help="pack each month's exports (but the held-back day) into N files "
                        "of one folder, as a national portal's dump comes (1: the month in one "
                        "file); default: the generator's files of each export day")
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"),
                        help="where the landing folder is kept and the runs write")
    parser.add_argument("--shape", nargs="+", choices=SHAPES, default=list(SHAPES),
                        help="shapes of month to run (default: all): snapshots, the "
                             "generator's many snapshots per dossier; distinct, one snapshot "
                             "for each of as many dossiers, no fee lists")
    parser.add_argument("--no-daily", action="store_true", help="skip the daily run")
    parser.add_argument("--keep-run", action="store_true",
                        help="keep the warehouse and the Dagster instance of the run")
    return parser.parse_args(argv)


def shape_landing(args: argparse.Namespace, shape: str) -> BenchLanding:
    bench = prepare_landing(args.workdir, args.first, args.months, args.rows, args.seed,
                            args.files)
    return prepare_distinct_landing(args.workdir, bench) if shape == "distinct" else bench


def run_shape(args: argparse.Namespace, shape: str) -> dict[str, Any]:
    """Reference, pipeline, row rules alone and daily run on one shape of month."""
    bench = shape_landing(args, shape)
    bench.hold_back_last_day()
    paths = export_paths(bench.landing)
    warm_page_cache(paths)
    results: dict[str, Any] = {"shape": shape, "landing": describe(bench),
                               "machine": machine()}
    with MemorySampler() as sampler, pipeline_environment(args.workdir, bench.landing):
        results["reference"] = asdict(run_reference(args.workdir, paths, sampler))
        # in a new process, as `dvctt materialize` and the daemon run it: every shape pays
        # the same imports (Great Expectations would otherwise weigh on the first shape only)
        results["pipeline"] = measured_run_in_new_process(bench.first, bench.last, sampler)
        results["snapshots"] = results["reference"]["rows"]
        results["rules_alone"] = asdict(run_rules_alone(paths, sampler))
        if not args.no_daily:
            results["daily"] = run_daily(bench, sampler)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    bench.land_last_day()
    if not args.keep_run:
        shutil.rmtree(args.workdir / "run")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    shapes = {shape: run_shape(args, shape) for shape in args.shape}
    (args.workdir / "results.json").write_text(json.dumps(shapes, indent=1), encoding="utf-8")
    print("\n\n".join(f"shape: {shape}\n{report(results)}" for shape, results in shapes.items()))
    print("\n" + ratios(shapes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
