"""Great Expectations suites as Dagster asset checks on the staged assets.

Each check of validate.quality_checks runs on the months of the run's partition range, in the
warehouse pool (it opens the DuckDB file). Blocking checks stop the assets downstream of a
failing table, so wrong figures are not published; the result, with a table of the failing
rows, shows in the Dagster UI and is kept in meta.check_results for marts.data_quality.
"""

import dagster as dg
import pandas as pd

from dvctt_pipeline.defs.assets import table_key, window_of
from dvctt_pipeline.defs.partitions import MONTHLY_PARTITIONS, WAREHOUSE_POOL
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.models.sql_models import Window
from dvctt_pipeline.validate.quality_checks import (
    QUALITY_CHECKS,
    QualityCheck,
    SuiteOutcome,
    record_results,
    run_check,
)

SHOWN_FAILURES = 50


def checked_nothing(frame: pd.DataFrame) -> bool:
    """No rows, or only months without a single staged dossier."""
    return bool(frame.empty or ("dossiers" in frame.columns and frame["dossiers"].sum() == 0))


def nothing_to_check(check: QualityCheck, window: Window) -> str:
    months = window.months()
    span = f"{months[0]:%Y-%m}" + (f" … {months[-1]:%Y-%m}" if len(months) > 1 else "")
    return f"Nothing to check: {check.table} has no rows in {span}; passed vacuously."


def check_metadata(
    check: QualityCheck, frame: pd.DataFrame, outcome: SuiteOutcome
) -> dict[str, object]:
    """Counts named for what they count: months, report cells or rows, and the staged
    dossiers behind the months where the check reads them."""
    failures = outcome.failures
    table = failures.head(SHOWN_FAILURES).to_markdown(index=False) if len(failures) else ""
    metadata: dict[str, object] = {
        f"{check.checks_each}_checked": len(frame),
        f"{check.checks_each}_failing": len(failures),
        "nothing_to_check": checked_nothing(frame),
        "expectations": outcome.expectations,
        "failures": dg.MetadataValue.md(table or "No failures."),
    }
    if "dossiers" in frame.columns:
        metadata["dossiers_checked"] = int(frame["dossiers"].sum())
    return metadata


def quality_check(check: QualityCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table_key(check.table), name=check.name, description=check.description,
        blocking=check.blocking, pool=WAREHOUSE_POOL, partitions_def=MONTHLY_PARTITIONS,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        window = window_of(context.op_execution_context)
        with warehouse.connect() as con:
            frame, outcome = run_check(con, check, window.start, window.end)
            record_results(con, check, window.months(), frame, outcome)
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
            description=nothing_to_check(check, window) if checked_nothing(frame) else None,
            metadata=check_metadata(check, frame, outcome),
        )

    return _check


QUALITY_ASSET_CHECKS = [quality_check(check) for check in QUALITY_CHECKS]
