"""The rate window and the clock in the TUI (docs/architecture.md): the status line and `e` say which window
was used and why; a clock skew is a badge."""

from __future__ import annotations

from dataclasses import replace

from ui_fakes import T0, collected, fleet, make_row

from aitop.model import Snapshot, TargetHealth
from aitop.ui.cells import Palette
from aitop.ui.explain import explain_text
from aitop.ui.widgets import StatusBar
from aitop.ui.widgets.status_bar import status_text, steady_window

PROM = TargetHealth("http://prom:9090", "prometheus", True, last_success=T0)


def snapshot(**extra) -> Snapshot:
    return Snapshot(T0, 60.0, "prometheus", ("http://prom:9090",), (PROM,),
                    (make_row("llama-3.1-8b", request_rate=4.2),), **extra)


def test_status_line_says_the_window_was_widened_to_fit_the_scrape_interval():
    text = status_text(snapshot(window_requested_seconds=10.0, scrape_interval=15.0), T0, Palette()).plain
    assert "window 1m (asked 10s, 4×15s scrape)" in text


def test_status_line_shows_a_clock_skew_badge_past_five_seconds():
    assert "CLOCK +30s vs server" in status_text(snapshot(clock_offset=-30.2), T0, Palette()).plain
    assert "CLOCK" not in status_text(snapshot(clock_offset=-4.0), T0, Palette()).plain


def test_explain_says_the_window_used_and_the_one_asked():
    snap = snapshot(window_requested_seconds=10.0, scrape_interval=15.0)
    text = explain_text(snap.rows[0], "request_rate", snap, Palette()).plain
    assert "window    60s (asked 10s: 4 × the 15s scrape interval)" in text


async def test_a_scrape_window_flipping_by_one_refresh_does_not_redraw_the_status_line(make_app):
    """A scrape-mode window measures between the asked one and one refresh more (30 s or 32 s at 2 s, by the
    phase of the scrapes): the status line keeps stating the first and is not sent again for it."""
    assert steady_window(None, 32.0, 2.0) == 32.0
    assert steady_window(30.0, 32.1, 2.0) == 30.0 and steady_window(30.0, 30.0, 2.0) == 30.0
    assert steady_window(30.0, 40.0, 2.0) == 40.0 and steady_window(30.0, 28.0, 2.0) == 28.0
    app = make_app([collected(fleet())])
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        status = app.query_one(StatusBar)
        first = app.snapshot
        assert "window 30s" in status.text.plain
        shown = status.text
        for window in (32.0, 30.1, 31.9, 32.2):
            status.apply(replace(first, window_seconds=window))
            assert status.text is shown, status.text.plain  # not even made again: nothing to send
        status.apply(replace(first, window_seconds=45.0))  # a real change is stated at once
        assert "window 45s" in status.text.plain
