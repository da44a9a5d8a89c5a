"""What a refresh costs the overview: lines assembled without DataTable's per-line machinery (and the same
segments as it makes), cells made again only when what they show changed, the status line and the sidebar's
placement worked out once per refresh rather than three times."""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import pytest
from rich.segment import Segment
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from ui_fakes import collected, fleet, fleet_alerts, make_row, settle

from aitop.ui.widgets import top_table
from aitop.ui.widgets.status_bar import StatusBar
from aitop.ui.widgets.top_table import TopTable


def base_lines(table: TopTable, y: int, x1: int, x2: int) -> list[Segment]:
    """Line `y` as `DataTable._render_line` makes it, from nothing cached."""
    table._clear_caches()
    return list(DataTable._render_line(table, y, x1, x2, table.rich_style))


def fast_lines(table: TopTable, y: int, x1: int, x2: int) -> list[Segment]:
    table._clear_caches()
    return list(table._assemble_line(y, x1, x2, table.rich_style))


@pytest.mark.parametrize("size", [(160, 30), (70, 30)])  # all columns; a narrow table scrolled sideways
async def test_assembled_lines_are_the_lines_datatable_makes(make_app, size) -> None:
    stale = make_row("stale-model", stale=True, request_rate=1.0)
    app = make_app([collected([*fleet(), stale], alerts=fleet_alerts())])
    async with app.run_test(size=size) as pilot:
        await app.poll_once()
        table = app.query_one(TopTable)
        assert await settle(pilot, lambda: table.row_count == 5)
        width = table.size.width
        scrolls = (0, 7) if table.virtual_size.width > width else (0,)
        for hover_shown, hover_row, cursor_row, scroll in product((False, True), (0, 2), (0, 3), scrolls):
            table._show_hover_cursor = hover_shown
            table.hover_coordinate = Coordinate(hover_row, 0)
            table.move_cursor(row=cursor_row, animate=False)
            for y in range(table.header_height, table.header_height + table.row_count + 2):  # and past the end
                expected = base_lines(table, y, scroll, scroll + width)
                assert fast_lines(table, y, scroll, scroll + width) == expected, (y, scroll, cursor_row)
        table.show_cursor = False
        y = table.header_height + 1
        assert fast_lines(table, y, 0, width) == base_lines(table, y, 0, width)


async def test_a_paint_assembles_data_lines_without_datatable_per_line_machinery(make_app, monkeypatch) -> None:
    app = make_app([collected(fleet())])
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_once()
        table = app.query_one(TopTable)
        assert await settle(pilot, lambda: table.row_count == 4)
        rows: list[object] = []
        original = DataTable._render_line_in_row
        monkeypatch.setattr(DataTable, "_render_line_in_row",
                            lambda self, row_key, *a, **k: rows.append(row_key) or original(self, row_key, *a, **k))
        cells: list[tuple[int, int]] = []
        render_cell = table._render_cell
        monkeypatch.setattr(table, "_render_cell", lambda row, column, *a, **k: cells.append((row, column)) or
                            render_cell(row, column, *a, **k))  # fmt: skip
        table._clear_caches()
        table.refresh()
        await pilot.pause()
        assert rows and all(key is table._header_row_key for key in rows)  # only the header goes that way
        # The fixed model column is rendered once a line (DataTable renders a second copy and crops it off).
        assert sorted(cell for cell in cells if cell[0] >= 0 and cell[1] == 0) == [(row, 0) for row in range(4)]


async def test_cells_are_made_again_only_when_what_they_show_changed(make_app, monkeypatch) -> None:
    rows = fleet()
    moved = [replace(rows[0], values={**rows[0].values, "request_rate": 43.0}), *rows[1:]]
    app = make_app([collected(rows), collected(fleet()), collected(moved)])
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_once()
        table = app.query_one(TopTable)
        assert await settle(pilot, lambda: table.row_count == 4)
        made: list[tuple[str, str]] = []
        for name in ("numeric_cell", "model_cell", "schema_cell"):
            maker = getattr(top_table, name)
            monkeypatch.setattr(top_table, name, lambda row, *a, _m=maker, _n=name, **k:
                                made.append((_n, row.group)) or _m(row, *a, **k))  # fmt: skip
        await app.poll_once()  # the same values in new rows: nothing made but the trend cells
        await pilot.pause()
        assert made == []
        await app.poll_once()  # one value moved: that one cell
        await pilot.pause()
        assert made == [("numeric_cell", "llama-3.1-8b")]
        assert "43.0" in table.get_cell(top_table.row_key(moved[0]), "request_rate").plain


async def test_a_refresh_makes_the_status_line_once(make_app, monkeypatch) -> None:
    app = make_app([collected(fleet(), alerts=fleet_alerts())])
    async with app.run_test(size=(200, 60)) as pilot:
        await app.poll_once()
        await pilot.pause()
        status = app.overview.query_one(StatusBar)
        made: list[bool] = []
        render = status.render_status
        monkeypatch.setattr(status, "render_status", lambda: made.append(status.alert_badge) or render())
        sidebar = app.overview.query_one("#sidebar")
        width, classes = sidebar.styles.width, set(app.overview.classes)
        app.show(await app.monitor.refresh())
        assert made == [False]  # the sidebar lists the alerts: no badge, and the line made once
        assert (sidebar.styles.width, set(app.overview.classes)) == (width, classes)
        app.overview.action_toggle_alerts()  # a change of placement still reaches the classes and the badge
        assert made[-1] is True and app.overview.has_class("-sidebar-off")


async def test_a_steady_refresh_works_out_no_columns_and_no_explanations_of_missing_values(make_app,
                                                                                           monkeypatch) -> None:
    rows = fleet()
    bge = rows[3]  # no token rates, cost or feedback: those cells show the missing mark
    missing = {name for name in ("input_tokens_rate", "cost_per_hour") if bge.value(name) is None}
    assert missing
    app = make_app([collected(rows)])
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_once()
        table = app.query_one(TopTable)
        assert await settle(pilot, lambda: table.row_count == 4)
        fitted: list[int] = []
        asked: list[tuple[str, str]] = []
        visible, has_info = top_table.visible_columns, top_table.has_info
        monkeypatch.setattr(top_table, "visible_columns", lambda *a, **k: fitted.append(1) or visible(*a, **k))
        monkeypatch.setattr(top_table, "has_info", lambda row, name: asked.append((row.group, name)) or
                            has_info(row, name))  # fmt: skip
        await app.poll_once()
        await pilot.pause()
        assert fitted == []
        assert asked and not {(bge.group, name) for name in missing} & set(asked)
        table.fit(100)  # a new width still fits the columns again
        assert fitted == [1]



async def test_a_value_that_moves_within_its_printed_digits_keeps_its_cell_and_sorts_by_the_new_value(
        make_app, monkeypatch) -> None:  # fmt: skip
    rows = fleet()
    rate = rows[0].values["request_rate"]
    assert rate is not None and cell_text(rate + 0.01) == cell_text(rate)  # the fleet's rate prints alike
    nudged = [replace(rows[0], values={**rows[0].values, "request_rate": rate + 0.01}), *rows[1:]]
    app = make_app([collected(rows), collected(nudged)])
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_once()
        table = app.query_one(TopTable)
        assert await settle(pilot, lambda: table.row_count == 4)
        key = top_table.row_key(rows[0])
        before = table.get_cell(key, "request_rate")
        made: list[str] = []
        maker = top_table.numeric_cell
        monkeypatch.setattr(top_table, "numeric_cell", lambda row, name, *a, **k: made.append(name) or
                            maker(row, name, *a, **k))  # fmt: skip
        await app.poll_once()
        await pilot.pause()
        assert made == []
        cell = table.get_cell(key, "request_rate")
        assert cell is before and cell.value == rate + 0.01


def cell_text(value: float) -> str:
    from aitop.ui.cells import cell_value

    return cell_value("request_rate", value)


async def test_headings_and_trend_cells_are_made_again_only_when_they_change(make_app, monkeypatch) -> None:
    app = make_app([collected(fleet()), collected(fleet()), collected(fleet())])
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_once()
        table = app.query_one(TopTable)
        assert await settle(pilot, lambda: table.row_count == 4)
        await app.poll_once()
        await pilot.pause()
        made: list[str] = []
        headings = table._headings
        monkeypatch.setattr(table, "_headings", lambda: made.append("headings") or headings())
        maker = top_table.trend_cell
        monkeypatch.setattr(top_table, "trend_cell", lambda *a, **k: made.append("trend") or maker(*a, **k))
        drawn = [table.get_cell(key, "trend").plain for key in table.shown_keys()]
        table.redraw()  # the same snapshot again: the same headings and sparklines, nothing to make
        await pilot.pause()
        assert [table.get_cell(key, "trend").plain for key in table.shown_keys()] == drawn
        assert made == []
        table.set_sort(table.sort_state.inverted())  # a new arrow: new headings
        assert made == ["headings"]


async def test_a_changed_table_keeps_no_renders_of_what_it_showed_before(make_app) -> None:
    # Every render cache keys on `_update_count`, which only grows: entries from before a change can never be
    # asked for again, and DataTable would keep up to thousands of them (dead strips and segments) until they
    # aged out of its LRU caches.
    rows = fleet()
    moved = [replace(row, values={**row.values, "request_rate": 40.0 + index}) for index, row in enumerate(rows)]
    app = make_app([collected(rows), collected(moved)])
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_once()
        table = app.query_one(TopTable)
        assert await settle(pilot, lambda: table.row_count == 4 and len(table._line_cache.keys()) > 0)
        before = table._update_count
        assert table._line_cache.keys() and table._row_pairs.keys()  # the first paint filled them
        await app.poll_once()
        await pilot.pause()
        count = table._update_count
        assert count > before
        assert table._line_cache.keys() and table._row_pairs.keys()  # filled again by the new paint ...
        assert {key[9] for key in cached(table._line_cache)} == {count}  # ... and only by it
        assert {key[6] for key in cached(table._row_pairs)} == {count}
        for cache in (table._row_render_cache, table._cell_render_cache):
            assert all(count in key for key in cached(cache))
        assert all(key[0] == count for key in cached(table._row_renderable_cache))


def cached(cache: LRUCache) -> list[tuple]:
    """The keys `cache` holds."""
    return list(cache.keys())
