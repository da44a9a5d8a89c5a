"""A `NavTable` whose data lines are assembled without `DataTable`'s per-line machinery.

`DataTable._render_line` and `_render_line_in_row` work out again, for every line they paint, what changes
only with the table: the ordered columns (a property that rebuilds the list) and their widths, a Coordinate
and two highlight tests per cell, a dozen reactive reads. For a one-line data row under a row cursor
without row labels (every aitop table) `LineTable` does the same work once per line with those kept per
table state, and renders the scrollable copy of the fixed columns as blanks (DataTable renders them and
then always crops them off). Same `_render_cell` calls for what is shown, same segments, same line cache:
tests/ui/test_ui_refresh_cost.py compares the lines with DataTable's line by line (cursor, hover, sideways
scroll). Anything else (the header, taller rows, other cursors, row labels) goes through `DataTable`.
Relies on `DataTable` internals (`_get_offsets`, `_line_cache`, `_update_count`, `_row_locations`,
`_get_row_style`, `_get_styles_to_render_cell`); Textual is pinned to an exact release for that reason.
"""

from __future__ import annotations

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual._segment_tools import line_crop
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.strip import Strip, get_line_length
from textual.widgets.data_table import Column, RowKey

from aitop.ui.widgets.nav_table import NavTable

#: Rows assembled and kept (as many as DataTable keeps in its own row cache).
_CACHED_ROWS = 1000


class LineTable(NavTable):
    """A `NavTable` that assembles one-line data rows itself (see the module doc)."""

    def __init__(self, **kwargs) -> None:
        # Before the base class: its constructor already clears caches.
        self._ordered: tuple[tuple[int, int], list[Column]] | None = None  # (table state, columns in order)
        # Kept apart from DataTable's row cache: the fixed columns' scrollable copies are blanks here.
        self._row_pairs: LRUCache[tuple, tuple[list[list[Segment]], list[list[Segment]]]] = LRUCache(_CACHED_ROWS)
        self._renders_of = 0  # the `_update_count` the render caches hold entries for (`_drop_dead_renders`)
        super().__init__(**kwargs)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._row_pairs.clear()

    def notify_style_update(self) -> None:
        self._row_pairs.clear()
        super().notify_style_update()

    def _drop_dead_renders(self) -> None:
        """Empty the render caches once the table has changed since they were filled.

        Every one of them (DataTable's lines, rows, row renderables and cells, and `_row_pairs`) keys its
        entries on `_update_count`, which only grows: after it moves, nothing cached before can be asked for
        again. DataTable leaves such entries to age out of its LRU caches (up to 1,000 lines, 1,000 rows and
        10,000 cells), so a table whose rows change on every refresh kept thousands of dead strips and
        segments alive: half of the ~7,000 objects a 1,000-row table's heap grew by a refresh, over its first
        30 refreshes (and a 6-row table's over its first half hour)."""
        count = self._update_count
        if count != self._renders_of:
            self._renders_of = count
            for cache in (self._line_cache, self._row_render_cache, self._row_renderable_cache,
                          self._cell_render_cache, self._row_pairs):  # fmt: skip
                _empty(cache)

    def _layout(self) -> tuple[int, list[int]]:
        """(fixed width, render width of every column in order). The ordered columns are kept until the
        table next changes; their widths are asked every time (an auto-width column grows in place)."""
        key = (self._update_count, len(self.columns))
        if self._ordered is None or self._ordered[0] != key:
            self._ordered = (key, self.ordered_columns)
        widths = [column.get_render_width(self) for column in self._ordered[1]]
        return sum(widths[: self.fixed_columns]), widths

    def _assemble_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """`DataTable._render_line`, with the row assembled by `_row_segments` where it can be."""
        self._drop_dead_renders()
        header = self.header_height if self.show_header else 0
        if y < header or self.cursor_type != "row" or self._should_render_row_labels:
            return super()._render_line(y, x1, x2, base_style)
        width = self.size.width
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return Strip.blank(width, base_style)
        if line_no:  # (a taller row: never made here)
            return super()._render_line(y, x1, x2, base_style)
        cursor, hover = self.cursor_coordinate, self.hover_coordinate
        cache_key = (y, x1, x2, width, cursor, hover, base_style, self.cursor_type, self._show_hover_cursor,
                     self._update_count, self._pseudo_class_state)  # fmt: skip
        strip = self._line_cache.get(cache_key)
        if strip is not None:
            return strip
        fixed_width, widths = self._layout()
        fixed, scrollable = self._row_segments(row_key, base_style, cursor, hover, fixed_width, widths)
        segments = [segment for cell in fixed for segment in cell] + \
            line_crop([segment for cell in scrollable for segment in cell], x1 + fixed_width, x2, width)
        strip = Strip(Segment.simplify(_fit(segments, width, base_style)), width)
        self._line_cache[cache_key] = strip
        return strip

    def _row_segments(self, row_key: RowKey, base_style: Style, cursor_location: Coordinate,
                      hover_location: Coordinate, fixed_width: int,
                      widths: list[int]) -> tuple[list[list[Segment]], list[list[Segment]]]:  # fmt: skip
        """`DataTable._render_line_in_row` for line 0 of a data row under a row cursor without labels."""
        show_cursor, hover_shown = self.show_cursor, self._show_hover_cursor
        cache_key = (row_key, base_style, cursor_location, hover_location, show_cursor, hover_shown,
                     self._update_count, self._pseudo_class_state)  # fmt: skip
        cached = self._row_pairs.get(cache_key)
        if cached is not None:
            return cached
        row_index = self._row_locations.get(row_key)
        if row_index is None:
            row_index = -1
        # A row cursor highlights whole rows: DataTable's `_should_highlight` compares the rows alone.
        cursor, hover = cursor_location.row == row_index, hover_location.row == row_index
        render_cell = self._render_cell
        fixed_row = []
        if self.fixed_columns:
            fixed_style = self.get_component_styles("datatable--fixed").rich_style + Style.from_meta({"fixed": True})
            for column_index, column_width in enumerate(widths[: self.fixed_columns]):
                fixed_row.append(render_cell(row_index, column_index, fixed_style, column_width, cursor=cursor,
                                             hover=hover)[0])  # fmt: skip
        row_style = self._get_row_style(row_index, base_style)
        # The scrollable part starts with the fixed columns again, and `_assemble_line` always crops them off
        # (from the scroll offset plus the fixed width): blanks of their width, not cells rendered for nothing.
        fixed = self.fixed_columns
        scrollable_row = [[Segment(" " * column_width)] if column_index < fixed else
                          render_cell(row_index, column_index, row_style, column_width, cursor=cursor, hover=hover)[0]
                          for column_index, column_width in enumerate(widths)]  # fmt: skip
        remaining_space = max(0, self.size.width - (sum(widths) - fixed_width + self._row_label_column_width))
        # (DataTable asks about the hover at row `row_index or 0`: the same row, as -1 is truthy.)
        extend_style, _ = self._get_styles_to_render_cell(row_index == -1, False, False, hover, cursor, show_cursor,
                                                          hover_shown, False, False)  # fmt: skip
        extend_style = row_style + extend_style + Style.from_meta({"row": row_index, "column": 0,
                                                                   "out_of_bounds": True})  # fmt: skip
        scrollable_row.append([Segment(" " * remaining_space, extend_style)])
        row_pair = (fixed_row, scrollable_row)
        self._row_pairs[cache_key] = row_pair
        return row_pair


def _empty(cache: LRUCache) -> None:
    """`cache.clear()`, leaving nothing to the cyclic collector: Textual's LRUCache links its entries in a
    ring (each a `[prev, next, key, value]` list), which `clear` drops whole, a reference cycle holding every
    cached strip until a collection finds it. Emptying each link first lets them all go at once."""
    for link in cache._cache.values():
        link.clear()
    cache.clear()


def _fit(segments: list[Segment], width: int, style: Style) -> list[Segment]:
    """The segments of ``Strip(segments).adjust_cell_length(width, style)``: padded with a blank in `style` or
    cut to `width` cells, without the two intermediate strips (each a dozen objects) a line would make."""
    length = get_line_length(segments)
    if length < width:
        return [*segments, Segment(" " * (width - length), style)]
    if length == width:
        return segments
    fitted: list[Segment] = []
    used = 0
    for segment in segments:
        size = segment.cell_length
        if used + size < width:
            fitted.append(segment)
            used += size
        else:
            fitted.append(Segment(set_cell_size(segment.text, width - used), segment.style))
            break
    return fitted
