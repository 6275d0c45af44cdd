"""The monthly report asset: the marts as charts, on disk and in the Dagster UI."""

from pathlib import Path

import dagster as dg

from dvctt_pipeline.defs.assets import MARTS_KEYS, PARTITIONED
from dvctt_pipeline.defs.keys import table_key, window_of
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.serve.monthly_report import (
    read_month,
    render_monthly_reports,
    reports_dir,
    ui_markdown,
)
from dvctt_pipeline.serve.report.data import REPORT_TABLES

# Depend on the report's tables that are assets today; a table added later (the target
# compliance summary) becomes a dependency by existing, and until then its chart says so.
REPORT_DEPS = [key for key in MARTS_KEYS if key in {table_key(t) for t in REPORT_TABLES}]


@dg.asset(
    group_name="serve", kinds={"html", "matplotlib"}, deps=REPORT_DEPS,
    description="Báo cáo tháng / monthly report: provinces ranked by online_share_all and "
    "dvctt_uptake_rate (month and year to date), the national share month by month, target "
    "compliance per administrative level; one HTML file and PNG charts per month under "
    "$DVCTT_REPORTS_DIR/<YYYY-MM>/ (default: reports/ beside the warehouse, data/reports). "
    "The charts of the run's last month are shown here.",
    **PARTITIONED,
)
def monthly_report(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        figures = [read_month(con, month) for month in window_of(context).months()]
    # drawn once the warehouse is closed: charts take seconds, the queries milliseconds
    folder, source = reports_dir(Path(warehouse.database)), f"kho dữ liệu {warehouse.database}"
    reports = render_monthly_reports(figures, folder, source)
    for report in reports:
        context.log.info(f"Report for {report.month:%Y-%m}: {report.html_path}")
    # A range run records the same metadata on every month; the charts are those of the last
    # month, the one an analyst presents, and the heading says which month that is.
    last = reports[-1]
    return dg.MaterializeResult(metadata={
        "report_month": f"{last.month:%Y-%m}",
        "report_html": dg.MetadataValue.path(str(last.html_path.resolve())),
        "reports_written": len(reports),
        **{name: dg.MetadataValue.md(f"### {last.month:%m/%Y}\n\n{text}")
           for name, text in ui_markdown(last).items()},
    })
