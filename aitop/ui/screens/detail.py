"""The drill-down for one row: every field, charts over a time range, errors by type, a split by label.

History and the breakdown are fetched off the event loop's critical path in a `@work` worker, one per
screen at a time. A refresh that finds one running is remembered and run once it ends (never cancelling
it: in Prometheus mode a range query can outlast the refresh interval, and cancelling on every tick would
show nothing, ever); a new range or split cancels it, since what it fetches is no longer asked for. A
failure is reported by the app's one worker-error handler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static
from textual.worker import Worker

from aitop.field_uses import SPLIT
from aitop.fields import FIELDS as FIELD_TABLE
from aitop.format import format_value
from aitop.gpus import GPU_SCHEMAS
from aitop.markers import GLYPHS, Marker
from aitop.model import FIELD_BY_NAME, FIELDS, Row, Snapshot
from aitop.sanitize import clean
from aitop.sources.base import Points
from aitop.ui.alert_text import format_duration, severity_badge
from aitop.ui.cells import SortableText, numeric_cell
from aitop.ui.screens.base import DataScreen
from aitop.ui.screens.modals import ExplainScreen
from aitop.ui.themes import palette_from_variables
from aitop.ui.widgets import ChartSeries, KeyBar, MetricChart, StatusBar, TooSmall
from aitop.ui.widgets.status_bar import format_age
from aitop.ui.widgets.nav_table import NavTable
from aitop.why import why_line

#: Time ranges the digit keys choose, in seconds.
RANGES: tuple[tuple[str, float], ...] = (
    ("5m", 300.0), ("15m", 900.0), ("1h", 3600.0), ("6h", 21600.0), ("24h", 86400.0),
)
DEFAULT_RANGE = 900.0
#: The charts, in order: (chart, title). Their lines are the fields whose `chart` names them (`aitop.fields`).
_CHART_TITLES = (
    ("traffic", "requests/s and error %"),
    ("latency", "latency"),
    ("ttft", "time to first token · per output token"),
    ("tokens", "tokens/s"),
    ("cost", "cost $/h"),
)
#: (chart id, title, ((series label, field, right axis), …)).
CHARTS: tuple[tuple[str, str, tuple[tuple[str, str, bool], ...]], ...] = tuple(
    (f"chart-{chart}", title, tuple((f.chart.label or f.heading, f.name, f.chart.right)
                                    for f in FIELD_TABLE if f.chart is not None and f.chart.chart == chart))
    for chart, title in _CHART_TITLES
)  # fmt: skip
CHART_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(field for _, _, series in CHARTS for _, field, _ in series))
#: Charts hidden when their fields have no data at all (not every schema has TTFT or cost).
OPTIONAL_CHARTS = ("chart-ttft", "chart-cost")
#: Labels tried first for the split-by table; any other label of the source follows.
PREFERRED_SPLITS = ("instance", "engine", "finished_reason", "endpoint", "replica", "pod")
#: The drill-down's GPU table: (field, width).
GPU_COLUMNS = (("util", "gpu_utilization", 6), ("mem", "gpu_memory_ratio", 6))  # per GPU; the sums are fields
#: The split-by-label table's columns: the fields marked `Shown.SPLIT`.
SPLIT_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELD_TABLE if SPLIT in field.shown)


#: Markers listed in words under the errors (the newest; the charts draw every one in range).
MARKER_LINES = 4
#: Longest wait between two history fetches while the drill-down is open, in seconds.
RELOAD_AT_MOST = 60.0
#: Shortest time axis: a fresh start zooms in on its first minute instead of a 15-minute axis with a dot.
MIN_SHOWN = 60.0


def shown_span(history: Mapping[str, Points], end: float, range_seconds: float) -> float:
    """The time the charts' axis covers: the chosen range, or less while the history is younger than it
    (in scrape mode history starts when aitop does), but at least `MIN_SHOWN` seconds."""
    starts = [t for points in history.values() for t, _ in points[:1]]
    if not starts:
        return range_seconds
    covered = end - min(starts)
    return range_seconds if covered >= range_seconds else min(range_seconds, max(MIN_SHOWN, covered))


def split_labels(snapshot: Snapshot | None, row: Row | None) -> list[str]:
    """The labels a row can be split by: the source's labels except the one it is grouped by."""
    if snapshot is None:
        return []
    grouped = {row.group_label} if row is not None else set()
    grouped.add(snapshot.group_by or "")
    labels = [label for label in snapshot.labels if label not in grouped]
    preferred = [label for label in PREFERRED_SPLITS if label in labels]
    return preferred + sorted(set(labels) - set(preferred))


class DetailScreen(DataScreen):
    """Drill-down of the row keyed `key` = (schema, group)."""

    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="back to the overview, same row"),
        Binding("backspace", "back", "Back", show=False, tooltip="back to the overview, same row"),
        *(Binding(str(index + 1), f"set_range({seconds})", f"Range {name}", show=False,
                  tooltip=f"charts over the last {name}")
          for index, (name, seconds) in enumerate(RANGES)),  # fmt: skip
        Binding("left_square_bracket", "step_range(-1)", "Shorter range", key_display="[",
                tooltip="shorter chart range"),
        Binding("right_square_bracket", "step_range(1)", "Longer range", key_display="]", tooltip="longer chart range"),
        Binding("b", "next_split", "Split by", tooltip="split the row by the next label"),
        Binding("e", "explain", "Explain", tooltip="how the selected field was computed, or why it is —"),
    ]

    def __init__(self, key: tuple[str, str], *, snapshot: Snapshot | None = None, range_seconds: float = DEFAULT_RANGE,
                 **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.key = key
        self.snapshot = snapshot
        self.range_seconds = range_seconds
        self.split_label: str | None = None
        self.history: Mapping[str, Points] = {}
        self.markers: list[Marker] = []  # restarts, deployments and alerts in the range, oldest first
        self.shown_seconds = range_seconds  # the charts' time axis (shorter while history is young)
        self.split_rows: tuple[Row, ...] = ()
        self.loads = 0  # completed history loads (tests wait on this)
        self._loaded_at = float("-inf")
        self._loader: Worker[None] | None = None  # the running (or last) load
        self._load_again = False

    @property
    def row(self) -> Row | None:
        """The row in the latest snapshot (None once it is no longer reported)."""
        return self.snapshot.row(*self.key) if self.snapshot is not None else None

    def compose(self) -> ComposeResult:
        yield StatusBar(clock=self.clock, id="status")
        yield Static(id="detail-title", markup=False)
        with VerticalScroll(id="detail-main"):
            with Horizontal(id="detail-body"):
                with Vertical(id="detail-left"):
                    yield NavTable(id="fields", cursor_type="row", zebra_stripes=True)
                    yield Static(Text("errors by type", Style(bold=True)), classes="section", markup=False)
                    yield DataTable(id="errors", cursor_type="none", show_cursor=False)
                    yield Static(Text("GPUs", Style(bold=True)), id="gpus-title", classes="section", markup=False)
                    yield DataTable(id="gpus", cursor_type="none", show_cursor=False)
                    markers = Static(id="markers", markup=False)
                    markers.display = False  # until there is a marker in range
                    yield markers
                with Vertical(id="charts"):
                    for chart_id, title, _ in CHARTS:
                        yield MetricChart(title, id=chart_id)
            with Vertical(id="split"):
                yield Static(id="split-title", markup=False)
                yield NavTable(id="split-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()
        yield TooSmall()

    def on_mount(self) -> None:
        # Before the base class's on_mount shows the snapshot on display: the tables' columns must exist.
        if not self.on_stack:
            return
        fields = self.query_one("#fields", DataTable)
        # Fixed widths throughout: measured widths arrive a frame late and make columns jump.
        fields.add_column(Text("field"), key="field", width=10)
        fields.add_column(Text("value", justify="right"), key="value", width=10)
        errors = self.query_one("#errors", DataTable)
        errors.add_column(Text("type"), key="type", width=14)
        errors.add_column(Text("req/s", justify="right"), key="rate", width=7)
        errors.add_column(Text("share", justify="right"), key="share", width=5)
        errors.can_focus = False
        gpus = self.query_one("#gpus", DataTable)
        gpus.add_column(Text("GPU"), key="gpu", width=14)
        for heading, name, width in GPU_COLUMNS:
            gpus.add_column(Text(heading, justify="right"), key=name, width=width)
        gpus.can_focus = False
        split = self.query_one("#split-table", DataTable)
        split.add_column(Text("value"), key="value", width=26)
        for name in SPLIT_FIELDS:
            heading = FIELD_BY_NAME[name].heading
            split.add_column(Text(heading, justify="right"), key=name, width=max(len(heading), 8))
        labels = split_labels(self.snapshot, self.row)
        self.split_label = labels[0] if labels else None
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_row())  # once: on mount
        fields.focus()

    def on_unmount(self) -> None:
        self.app.theme_changed_signal.unsubscribe(self)  # else held (and the screen with it) until a theme change

    # -- snapshots -------------------------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Show the row's fields from `snapshot`; fetch fresh history for the charts when it is due."""
        self.snapshot = snapshot
        super().show_snapshot(snapshot)
        self._show_row()
        # A chart column covers shown_seconds/60 or more: refetching (a range query, in Prometheus mode)
        # more often than that redraws the same picture. Keys that change the range always refetch.
        if self.clock() - self._loaded_at >= min(RELOAD_AT_MOST, self.shown_seconds / 60):
            self.request_load()

    def _show_row(self) -> None:
        palette = palette_from_variables(self.app.theme_variables)
        row = self.row
        title = Text.assemble((clean(self.key[1], 80), Style(bold=True)),
                              (f"  {clean(self.key[0], 24)}", palette.muted))
        range_name = next((name for name, seconds in RANGES if seconds == self.range_seconds),
                          f"{self.range_seconds:g}s")
        title.append(f"  · range {range_name} (1–5, [ ])", palette.muted)
        if self.shown_seconds < self.range_seconds:
            title.append(f" · {format_age(self.shown_seconds)} of history so far", palette.muted)
        if row is None:
            title.append("  · no longer reported by the source", Style(color=palette.warning, bold=True))
        elif (cause := why_line(row)) is not None:  # the engine's likely cause; `e` shows its evidence
            title.append(f"  · why: {clean(cause, 100)}", Style(color=palette.warning))
        alerts = [a for a in (self.snapshot.alerts if self.snapshot else ()) if (a.schema, a.group) == self.key]
        for alert in alerts[:2]:
            title.append("  ")
            title.append_text(severity_badge(alert.severity, palette))
            age = format_duration(self.clock() - alert.since)
            title.append(f" {clean(alert.field or alert.rule, 30)} {alert.state} {age}")
        runbook = next((a.runbook for a in alerts if a.state == "firing" and a.runbook), "")
        if runbook:  # what to do, on the title line (the sidebar's alert detail has it in full)
            title.append(f"  · runbook: {clean(runbook, 160)}", palette.muted)
        self.query_one("#detail-title", Static).update(title, layout=False)  # one line, fixed height
        if row is None:
            return
        fields = self.query_one("#fields", DataTable)
        stale = row.stale or (self.snapshot is not None and self.snapshot.stale)
        for spec in FIELDS:
            cell: SortableText = numeric_cell(row, spec.name, palette, dim=stale)  # rich Text, never markup
            if spec.name in fields.rows:
                fields.update_cell(spec.name, "value", cell, update_width=True)
            else:
                fields.add_row(Text(spec.heading), cell, key=spec.name)
        self._show_errors(row)
        self._show_gpus(row)

    def _show_gpus(self, row: Row) -> None:
        """One line per GPU joined to the row (DCGM exporter, or the server's own gauges), from the GPU rows of
        the same snapshot; the section is hidden for a row without GPUs."""
        table = self.query_one("#gpus", DataTable)
        snapshot = self.snapshot
        found = [gpu for group in row.gpus if snapshot is not None
                 and (gpu := next((hit for schema in GPU_SCHEMAS if (hit := snapshot.row(schema, group))), None))]
        table.display = self.query_one("#gpus-title", Static).display = bool(found)
        table.clear()
        for gpu in found:
            table.add_row(Text(clean(gpu.group, 40), no_wrap=True, overflow="ellipsis"),
                          *(Text(format_value(name, gpu.value(name)), justify="right") for _, name, _ in GPU_COLUMNS))

    def _show_errors(self, row: Row) -> None:
        errors = self.query_one("#errors", DataTable)
        errors.clear()
        # Types seen once stay in the exposition at rate 0; only those failing in the window matter here.
        failing = {kind: rate for kind, rate in row.errors_by_type.items() if rate > 0}
        total = sum(failing.values())
        if not failing:
            errors.add_row(Text("none in window", style="dim"), Text(""), Text(""))
            return
        for kind, rate in failing.items():
            share = f"{rate / total * 100:.0f}%" if total else "—"
            errors.add_row(Text(clean(kind, 40), no_wrap=True, overflow="ellipsis"),
                           Text(f"{rate:.3g}", justify="right"), Text(share, justify="right"))  # fmt: skip

    # -- history and breakdown ------------------------------------------------------------------------

    def request_load(self, *, new_question: bool = False) -> None:
        """Fetch history and the split in a worker. A refresh that finds one running has it fetch again
        after; `new_question` (another range or split) cancels it instead: its answer is no longer wanted."""
        if self._loader is not None and not self._loader.is_finished and not new_question:
            self._load_again = True
            return
        self._load_again = False
        self._loader = self._load()

    @work(group="detail-load", exclusive=True, exit_on_error=False, description="drill-down history")
    async def _load(self) -> None:
        monitor = self.aitop.monitor
        while True:
            self._load_again = False
            self._loaded_at = self.clock()
            history = await monitor.history(self.key, CHART_FIELDS, self.range_seconds)
            self.markers = await monitor.markers(self.key, self.range_seconds)
            split = await monitor.breakdown(self.key, self.split_label) if self.split_label else ()
            self._show_history(history)
            self._show_split(split)
            self.loads += 1
            if not self._load_again:
                break

    def _show_history(self, history: Mapping[str, Points]) -> None:
        self.history = history
        end = self.clock()
        span = shown_span(history, end, self.range_seconds)
        self.shown_seconds = span
        self._show_row()  # the title says how much of the range has data
        self._show_markers(end)
        for chart_id, _, series in CHARTS:
            chart = self.query_one(f"#{chart_id}", MetricChart)
            chart.show([ChartSeries(label, field, tuple(history.get(field, ())), right)
                        for label, field, right in series],
                       end=end, span=span, markers=self.markers)  # fmt: skip
            if chart_id in OPTIONAL_CHARTS:
                chart.display = chart.has_data

    def _show_markers(self, end: float) -> None:
        """The newest markers in words, under the errors: what the charts' vertical lines are."""
        box = self.query_one("#markers", Static)
        box.display = bool(self.markers)
        if not self.markers:
            return
        palette = palette_from_variables(self.app.theme_variables)
        text = Text("markers", Style(bold=True))
        for marker in self.markers[-MARKER_LINES:]:
            text.append(f"\n{GLYPHS.get(marker.kind, '|')} ", Style(color=palette.critical if marker.kind == "alert"
                                                                     else palette.warning, bold=True))
            text.append(f"-{format_age(max(end - marker.at, 0.0))} {marker.text}")
        box.update(text)

    def _show_split(self, rows: Sequence[Row]) -> None:
        self.split_rows = tuple(rows)
        palette = palette_from_variables(self.app.theme_variables)
        labels = split_labels(self.snapshot, self.row)
        title = Text.assemble(("split by ", Style(bold=True)), (clean(self.split_label or "—", 40), Style(bold=True)))
        if len(labels) > 1:
            title.append(f"  · b: next of {len(labels)} labels", palette.muted)
        elif not labels:
            title.append("  · the source has no other label to split by", palette.muted)
        self.query_one("#split-title", Static).update(title, layout=False)
        table = self.query_one("#split-table", DataTable)
        table.clear()
        if not rows:
            why = "no data for this split yet" if self.split_label else "nothing to split by"
            table.add_row(Text(why, style="dim"), *(Text("") for _ in SPLIT_FIELDS))
        for row in sorted(rows, key=lambda r: -(r.value("request_rate") or 0.0)):
            cells = [numeric_cell(row, name, palette) for name in SPLIT_FIELDS]
            table.add_row(Text(clean(row.group, 48), no_wrap=True, overflow="ellipsis"), *cells)

    # -- keys ------------------------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to the overview, on the same row."""
        self.app.pop_screen()

    def action_set_range(self, seconds: float) -> None:
        """Show the last `seconds` in the charts."""
        self.range_seconds = float(seconds)
        self.shown_seconds = self.range_seconds
        self._show_row()
        self.request_load(new_question=True)

    def action_step_range(self, step: int) -> None:
        """The next shorter or longer range."""
        values = [seconds for _, seconds in RANGES]
        index = values.index(self.range_seconds) if self.range_seconds in values else 1
        self.action_set_range(values[max(0, min(len(values) - 1, index + step))])

    def action_next_split(self) -> None:
        """Split the row by the next label."""
        labels = split_labels(self.snapshot, self.row)
        if not labels:
            self.notify("the source has no other label to split by", severity="warning")
            return
        index = labels.index(self.split_label) + 1 if self.split_label in labels else 0
        self.split_label = labels[index % len(labels)]
        self.request_load(new_question=True)

    @property
    def selected_field(self) -> str:
        """The field under the cursor in the field list."""
        fields = self.query_one("#fields", DataTable)
        if fields.row_count == 0:
            return "request_rate"
        return str(fields.coordinate_to_cell_key(Coordinate(fields.cursor_row, 0)).row_key.value)

    def action_explain(self) -> None:
        """Explain the selected field: its PromQL or local computation, sample counts, why it is missing."""
        row = self.row
        if row is None:
            self.notify("this row is no longer reported", severity="warning")
            return
        self.app.push_screen(ExplainScreen(row, self.selected_field, self.snapshot))
