"""The rate window and the clock in the TUI (docs/architecture.md): the status line and `e` say which window
was used and why; a clock skew is a badge."""

from __future__ import annotations

from ui_fakes import T0, make_row

from aitop.model import Snapshot, TargetHealth
from aitop.ui.cells import Palette
from aitop.ui.explain import explain_text
from aitop.ui.widgets.status_bar import status_text

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
