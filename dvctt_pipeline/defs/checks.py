"""Great Expectations suites as Dagster asset checks on the staged assets.

Each check of validate.quality_checks runs on the months of the run's partition range, in the
warehouse pool (it opens the DuckDB file). Blocking checks stop the assets downstream of a
failing table, so wrong figures are not published; the result, with a table of the failing
rows, shows in the Dagster UI and is kept in meta.check_results for marts.data_quality.
"""

import dagster as dg

from dvctt_pipeline.defs.assets import table_key, window_of
from dvctt_pipeline.defs.partitions import MONTHLY_PARTITIONS, WAREHOUSE_POOL
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.validate.quality_checks import (
    QUALITY_CHECKS,
    QualityCheck,
    describe_failures,
    record_results,
    run_check,
)

SHOWN_FAILURES = 50


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
        failures = outcome.failures
        table = failures.head(SHOWN_FAILURES).to_markdown(index=False) if len(failures) else ""
        if len(failures):
            context.log.warning(f"{check.name} fails: {describe_failures(failures)}")
        return dg.AssetCheckResult(
            passed=outcome.success,
            description=describe_failures(failures) if len(failures) else None,
            severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows_checked": len(frame),
                "rows_failing": len(failures),
                "expectations": outcome.expectations,
                "failures": dg.MetadataValue.md(table or "No failures."),
            },
        )

    return _check


QUALITY_ASSET_CHECKS = [quality_check(check) for check in QUALITY_CHECKS]
