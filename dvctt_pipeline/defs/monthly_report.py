"""The monthly report asset: the marts as charts, on disk and in the Dagster UI.

A month's report is drawn again only when the tables it reads or the report's code changed
since Dagster recorded its last drawing (its data version), or its file is gone; otherwise
the run records it again as it was. Drawing is what takes time (matplotlib: its import
alone takes seconds), so the code that draws is imported only when a month is drawn.
"""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from dvctt_pipeline.defs.assets import MARTS_KEYS, PARTITIONED
from dvctt_pipeline.defs.data_versions import recorded_version, version_tags
from dvctt_pipeline.defs.keys import table_key
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.reference.freshness import code_version
from dvctt_pipeline.serve.publish import read_content
from dvctt_pipeline.serve.report.data import REPORT_TABLES
from dvctt_pipeline.settings import REPORTS_DIR_ENV, reports_dir

if TYPE_CHECKING:
    from dvctt_pipeline.serve.monthly_report import MonthFigures

REPORT_CODE = Path(__file__).resolve().parents[1] / "serve"
REPORT_CODE_VERSION = code_version(
    [REPORT_CODE / "monthly_report.py", REPORT_CODE / "province_report.py",
     *(REPORT_CODE / "report").glob("*.*")]
)

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
    folder = reports_dir(warehouse.location)
    with warehouse.connect() as con:
        version = report_version(con)
        drawn = {partition: last_drawing(context.instance, partition)
                 for partition in context.partition_keys}
        to_draw = [partition for partition, last in drawn.items()
                   if not is_current(last, version, folder)]
        figures = read_months(con, to_draw)
    for partition, last in drawn.items():
        if partition not in to_draw:
            context.log.info(f"Report for {partition[:7]}: its figures did not change; kept.")
            yield dg.AssetMaterialization(
                "monthly_report", partition=partition, description=last.description,
                metadata={**last.metadata, "redrawn": False}, tags=version_tags(version))
    if figures:
        yield from draw(context, warehouse, figures, to_draw, version)


def report_version(con: duckdb.DuckDBPyConnection) -> str:
    """What a month's report is made from: the report's tables and code."""
    return f"{REPORT_CODE_VERSION}-{read_content(con, REPORT_TABLES).version}"


def last_drawing(instance: dg.DagsterInstance, partition: str) -> dg.AssetMaterialization | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(dg.AssetKey("monthly_report"), asset_partitions=[partition]),
        limit=1, ascending=False,
    ).records
    return records[0].asset_materialization if records else None


def is_current(last: dg.AssetMaterialization | None, version: str, folder: Path) -> bool:
    """Whether the month's last drawing was made from this version and its file is there."""
    return bool(recorded_version(last) == version
                and "report" in last.metadata
                and (folder / str(last.metadata["report"].value)).exists())


def read_months(con: duckdb.DuckDBPyConnection, partitions: list[str]) -> list["MonthFigures"]:
    if not partitions:
        return []
    from dvctt_pipeline.serve.monthly_report import read_month_figures

    return [read_month_figures(con, date.fromisoformat(partition)) for partition in partitions]


def draw(
    context: dg.AssetExecutionContext, warehouse: Warehouse, figures: list["MonthFigures"],
    partitions: list[str], version: str,
) -> Iterator[dg.AssetMaterialization]:
    """Draw the months' reports, once the warehouse is closed: charts take seconds, the
    queries milliseconds."""
    from dvctt_pipeline.serve.monthly_report import (
        render_monthly_reports,
        ui_description,
        ui_markdown,
        ui_province_markdown,
    )

    folder = reports_dir(warehouse.location)
    # the run an analyst finds in the UI, not the warehouse's place on this machine
    reports = render_monthly_reports(figures, folder, f"lần chạy {context.run_id[:8]}")
    for partition, report, month in zip(partitions, reports, figures, strict=True):
        # within the reports folder: the machine's own folders stay out of the UI
        relative = report.html_path.relative_to(folder).as_posix()
        context.log.info(f"Report for {report.month:%Y-%m}: {relative} in the reports folder")
        for code in month.without_figures:
            context.log.warning(
                f"Report for {report.month:%Y-%m}: province {code} set targets for "
                f"{report.month.year} but no dossier of the month is its own (its exports are "
                "missing, or failed: see marts.data_quality); its province report is not "
                "written until they land.")
        for removed in report.removed_provinces:
            context.log.info(f"Report for {report.month:%Y-%m}: removed the report in "
                             f"{removed.relative_to(folder).as_posix()}, a province the month "
                             "no longer reports (its targets withdrawn, or its code gone)")
        yield dg.AssetMaterialization(
            "monthly_report", partition=partition,
            description=ui_description(report, relative, REPORTS_DIR_ENV),
            metadata={
                "report_month": f"{report.month:%Y-%m}",
                "report": dg.MetadataValue.path(relative),
                "reports_folder": f"${REPORTS_DIR_ENV} (default: data/reports)",
                "redrawn": True,
                **{label: dg.MetadataValue.md(text)
                   for label, text in ui_markdown(report).items()},
                "province_reports": [province.html_path.relative_to(folder).as_posix()
                                     for province in report.provinces],
                **{label: dg.MetadataValue.md(text)
                   for label, text in ui_province_markdown(report, folder).items()},
            },
            tags=version_tags(version),
        )
