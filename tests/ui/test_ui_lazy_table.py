"""The overview table builds and repaints only what is on screen (aitop.ui.widgets.lazy_table), and still
shows every row current once it scrolls into view."""

from __future__ import annotations

from random import Random
from unittest.mock import patch

import pytest

from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.dom import DOMNode
from textual.strip import Strip
from textual.widgets import Button, DataTable
from ui_fakes import T0, collected, make_row

from aitop.ui.widgets import TopTable
from aitop.ui.widgets.lazy_table import LazyTable, _merge_cells
from aitop.ui.widgets.line_table import _fit

SIZE = (120, 24)
ROWS = 200


def fleet(rate: float) -> list:
    # Requests fall with the index, so the default sort (busiest first) keeps row i at index i.
    return [make_row(f"model-{i:03d}", request_rate=rate * (ROWS - i), error_rate=0.0) for i in range(ROWS)]


def shown_rate(table: TopTable, index: int) -> str:
    key = table.coordinate_to_cell_key((index, 0)).row_key
    return table.get_cell(key, "request_rate").plain


async def test_rows_off_screen_are_brought_up_to_date_when_scrolled_into_view(make_app):
    app = make_app([collected(fleet(1.0)), collected(fleet(2.0), taken_at=T0 + 2)])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        assert table.row_count == ROWS and shown_rate(table, ROWS - 1) == "1.00"
        await app.poll_once()
        await pilot.pause()
        assert shown_rate(table, 0) == "400"  # on screen: current at once
        assert shown_rate(table, ROWS - 1) == "1.00"  # off screen: not rebuilt…
        assert len(table._deferred) > ROWS // 2
        table.action_last_row()
        await pilot.pause()
        assert shown_rate(table, ROWS - 1) == "2.00"  # …until it is drawn


async def test_rows_scrolled_into_view_by_a_refresh_repaint_the_regions_datatable_would_without_its_walk(
        make_app):
    # The busiest row becomes the idlest: the cursor follows it to the end, so every row on screen is new.
    flipped = [make_row(f"model-{i:03d}", request_rate=1.0 + i, error_rate=0.0) for i in range(ROWS)]
    app = make_app([collected(fleet(1.0)), collected(flipped, taken_at=T0 + 2)])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        regions: list = []
        original = LazyTable._refresh_region
        with patch.object(LazyTable, "_refresh_region", lambda self, region: regions.append(region) or
                          original(self, region)), \
                patch.object(DataTable, "_get_row_region", side_effect=AssertionError("walked the rows")):  # fmt: skip
            await app.poll_once()
        await pilot.pause()
        assert table.cursor_row == ROWS - 1
        shown = list(table.visible_rows())
        assert shown[0] > table.size.height  # scrolled: none of these rows was on screen before
        wanted = [DataTable._get_row_region(table, index) for index in shown]
        assert set(wanted) <= set(regions)  # every row on screen repainted whole
        assert [table._get_row_region(index) for index in (-1, 0, *shown, ROWS)] == \
            [DataTable._get_row_region(table, index) for index in (-1, 0, *shown, ROWS)]


def test_cells_drawn_alike_become_one_segment_and_keep_their_row():
    plain = Style(color="white")
    strip = Strip([
        Segment(" a ", plain + Style.from_meta({"row": 3, "column": 0})),
        Segment(" b ", plain + Style.from_meta({"row": 3, "column": 1})),
        Segment(" c ", Style(color="red") + Style.from_meta({"row": 3, "column": 2})),
    ])
    merged = list(_merge_cells(strip))
    assert [segment.text for segment in merged] == [" a  b ", " c "]
    assert all(segment.style.meta["row"] == 3 for segment in merged)
    assert _merge_cells(strip).cell_length == strip.cell_length


def test_merging_a_line_again_reads_no_style_meta_again():
    # A style's meta is unpickled on every read: the next refresh's lines reuse what was worked out.
    strip = Strip([Segment(f" {n} ", Style(color="white") + Style.from_meta({"row": 5, "column": n})) for n in range(4)])
    first = _merge_cells(strip)
    with patch.object(Style, "meta", property(lambda self: pytest.fail("meta read again"))):
        again = _merge_cells(strip)
    assert list(again) == list(first)


class _StyledApp(App):
    CSS = """
    Screen.-alert { background: darkred; }
    Screen.-alert LazyTable > .datatable--even-row { background: darkblue; }
    """

    def compose(self) -> ComposeResult:
        yield LazyTable(zebra_stripes=True, fixed_columns=1)
        yield Button("elsewhere")


COMPONENTS = ("datatable--header", "datatable--fixed", "datatable--even-row", "datatable--odd-row",
              "datatable--cursor", "datatable--hover")


def _fresh(table: LazyTable) -> dict[str, Style]:
    """Every style LazyTable keeps, worked out afresh the way DataTable does."""
    styles = {name: DataTable.get_component_styles(table, name).rich_style for name in COMPONENTS}
    return {**styles, "table": DOMNode.rich_style.fget(table)}


def _kept(table: LazyTable) -> dict[str, Style]:
    return {**{name: table.get_component_styles(name).rich_style for name in COMPONENTS}, "table": table.rich_style}


async def test_styles_kept_between_paints_follow_theme_class_and_focus_changes():
    """The component styles LazyTable works out once per style update are the ones DataTable would work out
    on every line, after a theme change, a class on an ancestor, and focus moving away (a pseudo-class)."""
    app = _StyledApp()
    async with app.run_test() as pilot:
        table = app.query_one(LazyTable)
        table.focus()
        await pilot.pause()
        before = _kept(table)
        assert before == _fresh(table)
        walks = 0
        original = DOMNode.rich_style.fget

        def counting(node):
            nonlocal walks
            walks += 1
            return original(node)

        with patch.object(DOMNode, "rich_style", property(counting)):
            assert _kept(table) == before and walks == 0  # kept: no walk up the DOM on the next line

        changes = [lambda: setattr(app, "theme", "textual-light"),
                   lambda: app.screen.add_class("-alert"),
                   lambda: app.query_one(Button).focus()]  # fmt: skip
        for change in changes:
            change()
            await pilot.pause()
            now = _kept(table)
            assert now == _fresh(table) and now != before
            before = now


async def _terminal_lines(app, table: TopTable, terminal: bool) -> list[Strip]:
    """The table's lines as `_render_line` makes them, drawn for a terminal or headless, from cold caches."""
    with patch.object(type(app), "is_headless", property(lambda self: not terminal)):
        table._clear_caches()
        table._merged.clear()
        table._metas.clear()
        style = table.rich_style
        return [table._render_line(y, 0, table.size.width, style) for y in range(table.size.height)]


async def test_on_a_terminal_cells_are_made_with_their_rows_meta_and_lines_come_out_the_same(make_app):
    app = make_app([collected(fleet(1.0))])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        header = table.header_height
        headless = await _terminal_lines(app, table, terminal=False)
        made: list[dict] = []
        original = Style.from_meta
        with patch.object(Style, "from_meta", lambda meta: made.append(dict(meta or {})) or original(meta)):
            terminal = await _terminal_lines(app, table, terminal=True)
        # What a terminal receives is the headless line with every cell's meta reduced to its row...
        assert [list(line) for line in terminal[header:]] == [list(_merge_cells(line)) for line in headless[header:]]
        assert terminal[:header] == headless[:header]
        # ...and its cells got one meta per row drawn, not one per cell.
        rows = SIZE[1] - header
        assert len([meta for meta in made if meta.get("row", -1) >= 0 and "out_of_bounds" not in meta]) <= rows


def test_a_line_is_fitted_to_the_width_as_a_strip_would_be_without_making_strips():
    rng = Random(5)
    fill = Style(bgcolor="red")
    for _ in range(300):
        segments = [Segment(rng.choice(["", "a", "bc", " def ", "ghij", "界"]) * rng.randint(0, 3),
                            rng.choice([None, Style(bold=True), fill])) for _ in range(rng.randint(0, 6))]  # fmt: skip
        width = rng.randint(0, 30)
        assert _fit(segments, width, fill) == list(Strip(segments).adjust_cell_length(width, fill)), (segments, width)


async def test_writing_cells_keeps_the_row_order_and_line_offsets_already_worked_out(make_app):
    app = make_app([collected(fleet(1.0)), collected(fleet(2.0), taken_at=T0 + 2)])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        offsets, ordered, count = table._y_offsets, table.ordered_rows, table._update_count
        assert offsets == [(row.key, 0) for row in ordered] and len(offsets) == ROWS
        table._offset_cache.clear()
        table._ordered_row_cache.clear()
        assert table._y_offsets == DataTable._y_offsets.fget(table)  # (a walk of its own: the same lines)
        offsets, ordered = table._y_offsets, table.ordered_rows
        for index in table.visible_rows():  # new values for the rows on screen, as the next refresh brings
            key = table._row_locations.get_key(index).value
            table.defer(key, (make_row(key.partition("\x1f")[2], request_rate=5.0 + index, error_rate=0.0), False))
        assert table.flush_visible() and table._update_count == count + 1
        assert table._y_offsets is offsets and table.ordered_rows is ordered  # not walked again
