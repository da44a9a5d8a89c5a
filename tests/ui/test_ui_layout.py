"""Responsive layout and the status line: 80×24, 200×60, resize keeping state, the too-small notice, the
alert sidebar and its badge, and the badges that change what the numbers mean (TLS, PARTIAL, PAUSED)."""

from __future__ import annotations

from ui_fakes import collected, fleet, fleet_alerts, settle

from aitop.ui.screens import DetailScreen, OverviewScreen
from aitop.ui.screens.modals import AlertsScreen
from aitop.ui.widgets import AlertList, AlertSidebar, StatusBar, TooSmall, TopTable
from aitop.ui.widgets.top_table import split_row_key

NARROW = ["model", "request_rate", "error_rate", "latency_p95", "latency_p99", "trend", "cost_per_hour"]


def columns(table: TopTable) -> list[str]:
    return [str(column.key.value) for column in table.ordered_columns]


async def start(app, pilot) -> TopTable:
    await app.poll_once()
    await pilot.pause()
    return app.query_one(TopTable)


async def test_80x24_hides_columns_and_the_sidebar_becomes_a_badge(make_app):
    app = make_app([collected(fleet(), alerts=fleet_alerts())])
    async with app.run_test(size=(80, 24)) as pilot:
        table = await start(app, pilot)
        assert columns(table) == NARROW
        assert not app.query_one(AlertSidebar).display or not app.screen.sidebar_visible
        status = app.query_one(StatusBar).text.plain
        assert "‼ ALERTS 3 firing 1 pending (a)" in status
        assert "updated 2s ago" in status[:78]  # the age comes first: the 78 cells the line has at 80 keep it
        await pilot.press("a")  # too narrow for the sidebar: the list opens over the screen
        assert isinstance(app.screen, AlertsScreen)
        alerts = app.screen.query_one(AlertList)
        assert [a.rule for a in alerts.alerts][:2] == ["prometheus:VLLMQueueBacklog", "error_rate_high"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen) and app.screen.key == ("vllm", "mixtral-8x7b")
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("a", "escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("a")
        assert isinstance(app.screen, AlertsScreen)
        await pilot.press("a")  # `a` closes it again
        assert isinstance(app.screen, OverviewScreen)


async def test_wide_terminal_shows_more_columns_and_the_alert_sidebar(make_app):
    app = make_app([collected(fleet(), alerts=fleet_alerts())])
    async with app.run_test(size=(200, 60)) as pilot:
        table = await start(app, pilot)
        overview = app.screen
        sidebar = app.query_one(AlertSidebar)
        # Every column the width allows, and the alerts below them: too little room is left beside.
        assert {"latency_p50", "input_tokens_rate", "schema", "kv_cache_usage"} <= set(columns(table))
        assert overview.sidebar_visible and sidebar.display and overview.has_class("-sidebar-below")
        assert sidebar.outer_size.width == 200 and sidebar.region.y > table.region.y
        with_alerts = columns(table)
        assert "ALERTS" not in app.query_one(StatusBar).text.plain  # the sidebar lists them
        assert "Alerts · 3 firing · 1 pending" in str(app.query_one("#alerts-title").render())
        await pilot.press("tab")
        assert isinstance(app.focused, AlertList)
        await pilot.press("j", "k", "enter")  # first: the Prometheus alert on mixtral
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen) and app.screen.key == ("vllm", "mixtral-8x7b")
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await pilot.press("a")
        await pilot.pause()
        assert not overview.sidebar_visible and not sidebar.display
        assert "‼ ALERTS 3 firing 1 pending (a)" in app.query_one(StatusBar).text.plain
        assert columns(table) == with_alerts  # the sidebar never had any column to give back
        await pilot.press("a")
        await pilot.pause()
        assert overview.sidebar_visible and sidebar.display


async def test_an_alert_never_takes_a_column_at_120x40(make_app):
    """The issue's 120×40 case: schema, TTFT, out tok/s and 👎 stay through an alert and after it."""
    app = make_app([collected(fleet()), collected(fleet(), alerts=fleet_alerts()), collected(fleet())])
    async with app.run_test(size=(120, 40)) as pilot:
        table = await start(app, pilot)
        quiet = columns(table)
        assert not app.screen.sidebar_visible and len(quiet) == 11
        assert {"schema", "ttft_p95", "output_tokens_rate", "feedback_negative_ratio"} <= set(quiet)
        await app.poll_once()
        await pilot.pause()
        sidebar = app.query_one(AlertSidebar)
        assert app.screen.sidebar_visible and columns(table) == quiet
        assert app.screen.has_class("-sidebar-below") and sidebar.region.y > table.region.y
        await app.poll_once()
        await pilot.pause()
        assert not app.screen.sidebar_visible and columns(table) == quiet


async def test_the_sidebar_fills_what_the_columns_leave_beside_them(make_app):
    """When the columns leave room (a narrow view), the sidebar takes all of it: no blank cells between."""
    from aitop.ui.columns import COLUMN_BY_KEY

    app = make_app([collected(fleet(), alerts=fleet_alerts())])
    async with app.run_test(size=(200, 60)) as pilot:
        table = await start(app, pilot)
        table.set_columns(tuple(COLUMN_BY_KEY[key] for key in NARROW))
        app.screen._sync_sidebar()
        await pilot.pause()
        sidebar = app.query_one(AlertSidebar)
        assert columns(table) == NARROW and not app.screen.has_class("-sidebar-below")
        assert table.outer_size.width + sidebar.outer_size.width == 200
        assert table.outer_size.width == table.needed_width


async def test_resize_keeps_sort_filter_and_selection_and_too_small_shows_a_notice(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=(120, 40)) as pilot:
        table = await start(app, pilot)
        await pilot.press("P", "slash", *"mix|llama", "enter", "down")
        selected = table.selected_key
        assert selected is not None and split_row_key(selected)[1] == "llama-3.1-8b"
        for size in [(80, 24), (50, 12), (200, 60), (120, 40)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert table.selected_key == selected, size
            assert table.sort_state.key == "latency_p95" and table.row_filter.text == "mix|llama"
            assert table.row_count == 2
        await pilot.resize_terminal(50, 12)
        notice = app.screen.query_one(TooSmall)
        assert await settle(pilot, lambda: notice.display and not app.screen.query_one("#body").display)
        assert "50×12" in str(notice.render()) and "60×15" in str(notice.render())
        await pilot.resize_terminal(80, 24)
        assert await settle(pilot, lambda: not notice.display and app.screen.query_one("#body").display)
        assert await settle(pilot, lambda: columns(table) == NARROW), columns(table)


async def test_status_line_backend_tls_partial_interval_and_paused(make_app):
    snapshot = collected(fleet(), backend="Prometheus 2.53.0", tls_verified=False,
                         warnings=["store gateway 10.0.0.9 unreachable", "query hit the sample limit"])  # fmt: skip
    app = make_app([snapshot])
    async with app.run_test(size=(160, 40)) as pilot:
        await start(app, pilot)
        status = app.query_one(StatusBar)
        banner, line = status.text.plain.split("\n")
        assert "PARTIAL data: store gateway 10.0.0.9 unreachable (+1 more)" in banner
        assert line.startswith("aitop  TLS NOT VERIFIED ")
        assert "(Prometheus 2.53.0)" in line and "every 2s" in line and "vllm, tgi" in line
        await pilot.press("p")
        assert status.text.plain.split("\n")[1].startswith("aitop  PAUSED (p)   TLS NOT VERIFIED ")
        await pilot.press("enter")
        # The drill-down's own status bar shows the snapshot once the screen has mounted: wait for it (a
        # single pause is not always enough on a loaded machine).
        assert await settle(pilot, lambda: "PAUSED" in app.screen.query_one(StatusBar).text.plain)
        detail_status = app.screen.query_one(StatusBar).text.plain
        assert "PAUSED" in detail_status and "TLS NOT VERIFIED" in detail_status and "PARTIAL" in detail_status
        await app.workers.wait_for_complete()


def test_the_age_survives_80_columns_behind_a_long_url_and_the_alert_badge():
    """The issue's case: the demo's URL and the badge pushed "updated Xs ago" past 80 columns."""
    from ui_fakes import T0

    from aitop.model import Snapshot
    from aitop.ui.cells import Palette
    from aitop.ui.widgets.status_bar import status_text

    data = collected(fleet(), alerts=fleet_alerts())
    snapshot = Snapshot(taken_at=T0, window_seconds=30.0, source_kind="scrape",
                        source_targets=("http://127.0.0.1:44071/metrics",), targets=data.targets[:1],
                        rows=data.rows, alerts=data.alerts)  # fmt: skip
    line = status_text(snapshot, T0 + 2, Palette(), alert_badge=True).plain
    assert "updated 2s ago" in line[:78]


async def test_a_resize_runs_the_base_screens_resize_handler_once(make_app, monkeypatch):
    """Textual calls each class's own `on_resize`: the overview must not call the base one again itself."""
    from aitop.ui.screens.base import DataScreen

    calls = {"overview": 0, "base": 0}
    own, base = OverviewScreen.on_resize, DataScreen.on_resize

    def overview_resize(screen, event) -> None:
        calls["overview"] += 1
        own(screen, event)

    def base_resize(screen, event) -> None:
        calls["base"] += 1
        base(screen, event)

    monkeypatch.setattr(OverviewScreen, "on_resize", overview_resize)
    monkeypatch.setattr(DataScreen, "on_resize", base_resize)
    app = make_app([collected(fleet())])
    async with app.run_test(size=(120, 40)) as pilot:
        await start(app, pilot)
        for size in [(80, 24), (200, 60)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
        assert calls["overview"] >= 2 and calls["base"] == calls["overview"], calls
