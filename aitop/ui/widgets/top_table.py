"""The overview table: one row per (schema, group), updated in place on every snapshot.

The table keeps the view state — sort, filter, trend field, visible columns — so it survives refreshes,
regrouping and resizes. A poll only adds, updates and removes rows; the columns are rebuilt only when the
header changes (another sort column, group label or terminal width), which is a user action, not a tick.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.theme import Theme
from textual.widgets.data_table import CellDoesNotExist

from aitop.field_uses import TREND as FOLLOWED
from aitop.fields import FIELD_BY_NAME, FIELDS
from aitop.model import Row, Severity, Snapshot
from aitop.history import History
from aitop.sanitize import clean
from aitop.ui.cells import (
    MODEL_WIDTH,
    Palette,
    TREND_WIDTH,
    SortableText,
    cell_value,
    has_info,
    latest,
    model_cell,
    numeric_cell,
    replicas_note,
    schema_cell,
    trend_cell,
)
from aitop.ui.columns import (
    ALL_COLUMNS,
    COLUMN_BY_KEY,
    MODEL,
    SCHEMA,
    TREND,
    Column,
    table_width,
    visible_columns,
)
from aitop.ui.sparkline import TREND_SECONDS, sparkline
from aitop.ui.themes import palette_from_variables
from aitop.ui.view import FilterError, RowFilter, SortOrder
from aitop.ui.widgets.column_widths import ColumnWidths
from aitop.ui.widgets.lazy_table import LazyTable

_SEPARATOR = "\x1f"  # sanitised labels cannot contain it (clean() turns it into "^_"), so keys never collide
#: Fields the trend column can follow (the `w` key cycles them): those marked `Shown.TREND`.
TREND_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS if FOLLOWED in field.shown)


def row_key(row: Row) -> str:
    """The table's key for a model row: schema and group, which identify a row across refreshes."""
    return f"{row.schema}{_SEPARATOR}{row.group}"


def split_row_key(key: str) -> tuple[str, str]:
    """(schema, group) back from a key made by `row_key`."""
    schema, _, group = key.partition(_SEPARATOR)
    return schema, group


class TopTable(LazyTable):
    """A `top`-style table of models, sorted, filtered and trimmed to the width it has.

    `apply()` diffs a snapshot against what is shown — adds new rows, updates changed cells, removes
    vanished rows — and re-sorts, keeping the cursor on the same row.
    """

    BINDINGS = [
        # A row cursor never moves sideways, so Home/End go to the first/last row, as in htop.
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
    ]

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        # The model column stays put when a narrow terminal scrolls the numbers sideways.
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=1, name=name, id=id, classes=classes)
        self.snapshot: Snapshot | None = None
        self.recorded: History | None = None
        self.sort_state = SortOrder()
        self.row_filter = RowFilter()
        self.trend_field = TREND_FIELDS[0]
        #: The columns of the current view, in its order; `fit` shows those that fit.
        self.candidates: tuple[Column, ...] = ALL_COLUMNS
        self._widths = ColumnWidths()
        #: Column key -> the widest cell it has shown (mark included); only grows, so columns hold still.
        self.content_widths: dict[str, int] = self._widths.widths
        self.shown_columns: tuple[Column, ...] = visible_columns(120)
        self.model_width = COLUMN_BY_KEY[MODEL].width
        self._fit_width = 120
        self._fitted: tuple[object, ...] = ()  # what `fit` last worked the columns out from
        self._header: tuple[object, ...] = ()
        self._heading_state: tuple[object, ...] = ()
        self._palette = Palette()  # the theme's, taken on every apply() for the rows built until the next
        #: Row key -> column key -> (what the cell was made from, the cell): see `_cells`.
        self._made: dict[str, dict[str, tuple[tuple[object, ...], SortableText]]] = {}

    def on_mount(self) -> None:
        self._ensure_columns()
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def on_unmount(self) -> None:
        # The signal holds its subscribers until it next publishes; a closed screen's widgets would stay in
        # memory until the next theme change.
        self.app.theme_changed_signal.unsubscribe(self)

    def fit(self, width: int, *, redraw: bool = True) -> None:
        """Show the columns that fit `width` cells. The screen calls it with the whole width (on resize, and
        before every snapshot), never with what an alert sidebar leaves: an alert must not hide columns."""
        self._fit_width = width
        candidates, keep = self._candidates(), self.sort_state.key
        # Asked twice a refresh: the columns are worked out again only when something they depend on changed.
        fitted = (width, candidates, self.model_width, tuple(self.content_widths.items()), keep)
        if fitted == self._fitted:
            return
        self._fitted = fitted
        shown = visible_columns(max(width - 1, 0), candidates, model_width=self.model_width,  # 1: scrollbar
                                widths=self.content_widths, keep=(keep,))  # fmt: skip
        if shown != self.shown_columns:
            self.shown_columns = shown
            if redraw:
                self.redraw()

    def _candidates(self) -> tuple[Column, ...]:
        """The view's columns, and the sort column if the view lacks it (its ▼ must be on screen)."""
        sort = self.sort_state.key
        if any(column.key == sort for column in self.candidates):
            return self.candidates
        return (*self.candidates, COLUMN_BY_KEY[sort])

    def _on_theme_changed(self, _theme: Theme) -> None:
        # Severity colours are baked into the cells, so a new theme means rebuilding the styles.
        self.redraw()

    @property
    def palette(self) -> Palette:
        """The severity and series colours of the current theme."""
        return palette_from_variables(self.app.theme_variables)

    @property
    def needed_width(self) -> int:
        """Cells the shown columns take, scrollbar included: what the table needs beside a sidebar."""
        return table_width(self.shown_columns) + 1

    def set_columns(self, columns: tuple[Column, ...]) -> None:
        """Show `columns` (a view's, in its order) from now on, as many as fit."""
        self.candidates = columns
        self.fit(self._fit_width, redraw=False)
        self.redraw()

    @property
    def sortable_keys(self) -> list[str]:
        """The visible columns `<` and `>` step through (the trend column has no single value to sort by)."""
        return [column.key for column in self.shown_columns if column.key != TREND]

    # -- selection -------------------------------------------------------------------------------------

    @property
    def selected_key(self) -> str | None:
        """The row key under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        except CellDoesNotExist:
            return None

    @property
    def selected_row(self) -> Row | None:
        """The model row under the cursor in the latest snapshot (for drill-down)."""
        key = self.selected_key
        if key is None or self.snapshot is None:
            return None
        return self.snapshot.row(*split_row_key(key))

    def select_key(self, key: str) -> bool:
        """Put the cursor on row `key`; False when that row is not shown."""
        if key not in self.rows:
            return False
        self.move_cursor(row=self.get_row_index(key), animate=False)
        return True

    def shown_keys(self) -> list[str]:
        """Row keys in display order."""
        return [self.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value or "" for i in range(self.row_count)]

    def action_first_row(self) -> None:
        """Move to the first row."""
        if self.row_count:
            self.move_cursor(row=0, animate=False)

    def action_last_row(self) -> None:
        """Move to the last row."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)

    # -- view state ------------------------------------------------------------------------------------

    def set_sort(self, order: SortOrder) -> None:
        """Sort by `order` now and on every refresh."""
        self.sort_state = order
        self.fit(self._fit_width, redraw=False)  # the sort column is always shown, to carry its ▼
        self.redraw()

    def set_filter(self, row_filter: RowFilter) -> None:
        """Show only the rows `row_filter` keeps; raises `FilterError` (and changes nothing) when invalid."""
        if self.snapshot is not None:  # a pattern too slow for these rows is refused before it is kept
            row_filter.apply(self.snapshot.rows)
        else:
            row_filter.compile()
        self.row_filter = row_filter
        self.redraw()

    def set_trend(self, field: str) -> None:
        """Draw the trend column from `field`'s history."""
        self.trend_field = field
        self.redraw()

    @property
    def counts(self) -> tuple[int, int]:
        """(rows shown, rows in the snapshot)."""
        total = len(self.snapshot.rows) if self.snapshot is not None else 0
        return self.row_count, total

    # -- rendering -------------------------------------------------------------------------------------

    def _headings(self) -> list[tuple[str, Text]]:
        group = self.snapshot.group_by if self.snapshot is not None else None
        order = self.sort_state
        arrow = "▼" if order.descending else "▲"
        headings = []
        for column in self.shown_columns:
            if column.key == MODEL:
                text = clean(group, 24) if group else column.heading
            elif column.key == TREND:
                text = f"{FIELD_BY_NAME[self.trend_field].heading} 5m"
            else:
                text = column.heading
            mark = arrow if column.key == order.key else " "
            if column.numeric:
                label = Text(f"{mark}{text}", justify="right", no_wrap=True)
            else:
                label = Text(f"{text}{mark if column.key != TREND else ''}", no_wrap=True)
            if column.key == order.key:
                label.stylize(Style(underline=True))
            headings.append((column.key, label))
        return headings

    def _ensure_columns(self) -> None:
        # The headings follow from these alone: the same, no heading is made again (every refresh asks).
        group = self.snapshot.group_by if self.snapshot is not None else None
        state = (self.model_width, self.shown_columns, self.sort_state, group, self.trend_field)
        if state == self._heading_state and self.columns:
            return
        self._heading_state = state
        headings = self._headings()
        signature = (self.model_width, *((key, label.plain) for key, label in headings))
        if signature == self._header and self.columns:
            return
        self._header = signature
        self.clear(columns=True)
        for (key, label), column in zip(headings, self.shown_columns, strict=True):
            # Widths set now (from content seen so far), not measured later on idle: every frame has its
            # final layout.
            width = self.model_width if key == MODEL else column.width
            self.add_column(label, key=key, width=width)

    def _track_model_width(self, rows) -> None:
        """Widen (or narrow) the model column to the longest name shown, within the cap."""
        longest = max((len(row.group) + (len(note) + 1 if (note := replicas_note(row)) else 0) for row in rows),
                      default=0)  # fmt: skip
        width = min(max(longest + 2, len("model") + 1, 12), MODEL_WIDTH + 2)
        if width != self.model_width:
            self.model_width = width
            self.fit(self._fit_width, redraw=False)  # apply() is drawing anyway

    def _track_widths(self, rows) -> None:
        """Widen numeric columns to the widest value of `rows` (plus the 2 cells of a severity mark, kept
        free always so that an alert never widens a column and pushes another one off)."""
        numeric = tuple(column.key for column in self._candidates() if column.numeric)
        if self._widths.track(numeric, rows):
            self.fit(self._fit_width, redraw=False)  # apply() is drawing anyway

    def redraw(self) -> None:
        """Show the current snapshot again, e.g. after the view state or the theme changed."""
        if self.snapshot is not None:
            self.apply(self.snapshot, self.recorded)
        else:
            self._ensure_columns()

    def _cells(self, row: Row, palette: Palette, stale: bool) -> dict[str, SortableText]:
        cells: dict[str, SortableText] = {}
        key = row_key(row)
        # What each cell looks like last time, and the cell: a cell that would look the same is the same
        # object again (its sort value brought up to date), so the table keeps it and its rendering. A value
        # that moved within its printed digits (12.31 -> 12.34, both "12.3") is no new cell.
        made = self._made.setdefault(key, {})
        for column in self.shown_columns:
            name = column.key
            value: float | str | None = None
            if name == TREND:  # (the cell is made only when its drawing changed)
                points, end = self._trend_points(row)
                drawn = sparkline(points, end=end, span=TREND_SECONDS, width=TREND_WIDTH)
                inputs: tuple[object, ...] = (drawn, stale, palette)
                value = latest(points)
            elif name == MODEL:
                inputs = (row.group, row.worst >= Severity.CRITICAL, replicas_note(row))
            elif name == SCHEMA:
                inputs = (row.schema,)
            else:
                number = row.value(name)
                value = None if number is None or math.isnan(number) else number
                # (A missing value shows no info mark: its explanation need not be made to know.)
                noted = value is not None and has_info(row, name)
                shown = cell_value(name, value) if value is not None else None
                inputs = (shown, row.severity.get(name), noted)
            inputs = (*inputs, stale, palette)
            before = made.get(name)
            if before is not None and before[0] == inputs:
                if name not in (MODEL, SCHEMA):
                    before[1].value = value  # what the cell sorts by follows the row, as a new cell's would
                cells[name] = before[1]
                continue
            if name == MODEL:
                cell = model_cell(row, palette, dim=stale)
                cell.row_key = key
            elif name == SCHEMA:
                cell = schema_cell(row, palette, dim=stale)
            elif name == TREND:
                cell = trend_cell(points, end=end, palette=palette, dim=stale, drawn=drawn)
            else:
                cell = numeric_cell(row, name, palette, dim=stale, shown=shown, noted=noted)
            made[name] = (inputs, cell)
            cells[name] = cell
        return cells

    def _trend_points(self, row: Row) -> tuple[Sequence[tuple[float, float | None]], float]:
        """(the points the trend cell of `row` draws, the time its window ends): asked every time, as the
        window moves with every snapshot."""
        end = self.snapshot.taken_at if self.snapshot is not None else 0.0
        # Only the points the sparkline shows, not the whole history, for every row on every refresh.
        points = (self.recorded.series(row.key, self.trend_field, since=end - TREND_SECONDS)
                  if self.recorded is not None else ())  # fmt: skip
        return points, end

    def apply(self, snapshot: Snapshot, recorded: History | None = None) -> None:
        """Show `snapshot`: add, update and remove rows by key, then re-sort. Never clears the rows on a
        refresh; `recorded` is the history the trend column is drawn from. Rows off screen only take note
        of their new values (`LazyTable.defer`), so a refresh costs the rows on screen."""
        self.snapshot = snapshot
        self.recorded = recorded
        selected = self.selected_key
        cursor = self.cursor_row
        try:
            kept = self.row_filter.apply(snapshot.rows)
        except FilterError as exc:  # new rows made the kept pattern too slow: show them all, and say so
            self.row_filter = RowFilter()
            kept = list(snapshot.rows)
            self.app.notify(f"filter dropped: {exc}", severity="error", markup=False)
        rows = self.sort_state.rank(kept)
        self._track_model_width(rows)
        self._track_widths(rows)
        self._ensure_columns()  # a new header clears the rows too; the cursor is restored by key below
        self._palette = self.palette
        before = self.shown()
        rank = {row_key(row): index for index, row in enumerate(rows)}
        for gone in [key for key in self.rows if key.value not in rank]:
            if gone.value is not None:  # every row here was added with a key
                self.forget(gone.value)
                self._made.pop(gone.value, None)
            self.remove_row(gone)
        for row, key in zip(rows, rank):
            stale = snapshot.stale or row.stale
            if key in self.rows:
                self.defer(key, (row, stale))
            else:
                self.add_row(*self._cells(row, self._palette, stale).values(), key=key)
        self.reorder(rank)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
        elif self.row_count:
            # The selected row vanished (filtered out, regrouped): stay at the same height in the list.
            self.move_cursor(row=min(cursor, self.row_count - 1), animate=False)
        self.repaint_changes(before)

    def build(self, key: str, item: object) -> dict[str, SortableText]:
        """The cells of a deferred row, now that it is on screen."""
        row, stale = cast("tuple[Row, bool]", item)  # what `apply` deferred for it
        return self._cells(row, self._palette, stale)
