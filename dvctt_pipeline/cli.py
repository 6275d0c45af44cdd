"""`dvctt`: generate sample data, materialize months through Dagster, run the demo."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from dvctt_pipeline import months
from dvctt_pipeline.settings import (
    FIRST_MONTH,
    lake_from_env,
    paths_from_env,
    reports_dir,
)

if TYPE_CHECKING:
    import duckdb

    from dvctt_pipeline.launch import RunOutcome
    from dvctt_pipeline.serve.report.data import ProvinceData, ReportReader

DEMO_FIRST, DEMO_LAST = "2022-01", "2022-04"


class UsageError(ValueError):
    """A command-line argument that cannot be used; the message says what to give instead."""


def parse_month(text: str) -> date:
    try:
        return months.parse_month(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


def month_range(first: str, last: str) -> tuple[date, date]:
    start, end = parse_month(first), parse_month(last)
    if end < start:
        raise UsageError(f"--to {last} is before --from {first}.")
    if start < date.fromisoformat(FIRST_MONTH):
        raise UsageError(f"--from {first}: partitions start in {FIRST_MONTH[:7]}.")
    return start, end


def dagster_instance() -> dg.DagsterInstance:
    """The persistent instance of $DAGSTER_HOME, so CLI runs show in the UI; else ephemeral."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


# the console shows the assets' own messages; step-by-step events stay in the run's log,
# visible in the Dagster UI
CONSOLE_AT_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def materialize_months(first: str, last: str) -> dg.ExecuteInProcessResult:
    """Run the whole asset graph for the months [first, last] as one run in this process.

    For programs and tests; `dvctt materialize` on a persistent instance creates the run as
    one of the workspace's code location instead (launch_months)."""
    from dvctt_pipeline.definitions import defs
    from dvctt_pipeline.defs.jobs import REFRESH_JOB_NAME
    from dvctt_pipeline.defs.partitions import range_tags

    tags = range_tags(*month_range(first, last))
    job = defs().resolve_job_def(REFRESH_JOB_NAME)
    with dagster_instance() as instance:
        return job.execute_in_process(instance=instance, tags=tags, run_config=CONSOLE_AT_INFO,
                                      raise_on_error=False)


def launch_months(first: str, last: str) -> RunOutcome:
    """The months [first, last] as a run of the workspace's code location, executed in this
    process (on the ephemeral instance, without DAGSTER_HOME, a run of the job itself)."""
    from dvctt_pipeline.defs.partitions import range_tags
    from dvctt_pipeline.launch import RunOutcome, describe_failure, run_in_this_process

    tags = range_tags(*month_range(first, last))
    if not os.environ.get("DAGSTER_HOME"):
        result = materialize_months(first, last)
        return RunOutcome(
            result.run_id,
            dg.DagsterRunStatus.SUCCESS if result.success else dg.DagsterRunStatus.FAILURE,
            [describe_failure(event) for event in result.get_step_failure_events()],
        )
    with dg.DagsterInstance.get() as instance:
        return run_in_this_process(instance, tags, CONSOLE_AT_INFO)


def cmd_sample(args: argparse.Namespace) -> int:
    from dvctt_pipeline.sample.generator import generate_landing

    month_range(args.first, args.last)
    landing = Path(getattr(args, "landing", None) or paths_from_env().landing)
    summary = generate_landing(landing, args.first, args.last, scale=args.scale, seed=args.seed)
    print(f"Sample landing folder written to {landing}: {summary}")
    return 0


def cmd_materialize(args: argparse.Namespace) -> int:
    outcome = launch_months(args.first, args.last)
    if outcome.stopped_by:
        from dvctt_pipeline.launch import stopped_message

        print(stopped_message(outcome.run_id, outcome.status), file=sys.stderr)
        return 128 + outcome.stopped_by
    if not outcome.success:
        where = "\n  ".join(outcome.failures) or "no step (the run itself)"
        print(f"Run {outcome.run_id} ended {outcome.status.value}; it failed in:\n  {where}\n"
              "The run's page in the Dagster UI has its whole log.", file=sys.stderr)
        return 1
    published = ("published in the DuckLake (meta.publications)" if lake_from_env()
                 else f"serving file: {paths_from_env().serving}")
    print(f"Materialized {args.first} … {args.last}; {published}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from dvctt_pipeline.months import last_day
    from dvctt_pipeline.serve.summary import seed_report_text

    if lake_from_env():
        raise UsageError("the demo prints its figures from the serving file, which a DuckLake "
                         "warehouse does not have (BI reads the lake itself): unset "
                         "DVCTT_WAREHOUSE for the demo, or run `dvctt sample`, `dvctt "
                         f"materialize --from {DEMO_FIRST} --to {DEMO_LAST}` and `dvctt report "
                         f"--month {DEMO_LAST}` on the lake.")
    args.first, args.last = DEMO_FIRST, DEMO_LAST
    for step in (cmd_sample, cmd_materialize):
        if status := step(args):
            return status
    print()
    print(seed_report_text(paths_from_env().serving, last_day(parse_month(DEMO_LAST))))
    args.month = DEMO_LAST
    return cmd_report(args)


def cmd_report(args: argparse.Namespace) -> int:
    from dvctt_pipeline.serve.monthly_report import render_monthly_report
    from dvctt_pipeline.serve.province_report import render_province_report
    from dvctt_pipeline.serve.report.data import ReportReader

    month = parse_month(args.month)
    folder = Path(getattr(args, "out", None) or reports_dir(warehouse_location()))
    province = getattr(args, "province", None)
    # the figures are read before drawing, so the marts are let go while the charts are drawn
    with published_marts(args.month) as (con, source):
        reader = ReportReader(con)
        if province is None:
            data = reader.report_data(month)
        else:
            # GSO codes have two digits: 1 is Hà Nội's 01
            data = read_province_or_explain(reader, month, province.zfill(2))
    if province is None:
        report = render_monthly_report(data, folder, source)
        print(f"Monthly report for {args.month} (HTML and PNG charts): {report.html_path}")
        return 0
    report = render_province_report(data, folder, source)
    print(f"Report of {report.province_name} for {month:%Y-%m} (HTML and PNG charts):")
    print(report.html_path)
    return 0


def warehouse_location() -> Path:
    """The warehouse file, or the folder of a DuckLake's files: the reports go beside it, as
    the monthly_report asset writes them."""
    lake = lake_from_env()
    return Path(lake.data_path) if lake else paths_from_env().warehouse


@contextmanager
def published_marts(month_text: str) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """The marts as BI reads them, read-only, and how a report names where they come from:
    the serving file, or on a DuckLake its latest publication (a lake has no serving file)."""
    import duckdb

    from dvctt_pipeline.serve.monthly_report import publication
    from dvctt_pipeline.warehouse import NoPublication, connect_to_publication

    run_first = f"run `dvctt materialize --from {month_text} --to {month_text}`"
    lake = lake_from_env()
    if lake is None:
        serving = paths_from_env().serving
        if not serving.exists():
            raise UsageError(f"there is no serving file at {serving} yet: {run_first} "
                             "(or `make demo`) first.")
        con, source = duckdb.connect(str(serving), read_only=True), publication(serving)
    else:
        try:
            con = connect_to_publication(lake)
        except NoPublication:
            raise UsageError(f"the DuckLake of {lake.data_path} has no publication yet: "
                             f"{run_first} on it first.") from None
        (snapshot,) = con.execute("FROM current_snapshot()").fetchone()
        source = f"DuckLake, bản công bố (snapshot) {snapshot}"
    with con:
        yield con, source


def read_province_or_explain(reader: ReportReader, month: date, code: str) -> ProvinceData:
    from dvctt_pipeline.serve.province_report import UnknownProvince, read_province

    try:
        return read_province(reader, month, code)
    except UnknownProvince as error:
        raise UsageError(f"--province {code}: {error}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dvctt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample", help="write a sample landing folder")
    sample.add_argument("--from", dest="first", required=True, metavar="YYYY-MM")
    sample.add_argument("--to", dest="last", required=True, metavar="YYYY-MM")
    sample.set_defaults(handler=cmd_sample)

    materialize = commands.add_parser("materialize", help="run the pipeline for a month range")
    materialize.add_argument("--from", dest="first", required=True, metavar="YYYY-MM")
    materialize.add_argument("--to", dest="last", required=True, metavar="YYYY-MM")
    materialize.set_defaults(handler=cmd_materialize)

    demo = commands.add_parser("demo", help="sample Jan–Apr 2022, materialize, print the figures")
    demo.set_defaults(handler=cmd_demo)

    report = commands.add_parser("report", help="write a month's report (HTML and PNG charts)")
    report.add_argument("--month", required=True, metavar="YYYY-MM")
    report.add_argument("--out", help="base folder of the reports (default $DVCTT_REPORTS_DIR)")
    report.add_argument("--province", metavar="CODE",
                        help="the report of one province (2-digit GSO code, e.g. 17)")
    report.set_defaults(handler=cmd_report)

    sample.add_argument("--landing", help="folder to write (default $DVCTT_LANDING_DIR)")
    for command in (sample, demo):
        command.add_argument("--scale", type=float, default=1.0,
                             help="dossier volume; 1.0 is about 38k dossiers a month")
        command.add_argument("--seed", type=int, default=2022)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"dvctt: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before a run was launched, or in a command without one
        print("dvctt: interrupted.", file=sys.stderr)
        return 128 + signal.SIGINT
    finally:
        # at exit the interpreter's last collection walks every object of the modules it
        # imported, Dagster's above all (2–6 s on a busy machine): the command is done
        # with them, so they are left out of it
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
