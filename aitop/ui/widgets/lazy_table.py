"""A `NavTable` whose refresh costs what is on screen, not what is in the table.

`DataTable` is built for tables edited a cell at a time: every `update_cell` repaints the whole widget and
bumps a counter that is part of every render cache key, so one changed cell re-renders every visible cell,
and updating 1,000 rows builds and stores 11,000 cells per refresh although 36 rows are on screen. Here:

* `defer(key, item)` records a row's new content without touching the table; rows on screen are brought up
  to date by `flush_visible()` (via `repaint_changes` after a refresh, and in `render_lines` before every
  paint, so rows scrolled into view are current before they are drawn); `build(key, item)` (the subclass)
  makes the cells only then;
* `reorder(rank)` moves rows without repainting, and `repaint_changes(shown_before)` repaints only the
  rows on screen that look different from before, each up to its last changed cell, so the terminal
  receives the rows that changed, not the whole table;
* rendered cells are cached by the cell object itself: a line whose cells did not change is reassembled
  from cached segments instead of going through Rich again;
* a cell that did change is built straight into segments by `cell_render.render_text_cell` (one line of
  `Text` that fits its column: every cell aitop makes) with the styles worked out for its place last time,
  ~10 µs instead of ~100+ µs through Rich's generic rendering; anything else still goes through Rich;
* a data line is assembled from those cells by `LineTable` (line_table.py), without what `DataTable` works
  out again for every line;
* on a terminal, neighbouring cells drawn alike are merged into one segment (their click meta is reduced to
  the row, all a row cursor needs), so a row costs one colour sequence per run of like cells, not one per
  cell; the cells are made with that meta from the start there, one per row rather than one per cell, which
  matters when the cursor's row moves a large table to rows never drawn before.

This relies on `DataTable` internals (`_data`, `_update_count`, `_row_locations`, `_render_cell`,
`_get_styles_to_render_cell`); Textual is pinned to an exact release in pyproject.toml for that reason, and
the UI tests exercise every path (tests/ui/test_ui_cell_render.py checks the fast path against Rich's).
"""

from __future__ import annotations

from collections.abc import Mapping
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.css.styles import RenderStyles
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets.data_table import ColumnKey, RowKey, StringKey

from aitop.ui.widgets.cell_render import render_text_cell
from aitop.ui.widgets.line_table import LineTable

#: Rendered cells kept (a screenful is a few hundred; the rest are rows scrolled past).
_CACHED_CELLS = 4096


class LazyTable(LineTable):
    """A `NavTable` that builds and repaints only the rows on screen (see the module doc)."""

    def __init__(self, **kwargs) -> None:
        # Before the base class: its constructor already clears caches (`_clear_caches`, style updates).
        self._deferred: dict[str, object] = {}  # row key -> what `build` makes its cells from
        # (row index, column index, style, width, cursor, hover, hover shown, pseudo classes)
        #   -> (cell, lines, (pre style, post style))
        self._rendered: dict[tuple, tuple[Text, list[list[Segment]], tuple[Style, Style]]] = {}
        self._merged: dict[int, tuple[Strip, Strip]] = {}  # line -> (line as rendered, with cells merged)
        self._settled: dict[tuple[str, ...], _SettledStyles] = {}  # component names -> their styles
        self._metas: dict[tuple[int, int], Style] = {}  # (row index, column index) -> its cells' click meta
        self._own_rich_style: Style | None = None
        super().__init__(**kwargs)

    # -- deferred rows -----------------------------------------------------------------------------------

    def build(self, key: str, item: object) -> Mapping[str, Text]:
        """The cells of row `key` (column key -> cell) from what was deferred for it."""
        raise NotImplementedError

    def defer(self, key: str, item: object) -> None:
        """Row `key` (already in the table) should show `item`; built when it is on screen."""
        self._deferred[key] = item

    def forget(self, key: str) -> None:
        """Drop what was deferred for a row that is being removed."""
        self._deferred.pop(key, None)

    def visible_rows(self) -> range:
        """Indexes of the rows that can be on screen now (every row is one line high here)."""
        first = int(self.scroll_y)
        height = self.size.height - (self.header_height if self.show_header else 0)
        return range(first, min(first + max(height, 0) + 1, self.row_count))

    def shown(self) -> dict[int, dict[ColumnKey, Text]]:
        """What the rows on screen show now: row index -> {column key: cell} (for `repaint_changes`)."""
        get_key, data = self._row_locations.get_key, self._data
        return {index: dict(data[row_key]) for index in self.visible_rows()
                if (row_key := get_key(index)) is not None}

    def reorder(self, rank: Mapping[str, int]) -> None:
        """Put the rows in the order `rank` gives (row key -> index), without repainting: the repaint is
        left to `repaint_changes`, which repaints only the lines that now look different."""
        locations = self._row_locations
        # Textual's typing gap (also below): a RowKey or ColumnKey hashes and compares as its string, by
        # design, but the tables are annotated as keyed by the key classes; a key object per lookup would
        # cost thousands of allocations a refresh.
        if all(locations.get(key) == index for key, index in rank.items()):  # type: ignore[arg-type]
            return
        self._row_locations = TwoWayDict({row_key: rank[_text(row_key)] for row_key in self._data})
        self._update_count += 1

    def repaint_changes(self, before: Mapping[int, Mapping[ColumnKey, Text]]) -> None:
        """Repaint the rows on screen that look different from `before` (a `shown()` taken before the
        update), each up to its last changed cell: the terminal receives those, not the whole table.
        Sideways-scrolled tables repaint whole rows (the fixed model column does not move with the rest)."""
        self.flush_visible()
        spans = self._column_spans()
        header = self.header_height if self.show_header else 0
        for index, cells in self.shown().items():
            old = before.get(index)
            changed = [column for column, cell in cells.items()
                       if old is None or not _same_look(old.get(column), cell)]  # fmt: skip
            if not changed:
                continue
            if self.scroll_x or old is None:
                self.refresh_row(index)
                continue
            # One region per row, from its start: Textual writes a repainted span from the start of the
            # widget's line anyway, so a second span on the same line would write that prefix again.
            end = max(sum(spans[_text(column)]) for column in changed)
            self._refresh_region(Region(0, index + header, end, 1))

    def flush_visible(self) -> bool:
        """Bring the rows on screen up to date (without repainting); True when any cell was written."""
        if not self._deferred:
            return False
        written = False
        get_key = self._row_locations.get_key
        for index in self.visible_rows():
            row_key = get_key(index)
            if row_key is None or row_key.value is None:
                continue
            item = self._deferred.pop(row_key.value, None)
            if item is not None:
                written |= self._write(row_key, self.build(row_key.value, item))
        if written:
            self._update_count += 1  # part of every DataTable cache key: drop what was rendered from old data
            # Only cells changed: the row order and line offsets worked out before still hold (at 1,000 rows
            # each is a walk over every row, asked again by the next paint).
            before, count = self._update_count - 1, self._update_count
            rows = self._ordered_row_cache.get((self.row_count, before))
            if rows is not None:
                self._ordered_row_cache[self.row_count, count] = rows
            offsets = self._offset_cache.get(before)
            if offsets is not None:
                self._offset_cache[count] = offsets
        return written

    @property
    def _y_offsets(self) -> list[tuple[RowKey, int]]:
        # DataTable's, in one comprehension rather than a list per row (half the time at 1,000 rows).
        count = self._update_count
        offsets = self._offset_cache.get(count)
        if offsets is None:
            offsets = [(row.key, y) for row in self.ordered_rows for y in range(row.height)]
            self._offset_cache[count] = offsets
        return offsets

    def _get_row_region(self, row_index: int) -> Region:
        # DataTable adds up the heights of every row above, for the cursor's scroll and each repainted row:
        # a refresh that takes the cursor's row far down a large table brings a screenful of rows never shown,
        # each a walk over up to all the rows. Every row here is one line high (see `visible_rows`).
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        row_width = sum(column.get_render_width(self) for column in self.columns.values()) + \
            self._row_label_column_width
        header = self.header_height if self.show_header else 0
        return Region(0, row_index + header, max(self.size.width, row_width), 1)

    def _column_spans(self) -> dict[str, tuple[int, int]]:
        """Column key -> (x, width) in the table's virtual space."""
        spans: dict[str, tuple[int, int]] = {}
        x = self._row_label_column_width
        for column in self.ordered_columns:
            width = column.get_render_width(self)
            spans[_text(column.key)] = (x, width)
            x += width
        return spans

    def _write(self, row_key: RowKey, cells: Mapping[str, Text]) -> bool:
        """Store the cells of row `row_key` that changed; True when any was written."""
        data = self._data[row_key]
        written = False
        for column, cell in cells.items():
            old = data.get(column)  # type: ignore[call-overload]  # (str for ColumnKey: see `reorder`)
            # Same text (1.004 and 1.001 both show "1.00") is still written when the number behind it moved:
            # the sort reads it. Otherwise the old cell stays, and with it its cached rendering.
            if old is not None and _same_look(old, cell) and _same_values(old, cell):
                continue
            data[column] = cell  # type: ignore[index]  # (str for ColumnKey: see `reorder`)
            written = True
        return written

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        strip = self._assemble_line(y, x1, x2, base_style)  # cached while unchanged
        header = self.header_height if self.show_header else 0
        # Only for a terminal: merging exists to shrink what is written to one, and headless screenshots
        # (the snapshot tests) compare segment structure. Header clicks name their column: kept as is.
        if y < header or self.app.is_headless:
            return strip
        merged = self._merged.get(y)
        if merged is None or merged[0] is not strip:
            merged = self._merged[y] = (strip, _merge_cells(strip))
        return merged[1]

    def render_lines(self, crop: Region) -> list[Strip]:
        # Rows scrolled into view since the last refresh are brought up to date before they are drawn.
        self.flush_visible()
        return super().render_lines(crop)

    # -- rendered-cell cache -----------------------------------------------------------------------------

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False):  # fmt: skip
        if row_index < 0 or column_index < 0:  # header and labels: the base class caches them well enough
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # (not a cell of the table: the base class says what to draw)
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cell = self._data[row_key][column_key]
        key = (row_index, column_index, base_style, width, cursor, hover, self._show_hover_cursor,
               self._pseudo_class_state)  # fmt: skip
        cached = self._rendered.get(key)
        if cached is not None and cached[0] is cell:
            return cached[1]
        # A new cell in the same place drawn the same way: the styles worked out last time still hold (what
        # could change them — theme, cursor settings, fixed rows — clears this cache).
        styles = cached[2] if cached is not None else self._cell_styles(row_index, column_index, base_style,
                                                                         cursor, hover)  # fmt: skip
        lines = self._render_text_cell(row_key, cell, width, styles)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if len(self._rendered) >= _CACHED_CELLS:
            self._rendered.clear()
        self._rendered[key] = (cell, lines, styles)
        return lines

    def _cell_styles(self, row_index: int, column_index: int, base_style: Style, cursor: bool,
                     hover: bool) -> tuple[Style, Style]:  # fmt: skip
        """The (pre, post) styles `DataTable._render_cell` layers over data cell (row_index, column_index),
        worked out as it does."""
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
        )  # fmt: skip
        # On a terminal every data line's click meta is reduced to its row (`_merge_cells`): made so here, one
        # meta per row instead of one per cell (pickled each time), as the cursor scrolls a large table to rows
        # never drawn before.
        column = column_index if self.app.is_headless else 0
        meta = self._metas.get((row_index, column))
        if meta is None:
            if len(self._metas) >= _CACHED_CELLS:
                self._metas.clear()
            meta = self._metas[row_index, column] = Style.from_meta({"row": row_index, "column": column})
        return base_style + meta + component_style, post_style

    def _render_text_cell(self, row_key: RowKey, cell: object, width: int,
                          styles: tuple[Style, Style]) -> list[list[Segment]] | None:  # fmt: skip
        """A data cell as `DataTable._render_cell` renders it, built directly (`render_text_cell`) from the
        styles `_cell_styles` gives, or None when only Rich can promise the same result."""
        if not isinstance(cell, Text) or self.rows[row_key].height != 1:  # taller rows wrap: Rich's job
            return None
        # Textual's console options leave justify and overflow unset (None): render_text_cell's defaults.
        return render_text_cell(cell, width, self.cell_padding, *styles, self.app.console.get_style)

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._rendered.clear()

    def notify_style_update(self) -> None:
        self._rendered.clear()  # a new theme restyles the cursor and stripes
        self._settled.clear()
        self._own_rich_style = None
        super().notify_style_update()

    # -- styles, worked out once per style update ------------------------------------------------------
    # DataTable asks for its component styles' `rich_style` (a walk up the DOM blending backgrounds, ~100 µs)
    # three or four times for every line it paints. They change only when styles are re-applied, and Textual
    # re-applies them to a node and all its descendants (`notify_style_update`) whenever a theme, class or
    # pseudo-class changes anywhere above — the same invalidation Textual's own `_rich_style_cache` relies on.

    def get_component_styles(self, *names: str) -> RenderStyles:
        settled = self._settled.get(names)
        if settled is None:
            styles = super().get_component_styles(*names)  # merged, and bound to the component's own node
            if styles.node is None:  # (Textual types the node as optional; these styles always have one)
                return styles
            settled = self._settled[names] = _SettledStyles(styles.node, styles.base, styles.inline)
        return settled

    @property
    def rich_style(self) -> Style:
        if self._own_rich_style is None:
            self._own_rich_style = super().rich_style
        return self._own_rich_style


class _SettledStyles(RenderStyles):
    """Component styles whose `rich_style` is worked out on first use and kept (until the owner's next
    style update drops the whole object)."""

    _rich: Style | None = None

    @property
    def rich_style(self) -> Style:
        if self._rich is None:
            self._rich = super().rich_style
        return self._rich


def _text(key: StringKey | str) -> str:
    """The string a row or column was added with (every row and column here has one); a key's own
    string as it is (`DataTable`'s dictionaries hold keys that compare equal to their strings)."""
    if isinstance(key, str):
        return key
    if key.value is None:
        raise KeyError(f"{key!r} was added without a key")
    return key.value


#: Style -> that style with its click meta naming the row only (see `_row_only`), for `_merge_cells`.
_ROW_ONLY: dict[Style, Style] = {}


def _row_only(style: Style) -> Style:
    """`style` with its click meta naming the row only (column 0): a row cursor selects rows, not cells."""
    if style._meta and style.meta.get("column", 0):
        return style + Style.from_meta({"column": 0})
    return style


def _merge_cells(strip: Strip) -> Strip:
    """The line with every cell's meta reduced to its row, so neighbouring cells drawn alike become one
    segment. Each segment is written with its own colour sequence and a reset (~24 bytes): a run of plain
    numbers then costs one sequence instead of one or two per cell. (A style's meta is unpickled each time it
    is read: each style is looked at once, then looked up.)"""
    known = _ROW_ONLY
    segments = []
    for text, style, control in strip:
        if style is not None:
            reduced = known.get(style)
            if reduced is None:
                if len(known) >= _CACHED_CELLS:
                    known.clear()
                reduced = known[style] = _row_only(style)
            style = reduced
        segments.append(Segment(text, style, control))
    return Strip(Segment.simplify(segments), strip.cell_length)


def _same_look(old: Text | None, new: Text) -> bool:
    if old is new:
        return True
    if old is None:
        return False
    signature = getattr(new, "signature", None)
    if signature is not None and hasattr(old, "signature"):
        return old.signature() == signature()
    return old == new and str(old.style) == str(new.style)


def _same_values(old: Text, new: Text) -> bool:
    return getattr(old, "value", None) == getattr(new, "value", None) and \
        getattr(old, "row_key", None) == getattr(new, "row_key", None)
