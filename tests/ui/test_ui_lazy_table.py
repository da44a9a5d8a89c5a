"""The overview table builds and repaints only what is on screen (aitop.ui.widgets.lazy_table), and still
shows every row current once it scrolls into view."""

from __future__ import annotations

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
