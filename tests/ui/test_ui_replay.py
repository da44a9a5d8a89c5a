"""The TUI over a recording: REPLAY badge with the recording's time, play/pause, step, seek, speed, and the
jump to the next alert (which judges every scrape on the way, so the rule's `for` holds)."""

from __future__ import annotations

import time

from ui_fakes import settle

from aitop.monitor import Monitor
from aitop.recording.reader import read_recording
from aitop.recording.replay import ReplayCollector
from aitop.recording.writer import Recorder
from aitop.ui.replay import ReplayApp
from aitop.ui.widgets import StatusBar

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z
SIZE = (120, 30)


def _recording(path, seconds: int = 120, burst_from: int = 40):
    """One `llm` model at 10 requests/s; from `burst_from` on, half of them fail."""
    recorder = Recorder(path)
    requests = errors = 0.0
    for i in range(seconds + 1):
        recorder.scrape("10.0.0.1:8000", T0 + i, {
            ("llm_requests_total", (("model", "m"),)): requests,
            ("llm_errors_total", (("model", "m"),)): errors,
        })
        requests += 10.0
        errors += 5.0 if i >= burst_from else 0.0
    recorder.close()
    return read_recording(path)


def _app(tmp_path, **kwargs) -> ReplayApp:
    collector = ReplayCollector(_recording(tmp_path / "r.om"), window=10.0, **kwargs)
    return ReplayApp(Monitor(collector, clock=time.time), interval=None)


async def test_replay_badge_keys_and_next_alert(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        replay = app.replay
        assert replay.playing and replay.position == T0 + 10.0  # from the start plus a window
        await pilot.press("p")
        assert not replay.playing
        await settle(pilot, lambda: app.snapshot is not None)
        status = app.query_one(StatusBar).text.plain
        assert "REPLAY 2026-09-21 14:13:30Z" in status and "⏸ 1×" in status and "recording" in status

        await pilot.press("full_stop")
        assert replay.position == T0 + 11.0
        await pilot.press("comma")
        assert replay.position == T0 + 10.0
        await pilot.press("right_curly_bracket")
        assert replay.position == T0 + 70.0
        await pilot.press("left_curly_bracket")
        assert replay.position == T0 + 10.0
        await pilot.press("x")
        assert replay.speed == 2.0
        await pilot.press("X", "X")
        assert replay.speed == 0.5

        await pilot.press("n")
        assert await settle(pilot, lambda: any(a.state == "firing" for a in (app.snapshot.alerts if app.snapshot else ())))
        # Errors start at +40 s and the window is 10 s: error_rate_critical is pending from the first window
        # above 5 % and fires 30 s (its `for`) later, in recording time.
        assert T0 + 70.0 <= replay.position <= T0 + 72.0
        assert "REPLAY 2026-09-21 14:14:" in app.query_one(StatusBar).text.plain
        firing = [a for a in app.snapshot.alerts if a.state == "firing"]
        assert [a.rule for a in firing] == ["error_rate_warning"]  # above 1 % one scrape before 5 %
        first = replay.position

        await pilot.press("n")
        assert await settle(pilot, lambda: any(a.rule == "error_rate_critical" and a.state == "firing"
                                               for a in app.snapshot.alerts))
        assert first < replay.position <= T0 + 73.0

        await pilot.press("n")  # nothing else fires: to the end, and said so
        assert await settle(pilot, lambda: replay.position == T0 + 120.0)


async def test_replay_at_a_given_time_starts_paused_there(tmp_path):
    app = _app(tmp_path, at=T0 + 50.0)
    async with app.run_test(size=SIZE) as pilot:
        assert not app.replay.playing and app.replay.position == T0 + 50.0
        await app.poll_once()
        await pilot.pause()
        (row,) = app.snapshot.rows
        assert row.values["error_rate"] == 0.5  # the 10 s window ending at +50 s lies inside the burst
