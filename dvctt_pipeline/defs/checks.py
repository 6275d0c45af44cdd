"""Great Expectations suites as Dagster asset checks, evaluated in the SQL models' step.

Each check of validate.quality_checks runs on the months of the run's partition range, right
after the table it checks is written (a check on a table written before the step, the
report rows, runs first). The checks are not partitioned: the UI shows the latest result of
each, for the months the run covered (in its metadata), instead of one "Skipped" status per
month of a range. Blocking checks stop the models downstream of a failing table, so wrong
figures are not published; the result, with a table of the failing rows, shows in the
Dagster UI and is kept in meta.check_results for marts.data_quality.

Great Expectations takes seconds to import and set up, and a check's result depends only on
the rows its suite validates: a check whose rows (their digest, `rows_version`) and suite
are those of its last passing evaluation in Dagster's record passes again without GX; a run
about to load large new exports imports GX meanwhile in a worker process (defs/gx_worker.py).
"""

import hashlib
import time
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from dvctt_pipeline.defs.gx_worker import GxWorker
from dvctt_pipeline.defs.keys import table_key
from dvctt_pipeline.models.sql_models import Window
from dvctt_pipeline.reference.freshness import code_version
from dvctt_pipeline.validate.expectations import SuiteOutcome
from dvctt_pipeline.validate.quality_checks import (
    QUALITY_CHECKS,
    QualityCheck,
    check_rows,
    describe_failures,
    record_results,
)

SHOWN_FAILURES = 50
SUITES_CODE = Path(__file__).resolve().parents[1] / "validate"
SUITES_CODE_VERSION = code_version(
    [SUITES_CODE / "quality_checks.py", SUITES_CODE / "expectations.py"]
)

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


def rows_version(frame: pd.DataFrame) -> str:
    """A digest of the frame's columns and rows, in any row order."""
    digest = hashlib.sha256(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy()).tobytes())
    return f"{SUITES_CODE_VERSION}-{digest.hexdigest()[:16]}"


def passed_before(
    instance: dg.DagsterInstance, check: QualityCheck, frame: pd.DataFrame, version: str
) -> SuiteOutcome | None:
    """The outcome of the check's last passing evaluation, if it validated these rows with
    this suite: the same rows pass again."""
    records = instance.event_log_storage.get_asset_check_execution_history(
        check_key(check), limit=1, status={AssetCheckExecutionRecordStatus.SUCCEEDED})
    event = records[0].event.dagster_event if records and records[0].event else None
    evaluation = event.asset_check_evaluation_data if event else None
    if evaluation is None or evaluation.metadata.get("rows_version") != dg.TextMetadataValue(
            version):
        return None
    return SuiteOutcome(True, frame.iloc[0:0], int(evaluation.metadata["expectations"].value))


def evaluate_check(
    con: duckdb.DuckDBPyConnection, check: QualityCheck, window: Window,
    instance: dg.DagsterInstance, gx_worker: GxWorker, shared: dict[str, pd.DataFrame],
) -> dg.AssetCheckResult:
    """Run a check on the window's months, record its result per month and return it. Its
    description says what fails, or that there was nothing to check. `shared`: the frames of
    the checks evaluated before it on the same rows (check_rows)."""
    started = time.perf_counter()
    frame = check_rows(con, check, window.start, window.end, shared)
    version = rows_version(frame)
    reused = passed_before(instance, check, frame, version)
    outcome = reused or gx_worker.validate(check, frame)
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
                  "rows_version": version, "validated_again": reused is None,
                  "seconds": round(time.perf_counter() - started, 2)},
    )
