"""What every report is made of: charts with their tables, sections, one HTML template, and
files written so that an open viewer never sees half of them.

The national monthly report and the province reports are both built from these pieces: a
report is a title, headline figures and sections; a section holds charts (each with the
table of its figures) and tables of its own.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pandas as pd
from matplotlib.figure import Figure

from dvctt_pipeline.serve.report.charts import png_pair, report_style
from dvctt_pipeline.serve.report.vietnamese import NO_DATA, moment
from dvctt_pipeline.settings import TIMEZONE

# where every report's figures come from, whichever copy of the marts it is drawn from
DATA_ORIGIN = "hồ sơ trên Cổng Dịch vụ công quốc gia và báo cáo tháng (Biểu 06)"
FILE_DPI = 110  # the PNG files and the HTML: sharp enough to print
UI_SCALE = 0.55  # the Dagster UI's copies: event-log metadata should stay small

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Column:
    name: str
    number: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    columns: list[Column]
    rows: list[list[str]]
    open: bool = False
    # a class per row for the template's colours (e.g. "below"), or none
    row_classes: list[str] | None = None


@dataclass(frozen=True)
class Chart:
    """One chart of the report; without images when the marts have no figures for it."""

    name: str  # file stem of its PNG
    title: str
    label: str  # what it shows, in words and without the month: its name in the Dagster UI
    png: bytes | None = None
    ui_png: bytes | None = None
    table: Table | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


@dataclass(frozen=True)
class Section:
    title: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # shown open, after the charts
    note: str = ""  # a sentence under the title


@dataclass(frozen=True)
class Report:
    """A report as written: its month, its HTML file and the sections it shows."""

    month: date
    html_path: Path
    sections: list[Section]

    @property
    def charts(self) -> list[Chart]:
        return [chart for section in self.sections for chart in section.charts]


def integer(value: object) -> str:
    """12345 as Vietnamese write it, 12.345."""
    return "–" if pd.isna(value) else f"{int(value):,}".replace(",", ".")


def draw_chart(name: str, title: str, label: str, build: Callable[[], Figure] | None,
               table: Table | None = None) -> Chart:
    """The chart drawn by `build`, as a file-sized PNG and a UI-sized one; no images when
    there is nothing to draw (build is None)."""
    if build is None:
        return Chart(name, title, label)
    with report_style():
        png, ui_png = png_pair(build(), FILE_DPI, UI_SCALE)
    return Chart(name, title, label, png, ui_png, table)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def ui_picture(chart: Chart) -> str:
    """The chart's small copy as markdown for the Dagster UI, embedded inline."""
    return f"![{chart.label}]({data_uri(chart.ui_png)})" if chart.ui_png else f"_{NO_DATA}_"


def _render_html(title: str, subtitle: str, headline: list[dict[str, str]],
                 sections: list[Section], source: str) -> str:
    """The report as one self-contained page: every chart embedded, nothing fetched."""
    generated = datetime.now(ZoneInfo(TIMEZONE))
    return _TEMPLATES.get_template("monthly_report.html.j2").render(
        title=title,
        subtitle=subtitle,
        headline=headline,
        sections=[
            {"title": section.title, "note": section.note, "tables": section.tables,
             "charts": [{"title": chart.title, "table": chart.table,
                         "src": data_uri(chart.png) if chart.png else None}
                        for chart in section.charts]}
            for section in sections
        ],
        no_data=NO_DATA,
        footer=f"Nguồn: {DATA_ORIGIN}; {source}. Lập lúc {moment(generated)}.",
    )


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target and rename over it: an open viewer never sees half a file."""
    building = path.with_name(f".{path.name}.building")
    building.write_bytes(content)
    os.replace(building, path)


def write_report(folder: Path, html_name: str, *, title: str, subtitle: str,
                 headline: list[dict[str, str]], sections: list[Section], source: str) -> Path:
    """The report as one page (`html_name`) and one PNG per drawn chart in `folder`, which
    holds this report only; `source` says in the footer which copy of the figures it shows
    (a run, a publication), never the machine's folders: the report is sent on."""
    html = _render_html(title, subtitle, headline, sections, source)
    folder.mkdir(parents=True, exist_ok=True)
    charts = [chart for section in sections for chart in section.charts if chart.png]
    for chart in charts:
        _write_atomically(folder / chart.filename, chart.png)
    # a chart with no figures any more must not leave the previous render's picture behind
    current = {chart.filename for chart in charts}
    for stale in folder.glob("*.png"):
        if stale.name not in current:
            stale.unlink()
    html_path = folder / html_name
    _write_atomically(html_path, html.encode("utf-8"))
    return html_path
