"""The main screen: status line, the model table, the alert sidebar, the filter line and the key footer.

Everything the overview's keys do lives here, the filter line's in its base class (`filtering.py`); the app
only routes snapshots and global keys to it.
"""

from __future__ import annotations

from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import Resize
from textual.widgets import DataTable

from aitop.model import Alert, Snapshot
from aitop.sanitize import clean
from aitop.config_columns import save_view_columns
from aitop.ui.columns import ALL_COLUMNS, CATALOGUE, COLUMN_BY_KEY, SORT_KEYS
from aitop.ui.screens.column_picker import ColumnPickerScreen
from aitop.ui.screens.detail import DetailScreen
from aitop.ui.screens.filtering import FILTER_HELP, FilteringScreen
from aitop.ui.screens.modals import CANCELLED, AlertsScreen, ExplainScreen, PickerScreen
from aitop.ui.views import VIEWS, View, next_view
from aitop.ui.widgets import AlertSidebar, FilterBar, FleetHeader, KeyBar, StatusBar, TooSmall, TopTable
from aitop.ui.widgets.alert_sidebar import AlertList
from aitop.ui.widgets.top_table import TREND_FIELDS, row_key, split_row_key

#: Narrowest terminal that shows the alert sidebar; below it the status line carries a count badge.
SIDEBAR_MIN_WIDTH = 100
#: Narrowest sidebar beside the table. The table's columns are chosen for the whole width, alert or not;
#: the sidebar takes what they leave beside them (all of it, so no cell stays blank), or, when that is
#: less than this, moves below the table. An alert never takes a column away.
SIDEBAR_MIN_SIDE = 36
#: Share of the body's height the sidebar takes below the table, and its least height in lines.
SIDEBAR_BELOW_SHARE = 0.4
SIDEBAR_BELOW_MIN = 8


def daily_budget(monitor: object) -> float | None:
    """The spend per day and model the enabled budget rule allows (the lowest, if several), for the header."""
    rules = getattr(getattr(monitor, "analyzer", None), "rules", ())
    limits = [rule.threshold for rule in rules
              if rule.field == "cost_per_day" and rule.op in (">", ">=") and rule.threshold is not None]  # fmt: skip
    return min(limits) if limits else None


def _sort_bindings() -> list[Binding]:
    letters = [
        Binding(letter, f"sort_by('{key}')", f"Sort by {COLUMN_BY_KEY[key].heading}", show=False,
                tooltip=f"sort by {COLUMN_BY_KEY[key].heading} (again: invert)")
        for letter, key in SORT_KEYS.items()
    ]
    # The footer shows every sort key as one entry: one widget instead of thirteen keeps it cheap to
    # redraw, and the help lists each key on its own line.
    shown = "<>I" + "".join(SORT_KEYS)
    return [
        Binding("greater_than_sign", "sort_move(1)", "Sort", key_display=shown,
                tooltip="sort by the column to the right"),
        Binding("less_than_sign", "sort_move(-1)", "Sort column left", key_display="<", show=False,
                tooltip="sort by the column to the left"),
        Binding("I", "sort_invert", "Invert sort", show=False, tooltip="invert the sort"),
        *letters,
    ]


class OverviewScreen(FilteringScreen):
    """One row per model with rates, errors, latency, trend, tokens, cost and feedback."""

    BINDINGS = [
        # Priority: the app runs these before it hands the next key on, so keys typed in the same burst as
        # `/` (a paste, fast typing) reach the filter line, not the table and its bindings (`q` quits).
        Binding("slash", "filter", "Filter", key_display="/", tooltip=FILTER_HELP, priority=True),
        Binding("f4", "filter", "Filter", show=False, tooltip=FILTER_HELP, priority=True),
        Binding("escape", "clear_filter", "Clear filter", tooltip="clear the filter"),
        Binding("g", "group_by", "Group", tooltip="group rows by another label (engine, instance…)"),
        *_sort_bindings(),
        Binding("o", "pick_sort", "Sort by…", show=False, tooltip="choose the sort column from a list"),
        Binding("f6", "pick_sort", "Sort by…", show=False, tooltip="choose the sort column from a list"),
        Binding("e", "explain", "Explain", show=False, tooltip="how the sort column's value was computed"),
        Binding("w", "cycle_trend", "Trend field", show=False, tooltip="trend column: req/s or p95"),
        Binding("a", "toggle_alerts", "Alerts", tooltip="show or hide the alert sidebar"),
        Binding("s", "silence", "Silence", show=False, tooltip="silence the highlighted alert in Alertmanager"),
        Binding("b", "slos", "SLOs", show=False, tooltip="SLOs: burn rates, error budget left"),
        Binding("v", "next_view", "View", tooltip="next view: overview, cost, latency, quality"),
        Binding("c", "pick_columns", "Columns", show=False, tooltip="choose and order this view's columns (saved)"),
        Binding("f2", "pick_columns", "Columns", show=False, tooltip="choose and order this view's columns (saved)"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(id="overview", **kwargs)
        self.snapshot: Snapshot | None = None
        self.sidebar_on = True
        self._sidebar_state: tuple[bool, bool, int] | None = None  # (visible, below the table, its size) shown
        self.view_name = VIEWS[0].name
        self.add_class("-sidebar-off")  # until there is an alert to list

    def compose(self) -> ComposeResult:
        yield StatusBar(clock=self.clock, id="status")
        yield FleetHeader(budget=daily_budget(self.aitop.monitor), id="fleet")
        with Horizontal(id="body"):
            yield TopTable(id="top")
            yield AlertSidebar(clock=self.clock, id="sidebar")
        yield FilterBar(id="filter")
        yield KeyBar()
        yield TooSmall()

    @property
    def sidebar_visible(self) -> bool:
        """Whether the alert sidebar is on screen: on, wide enough, and with alerts to list.

        With no alerts it steps aside, so the table gets the columns back; it returns with the first alert.
        """
        has_alerts = self.snapshot is not None and bool(self.snapshot.alerts)
        return self.sidebar_on and has_alerts and self.app.size.width >= SIDEBAR_MIN_WIDTH

    @property
    def view(self) -> View:
        """The view on show (with the user's columns, if any)."""
        views = self.aitop.views
        return next((view for view in views if view.name == self.view_name), views[0])

    def on_mount(self) -> None:
        # Before the base class's on_mount shows the snapshot on display: the columns must exist first.
        self.view_name = self.aitop.views[0].name
        self.table.set_columns(self.view.columns())
        self.query_one(FleetHeader).view = self.view_name
        self._sync_sidebar()
        self.table.focus()

    def on_resize(self, event: Resize) -> None:
        # (DataScreen's own on_resize runs after this one: Textual calls each class's handler.)
        if self.is_mounted:
            self._sync_sidebar()

    def _sync_sidebar(self, *, redraw: bool = True) -> None:
        visible = self.sidebar_visible
        width = self.app.size.width
        self.table.fit(width, redraw=redraw)  # the whole width, whether the sidebar shows or not
        spare = width - self.table.needed_width
        below = spare < SIDEBAR_MIN_SIDE
        body = max(self.app.size.height - 6, 0)  # status, fleet header, filter and key lines
        state = (visible, below, max(SIDEBAR_BELOW_MIN, round(body * SIDEBAR_BELOW_SHARE)) if below else spare)
        # Called twice a refresh and on every resize: styles and classes are set (and parsed, and compared)
        # only when the placement changed, which a refresh rarely does.
        if state != self._sidebar_state:
            self._sidebar_state = state
            sidebar = self.query_one(AlertSidebar)
            if below:
                sidebar.styles.width = "1fr"
                sidebar.styles.height = state[2]
            else:
                sidebar.styles.width = spare
                sidebar.styles.height = "1fr"
            self.set_class(below, "-sidebar-below")
            self.set_class(not visible, "-sidebar-off")
        self.query_one(StatusBar).show_alert_badge(not visible)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Show `snapshot` in every widget of the screen, as one repaint."""
        self.snapshot = snapshot
        with self.app.batch_update():
            super().show_snapshot(snapshot)
            self._sync_sidebar(redraw=False)  # first: a new terminal width decides the columns
            self.table.apply(snapshot, self.aitop.monitor.recorded)
            self._sync_sidebar()  # wider values may have hidden a column: the sidebar takes the space
            self.query_one(AlertSidebar).show_alerts(snapshot.alerts)
            self.query_one(FleetHeader).apply(snapshot)
            self._show_counts()

    # -- drill-down ------------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#top")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        # A focused DataTable consumes Enter, so drill-down hangs off its RowSelected message.
        event.stop()
        if event.row_key.value is not None:
            self.open_detail(split_row_key(event.row_key.value))

    def open_detail(self, key: tuple[str, str]) -> bool:
        """Drill into row `key` (selecting it here, so Esc comes back to it); False if it is not shown."""
        row = self.snapshot.row(*key) if self.snapshot is not None else None
        if row is None:
            self.notify(f"no row {clean(key[1], 60)!r} in the current view", severity="warning", markup=False)
            return False
        self.table.select_key(row_key(row))
        self.app.push_screen(DetailScreen(key, snapshot=self.snapshot, clock=self.clock))
        return True

    def jump_to(self, key: tuple[str, str]) -> bool:
        """Come back to the overview and put the cursor on row `key` (clearing a filter that hides it)."""
        while len(self.app.screen_stack) > 1 and self.app.screen is not self:
            self.app.pop_screen()
        row = self.snapshot.row(*key) if self.snapshot is not None else None
        if row is None:
            return False
        wanted = row_key(row)
        if wanted not in self.table.rows:
            self.action_clear_filter()
        self.table.focus()
        return self.table.select_key(wanted)

    @on(AlertList.Chosen)
    def _alert_chosen(self, event: AlertList.Chosen) -> None:
        event.stop()
        self.open_alert(event.alert)

    def open_alert(self, alert: Alert) -> None:
        """Drill into the row an alert is about."""
        self.open_detail((alert.schema, alert.group))

    # -- sort, group, trend ----------------------------------------------------------------------------

    def action_sort_move(self, step: int) -> None:
        """Move the sort to the next column left or right (`<` / `>`)."""
        self.table.set_sort(self.table.sort_state.moved(self.table.sortable_keys, step))

    def action_sort_invert(self) -> None:
        """Flip the sort direction (`I`)."""
        self.table.set_sort(self.table.sort_state.inverted())

    def action_sort_by(self, key: str) -> None:
        """Sort by column `key`; again inverts it."""
        self.table.set_sort(self.table.sort_state.by(key))

    def action_pick_sort(self) -> None:
        """Choose the sort column from a list (htop's F6)."""
        choices = [(column.key, column.heading) for column in ALL_COLUMNS if column.key != "trend"]

        def chosen(key: object) -> None:
            if key is not CANCELLED:
                self.action_sort_by(str(key))

        self.app.push_screen(PickerScreen("Sort by", choices, current=self.table.sort_state.key), chosen)

    def action_group_by(self) -> None:
        """Choose the label rows are grouped by (model, endpoint, instance, …)."""
        labels = self.snapshot.labels if self.snapshot is not None else ()
        choices: list[tuple[str | None, str]] = [(None, "model (default)")]
        choices += [(label, clean(label, 60)) for label in labels]
        current = self.aitop.monitor.group_by
        self.app.push_screen(PickerScreen("Group rows by", choices, current=current), self.set_group_by)

    def set_group_by(self, label: object) -> None:
        """Regroup by `label` (None: each schema's model label) and poll at once to show it."""
        app = self.aitop
        # The picker answers with a label (str), None (the model) or CANCELLED; nothing else is a choice.
        if not (label is None or isinstance(label, str)) or label == app.monitor.group_by:
            return
        app.monitor.group_by = label
        self.notify(f"grouping by {clean(label, 60) if label else 'model'}", markup=False)
        app.request_poll(show=True)

    def action_cycle_trend(self) -> None:
        """Switch the trend column between request rate and p95 latency."""
        fields = list(TREND_FIELDS)
        self.table.set_trend(fields[(fields.index(self.table.trend_field) + 1) % len(fields)])

    # -- views and columns -----------------------------------------------------------------------------

    def show_view(self, name: str) -> None:
        """Show view `name`'s columns (as many as fit), keeping sort, filter and selection."""
        self.view_name = name
        self.query_one(FleetHeader).view = name
        self.table.set_columns(self.view.columns())
        self._sync_sidebar()
        if self.snapshot is not None:
            self.query_one(FleetHeader).apply(self.snapshot)

    def action_next_view(self) -> None:
        """Cycle the views (`v`): overview, cost, latency, quality."""
        view = next_view(self.view_name, self.aitop.views)
        self.show_view(view.name)
        self.notify(f"view {view.name}: {view.title}", timeout=2, markup=False)

    def action_pick_columns(self) -> None:
        """Choose and order the columns of the current view (htop's F2); the choice is saved."""
        view = self.view
        shown = [column.key for column in view.columns()]
        self.app.push_screen(ColumnPickerScreen(view.name, shown, [column.key for column in CATALOGUE]),
                             lambda keys: self.set_view_columns(view.name, keys))  # fmt: skip

    def set_view_columns(self, name: str, keys: object) -> None:
        """Give view `name` the columns `keys` (in order), show it, and save the choice."""
        if keys is CANCELLED or not isinstance(keys, list):
            return
        app = self.aitop
        app.views = tuple(replace(view, keys=tuple(keys)) if view.name == name else view for view in app.views)
        self.show_view(name)
        path = app.config_path
        if path is None:
            self.notify(f"columns of the {name} view kept for this session", timeout=3, markup=False)
            return
        try:
            saved = save_view_columns(path, name, keys)
        except (OSError, ValueError) as exc:
            self.notify(clean(f"columns kept for this session; not saved: {exc}", 200), severity="warning",
                        markup=False)  # fmt: skip
            return
        self.notify(clean(f"columns of the {name} view saved to {saved}", 200), timeout=3, markup=False)

    # -- explain, alerts ------------------------------------------------------------------------------

    def action_explain(self) -> None:
        """Explain the sort column's value of the selected row (the drill-down explains any field)."""
        row = self.table.selected_row
        if row is None:
            self.notify("no row selected", severity="warning")
            return
        column = COLUMN_BY_KEY[self.table.sort_state.key]
        field = column.field or "request_rate"
        self.app.push_screen(ExplainScreen(row, field, self.snapshot))

    def on_key(self, event) -> None:
        """A configured row action's key (`[[action]]`) runs it on the selected row."""
        from aitop.ui.row_actions import action_for, start_action

        if self.focused is self.table and (action := action_for(self, event.character or "")) is not None:
            event.stop()
            start_action(self, action, self.table.selected_row)

    def action_slos(self) -> None:
        """Open the SLO view."""
        from aitop.ui.slo_view import SloScreen

        self.app.push_screen(SloScreen())

    def action_silence(self) -> None:
        """Silence the alert highlighted in the sidebar, after a confirmation (needs an Alertmanager)."""
        from aitop.ui.silence import start_silence

        start_silence(self, self.query_one(AlertSidebar).list.highlighted_alert)

    def action_toggle_alerts(self) -> None:
        """Show or hide the alert sidebar; when the terminal is too narrow for it, list alerts full-screen."""
        if self.app.size.width < SIDEBAR_MIN_WIDTH:
            alerts = self.snapshot.alerts if self.snapshot is not None else ()

            def chosen(alert: object) -> None:
                if isinstance(alert, Alert):
                    self.open_alert(alert)

            self.app.push_screen(AlertsScreen(alerts, clock=self.clock), chosen)
            return
        self.sidebar_on = not self.sidebar_on
        self._sync_sidebar()
        if not self.sidebar_on:
            self.table.focus()
        quiet = "" if self.snapshot is not None and self.snapshot.alerts else " (no alerts now)"
        self.notify(f"alert sidebar {'on' if self.sidebar_on else 'off'}{quiet}", timeout=2)
