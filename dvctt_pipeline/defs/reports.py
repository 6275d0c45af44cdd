"""The monthly report (Biểu 06) ingest asset: reports/<YYYY-MM>/*.xlsx or .xls into
raw.report_rows."""

from collections.abc import Iterator

import dagster as dg

from dvctt_pipeline.defs.assets import files_markdown, log_ingest_run, table_metadata
from dvctt_pipeline.defs.keys import table_key
from dvctt_pipeline.defs.partitions import WAREHOUSE_POOL
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.ingest.reports import ingest_monthly_reports

REPORT_TABLES = {
    "raw.report_rows": "One row per agency row of the monthly reports (Biểu 06, "
    "`reports/YYYY-MM/*.xlsx` or `.xls`) that passes the row rules: the unit as written "
    "(matched to an agency by staging.report_rows), the eleven counts as numbers. Loads the "
    "files not loaded yet (by content hash), whatever months they hold; a report whose period "
    "line is not its folder's month fails.",
    "raw.report_totals": "The total and subtotal rows of each report (Tổng cộng, Cộng, a "
    "section row with counts), per count column: the stated figure beside the sum of the "
    "agency rows it covers.",
    "raw.report_files": "Where the form was read in each report: the sheet, its header rows "
    "and the sheets passed over (an instructions sheet, a hidden template).",
    "quarantine.report_rows": "Report rows set aside by the row rules (table "
    "quarantine.report_rows): file, Excel row, the unit as written, reason (bad_number, "
    "bad_count, merged_unit, negative_count, ...).",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(table_key(table), group_name="ingest", kinds={"duckdb", "excel"},
                     description=description)
        for table, description in REPORT_TABLES.items()
    ],
    pool=WAREHOUSE_POOL,
)
def report_rows(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult]:
    with warehouse.connect() as con:
        outcomes = ingest_monthly_reports(con, warehouse.landing)
        counts = log_ingest_run(context, "Monthly reports", outcomes)
        run_metadata = {**counts, "files": files_markdown(outcomes)}
        for table in REPORT_TABLES:
            extra = run_metadata if table == "raw.report_rows" else {}
            yield dg.MaterializeResult(
                asset_key=table_key(table), metadata={**table_metadata(con, table), **extra}
            )
