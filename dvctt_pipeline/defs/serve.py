"""The publication of the marts: the serving file BI tools read, and the monthly report, its
charts on disk and in the Dagster UI. One step materializes both, either alone when a
subset is asked for.

Each is written again only when what it is made from changed since Dagster recorded its
last materialization (its data version), or its files are gone; otherwise the run records it
again as it was. When both are written, the report is drawn in a thread while this one
publishes: drawing is matplotlib's work, which holds the GIL, publishing DuckDB's and
pyarrow's, which release it, so the two share the run's cores (April of the sample, the two
alone: 4.0–6.7 s one after the other, 2.8–4.9 s side by side; benchmarks/RESULTS.md).
matplotlib's import alone takes seconds, so the code that draws is imported only when a
month is drawn; it is imported before the drawing starts, as an import beside the
publication slowed it more than it gained.
"""

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from dvctt_pipeline.defs.assets import MARTS_KEYS, PARTITIONED
from dvctt_pipeline.defs.data_versions import recorded_version, version_tags
from dvctt_pipeline.defs.keys import checked_window, table_key
from dvctt_pipeline.defs.landing import LANDING_EXPORTS
from dvctt_pipeline.defs.resources import Warehouse
from dvctt_pipeline.reference.freshness import code_version
from dvctt_pipeline.serve.publish import (
    Content,
    publish_serving_file,
    published_files,
    read_content,
    served_tables,
)
from dvctt_pipeline.serve.report.data import REPORT_TABLES
from dvctt_pipeline.settings import REPORTS_DIR_ENV, reports_dir

if TYPE_CHECKING:
    from dvctt_pipeline.serve.monthly_report import MonthFigures, MonthlyReport

REPORT_CODE = Path(__file__).resolve().parents[1] / "serve"
REPORT_CODE_VERSION = code_version(
    [REPORT_CODE / "monthly_report.py", REPORT_CODE / "province_report.py",
     *(REPORT_CODE / "report").glob("*.*")]
)

# Depend on the report's tables that are assets today; a table added later (the target
# compliance summary) becomes a dependency by existing, and until then its chart says so.
REPORT_DEPS = [key for key in MARTS_KEYS if key in {table_key(t) for t in REPORT_TABLES}]

SERVING_FILE = dg.AssetKey("serving_file")
MONTHLY_REPORT = dg.AssetKey("monthly_report")


@dg.multi_asset(
    name="publication",
    specs=[
        dg.AssetSpec(
            SERVING_FILE, group_name="serve", kinds={"duckdb"},
            # the landing folder too: Dagster marks stale only an asset whose direct parent
            # changed, and a month with new exports should show stale where users look, the
            # published file
            deps=[*MARTS_KEYS, LANDING_EXPORTS],
            description="The serving DuckDB file BI tools read ($DVCTT_SERVING): a copy of "
            "every marts table with its comments, swapped in atomically so open readers are "
            "never disturbed.",
            skippable=True,
        ),
        dg.AssetSpec(
            MONTHLY_REPORT, group_name="serve", kinds={"html", "matplotlib"}, deps=REPORT_DEPS,
            description="Báo cáo tháng / monthly report: provinces ranked by online_share_all "
            "and dvctt_uptake_rate (month and year to date), the national share month by "
            "month, target compliance per administrative level; one HTML file and PNG charts "
            "per month under `$DVCTT_REPORTS_DIR/YYYY-MM/` (default: `reports/` beside the "
            "warehouse, `data/reports`); and for every province with targets that year its "
            "own report (its agencies against their targets, what those below still need) "
            "under `YYYY-MM/tinh_NN/` (NN: the province's code). Each month's materialization "
            "(Events tab) shows the national chart and where the report is; its metadata "
            "holds every chart, named in words, and each province report's place and trend "
            "chart.",
            # each month is recorded by its own materialization, which carries the national
            # chart in its description, rather than by a returned output
            skippable=True,
        ),
    ],
    can_subset=True,
    **PARTITIONED,
)
def publication(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
    """The serving file, then the months' reports: those kept as they were, then those drawn
    beside the publication. A publication that fails fails the step once the drawing is
    done; the months it drew are then drawn again by the next run, which finds no record of
    them."""
    selected = context.selected_asset_keys
    folder = reports_dir(warehouse.location)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report") as drawer:
        with warehouse.connect() as con:
            plan = ReportPlan.read(context, con, folder) if MONTHLY_REPORT in selected else None
            drawing = plan.start_drawing(drawer, context.run_id) if plan else None
            served = (serving_file(context, con, warehouse, plan.tables if plan else None)
                      if SERVING_FILE in selected else None)
        if served:
            yield served
        if plan:
            yield from plan.kept(context)
            if drawing:
                yield from recorded(context, plan, drawing.result())


def serving_file(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, warehouse: Warehouse,
    known: Content | None = None,
) -> dg.MaterializeResult:
    """Published again only when the served tables differ from the publication Dagster
    recorded last (its data version) or its files are gone: a run with nothing new leaves the
    files, and the readers that hold them, alone. `known`: served tables already read (the
    report's), not read again."""
    content = read_content(con, served_tables(con), known)
    version = content.version
    last = context.instance.get_latest_materialization_event(SERVING_FILE)
    published = last.asset_materialization if last else None
    if published and is_published(published, version, published_files(con, warehouse.serving)):
        metadata = {**published.metadata, "rewritten": False}
    else:
        rows = publish_serving_file(con, warehouse.serving, content, checked_window(context))
        metadata = {"path": str(warehouse.serving), **rows, "rewritten": True}
    return dg.MaterializeResult(asset_key=SERVING_FILE, data_version=dg.DataVersion(version),
                                metadata=metadata)


def is_published(published: dg.AssetMaterialization, version: str, files: list[Path]) -> bool:
    """Whether the last publication holds this data version in these files (the first is the
    serving file), all still there."""
    return (recorded_version(published) == version
            and published.metadata.get("path") == dg.TextMetadataValue(str(files[0]))
            and all(path.exists() for path in files))


@dataclass(frozen=True)
class ReportPlan:
    """The months of the run's range whose reports are drawn again, with their figures, and
    the last drawing of every month: a month's report is drawn when the report's tables or
    code changed since its last drawing, or its file is gone."""

    tables: Content  # the report's tables
    version: str  # of the report's tables and code
    drawn: dict[str, dg.AssetMaterialization | None]
    to_draw: list[str]
    figures: list["MonthFigures"]
    folder: Path

    @classmethod
    def read(cls, context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection,
             folder: Path) -> "ReportPlan":
        tables = read_content(con, REPORT_TABLES)
        version = f"{REPORT_CODE_VERSION}-{tables.version}"
        drawn = {partition: last_drawing(context.instance, partition)
                 for partition in context.partition_keys}
        to_draw = [partition for partition, last in drawn.items()
                   if not is_current(last, version, folder)]
        return cls(tables, version, drawn, to_draw, read_months(con, to_draw), folder)

    def start_drawing(self, drawer: ThreadPoolExecutor,
                      run_id: str) -> "Future[list[MonthlyReport]] | None":
        """The months' reports drawn in the drawer's thread; None when none is to be drawn."""
        if not self.figures:
            return None
        from dvctt_pipeline.serve.monthly_report import render_monthly_reports

        # the run an analyst finds in the UI, not the warehouse's place on this machine
        return drawer.submit(render_monthly_reports, self.figures, self.folder,
                             f"lần chạy {run_id[:8]}")

    def kept(self, context: dg.AssetExecutionContext) -> Iterator[dg.AssetMaterialization]:
        """The months whose reports stay as they were, recorded again as they were."""
        for partition, last in self.drawn.items():
            if partition not in self.to_draw:
                context.log.info(f"Report for {partition[:7]}: its figures did not change; kept.")
                yield dg.AssetMaterialization(
                    MONTHLY_REPORT, partition=partition, description=last.description,
                    metadata={**last.metadata, "redrawn": False},
                    tags=version_tags(self.version))


def last_drawing(instance: dg.DagsterInstance, partition: str) -> dg.AssetMaterialization | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(MONTHLY_REPORT, asset_partitions=[partition]),
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


def recorded(
    context: dg.AssetExecutionContext, plan: ReportPlan, reports: list["MonthlyReport"]
) -> Iterator[dg.AssetMaterialization]:
    """The drawn months' materializations: where each report is and its charts, for the UI."""
    from dvctt_pipeline.serve.monthly_report import (
        ui_description,
        ui_markdown,
        ui_province_markdown,
    )

    folder = plan.folder
    for partition, report, month in zip(plan.to_draw, reports, plan.figures, strict=True):
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
            MONTHLY_REPORT, partition=partition,
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
            tags=version_tags(plan.version),
        )
