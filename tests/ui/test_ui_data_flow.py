"""Textual's own data flow: the app's reactives (snapshot, paused, held, poll_seconds) that screens watch,
the drill-down's loading worker and the one worker-error router, and theme-signal subscriptions that stay
one per widget however long the app runs."""

from __future__ import annotations

import asyncio
import gc
import weakref

from textual.worker import WorkerState
from ui_fakes import T0, FakeCollector, collected, fleet, make_row, remote_history

from aitop.ui.screens import DetailScreen
from aitop.ui.widgets import StatusBar

SIZE = (120, 40)
LLAMA = ("vllm", "llama-3.1-8b")


def theme_subscriptions(app) -> int:
    """Callbacks subscribed to the app's theme signal (Textual keeps a list per node; dead nodes are pruned
    when it publishes)."""
    return sum(len(callbacks) for callbacks in app.theme_changed_signal._subscriptions.values())


async def test_theme_signal_subscriptions_stay_flat_over_many_ticks_polls_and_drill_downs(make_app, clock):
    """The status line used to subscribe again on every one-second tick: 86,400 callbacks a day, each theme
    change then re-rendering it that many times."""
    source = FakeCollector([collected(fleet())])
    source.remote_history = remote_history()
    app = make_app([], collector=source)
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("enter")  # a drill-down and back: its widgets subscribe while it is open
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await pilot.pause()
        app.theme = "aitop-light"  # publishing prunes the closed drill-down's subscriptions
        await pilot.pause()
        baseline = theme_subscriptions(app)
        assert baseline > 0
        status = app.query_one(StatusBar)
        for round_ in range(20):
            clock.advance(5.0)  # overdue: every tick renders
            await app.poll_once()
            for _ in range(10):
                status._tick()  # what the one-second timer runs
            if round_ % 5 == 0:
                await pilot.press("enter")
                await app.workers.wait_for_complete()
                detail = app.screen
                assert isinstance(detail, DetailScreen)
                for _ in range(10):
                    detail.query_one(StatusBar)._tick()
                await pilot.press("escape")
            await pilot.pause()
        app.theme = "aitop-dark"
        await pilot.pause()
        assert theme_subscriptions(app) == baseline


async def test_pause_and_interval_are_app_reactives_every_open_screen_shows(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        overview = app.query_one(StatusBar)
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen.query_one(StatusBar)
        app.paused = True  # set directly: no action routes it to the screens
        app.held = 3
        app.poll_seconds = 30.0
        await pilot.pause()
        for status in (overview, detail):
            assert "PAUSED · 3 new (p)" in status.text.plain and "every 30s" in status.text.plain
        app.paused = False
        await pilot.pause()
        assert "PAUSED" not in overview.text.plain and "PAUSED" not in detail.text.plain


async def test_a_screen_pushed_while_paused_starts_from_the_snapshot_on_display_and_its_state(make_app):
    first = collected([make_row("llama-3.1-8b", request_rate=10.0)])
    second = collected([make_row("llama-3.1-8b", request_rate=99.0)], taken_at=T0 + 2)
    app = make_app([first, second])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("p")
        await app.poll_once()  # collected, held back from the display
        await pilot.pause()
        app.overview.open_detail(LLAMA)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.query_one("#fields").get_row("request_rate")[1].plain == "10.0"  # not 99.0
        assert "PAUSED · 1 new (p)" in screen.query_one(StatusBar).text.plain
        await pilot.press("p")  # resume: the drill-down on top shows the held snapshot at once
        await pilot.pause()
        assert screen.query_one("#fields").get_row("request_rate")[1].plain == "99.0"


async def test_a_drill_down_load_that_fails_is_one_line_never_a_traceback(make_app, monkeypatch):
    app = make_app([collected(fleet())])

    async def broken(*_args: object) -> None:
        raise RuntimeError("GET https://user:hunter2@prom.example/api/v1/query_range failed")

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        monkeypatch.setattr(app.monitor, "history", broken)
        await app.poll_once()
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [str(note.message) for note in app._notifications]
        assert "drill-down history not loaded: RuntimeError" in messages
        assert not any("hunter2" in message for message in messages)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen._loader is not None
        assert screen._loader.state is WorkerState.ERROR
        assert screen.query_one("#fields").get_row("request_rate")[1].plain  # the screen goes on
        await pilot.press("escape")
        await app.poll_once()
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_a_new_range_cancels_the_running_load_and_a_refresh_waits_for_it(make_app, clock):
    source = FakeCollector([collected(fleet())])
    release = asyncio.Event()
    asked: list[float] = []

    async def slow_history(key, fields, seconds):
        asked.append(seconds)
        await release.wait()
        return remote_history()

    source.history = slow_history  # type: ignore[method-assign]
    app = make_app([], collector=source)
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        first = screen._loader
        assert first is not None and asked == [900.0]
        clock.advance(60.0)  # a refresh that is due to refetch the charts
        await app.poll_once()
        await pilot.pause()
        assert screen._loader is first and first.state is WorkerState.RUNNING  # not cancelled by a tick
        await pilot.press("1")  # another range: the running fetch answers a question no longer asked
        await pilot.pause()
        assert first.state is WorkerState.CANCELLED and screen._loader is not first
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert asked == [900.0, 300.0] and screen.loads == 1 and screen.range_seconds == 300.0


async def test_closed_drill_downs_are_not_kept_alive_by_watchers_or_signals(make_app):
    """Textual drops a closed node's watchers of another node only when the watched value next changes,
    and a signal's subscribers only when it next publishes; the interval or the theme may never change
    again, so each closed drill-down would stay in memory until then."""
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        closed: list[weakref.ref[DetailScreen]] = []
        for _ in range(6):
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            closed.append(weakref.ref(app.screen))
            await pilot.press("escape")
            await pilot.pause()
        await pilot.pause()
        gc.collect()
        alive = [screen for ref in closed if (screen := ref()) is not None]
        assert len(alive) <= 1, f"{len(alive)} of 6 closed drill-downs still referenced"
