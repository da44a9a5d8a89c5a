"""Hostile label values: no crash, no markup, no live links or actions, no escapes out."""

from __future__ import annotations

from rich.text import Text
from ui_fakes import TARGETS, collected, down, make_row, up

from aitop.ui.screens import DetailScreen, OverviewScreen
from aitop.ui.widgets import StatusBar, TopTable

HOSTILE = [
    "[/]",
    "[/bold]",
    "[link=http://x]x[/link]",
    "[@click=app.quit]x[/]",
    "\x1b]0;pwned\x07",
    "\x1b]52;c;SGVsbG8=\x07",
    "\x9b31m",
    "\x1b[2J\x1b[H" + "A" * 1_000_000,  # 1 MB, with a clear-screen in front
    "C:\\",
    "evil\u202etxt.exe",
]


def hostile_rows(rate_offset: float = 0.0):
    return [
        make_row(label, request_rate=index + 1 + rate_offset, error_rate=0.5, latency_p95=0.2)
        for index, label in enumerate(HOSTILE)
    ]


def is_c1(char: str) -> bool:
    return 0x80 <= ord(char) <= 0x9F


async def test_hostile_labels_render_as_literal_text(make_app):
    targets = [up(TARGETS[0]), down(TARGETS[1], "[/]\x1b]0;pwned\x07 [@click=app.quit]x[/]"), up(TARGETS[2])]
    app = make_app([collected(hostile_rows(), targets=targets), collected(hostile_rows(10.0), targets=targets)])
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(TopTable)
        given: list[object] = []
        add_row, update_cell = table.add_row, table.update_cell

        def spy_add_row(*cells, **kwargs):
            given.extend(cells)
            return add_row(*cells, **kwargs)

        def spy_update_cell(row_key, column_key, value, **kwargs):
            given.append(value)
            return update_cell(row_key, column_key, value, **kwargs)

        table.add_row, table.update_cell = spy_add_row, spy_update_cell
        await app.poll_once()  # adds every row
        await pilot.pause()
        await app.poll_once()  # updates every row in place
        await pilot.pause()

        assert table.row_count == len(HOSTILE)
        assert given and all(isinstance(cell, Text) for cell in given)
        for key in table.rows:
            assert all(isinstance(cell, Text) for cell in table.get_row(key))
        models = {table.get_row(key)[0].plain[2:] for key in table.rows}  # after the "● " mark
        # markup stays literal; controls are visible escapes; the huge label is capped
        assert {"[/]", "[/bold]", "[link=http://x]x[/link]", "[@click=app.quit]x[/]"} <= models
        assert "^[]0;pwned^G" in models and "<U+009B>31m" in models
        assert max(len(model) for model in models) <= 42
        assert all("\x1b" not in model and not any(is_c1(c) for c in model) for model in models)

        status = app.query_one(StatusBar)
        assert isinstance(status.text, Text)
        assert "[/]^[]0;pwned^G [@click=app.quit]x[/]" in status.text.plain

        for y in range(1, table.row_count + 1):
            await pilot.click(TopTable, offset=(4, y))
            await pilot.pause()
            if isinstance(app.screen, DetailScreen):  # a click on the highlighted row drills down
                await app.workers.wait_for_complete()
                await pilot.pause()
                title = app.screen.query_one("#detail-title").render()
                assert "\x1b" not in str(title)
                await pilot.press("escape")
                await pilot.pause()
            assert isinstance(app.screen, OverviewScreen)
        await pilot.click(StatusBar, offset=(60, 0))
        await pilot.click(StatusBar, offset=(100, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None

        screen = app.export_screenshot()
        assert "\x1b" not in screen
        assert not any(is_c1(char) for char in screen)
        assert "http://x" not in screen.split("<style")[0]  # no hyperlink target outside the text itself
