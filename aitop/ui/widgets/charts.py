"""Time-series charts for the drill-down, drawn with textual-plotext in the theme's series colours.

Each chart draws through its own `plt` (never the global plotext), keeps the last data it was given, and
replots when the theme changes, so colours always follow the theme. Under NO_COLOR every series also gets
its own marker, so lines stay apart without colour.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color, ColorParseError
from textual.theme import Theme
from textual_plotext import PlotextPlot

from aitop.fields import FIELD_BY_NAME
from aitop.format import format_value
from aitop.markers import GLYPHS, Marker
from aitop.sources.base import Points
from aitop.ui.themes import CHART_VARIABLES
from aitop.ui.widgets.status_bar import format_age

log = logging.getLogger(__name__)

#: Markers per series when colour is off: distinct shapes instead of distinct hues.
NO_COLOR_MARKERS = ("•", "+", "x", "o")
Y_TICKS = 4
#: Markers drawn per chart (the newest): more only blacken the canvas.
MAX_MARKERS_DRAWN = 20


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """One line: its legend label, the field whose unit labels the axis, and the points.

    `right` puts it on the right-hand y axis (e.g. error % next to requests/s).
    """

    label: str
    field: str
    points: Points
    right: bool = False

    @property
    def known(self) -> list[tuple[float, float]]:
        """The points with a usable value."""
        return [(t, v) for t, v in self.points if v is not None and math.isfinite(v)]


#: Most points drawn per series: braille gives two dots per cell, so more only costs time.
MAX_POINTS = 400


def visible(points: Points, start: float, end: float) -> Points:
    """The points inside [start, end], thinned to `MAX_POINTS` by keeping each stretch's highest value
    (a spike in latency or errors must survive the thinning)."""
    inside = [(t, v) for t, v in points if start <= t <= end]
    if len(inside) <= MAX_POINTS:
        return tuple(inside)
    size = -(-len(inside) // MAX_POINTS)
    thinned = []
    for i in range(0, len(inside), size):
        chunk = inside[i : i + size]
        known = [v for _, v in chunk if v is not None and math.isfinite(v)]
        thinned.append((chunk[-1][0], max(known) if known else None))
    return tuple(thinned)


def segments(points: Points) -> list[list[tuple[float, float]]]:
    """Runs of consecutive known values: a gap in the data is a gap in the line, not a straight bridge."""
    runs: list[list[tuple[float, float]]] = [[]]
    for t, v in points:
        if v is None or not math.isfinite(v):
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((t, v))
    return [run for run in runs if run]


#: Candidate spacings of x ticks, in seconds: the smallest giving at most `MAX_X_TICKS` intervals is used.
X_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
MAX_X_TICKS = 6


def x_ticks(span: float) -> tuple[list[float], list[str]]:
    """Ticks in minutes before now, at round times (-15m, -10m, -5m, now), with their labels."""
    step = next((s for s in X_STEPS if span / s <= MAX_X_TICKS), X_STEPS[-1])
    count = int(span // step)
    seconds = [-(count - i) * step for i in range(count + 1)]
    return [s / 60 for s in seconds], [f"-{format_age(-s)}" if s else "now" for s in seconds]


def _ticks(top: float, field: str) -> tuple[list[float], list[str]]:
    values = [top * i / Y_TICKS for i in range(Y_TICKS + 1)]
    return values, [format_value(field, value) for value in values]


class MetricChart(PlotextPlot):
    """A titled time chart over the last `span` seconds, up to four series, x axis in "minutes ago"."""

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.chart_title = title
        self.series: tuple[ChartSeries, ...] = ()
        #: Events drawn as vertical lines with their glyph (restarts, deployments, alerts), in range.
        self.markers: tuple[Marker, ...] = ()
        self.end = 0.0
        self.span = 300.0

    def on_mount(self) -> None:
        # (PlotextPlot's own on_mount runs after this one: Textual calls each class's handler, so calling it
        # here as well subscribed it to the theme signal twice.)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self.replot()

    def on_unmount(self) -> None:
        # The signal holds its subscribers (this one and PlotextPlot's) until it next publishes; a closed
        # drill-down's charts would stay in memory until the next theme change.
        self.app.theme_changed_signal.unsubscribe(self)

    def _on_theme_changed(self, _theme: Theme) -> None:
        self.replot()

    @property
    def has_data(self) -> bool:
        """Whether any series has at least one known value."""
        return any(series.known for series in self.series)

    def show(self, series: Sequence[ChartSeries], *, end: float, span: float, markers: Sequence[Marker] = ()) -> None:
        """Draw `series` and `markers` over (end - span, end]; points outside it are dropped (plotext fails on a
        labelled line that lies wholly outside the axes)."""
        self.series = tuple(ChartSeries(s.label, s.field, visible(s.points, end - span, end), s.right) for s in series)
        self.markers = tuple(m for m in markers if end - span <= m.at <= end)[-MAX_MARKERS_DRAWN:]
        self.end = end
        self.span = span
        self.replot()

    def render(self) -> RenderResult:
        # A plotting bug must cost one chart, not the whole monitor.
        try:
            return super().render()
        except Exception:  # noqa: BLE001 — plotext raises IndexError/ValueError on odd inputs
            log.exception("chart %s failed to draw", self.id)
            return Text(f"{self.chart_title}: cannot draw this data", style="dim")

    def _colour(self, index: int) -> tuple[int, int, int]:
        name = CHART_VARIABLES[index % len(CHART_VARIABLES)]
        try:
            return Color.parse(self.app.theme_variables.get(name, "white")).rgb
        except ColorParseError:
            return (255, 255, 255)

    def _plot_markers(self, plt, top: float) -> None:
        """A vertical line per marker, its glyph at the top: the theme's warning colour for restarts and
        deployments, its error colour for alerts."""
        stacked: dict[int, int] = {}  # markers per column so far: glyphs at one column stack downwards
        column = self.span / 60 / max(self.size.width - 8, 1)
        for marker in self.markers:
            x = (marker.at - self.end) / 60
            below = stacked.get(round(x / column), 0)
            stacked[round(x / column)] = below + 1
            name = "error" if marker.kind == "alert" else "warning"
            try:
                colour = Color.parse(self.app.theme_variables.get(name, "yellow")).rgb
            except ColorParseError:
                colour = (255, 255, 0)
            plt.vline(x, colour)
            plt.text(GLYPHS.get(marker.kind, "|"), x, top * (0.97 - 0.12 * below), color=colour)

    def replot(self) -> None:
        """Redraw from the stored series with the current theme's colours."""
        if not self.is_mounted:
            return
        plt = self.plt
        plt.clear_figure()
        no_color = self.app.no_color
        minutes = self.span / 60
        plt.xlim(-minutes, 0)
        plt.xticks(*x_ticks(self.span))
        tops = {False: 0.0, True: 0.0}
        for index, series in enumerate(self.series):
            marker = NO_COLOR_MARKERS[index % len(NO_COLOR_MARKERS)] if no_color else "braille"
            side = "right" if series.right else "left"
            for number, run in enumerate(segments(series.points)):
                xs = [(t - self.end) / 60 for t, _ in run]
                ys = [v for _, v in run]
                tops[series.right] = max(tops[series.right], *ys)
                label = series.label if number == 0 else None
                plt.plot(xs, ys, label=label, color=self._colour(index), marker=marker, yside=side)
        for right, top in tops.items():
            fields = [s.field for s in self.series if s.right == right]
            if not fields:
                continue
            unit = FIELD_BY_NAME[fields[0]].unit if fields[0] in FIELD_BY_NAME else ""
            # An all-zero error line gets a 0–1 % axis: a 0–100 % one would look like a real scale.
            top = top * 1.1 if top > 0 else (0.01 if unit == "fraction" else 1.0)
            side = "right" if right else "left"
            # textual-plotext's stub types ylim's and yticks' `yside` as a float; plotext takes "left"/"right".
            plt.ylim(0, top, yside=side)  # type: ignore[arg-type]
            plt.yticks(*_ticks(top, fields[0]), yside=side)  # type: ignore[arg-type]
        self._plot_markers(plt, tops[False] * 1.1 if tops[False] > 0 else 1.0)
        plt.title(self.chart_title if self.has_data else f"{self.chart_title} — no data in range")
        self.refresh()
