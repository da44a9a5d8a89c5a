"""The overview table: one row per (schema, model), updated in place on every snapshot."""

from __future__ import annotations

from rich.text import Text
from textual.coordinate import Coordinate
from textual.theme import Theme
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from aitop.model import Row, Snapshot
from aitop.ui.cells import COLUMNS, TABLE_FIELDS, Palette, SortableText, order_key, row_cells
from aitop.ui.themes import palette_from_variables

_SEPARATOR = "\x1f"  # sanitised labels cannot contain it (clean() turns it into "^_"), so keys never collide


def row_key(row: Row) -> str:
    """The table's key for a model row: schema and group, which identify a row across refreshes."""
    return f"{row.schema}{_SEPARATOR}{row.group}"


def split_row_key(key: str) -> tuple[str, str]:
    """(schema, group) back from a key made by `row_key`."""
    schema, _, group = key.partition(_SEPARATOR)
    return schema, group


class TopTable(DataTable[Text]):
    """A `top`-style table of models, busiest first.

    `apply()` diffs a snapshot against what is shown — adds new rows, updates changed cells, removes
    vanished rows — and re-sorts, keeping the cursor on the same model.
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        # The model column stays put when a narrow terminal scrolls the numbers sideways.
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=1, name=name, id=id, classes=classes)
        self.snapshot: Snapshot | None = None

    def on_mount(self) -> None:
        self._ensure_columns()
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _ensure_columns(self) -> None:
        # The first poll is started from App.on_mount and may land before this widget's own on_mount.
        if self.columns:
            return
        for key, heading in COLUMNS:
            justify = "right" if key in TABLE_FIELDS else "left"
            self.add_column(Text(heading, justify=justify, no_wrap=True), key=key)

    def _on_theme_changed(self, _theme: Theme) -> None:
        # Severity colours are baked into the cells, so a new theme means rebuilding the styles.
        if self.snapshot is not None:
            self.apply(self.snapshot)

    @property
    def palette(self) -> Palette:
        """The severity colours of the current theme."""
        return palette_from_variables(self.app.theme_variables)

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

    def apply(self, snapshot: Snapshot) -> None:
        """Show `snapshot`: add, update and remove rows by key, then re-sort. Never clears the table."""
        self._ensure_columns()
        self.snapshot = snapshot
        selected = self.selected_key
        palette = self.palette
        wanted = {row_key(row): row_cells(row, palette, stale=snapshot.stale or row.stale) for row in snapshot.rows}
        for key in [key for key in self.rows if key.value not in wanted]:
            self.remove_row(key)
        for key, cells in wanted.items():
            if key in self.rows:
                self._update_row(key, cells)
            else:
                self.add_row(*cells.values(), key=key)
        self.sort("request_rate", "schema", "model", key=order_key)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def _update_row(self, key: str, cells: dict[str, SortableText]) -> None:
        for column, cell in cells.items():
            old = self.get_cell(key, column)
            if isinstance(old, SortableText) and old.signature() == cell.signature():
                if old.value != cell.value:
                    # Same text (1.004 and 1.001 both show "1.00"), but the sort must see the new number.
                    self.update_cell(key, column, cell)
                continue
            self.update_cell(key, column, cell, update_width=True)
