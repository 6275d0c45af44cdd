"""Great Expectations suites as Dagster asset checks, evaluated in the SQL models' step.

Each check of validate.quality_checks runs on the months of the run's partition range, right
after the table it checks is written (a check on a table written before the step, the
report rows, runs first). The checks are not partitioned: the UI shows the latest result of
each, for the months the run covered (in its metadata), instead of one "Skipped" status per
month of a range. Blocking checks stop the models downstream of a failing table, so wrong
figures are not published; the result, with a table of the failing rows, shows in the
Dagster UI and is kept in meta.check_results for marts.data_quality.
"""

import time

import dagster as dg
import duckdb
import pandas as pd

from dvctt_pipeline.defs.keys import table_key
from dvctt_pipeline.models.sql_models import Window
from dvctt_pipeline.validate.expectations import SuiteOutcome
from dvctt_pipeline.validate.quality_checks import (
    QUALITY_CHECKS,
    QualityCheck,
    describe_failures,
    record_results,
    run_check,
)

SHOWN_FAILURES = 50

QUALITY_CHECK_SPECS = [
    dg.AssetCheckSpec(check.name, asset=table_key(check.table), description=check.description,
                      blocking=check.blocking)
    for check in QUALITY_CHECKS
]


def check_key(check: QualityCheck) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(table_key(check.table), check.name)


def checked_nothing(frame: pd.DataFrame) -> bool:
    """No rows, or only months without a single staged dossier."""
    return bool(frame.empty or ("dossiers" in frame.columns and frame["dossiers"].sum() == 0))


def nothing_to_check(check: QualityCheck, window: Window) -> str:
    months = window.months()
    span = f"{months[0]:%Y-%m}" + (f" … {months[-1]:%Y-%m}" if len(months) > 1 else "")
    return f"Nothing to check: {check.table} has no rows in {span}; passed vacuously."


def check_metadata(
    check: QualityCheck, window: Window, frame: pd.DataFrame, outcome: SuiteOutcome
) -> dict[str, object]:
    """Counts named for what they count: months, report cells or rows, and the staged
    dossiers behind the months where the check reads them."""
    failures = outcome.failures
    table = failures.head(SHOWN_FAILURES).to_markdown(index=False) if len(failures) else ""
    metadata: dict[str, object] = {
        "months": f"{window.start:%Y-%m} … {window.months()[-1]:%Y-%m}",
        f"{check.checks_each}_checked": len(frame),
        f"{check.checks_each}_failing": len(failures),
        "nothing_to_check": checked_nothing(frame),
        "expectations": outcome.expectations,
        "failures": dg.MetadataValue.md(table or "No failures."),
    }
    if "dossiers" in frame.columns:
        metadata["dossiers_checked"] = int(frame["dossiers"].sum())
    return metadata


def evaluate_check(
    con: duckdb.DuckDBPyConnection, check: QualityCheck, window: Window
) -> dg.AssetCheckResult:
    """Run a check on the window's months, record its result per month and return it. Its
    description says what fails, or that there was nothing to check."""
    started = time.perf_counter()
    frame, outcome = run_check(con, check, window.start, window.end)
    record_results(con, check, window.months(), frame, outcome)
    failures = outcome.failures
    described = describe_failures(failures, name_months=True) if len(failures) else None
    if described:
        dg.get_dagster_logger().warning(f"{check.name} fails: {described}")
    elif checked_nothing(frame):
        described = nothing_to_check(check, window)
    return dg.AssetCheckResult(
        asset_key=table_key(check.table),
        check_name=check.name,
        passed=outcome.success,
        description=described,
        severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
        metadata={**check_metadata(check, window, frame, outcome),
                  "seconds": round(time.perf_counter() - started, 2)},
    )
