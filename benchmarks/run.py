"""`make bench`: issue 13's scenarios in one run, each against DuckDB alone, then one summary
of every target, met or missed (`--only` runs a subset):

- month: `--months` month(s) of about `--rows` snapshots (default one month of 10 million),
  for each shape of month (`--shape`, default all: the generator's many snapshots per
  dossier, and one snapshot for each of as many distinct dossiers; benchmarks.landing), with
  the row rules alone and the daily run;
- one-file: the same month(s), snapshots shape, packed into `--files` files (default 1), as a
  national portal's monthly dump comes;
- backfill: `--backfill-months` months (default 24) of about `--backfill-rows` snapshots
  (default 1 million) in one run, snapshots shape;
- province-files: `--province-files-months` months (default 12) of about
  `--province-files-rows` snapshots (default 10 000) in one file per province and export day,
  as each province's portal drops its own daily export: a year is some 20 000 small files,
  first loaded in one run, then the daily run of the held-back day's files on top.

Each scenario:

1. A landing folder (sample generator, kept under --workdir and reused by the next runs and
   by the scenarios that share it), the last export day held back.
2. The reference: DuckDB alone reads the same files into a typed table with the columns of
   raw.dossier_snapshots (no validation, no Dagster), with the reader's fastest options:
   columns and types given, records without detection, stored with raw's types and
   compression. It is timed before the pipeline and again after it, and the faster of the
   two counts: the same load can take a quarter longer minutes later on a shared machine,
   and the ratio must not gain from a slow reference.
3. The pipeline: the job `refresh_months` over the months, through Dagster with a persistent
   instance, run in a new process exactly as `dvctt materialize` runs it: per stage rows,
   seconds, rows/s, peak memory of the run's process and its children (the benchmark's
   own process, ≈ 0.2 GB, not counted).
4. (month) The row rules alone on the same records, for the share of validation in the
   pipeline.
5. (month and province-files, but with --no-daily) The daily run: the held-back day lands,
   the landing sensor is evaluated and its runs executed each in a new process, as the daemon
   launches them, timed end to end (Python start, imports and Dagster run start included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
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
    prepare_province_files_landing,
)
from benchmarks.memory import MemorySampler
from benchmarks.stages import CHECKS_STAGE, run_stages, stage_of_node
from dvctt_pipeline.ingest.changes import fingerprint
from dvctt_pipeline.ingest.landing import DOSSIER_DIR, dossier_exports
from dvctt_pipeline.ingest.readers import USED_FIELDS
from dvctt_pipeline.validate.dossier_rules import judge_records
from dvctt_pipeline.warehouse import BASE_TABLES_DDL

GB = 1024**3
DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster_home" / "dagster.yaml"
T = TypeVar("T")
# issue 13's targets
MONTH_RATIO_TARGET = 2.5  # pipeline / DuckDB's typed load, for a month however it comes
PEAK_TARGET_GB = 3.0
VALIDATION_SHARE_TARGET = 0.25
DAILY_SECONDS_TARGET = 30.0
BACKFILL_SECONDS_TARGET = 360.0
RATIO_SCENARIOS = ("month", "one-file")

# The reference: what DuckDB alone needs to turn the exports into the typed columns of
# raw.dossier_snapshots, stored as raw stores them (types and compression: reference_table).
# Types are applied with try_ functions, as a bad line must not stop it.
REFERENCE_SQL = """
INSERT INTO reference BY NAME
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
def pipeline_environment(run_dir: Path, landing: Path) -> Iterator[None]:
    """A fresh warehouse, serving file and persistent Dagster instance (the project's
    dagster.yaml, so the same pools) under run_dir."""
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


def reference_table() -> str:
    """CREATE TABLE of the reference: raw.dossier_snapshots' definitions (type, compression)
    of the columns the reference loads, without their NOT NULL."""
    raw = re.search(r"CREATE TABLE IF NOT EXISTS raw\.dossier_snapshots \((.*?)\n\);",
                    BASE_TABLES_DDL, re.DOTALL)[1]
    definitions = dict(
        line.split(" ", 1) for line in
        (line.split("--")[0].strip().rstrip(",") for line in raw.splitlines()) if line)
    columns = re.search(r"SELECT(.*?)FROM read_json", REFERENCE_SQL, re.DOTALL)[1]
    return "CREATE TABLE reference ({})".format(", ".join(
        f"{name} {definitions[name].replace(' NOT NULL', '')}"
        for name in re.findall(r" AS (\w+)(?:,|$)", columns, re.MULTILINE)))


def run_reference(workdir: Path, paths: list[str], sampler: MemorySampler) -> Timed:
    database = workdir / "reference.duckdb"
    database.unlink(missing_ok=True)

    def load() -> int:
        with duckdb.connect(str(database)) as con:
            con.execute(reference_table())
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
        stages = run_stages(instance, run_id, stage_of_node(defs()), sampler.started_peak,
                            start, end)
    # the stages' peaks are the run's processes; this one counts the benchmark's own too
    return {"seconds": end - start, "stages": [asdict(stage) for stage in stages],
            "peak_bytes_with_benchmark": sampler.peak(start, end)}


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
    return {**asdict(Timed(end - start, sampler.peak(start, end), rows)), "runs": runs,
            "files": len(day_files)}


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


def validation_seconds(results: dict[str, Any]) -> tuple[float, float]:
    """Seconds of the row rules alone and of the Great Expectations checks in the run."""
    checks = sum(s["seconds"] for s in results["pipeline"]["stages"] if s["name"] == CHECKS_STAGE)
    return results["rules_alone"]["seconds"], checks


def pipeline_peak(results: dict[str, Any]) -> int:
    return max(s["peak_bytes"] for s in results["pipeline"]["stages"])


def ratio(results: dict[str, Any]) -> float:
    return results["pipeline"]["seconds"] / results["reference"]["seconds"]


def _reference_runs(reference: dict[str, Any]) -> str:
    """The seconds of both timings of the reference, the faster of which counts."""
    runs = reference.get("runs_seconds")
    return f"  (before / after the pipeline: {runs[0]:.1f} / {runs[1]:.1f})" if runs else ""


def report(label: str, results: dict[str, Any]) -> str:
    """The table of one scenario: its landing, the reference beside the pipeline's stages."""
    pipeline, reference, landing = results["pipeline"], results["reference"], results["landing"]
    lines = [f"{label}: {landing['first']} … {landing['last']}, {landing['files']} files",
             f"{'stage':<28}{'rows':>13}{'seconds':>10}{'rows/s':>13}{'peak GB':>9}",
             _line("reference: DuckDB alone", reference["rows"], reference["seconds"],
                   reference["peak_bytes"]) + _reference_runs(reference),
             _line("pipeline (Dagster run)", results["snapshots"], pipeline["seconds"],
                   pipeline_peak(results))]
    lines += [_line(f"  {s['name']}", s["rows"], s["seconds"], s["peak_bytes"])
              for s in pipeline["stages"]]
    if rules := results.get("rules_alone"):
        lines.append(_line("row rules alone", rules["rows"], rules["seconds"],
                           rules["peak_bytes"]))
    if daily := results.get("daily"):
        lines.append(_line("daily run (tick + runs)", daily["rows"], daily["seconds"],
                           daily["peak_bytes"]))
        lines += [_line(f"  {s['name']}", s["rows"], s["seconds"], s["peak_bytes"])
                  for run in daily["runs"] for s in run["stages"]]
    lines += ["", f"pipeline / reference: {ratio(results):.2f}"]
    if "rules_alone" in results:
        rules_seconds, checks = validation_seconds(results)
        lines.append(f"validation (row rules {rules_seconds:.1f} s + checks {checks:.1f} s): "
                     f"{(rules_seconds + checks) / pipeline['seconds']:.0%} of the pipeline")
    lines.append(f"load average before / after: {results['machine']['load_average']} / "
                 f"{results['load_average_after']}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Check:
    """One of issue 13's targets against one scenario's figure: met when at most the target."""
    label: str
    figure: str
    measured: float
    target: float
    shown: Callable[[float], str]
    detail: str = ""

    def line(self) -> str:
        status = "met" if self.measured <= self.target else "missed"
        return (f"{self.label:<17}{self.figure:<24}{self.shown(self.measured):>10}  "
                f"target <= {self.shown(self.target):<8}{status:<8}{self.detail}")


def _times(value: float) -> str:
    return f"{value:.2f}x"


def _gigabytes(value: float) -> str:
    return f"{value:.2f} GB"


def _share(value: float) -> str:
    return f"{value:.0%}"


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def ratio_check(label: str, results: dict[str, Any]) -> Check:
    return Check(label, "pipeline / DuckDB", ratio(results), MONTH_RATIO_TARGET, _times,
                 f"{results['pipeline']['seconds']:.1f} s / {results['reference']['seconds']:.1f}"
                 f" s, {results['snapshots']:,} snapshots")


def peak_check(label: str, results: dict[str, Any]) -> Check:
    return Check(label, "peak (the run's processes)", pipeline_peak(results) / GB, PEAK_TARGET_GB,
                 _gigabytes)


def validation_check(label: str, results: dict[str, Any]) -> Check:
    rules_seconds, checks = validation_seconds(results)
    return Check(label, "validation's share",
                 (rules_seconds + checks) / results["pipeline"]["seconds"],
                 VALIDATION_SHARE_TARGET, _share,
                 f"row rules {rules_seconds:.1f} s + checks {checks:.1f} s")


def daily_check(label: str, results: dict[str, Any]) -> Check:
    daily = results["daily"]
    return Check(label, "daily run", daily["seconds"], DAILY_SECONDS_TARGET, _seconds,
                 f"{daily['rows']:,} snapshots in {daily['files']:,} files landing beside "
                 f"{results['landing']['files'] - daily['files']:,}")


def backfill_check(label: str, results: dict[str, Any]) -> Check:
    return Check(label, "one run", results["pipeline"]["seconds"], BACKFILL_SECONDS_TARGET,
                 _seconds, f"pipeline / DuckDB {ratio(results):.2f}, "
                 f"{results['snapshots']:,} snapshots")


def checks(scenarios: dict[str, dict[str, Any]]) -> list[Check]:
    """Every target each scenario run is judged by, target after target."""
    items = scenarios.items()
    return [
        # a month, however it comes; the other scenarios print their ratio in their table
        *(ratio_check(label, r) for label, r in items if r["scenario"] in RATIO_SCENARIOS),
        *(peak_check(label, r) for label, r in items),
        *(validation_check(label, r) for label, r in items if "rules_alone" in r),
        *(daily_check(label, r) for label, r in items if "daily" in r),
        *(backfill_check(label, r) for label, r in items if r["scenario"] == "backfill"),
    ]


def summary(scenarios: dict[str, dict[str, Any]]) -> str:
    return "\n".join(["summary: issue 13's targets", *(c.line() for c in checks(scenarios))])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(SCENARIO_RUNNERS),
                        default=list(SCENARIO_RUNNERS),
                        help="scenarios to run (default: all, in this order)")
    parser.add_argument("--rows", type=int, default=10_000_000,
                        help="dossier snapshots per month of the month and one-file scenarios "
                             "(default 10 million)")
    parser.add_argument("--months", type=int, default=1,
                        help="months of the month and one-file scenarios (default 1)")
    parser.add_argument("--first", default="2022-03", metavar="YYYY-MM",
                        help="first month of every scenario (default 2022-03)")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--shape", nargs="+", choices=SHAPES, default=list(SHAPES),
                        help="shapes of the month scenario (default: all): snapshots, the "
                             "generator's many snapshots per dossier; distinct, one snapshot "
                             "for each of as many dossiers, no fee lists")
    parser.add_argument("--no-daily", action="store_true",
                        help="skip the daily run of the month and province-files scenarios")
    parser.add_argument("--files", type=int, default=1, metavar="N",
                        help="files the one-file scenario packs each month's exports (but the "
                             "held-back day) into, in one folder (default 1: the month in one "
                             "file)")
    parser.add_argument("--backfill-months", type=int, default=24,
                        help="months of the backfill scenario (default 24)")
    parser.add_argument("--backfill-rows", type=int, default=1_000_000,
                        help="dossier snapshots per month of the backfill (default 1 million)")
    parser.add_argument("--province-files-months", type=int, default=12,
                        help="months of the province-files scenario (default 12)")
    parser.add_argument("--province-files-rows", type=int, default=10_000,
                        help="dossier snapshots per month of the province-files scenario "
                             "(default 10 000: a few records a file)")
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"),
                        help="where the landing folders are kept and the runs write")
    parser.add_argument("--keep-run", action="store_true",
                        help="keep each scenario's warehouse and Dagster instance")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, label: str, bench: BenchLanding, *, daily: bool,
            rules_alone: bool) -> dict[str, Any]:
    """Reference and pipeline on one landing folder; the row rules alone and the daily run
    when asked."""
    bench.hold_back_last_day()
    paths = export_paths(bench.landing)
    warm_page_cache(paths)
    run_dir = args.workdir / f"run_{label.replace('/', '_')}"
    results: dict[str, Any] = {"landing": describe(bench), "machine": machine()}
    with MemorySampler() as sampler, pipeline_environment(run_dir, bench.landing):
        before = run_reference(args.workdir, paths, sampler)
        # in a new process, as `dvctt materialize` and the daemon run it: every scenario pays
        # the same imports (Great Expectations would otherwise weigh on the first one only)
        results["pipeline"] = measured_run_in_new_process(bench.first, bench.last, sampler)
        after = run_reference(args.workdir, paths, sampler)
        results["reference"] = {**asdict(min(before, after, key=lambda run: run.seconds)),
                                "runs_seconds": [before.seconds, after.seconds]}
        results["snapshots"] = results["reference"]["rows"]
        if rules_alone:
            results["rules_alone"] = asdict(run_rules_alone(paths, sampler))
        if daily:
            results["daily"] = run_daily(bench, sampler)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    bench.land_last_day()
    if not args.keep_run:
        shutil.rmtree(run_dir)
    return results


def month_landing(args: argparse.Namespace, shape: str) -> BenchLanding:
    bench = prepare_landing(args.workdir, args.first, args.months, args.rows, args.seed)
    return prepare_distinct_landing(args.workdir, bench) if shape == "distinct" else bench


def month_scenario(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    """The month in each shape, with the row rules alone and the daily run."""
    for shape in args.shape:
        label = f"month/{shape}"
        yield label, {"scenario": "month", "shape": shape,
                      **measure(args, label, month_landing(args, shape),
                                daily=not args.no_daily, rules_alone=True)}


def one_file_scenario(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    """The month's snapshots packed into --files files (validation and the daily run are the
    month scenario's: the packing changes only how the ingest reads)."""
    bench = prepare_landing(args.workdir, args.first, args.months, args.rows, args.seed,
                            args.files)
    yield "one-file", {"scenario": "one-file", "shape": "snapshots",
                       **measure(args, "one-file", bench, daily=False, rules_alone=False)}


def backfill_scenario(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    """--backfill-months months of --backfill-rows snapshots in one run, as a UI backfill."""
    bench = prepare_landing(args.workdir, args.first, args.backfill_months, args.backfill_rows,
                            args.seed)
    yield "backfill", {"scenario": "backfill", "shape": "snapshots",
                       **measure(args, "backfill", bench, daily=False, rules_alone=False)}


def province_files_scenario(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    """A year of small exports, one per province and day, loaded in one run; then the daily run
    of the held-back day's files, the landing sensor's tick over every file included."""
    bench = prepare_province_files_landing(args.workdir, prepare_landing(
        args.workdir, args.first, args.province_files_months, args.province_files_rows,
        args.seed))
    yield "province-files", {"scenario": "province-files", "shape": "snapshots",
                             **measure(args, "province-files", bench, daily=not args.no_daily,
                                       rules_alone=False)}


SCENARIO_RUNNERS = {"month": month_scenario, "one-file": one_file_scenario,
                    "backfill": backfill_scenario, "province-files": province_files_scenario}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    scenarios: dict[str, dict[str, Any]] = {}
    for name in (name for name in SCENARIO_RUNNERS if name in args.only):
        for label, results in SCENARIO_RUNNERS[name](args):
            scenarios[label] = results
            # written and printed as each scenario ends: a full run takes an hour or more
            (args.workdir / "results.json").write_text(json.dumps(scenarios, indent=1),
                                                       encoding="utf-8")
            print(report(label, results) + "\n", flush=True)
    print(summary(scenarios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
