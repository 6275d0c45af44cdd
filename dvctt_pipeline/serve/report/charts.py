"""The report's charts, drawn with matplotlib's Agg renderer: no display, no network.

Text is set in DejaVu Sans, the font bundled inside the matplotlib package (it has every
Vietnamese glyph), so the charts look the same on any machine the project is installed on.
Figures are built with the object API (`Figure`, never pyplot): no global figure registry,
nothing to close, safe inside a Dagster run.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import offset_copy
from PIL import Image

from dvctt_pipeline.serve.report.data import Ranking
from dvctt_pipeline.serve.report.vietnamese import (
    level_name,
    metric_title,
    percent,
    period_label,
    points,
)

BUNDLED_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
FONT_FAMILY = "DejaVu Sans"


def _bundled_fonts_first() -> None:
    """The family name resolves to matplotlib's own DejaVu files, whose glyphs are known, on
    every machine. matplotlib keeps the first of equal matches, but its font list (a cache
    shared by every environment of the user, rebuilt now and then) may hold the system's
    DejaVu first, or only the system's: the bundled files are added if missing and put first."""
    manager = font_manager.fontManager
    listed = {os.path.realpath(font.fname) for font in manager.ttflist}
    for path in sorted(BUNDLED_FONT.parent.glob("DejaVuSans*.ttf")):
        if os.path.realpath(path) not in listed:
            manager.addfont(path)
    bundled = os.path.realpath(BUNDLED_FONT.parent)
    manager.ttflist.sort(key=lambda font: not os.path.realpath(font.fname).startswith(bundled))


_bundled_fonts_first()

STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    # matplotlib loads each glyph from the font again whenever it measures or draws a text,
    # and hinting doubles the cost of a load; at these sizes unhinted letters look the same
    "text.hinting": "no_hinting",
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
LAYOUT_PAD = 0.6  # around the figure's edge, in font sizes


@contextmanager
def report_style() -> Iterator[None]:
    """The report's fonts and look, for drawing and saving figures inside the block."""
    with matplotlib.rc_context(STYLE):
        yield


def _palette_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # zlib's default level: `optimize` (level 9, every filter tried) took six times as long
    # for files 7 % smaller
    image.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE).save(
        buffer, format="PNG")
    return buffer.getvalue()


def _rendered(figure: Figure, dpi: int) -> Image.Image:
    """The figure laid out and drawn once, as an RGB picture.

    Not `savefig`, nor a layout engine: constrained layout measured every label again on each
    draw and made savefig draw twice, and savefig encoded a PNG that was only decoded again.
    The label sizes `tight_layout` measures stay cached on the canvas's renderer, which the
    draw then reuses.
    """
    figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    figure.tight_layout(pad=LAYOUT_PAD)
    canvas.draw()
    return Image.frombuffer(
        "RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
    ).convert("RGB")


def png_pair(figure: Figure, dpi: int, preview_scale: float) -> tuple[bytes, bytes]:
    """The figure as a PNG at `dpi` and as a smaller preview, drawn once (drawing the text
    is most of a chart's cost; scaling the picture down is nearly free)."""
    image = _rendered(figure, dpi)
    preview = image.resize(
        (round(image.width * preview_scale), round(image.height * preview_scale)),
        Image.Resampling.LANCZOS,
    )
    return _palette_png(image), _palette_png(preview)


def _as_percent_axis(axis: matplotlib.axis.Axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))


def _bars(axes: Axes, values: Sequence[float], colours: Sequence[str], height: float) -> None:
    """Horizontal bars, one per row from 0 down, as one collection: barh makes a Rectangle per
    bar, slow to build for 63 provinces, where a single artist draws them all."""
    ends = np.asarray(values, dtype=float)
    starts = np.zeros_like(ends)
    top = np.arange(len(ends)) - height / 2
    x = np.stack([starts, ends, ends, starts], axis=1)
    y = np.stack([top, top, top + height, top + height], axis=1)
    axes.add_collection(PolyCollection(np.stack([x, y], axis=-1), facecolors=colours,
                                       edgecolors="none"))
    axes.invert_yaxis()


def _row_labels(axes: Axes, labels: Sequence[str], fontsize: float) -> None:
    """Each row's label left of the axis, where a tick label goes. Plain texts rather than
    ticks: a tick is two lines and two texts, which cost more to build and lay out than the
    label itself."""
    axes.set_yticks([])
    transform, va, ha = axes.get_yaxis_text1_transform(matplotlib.rcParams["ytick.major.pad"])
    for row, label in enumerate(labels):
        axes.text(0, row, label, transform=transform, va=va, ha=ha, fontsize=fontsize)


def _value_labels(axes: Axes, values: Sequence[float], labels: Sequence[str],
                  fontsize: float) -> None:
    """Each bar's figure just past its end (a gap in points rather than a leading space:
    every glyph, a space too, is loaded from the font again each time the text is drawn)."""
    transform = offset_copy(axes.transData, fig=axes.get_figure(), x=2, units="points")
    for row, (value, label) in enumerate(zip(values, labels, strict=True)):
        axes.text(value, row, label, transform=transform, va="center", fontsize=fontsize)


def _bar_colour(province: pd.Series) -> str:
    if province["is_top5"]:
        return TOP_COLOUR
    return BOTTOM_COLOUR if province["is_bottom5"] else OTHER_COLOUR


def ranking_figure(ranking: Ranking, month: date) -> Figure:
    """Horizontal bars of the ranked provinces, best on top, top and bottom five coloured,
    the national figure as a dashed line."""
    provinces = ranking.ranked.reset_index(drop=True)
    values = provinces["value"].astype(float) * 100
    figure = Figure(figsize=(WIDTH_INCHES, MARGIN_INCHES + BAR_INCHES * len(provinces)))
    axes = figure.add_subplot()
    _bars(axes, values, [_bar_colour(row) for _, row in provinces.iterrows()], height=0.75)
    axes.margins(y=0.01)
    _row_labels(axes, [f"{rank}. {name}" for rank, name in
                       zip(provinces["rank"], provinces["province_name"], strict=True)],
                fontsize=7.5)
    _value_labels(axes, values, [percent(share) for share in provinces["value"]], fontsize=6.5)
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


@dataclass(frozen=True)
class Line:
    """One series of a line chart: shares (fractions) in the order of the chart's months."""

    label: str
    shares: Sequence[float]
    colour: str
    style: str = "-"
    marker: str = "o"
    annotated: bool = False  # its values written beside its points


def _annotate_shares(axes: Axes, labels: Sequence[str],
                     series: Sequence[Sequence[float]]) -> None:
    """Each share written by its point: at each month the highest series' figure above its
    point, the others' below theirs (unless too close to the axis), so that the figures of
    close lines do not overlap."""
    if not series:
        return
    shares = np.asarray(series, dtype=float)
    highest = np.nanargmax(np.nan_to_num(shares, nan=-1), axis=0)
    for position, line in enumerate(shares):
        for month, (label, share) in enumerate(zip(labels, line, strict=True)):
            if np.isnan(share):  # no point to write beside
                continue
            axes.annotate(percent(share), (label, share * 100), textcoords="offset points",
                          xytext=(0, 6 if highest[month] == position or share < 0.08 else -13),
                          ha="center",
                          fontsize=7.5)


def share_lines_figure(months: Sequence[date], lines: Sequence[Line], title: str,
                       top: float | None = None) -> Figure:
    """Shares month by month, one line each, on a percent axis from 0 to `top` percent
    (by default a quarter above the highest value)."""
    figure = Figure(figsize=(WIDTH_INCHES, 3.6))
    axes = figure.add_subplot()
    labels = [f"{month:%m/%Y}" for month in months]
    for line in lines:
        axes.plot(labels, np.asarray(line.shares, dtype=float) * 100, marker=line.marker,
                  linestyle=line.style, color=line.colour, label=line.label)
    _annotate_shares(axes, labels, [line.shares for line in lines if line.annotated])
    highest = max(np.nanmax(np.asarray(line.shares, dtype=float)) for line in lines) * 100
    axes.set_ylim(0, top if top is not None else max(highest, 1) * 1.25)
    _as_percent_axis(axes.yaxis)
    axes.tick_params(axis="x", labelrotation=45 if len(labels) > 12 else 0)
    # under the axis, where no line nor figure can be
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(lines), fontsize=8,
                frameon=False)
    axes.set_title(title)
    return figure


def trend_figure(trend: pd.DataFrame) -> Figure:
    """The national online share month by month, with the year-to-date share beside it."""
    return share_lines_figure(trend["period_start"], [
        Line("Trong tháng", trend["month_share"], NATIONAL_COLOUR, annotated=True),
        Line("Lũy kế từ đầu năm", trend["ytd_share"], OTHER_COLOUR, "--", "."),
    ], "Tỷ lệ hồ sơ trực tuyến toàn quốc theo tháng")


def province_trend_figure(trend: pd.DataFrame, province_name: str) -> Figure:
    """The province's online share month by month beside the national one."""
    return share_lines_figure(trend["period_start"], [
        Line(province_name, trend["province_share"], TOP_COLOUR, annotated=True),
        Line("Toàn quốc", trend["national_share"], NATIONAL_COLOUR, "--", "."),
    ], f"Tỷ lệ hồ sơ trực tuyến theo tháng: {province_name} và toàn quốc")


def compliance_by_month_figure(by_month: pd.DataFrame, with_metric: bool) -> Figure:
    """The share of agencies meeting their target, one line per level (and metric)."""
    months = sorted(by_month["as_of_month"].unique())
    lines = []
    # the levels from the province down, as in the tables
    ordered = by_month.assign(level_order=by_month["admin_level"].map(LEVEL_ORDER)).sort_values(
        ["metric", "level_order"], kind="stable")
    for (metric, level), rows in ordered.groupby(["metric", "admin_level"], sort=False):
        shares = rows.set_index("as_of_month")["share_met"].reindex(months)
        label = f"{level_name(level)}: {metric_title(metric)}" if with_metric else level_name(level)
        lines.append(Line(label, shares.to_numpy(), LEVEL_COLOURS.get(level, OTHER_COLOUR),
                          annotated=True))
    return share_lines_figure([pd.Timestamp(month) for month in months], lines,
                              "Tỷ lệ đơn vị đạt chỉ tiêu theo cấp, lũy kế đến từng tháng",
                              top=115)


def fee_effect_figure(effect: pd.Series) -> Figure:
    """Online shares of the procedures the policy covers and of the province's other
    fee-bearing procedures, before and after it: two pairs of bars."""
    figure = Figure(figsize=(WIDTH_INCHES, 3.4))
    axes = figure.add_subplot()
    groups = ["Thủ tục được giảm phí", "Thủ tục có phí khác"]
    before = np.array([effect["covered_share_before"], effect["others_share_before"]],
                      dtype=float) * 100
    after = np.array([effect["covered_share_after"], effect["others_share_after"]],
                     dtype=float) * 100
    positions = np.arange(len(groups))
    width = 0.36
    for offset, values, colour, label in ((-width / 2, before, OTHER_COLOUR, "Trước"),
                                          (width / 2, after, NATIONAL_COLOUR, "Sau")):
        bars = axes.bar(positions + offset, np.nan_to_num(values), width, color=colour,
                        label=label)
        axes.bar_label(bars, [percent(value / 100) for value in values], fontsize=8, padding=2)
    axes.set_xticks(positions, groups)
    axes.set_ylim(0, max(np.nanmax(np.concatenate([before, after, [1.0]])), 1) * 1.25)
    _as_percent_axis(axes.yaxis)
    axes.legend(loc="upper right", fontsize=8)
    axes.set_title("Tỷ lệ hồ sơ trực tuyến trước và sau khi giảm phí\n"
                   f"Chênh lệch kép: {points(effect['did_pp'])} điểm phần trăm")
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
    figure = Figure(figsize=(WIDTH_INCHES,
                             MARGIN_INCHES + (0.5 if with_metric else 0.32) * len(rows)))
    axes = figure.add_subplot()
    shares = rows["share_met"].astype(float) * 100
    _bars(axes, shares,
          [LEVEL_COLOURS.get(level, OTHER_COLOUR) for level in rows["admin_level"]], height=0.7)
    _row_labels(axes, [_compliance_label(row, with_metric) for _, row in rows.iterrows()],
                fontsize=8)
    _value_labels(axes, shares, [
        f"{percent(row.share_met, 0)} ({row.agencies_met}/{row.agencies} đơn vị)"
        for row in rows.itertuples()
    ], fontsize=7.5)
    axes.set_xlim(0, 125)
    axes.set_xticks(range(0, 101, 25))
    _as_percent_axis(axes.xaxis)
    axes.set_title(f"Tỷ lệ đơn vị đạt chỉ tiêu theo cấp hành chính\n{period_label('ytd', month)}")
    return figure
