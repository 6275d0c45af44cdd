"""The monthly report asset: the marts as charts, on disk and in the Dagster UI."""

from collections.abc import Iterator

import dagster as dg

from dvctt_pipeline.defs.assets import MARTS_KEYS, PARTITIONED
from dvctt_pipeline.defs.keys import table_key, window_of
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.serve.report.data import REPORT_TABLES

# Depend on the report's tables that are assets today; a table added later (the target
# compliance summary) becomes a dependency by existing, and until then its chart says so.
REPORT_DEPS = [key for key in MARTS_KEYS if key in {table_key(t) for t in REPORT_TABLES}]


@dg.multi_asset(
    specs=[dg.AssetSpec(
        "monthly_report", group_name="serve", kinds={"html", "matplotlib"}, deps=REPORT_DEPS,
        description="Báo cáo tháng / monthly report: provinces ranked by online_share_all and "
        "dvctt_uptake_rate (month and year to date), the national share month by month, target "
        "compliance per administrative level; one HTML file and PNG charts per month under "
        "`$DVCTT_REPORTS_DIR/YYYY-MM/` (default: `reports/` beside the warehouse, "
        "`data/reports`); and for every province with targets that year its own report "
        "(its agencies against their targets, what those below still need) under "
        "`YYYY-MM/tinh_NN/` (NN: the province's code). Each month's materialization (Events "
        "tab) shows the national chart and where the report is; its metadata holds every "
        "chart, named in words, and each province report's place and trend chart.",
        # each month is recorded by its own materialization, which carries the national
        # chart in its description, rather than by a returned output
        skippable=True,
    )],
    **PARTITIONED,
)
def monthly_report(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.AssetMaterialization]:
    # imported when a report is drawn: matplotlib costs seconds to every process that loads
    # the definitions (the daemon's runs, the sensors), most of which draw nothing
    from dvctt_pipeline.serve.monthly_report import (
        REPORTS_DIR_ENV,
        read_month_figures,
        render_monthly_reports,
        reports_dir,
        ui_description,
        ui_markdown,
        ui_province_markdown,
    )

    with warehouse.connect() as con:
        figures = [read_month_figures(con, month) for month in window_of(context).months()]
    # drawn once the warehouse is closed: charts take seconds, the queries milliseconds
    folder, source = reports_dir(warehouse.location), f"kho dữ liệu {warehouse.source_name}"
    reports = render_monthly_reports(figures, folder, source)
    for partition, report in zip(context.partition_keys, reports, strict=True):
        # within the reports folder: the machine's own folders stay out of the UI
        relative = report.html_path.relative_to(folder).as_posix()
        context.log.info(f"Report for {report.month:%Y-%m}: {relative} in the reports folder")
        yield dg.AssetMaterialization(
            "monthly_report", partition=partition,
            description=ui_description(report, relative, REPORTS_DIR_ENV),
            metadata={
                "report_month": f"{report.month:%Y-%m}",
                "report": dg.MetadataValue.path(relative),
                "reports_folder": f"${REPORTS_DIR_ENV} (default: data/reports)",
                **{label: dg.MetadataValue.md(text)
                   for label, text in ui_markdown(report).items()},
                "province_reports": [province.html_path.relative_to(folder).as_posix()
                                     for province in report.provinces],
                **{label: dg.MetadataValue.md(text)
                   for label, text in ui_province_markdown(report, folder).items()},
            },
        )
