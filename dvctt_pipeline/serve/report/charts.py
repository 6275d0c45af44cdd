"""The report's charts, drawn with matplotlib's Agg renderer: no display, no network.

Text is set in DejaVu Sans, the font bundled inside the matplotlib package (it has every
Vietnamese glyph), so the charts look the same on any machine the project is installed on.
Figures are built with the object API (`Figure`, never pyplot): no global figure registry,
nothing to close, safe inside a Dagster run.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from PIL import Image

from dvctt_pipeline.serve.report.data import Ranking
from dvctt_pipeline.serve.report.vietnamese import level_name, metric_title, percent, period_label

# matplotlib lists its own fonts before the system's and keeps the first of equal matches, so
# the family name resolves to this file even where the machine has DejaVu installed too.
BUNDLED_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
FONT_FAMILY = "DejaVu Sans"

STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
}

TOP_COLOUR = "#1a9850"
BOTTOM_COLOUR = "#d73027"
OTHER_COLOUR = "#b0b7bf"
NATIONAL_COLOUR = "#2166ac"
LEVEL_COLOURS = {"province": "#2166ac", "district": "#5aae61", "commune": "#f1a340"}
LEVEL_ORDER = {level: position for position, level in enumerate(LEVEL_COLOURS)}

# Flat bars and anti-aliased text need few colours: a palette PNG is a third of the size.
PALETTE_COLOURS = 64

WIDTH_INCHES = 8.0
BAR_INCHES = 0.17  # height per bar, so 63 provinces stay legible
MARGIN_INCHES = 1.4


@contextmanager
def report_style() -> Iterator[None]:
    """The report's fonts and look, for drawing and saving figures inside the block."""
    with matplotlib.rc_context(STYLE):
        yield


def _palette_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE).save(
        buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def png_pair(figure: Figure, dpi: int, preview_scale: float) -> tuple[bytes, bytes]:
    """The figure as a PNG at `dpi` and as a smaller preview, drawn once (drawing the text
    is most of a chart's cost; scaling the picture down is nearly free)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    image = Image.open(buffer).convert("RGB")
    preview = image.resize(
        (round(image.width * preview_scale), round(image.height * preview_scale)),
        Image.Resampling.LANCZOS,
    )
    return _palette_png(image), _palette_png(preview)


def _as_percent_axis(axis: matplotlib.axis.Axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))


def _bar_colour(province: pd.Series) -> str:
    if province["is_top5"]:
        return TOP_COLOUR
    return BOTTOM_COLOUR if province["is_bottom5"] else OTHER_COLOUR


def ranking_figure(ranking: Ranking, month: date) -> Figure:
    """Horizontal bars of the ranked provinces, best on top, top and bottom five coloured,
    the national figure as a dashed line."""
    provinces = ranking.ranked.reset_index(drop=True)
    values = provinces["value"].astype(float) * 100
    figure = Figure(
        figsize=(WIDTH_INCHES, MARGIN_INCHES + BAR_INCHES * len(provinces)), layout="constrained"
    )
    axes = figure.add_subplot()
    axes.barh(provinces.index, values, height=0.75,
              color=[_bar_colour(row) for _, row in provinces.iterrows()])
    axes.set_yticks(provinces.index, labels=[
        f"{rank}. {name}" for rank, name in zip(provinces["rank"], provinces["province_name"],
                                                strict=True)
    ], fontsize=7.5)
    axes.invert_yaxis()
    axes.margins(y=0.01)
    for position, (value, share) in enumerate(zip(values, provinces["value"], strict=True)):
        axes.text(value, position, f" {percent(share)}", va="center", fontsize=6.5)
    axes.set_xlim(0, max(values.max(), (ranking.national or 0) * 100) * 1.15)
    _as_percent_axis(axes.xaxis)
    legend = [Patch(color=TOP_COLOUR, label="5 tỉnh dẫn đầu"),
              Patch(color=BOTTOM_COLOUR, label="5 tỉnh cuối bảng")]
    if ranking.national is not None:
        axes.axvline(ranking.national * 100, color=NATIONAL_COLOUR, linestyle="--", linewidth=1.2)
        legend.append(Line2D([], [], color=NATIONAL_COLOUR, linestyle="--",
                             label=f"Toàn quốc: {percent(ranking.national)}"))
    axes.legend(handles=legend, loc="lower right", fontsize=8)
    axes.set_title(f"{metric_title(ranking.metric)}\n{period_label(ranking.period_type, month)}")
    return figure


def trend_figure(trend: pd.DataFrame) -> Figure:
    """The national online share month by month, with the year-to-date share beside it."""
    figure = Figure(figsize=(WIDTH_INCHES, 3.6), layout="constrained")
    axes = figure.add_subplot()
    labels = [f"{start:%m/%Y}" for start in trend["period_start"]]
    month_share = trend["month_share"].astype(float) * 100
    axes.plot(labels, month_share, marker="o", color=NATIONAL_COLOUR, label="Trong tháng")
    axes.plot(labels, trend["ytd_share"].astype(float) * 100, marker=".", linestyle="--",
              color=OTHER_COLOUR, label="Lũy kế từ đầu năm")
    for label, value, share in zip(labels, month_share, trend["month_share"], strict=True):
        axes.annotate(percent(share), (label, value), textcoords="offset points", xytext=(0, 6),
                      ha="center", fontsize=7.5)
    axes.set_ylim(0, max(month_share.max(), 1) * 1.25)
    _as_percent_axis(axes.yaxis)
    axes.tick_params(axis="x", labelrotation=45 if len(labels) > 12 else 0)
    axes.legend(loc="lower right", fontsize=8)
    axes.set_title("Tỷ lệ hồ sơ trực tuyến toàn quốc theo tháng")
    return figure


def _compliance_label(row: pd.Series, with_metric: bool) -> str:
    label = f"{row['province_name']} · {level_name(row['admin_level'])}"
    return f"{label}\n{metric_title(row['metric'])}" if with_metric else label


def compliance_figure(compliance: pd.DataFrame, month: date) -> Figure:
    """Per province and administrative level, the share of agencies meeting their target."""
    rows = compliance.assign(
        level_order=compliance["admin_level"].map(LEVEL_ORDER).fillna(len(LEVEL_ORDER))
    ).sort_values(["province_name", "metric", "level_order"]).reset_index(drop=True)
    with_metric = rows.groupby("province_name")["metric"].nunique().gt(1).any()
    figure = Figure(
        figsize=(WIDTH_INCHES, MARGIN_INCHES + (0.5 if with_metric else 0.32) * len(rows)),
        layout="constrained",
    )
    axes = figure.add_subplot()
    shares = rows["share_met"].astype(float) * 100
    axes.barh(rows.index, shares, height=0.7,
              color=[LEVEL_COLOURS.get(level, OTHER_COLOUR) for level in rows["admin_level"]])
    axes.set_yticks(rows.index, labels=[_compliance_label(row, with_metric)
                                        for _, row in rows.iterrows()], fontsize=8)
    axes.invert_yaxis()
    for position, row in rows.iterrows():
        label = f" {percent(row['share_met'], 0)} ({row['agencies_met']}/{row['agencies']} đơn vị)"
        axes.text(shares[position], position, label, va="center", fontsize=7.5)
    axes.set_xlim(0, 125)
    axes.set_xticks(range(0, 101, 25))
    _as_percent_axis(axes.xaxis)
    axes.set_title(f"Tỷ lệ đơn vị đạt chỉ tiêu theo cấp hành chính\n{period_label('ytd', month)}")
    return figure
