"""The filter line of the model table: `/` shows it, typing narrows the rows (after a pause when there are
many), Enter keeps the filter, Esc drops it. A screen of its own in the class hierarchy so the overview stays
readable; `OverviewScreen` builds on it (and holds the key bindings, whose order the footer shows).
"""

from __future__ import annotations

from functools import partial

from textual import on
from textual.timer import Timer
from textual.widgets import Input

from aitop.model import Snapshot
from aitop.ui.screens.base import DataScreen
from aitop.ui.view import FilterError, RowFilter
from aitop.ui.widgets import FilterBar, TopTable

FILTER_HELP = "filter rows by regex; a leading ! hides matches"
#: Above this many rows a typed filter is applied once typing pauses for FILTER_PAUSE seconds, not at every
#: keystroke: re-filtering 2,000 rows per key held each key ~190 ms; the input echoes at once either way.
FILTER_DEFER_ROWS = 500
FILTER_PAUSE = 0.15


class FilteringScreen(DataScreen):
    """A screen with a `TopTable` and a `FilterBar` whose typed regex narrows the table's rows."""

    snapshot: Snapshot | None  # the snapshot on show (set by the subclass)

    @property
    def table(self) -> TopTable:
        """The model table."""
        return self.query_one(TopTable)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer "Esc Clear filter" only while there is a filter to clear."""
        if action == "clear_filter":
            return self.has_class("-filtering")  # set while the filter line shows, i.e. while one is typed or kept
        if action == "filter":
            # While the filter line has the keys, `/` is part of the regex (the binding is a priority one).
            return self.focused is not self.query_one(FilterBar).input
        return True

    def action_filter(self) -> None:
        """Show the filter line and type into it."""
        self.add_class("-filtering")
        self.refresh_bindings()
        bar = self.query_one(FilterBar)
        bar.input.value = self.table.row_filter.text
        # At once, not `focus()` (queued): the rest of a burst typed with `/` is handed to whatever has the
        # focus when the app takes each key.
        self.set_focus(bar.input)
        self._show_counts()

    _filter_timer: Timer | None = None  # a typed filter waiting for the typing to pause

    def _cancel_typed_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None

    @on(Input.Changed, "#filter-input")
    def _filter_typed(self, event: Input.Changed) -> None:
        event.stop()
        self._cancel_typed_filter()
        if self.snapshot is not None and len(self.snapshot.rows) > FILTER_DEFER_ROWS:
            self._filter_timer = self.set_timer(FILTER_PAUSE, partial(self._apply_typed_filter, event.value))
            return
        self._apply_typed_filter(event.value)

    def _apply_typed_filter(self, text: str) -> None:
        self._filter_timer = None
        try:
            self.table.set_filter(RowFilter(text))
        except FilterError as exc:
            self.query_one(FilterBar).show_error(str(exc))  # the last valid filter stays in force
            return
        self._show_counts()

    @on(Input.Submitted, "#filter-input")
    def _filter_kept(self, event: Input.Submitted) -> None:
        event.stop()
        self._cancel_typed_filter()
        try:
            self.table.set_filter(RowFilter(event.value))  # (bounded in time: a too-slow pattern is refused)
        except FilterError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if not RowFilter(event.value).active:
            self.action_clear_filter()
            return
        self.table.focus()

    def action_clear_filter(self) -> None:
        """Drop the filter and hide its line."""
        self._cancel_typed_filter()
        self.table.set_filter(RowFilter())
        self.query_one(FilterBar).input.value = ""
        self.remove_class("-filtering")
        self.refresh_bindings()
        self.table.focus()

    def _show_counts(self) -> None:
        self.query_one(FilterBar).show_counts(*self.table.counts)
