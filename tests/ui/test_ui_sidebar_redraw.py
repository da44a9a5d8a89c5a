"""The alert sidebar redraws only what changed: ages past the first minute tick by the minute, and an
unchanged alert list costs no option rebuild (it was 80 % of the terminal bytes of a refresh)."""

from __future__ import annotations

from ui_fakes import collected, fleet, fleet_alerts

from aitop.ui.alert_text import alert_age
from aitop.ui.widgets.alert_sidebar import AlertSidebar


def test_alert_ages_tick_by_the_minute_past_the_first_minute() -> None:
    assert [alert_age(s) for s in (0, 45, 60, 194, 239, 3599, 3700, 86400 + 3600 * 4)] == [
        "0s", "45s", "1m", "3m", "3m", "59m", "1h01m", "1d04h"]


async def test_the_sidebar_redraws_only_the_alerts_whose_text_changed(make_app, clock, monkeypatch) -> None:
    errors, resolved = fleet_alerts()[1], fleet_alerts()[3]  # 3m14s and 15m02s old
    app = make_app([collected(fleet())])
    async with app.run_test(size=(200, 60)) as pilot:
        await app.poll_once()
        await pilot.pause()
        sidebar = app.overview.query_one(AlertSidebar)
        sidebar.show_alerts([errors, resolved])
        alerts = sidebar.list
        calls: list[str] = []
        rebuild, replace = alerts.set_options, alerts.replace_option_prompt
        monkeypatch.setattr(alerts, "set_options", lambda *a, **k: calls.append("rebuild") or rebuild(*a, **k))
        monkeypatch.setattr(alerts, "replace_option_prompt", lambda i, p: calls.append(i) or replace(i, p))

        clock.advance(2)  # the next refresh: "3m" and "15m" still
        sidebar.show_alerts([errors, resolved])
        assert calls == []
        clock.advance(44)  # 4m00s and 15m48s: only the first entry changed
        sidebar.show_alerts([errors, resolved])
        assert calls == ["alert-0"]
        assert str(alerts.get_option_at_index(0).prompt).startswith("‼ CRIT firing 4m")
        sidebar.show_alerts([resolved])  # a different list: rebuilt
        assert calls[-1] == "rebuild"


async def test_the_snapshot_on_display_sent_again_costs_no_work(make_app, monkeypatch) -> None:
    app = make_app([collected(fleet(), alerts=fleet_alerts())])
    async with app.run_test(size=(200, 60)) as pilot:
        snapshot = await app.poll_once()
        await pilot.pause()
        applied: list[object] = []
        table_apply = app.overview.table.apply
        monkeypatch.setattr(app.overview.table, "apply", lambda *a: applied.append(a) or table_apply(*a))
        app.show(snapshot)  # e.g. resuming with nothing new
        assert applied == []
        app.show(await app.monitor.refresh())  # a new snapshot is shown
        assert len(applied) == 1


async def test_a_large_table_is_filtered_when_typing_pauses_not_at_every_key(make_app, monkeypatch) -> None:
    from ui_fakes import make_row

    from aitop.ui.screens import filtering

    rows = [make_row(f"model-{i:04d}") for i in range(filtering.FILTER_DEFER_ROWS + 1)]
    app = make_app([collected(rows)])
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.overview.table
        filtered: list[str] = []
        set_filter = table.set_filter
        table.set_filter = lambda f: filtered.append(f.text) or set_filter(f)  # type: ignore[method-assign]
        # Typing that never pauses long enough (whatever the machine's load between two keys): no filtering.
        monkeypatch.setattr(filtering, "FILTER_PAUSE", 3600.0)
        await pilot.press("slash", "0", "0")
        assert filtered == []  # the keys were answered; the 501 rows not re-filtered at each key
        # Then a pause after the last key: the whole text is applied once (the earlier keys' waits cancelled).
        monkeypatch.setattr(filtering, "FILTER_PAUSE", 0.05)
        await pilot.press("1")
        for _ in range(200):  # (up to 10 s on a loaded machine; normally the first few)
            if filtered:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)  # a second, wrong application would show here
        assert filtered == ["001"] and table.row_count == sum("001" in row.group for row in rows) == 11


async def test_an_unchanged_heading_and_row_count_are_not_repainted(make_app, monkeypatch) -> None:
    from textual.widgets import Static

    from aitop.ui.widgets.filter_bar import FilterBar

    app = make_app([collected(fleet(), alerts=fleet_alerts())])
    async with app.run_test(size=(200, 60)) as pilot:
        await app.poll_once()
        await pilot.pause()
        title = app.overview.query_one("#alerts-title", Static)
        info = app.overview.query_one(FilterBar).query_one("#filter-info", Static)
        shown_title, shown_info = str(title.render()), str(info.render())
        updated: list[str] = []
        for widget in (title, info):
            update = widget.update
            monkeypatch.setattr(widget, "update", lambda *a, _u=update, _w=widget, **k:
                                updated.append(_w.id or "") or _u(*a, **k))  # fmt: skip
        app.show(await app.monitor.refresh())  # a new snapshot, the same alerts and rows
        await pilot.pause()
        assert updated == []
        assert (str(title.render()), str(info.render())) == (shown_title, shown_info)
        app.overview.query_one(AlertSidebar).show_alerts(fleet_alerts()[:1])  # fewer alerts: a new heading
        assert updated == ["alerts-title"]
