"""Pilot tests for the overview's keys: sort, filter, group, trend, explain, pause, interval, theme, help,
moving, palette. Frozen clock, scripted collector, no sleeps."""

from __future__ import annotations

from rich.text import Text
from textual.command import CommandPalette
from textual.widgets import Input
from ui_fakes import T0, FakeCollector, collected, fleet, make_row

from aitop.ui.commands import AitopCommands
from aitop.ui.screens import HelpScreen, OverviewScreen
from aitop.ui.screens.modals import ExplainScreen, PickerScreen
from aitop.ui.widgets import FilterBar, StatusBar, TopTable
from aitop.ui.widgets.top_table import split_row_key

SIZE = (120, 40)


async def start(app, pilot) -> TopTable:
    await app.poll_once()
    await pilot.pause()
    return app.query_one(TopTable)


def order(table: TopTable) -> list[str]:
    return [split_row_key(key)[1] for key in table.shown_keys()]


def heading(table: TopTable, key: str) -> str:
    return table.columns[key].label.plain  # type: ignore[index]


async def test_sort_keys_move_invert_and_jump_and_survive_refresh(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        assert order(table) == ["llama-3.1-8b", "mixtral-8x7b", "qwen2.5-7b", "bge-large-en"]
        assert heading(table, "request_rate") == "▼req/s"
        await pilot.press(">")  # next column: err %
        assert table.sort_state.key == "error_rate"
        assert order(table) == ["mixtral-8x7b", "qwen2.5-7b", "llama-3.1-8b", "bge-large-en"]
        assert heading(table, "error_rate") == "▼err %" and heading(table, "request_rate") == " req/s"
        await pilot.press("I")
        assert order(table) == ["bge-large-en", "llama-3.1-8b", "qwen2.5-7b", "mixtral-8x7b"]
        assert heading(table, "error_rate") == "▲err %"
        await pilot.press("<", "<")  # req/s, then schema
        assert table.sort_state.key == "schema" and table.sort_state.reverse
        await pilot.press("P")
        assert table.sort_state.key == "latency_p95" and order(table)[0] == "mixtral-8x7b"
        await pilot.press("P")  # the same letter again inverts
        assert order(table)[0] == "bge-large-en"
        await pilot.press("N")
        assert order(table) == ["bge-large-en", "llama-3.1-8b", "mixtral-8x7b", "qwen2.5-7b"]
        for letter, key in {"R": "request_rate", "E": "error_rate", "L": "latency_p99", "F": "ttft_p95",
                            "T": "output_tokens_rate", "C": "cost_per_hour", "U": "feedback_negative_ratio"}.items():
            await pilot.press(letter)
            assert table.sort_state.key == key, letter
        assert order(table)[0] == "mixtral-8x7b"  # 👎 12 %
        await pilot.press("down")
        selected = table.selected_key
        await app.poll_once()
        await pilot.pause()
        assert table.sort_state.key == "feedback_negative_ratio" and order(table)[0] == "mixtral-8x7b"
        assert table.selected_key == selected


async def test_sort_picker_on_o_and_f6(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        await pilot.press("o")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("down", "enter")  # from req/s (current) to err %
        assert isinstance(app.screen, OverviewScreen) and table.sort_state.key == "error_rate"
        await pilot.press("f6")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("j", "k", "escape")
        assert isinstance(app.screen, OverviewScreen) and table.sort_state.key == "error_rate"


async def test_filter_regex_invert_invalid_escape(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = await start(app, pilot)
        bar = app.query_one(FilterBar)
        assert not bar.display
        await pilot.press("slash")
        assert bar.display and isinstance(app.focused, Input)
        await pilot.press(*"mix")
        await pilot.pause()
        assert order(table) == ["mixtral-8x7b"]
        assert "1 of 4 rows" in str(bar.query_one("#filter-info").render())
        await pilot.press("home", "!")
        await pilot.pause()
        assert order(table) == ["llama-3.1-8b", "qwen2.5-7b", "bge-large-en"]
        await pilot.press("end", "[")  # "!mix[": invalid; the last valid filter stays
        await pilot.pause()
        assert bar.has_class("-invalid") and "invalid regex" in str(bar.query_one("#filter-info").render())
        assert order(table) == ["llama-3.1-8b", "qwen2.5-7b", "bge-large-en"]
        await pilot.press("enter")  # refused: stays in the input, says why
        await pilot.pause()
        assert isinstance(app.focused, Input)
        assert any("invalid regex" in str(n.message) for n in app._notifications)
        await pilot.press("backspace", "enter")
        assert app.focused is table and bar.display
        await app.poll_once()  # the filter survives a refresh
        await pilot.pause()
        assert order(table) == ["llama-3.1-8b", "qwen2.5-7b", "bge-large-en"]
        await pilot.press("escape")
        assert order(table) == ["llama-3.1-8b", "mixtral-8x7b", "qwen2.5-7b", "bge-large-en"]
        assert not bar.display and app.focused is table
        await pilot.press("f4", *"tgi", "escape")  # F4 opens it too; Esc in the input clears
        await pilot.pause()
        assert table.row_count == 4 and not bar.display and app.is_running


async def test_group_by_picker_sets_monitor_and_polls(make_app):
    source = FakeCollector([collected(fleet())])
    app = make_app([], collector=source)
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        calls = source.calls
        await pilot.press("g")
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        assert [label for _, label in picker.choices] == ["model (default)", "engine", "instance", "model_name"]
        await pilot.press("down", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.monitor.group_by == "engine" and source.group_by == "engine"
        assert source.calls == calls + 1  # polled at once to show the new grouping
        assert heading(table, "model").startswith("engine")
        assert "engine groups" in app.query_one(StatusBar).text.plain
        await pilot.press("g", "escape")  # cancel changes nothing
        assert app.monitor.group_by == "engine"
        await pilot.press("g", "home", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.monitor.group_by is None and heading(table, "model").startswith("model")


async def test_trend_column_follows_history_and_w_switches_field(make_app):
    rows = [fleet(), [make_row("llama-3.1-8b", request_rate=84.6, latency_p95=0.2)]]
    app = make_app([collected(rows[0]), collected(rows[1], taken_at=T0 + 2)])
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        await app.poll_once()
        await pilot.pause()
        key = "vllm\x1fllama-3.1-8b"
        assert table.get_cell(key, "trend").plain == "      ▅█"  # 42.3 then 84.6 req/s
        await pilot.press("w")
        assert heading(table, "trend").startswith("p95") and table.get_cell(key, "trend").plain == "      █▃"
        await pilot.press("w")
        assert heading(table, "trend").startswith("req/s")


async def test_e_explains_the_sort_column_of_the_selected_row(make_app):
    row = make_row("llama", latency_p95=0.88, request_rate=1.0,
                   provenance={"latency_p95": "histogram_quantile(0.95, …) — 12 series from 3 targets"})
    app = make_app([collected([row])])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("P", "e")
        screen = app.screen
        assert isinstance(screen, ExplainScreen) and screen.field == "latency_p95"
        assert "880ms" in screen.body and "12 series from 3 targets" in screen.body
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


async def test_pause_keeps_polling_and_freezes_the_display(make_app):
    second = [make_row("llama-3.1-8b", request_rate=99.0)]
    source = FakeCollector([collected(fleet()), collected(second, taken_at=T0 + 2)])
    app = make_app([], collector=source)
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        status = app.query_one(StatusBar)
        await pilot.press("p")
        assert app.paused and "PAUSED" in status.text.plain
        await app.poll_once()  # the timer keeps polling
        await pilot.pause()
        assert source.calls == 2 and app.latest is not None and app.latest.taken_at == T0 + 2
        assert table.row_count == 4  # display unchanged
        assert "PAUSED · 1 new" in status.text.plain
        await pilot.press("space")
        assert not app.paused and "PAUSED" not in status.text.plain
        assert table.row_count == 1 and table.get_cell("vllm\x1fllama-3.1-8b", "request_rate").plain == "99.0"


async def test_r_and_f5_refresh_now_even_while_paused(make_app):
    app = make_app([collected(fleet()[:1]), collected(fleet()[:2]), collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        await pilot.press("p", "r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == 2 and app.paused
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.row_count == 4


async def test_plus_minus_change_the_interval_and_the_timer(make_app):
    app = make_app([collected(fleet())], interval=30.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the first poll starts after the first refresh
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = app.query_one(StatusBar)
        assert "every 30s" in status.text.plain
        first_timer = app._timer
        await pilot.press("plus")
        assert app.poll_seconds == 60.0 and "every 1m" in status.text.plain
        assert app._timer is not first_timer and app._timer is not None
        await pilot.press("plus")  # already the longest
        assert app.poll_seconds == 60.0
        await pilot.press("minus", "minus", "minus")
        assert app.poll_seconds == 5.0 and "every 5s" in status.text.plain
        await pilot.press("equals_sign")
        assert app.poll_seconds == 10.0


async def test_t_cycles_the_aitop_themes_and_recolours_cells(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        seen = [app.theme]
        for _ in range(4):
            await pilot.press("t")
            await pilot.pause()
            seen.append(app.theme)
            cell = table.get_cell("vllm\x1fmixtral-8x7b", "error_rate")
            assert cell.spans[0].style.color.triplet.hex.upper() == app.theme_variables["aitop-critical"].upper()
        assert seen == ["aitop-dark", "aitop-light", "aitop-high-contrast", "aitop-okabe-ito", "aitop-dark"]


async def test_help_lists_every_binding_and_closes(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = app.screen.text
        keys = [set(line.strip().split("  ")[0].split()) for line in shown.splitlines()]
        for needle in ["?", "F1", "q F10 ctrl+c", "p Space", "r F5", "+ =", "-", "t", ":", "/ F4", "g", "<", ">",
                       "I", "N", "R", "E", "P", "L", "F", "T", "C", "U", "o F6", "e", "w", "a", "j", "k", "Home",
                       "End", "Esc Backspace", "1", "5", "[", "]", "b", "ctrl+p", "PgUp PgDn"]:  # fmt: skip
            assert any(set(needle.split()) <= line for line in keys), needle
        assert "invert the sort" in shown and "polling goes on" in shown
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("question_mark", "f1")
        assert isinstance(app.screen, OverviewScreen)


async def test_moving_with_arrows_vim_keys_home_end_pages(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        assert table.cursor_row == 0
        await pilot.press("j", "down")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("end")
        assert table.cursor_row == 3
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("pagedown")
        assert table.cursor_row == 3
        await pilot.press("pageup", "up")
        assert table.cursor_row == 0


async def test_command_palette_jumps_groups_and_survives_hostile_names(make_app):
    rows = [*fleet(), make_row("[@click=app.quit]x[/]", request_rate=0.1)]
    app = make_app([collected(rows)])
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"qw")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen) and table.selected_key == "tgi\x1fqwen2.5-7b"
        await pilot.press("colon", *"[/]")  # `:` opens it too; the markup-like name stays text
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running and table.selected_key == "vllm\x1f[@click=app.quit]x[/]"
        commands = {title: callback for title, callback, _ in AitopCommands(app.screen).commands()}
        for title in ["Group by engine", "Group by model (default)", "Set interval 10s", "Theme aitop-okabe-ito",
                      "Toggle alert sidebar", "Pause / resume display", "Sort by p99", "Filter rows"]:  # fmt: skip
            assert title in commands, title
        commands["Set interval 10s"]()
        commands["Theme aitop-light"]()
        commands["Sort by p99"]()
        assert app.poll_seconds == 10.0 and app.theme == "aitop-light" and table.sort_state.key == "latency_p99"


async def test_q_and_f10_quit(make_app):
    for key in ("q", "f10"):
        app = make_app([collected(fleet())])
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(key)
            await pilot.pause()
        assert app.return_code == 0, key


def test_every_binding_names_an_existing_action():
    from aitop.ui.app import AitopApp
    from aitop.ui.screens import DetailScreen
    from aitop.ui.screens.help import HelpScreen as Help
    from aitop.ui.screens.modals import AlertsScreen
    from aitop.ui.widgets.alert_sidebar import AlertList

    for owner in (AitopApp, OverviewScreen, DetailScreen, TopTable, Help, PickerScreen, ExplainScreen,
                  AlertsScreen, AlertList):  # fmt: skip
        for binding in owner.BINDINGS:  # type: ignore[attr-defined]
            name = binding.action.split("(")[0]
            assert hasattr(owner, f"action_{name}"), (owner.__name__, binding.key, name)
            assert isinstance(Text(binding.description), Text)


async def test_filter_typed_in_one_burst_reaches_the_input(make_app):
    """`/qwen` arriving in one terminal read (a paste, fast typing) is five key events queued back to back:
    the `q` must land in the filter line, not quit through the overview's binding."""
    from textual import events

    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        table = await start(app, pilot)
        for key, char in [("slash", "/"), ("q", "q"), ("w", "w"), ("e", "e"), ("n", "n")]:
            app.post_message(events.Key(key, char))
        await pilot.pause()
        await pilot.pause()
        assert app.is_running
        assert app.query_one(FilterBar).input.value == "qwen"
        assert order(table) == ["qwen2.5-7b"]
        await pilot.press("slash")  # in the filter line, `/` is text, not the binding
        assert isinstance(app.focused, Input) and app.query_one(FilterBar).input.value == "qwen/"
