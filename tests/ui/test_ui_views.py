"""Views (`v`) and the column picker (`c` / F2): the choice shows at once, survives refreshes, and is saved
in the config file, from which the next start reads it."""

from __future__ import annotations

import tomllib

from ui_fakes import collected, fleet

from aitop.config import load_config_file
from aitop.ui.screens.column_picker import ColumnPickerScreen
from aitop.ui.views import VIEWS
from aitop.ui.widgets import FleetHeader, TopTable


def columns(table: TopTable) -> list[str]:
    return [str(column.key.value) for column in table.ordered_columns]


async def test_v_cycles_the_views_for_each_audience(make_app):
    app = make_app([collected(fleet())] * 6)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        assert app.screen.view_name == "overview" and "latency_p99" in columns(table)
        await pilot.press("v")
        await pilot.pause()
        assert app.screen.view_name == "cost"
        assert columns(table)[:6] == ["model", "request_rate", "error_rate", "cost_per_hour", "cost_per_day",
                                      "feedback_negative_ratio"]  # fmt: skip
        assert app.query_one(FleetHeader).text.plain.startswith("[cost] fleet")
        await pilot.press("v")
        await pilot.pause()
        assert {"latency_p95", "ttft_p95", "tpot_p95", "waiting", "kv_cache_usage"} <= set(columns(table))
        await pilot.press("v")
        await pilot.pause()
        assert {"feedback_negative_ratio", "latency_drift", "ttft_drift"} <= set(columns(table))
        await pilot.press("v")
        assert app.screen.view_name == "overview" and [view.name for view in VIEWS][-1] == "quality"


async def test_sorting_by_a_column_the_view_lacks_still_shows_it_with_its_mark(make_app):
    app = make_app([collected(fleet())] * 3)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        assert "ttft_p95" not in columns(table)
        await pilot.press("F")  # TTFT p95: hidden at 80 columns until it is the sort column
        await pilot.pause()
        assert "ttft_p95" in columns(table)
        heading = table.columns[next(c.key for c in table.ordered_columns if c.key.value == "ttft_p95")].label
        assert heading.plain.startswith("▼")


async def test_the_picker_chooses_orders_and_saves_a_views_columns(make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "aitop-dark"  # mine\n')
    app = make_app([collected(fleet())] * 4, config_path=path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("v", "c")  # the cost view's columns
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ColumnPickerScreen)
        assert picker.order[:3] == ["request_rate", "error_rate", "cost_per_hour"]
        assert str(picker.list.get_option_at_index(0).prompt).startswith("shown  req/s")
        await pilot.press("space")  # hide req/s
        await pilot.pause()
        assert str(picker.list.get_option_at_index(0).prompt).startswith("hidden req/s")  # in words, not colour only
        await pilot.press("down", "right_square_bracket")  # move err % below $/h
        await pilot.press("enter")
        await pilot.pause()
        table = app.query_one(TopTable)
        # req/s stays only as the sort column, at the end with its ▼; the rest in the chosen order
        assert columns(table)[:4] == ["model", "cost_per_hour", "error_rate", "cost_per_day"]
        saved = tomllib.loads(path.read_text())
        assert saved["theme"] == "aitop-dark" and "# mine" in path.read_text()
        assert saved["columns"]["cost"][:4] == ["model", "cost_per_hour", "error_rate", "cost_per_day"]
        assert "request_rate" not in saved["columns"]["cost"]
        assert any("saved to" in str(note.message) for note in app._notifications)
        await pilot.press("c", "escape")  # Esc changes nothing
        await pilot.pause()
        assert columns(table)[:4] == ["model", "cost_per_hour", "error_rate", "cost_per_day"]
    assert load_config_file(path).columns["cost"][:3] == ("model", "cost_per_hour", "error_rate")


async def test_columns_from_the_config_file_and_unknown_names_reported(make_app):
    app = make_app([collected(fleet())], columns={"cost": ["model", "cost_per_day", "nope"], "ceo": ["model"]})
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        assert columns(app.query_one(TopTable))[:2] == ["model", "cost_per_day"]
        messages = [str(note.message) for note in app._notifications]
        assert any("columns.cost: unknown column 'nope' skipped" in m for m in messages)
        assert any("columns.ceo: no such view" in m for m in messages)
