"""The TUI over a recording: the app with replay keys (play/pause, step, seek, speed, next alert).

The replay's position is the recording's clock; every poll collects the window ending there, so the
monitor's alerts and trend lines follow recording time. Seeking backwards starts the analysis afresh (its
`for` durations and baselines only run forward).
"""

from __future__ import annotations

from textual.binding import Binding

from aitop.recording.reader import rfc3339
from aitop.recording.replay import ReplayCollector
from aitop.ui.app import AitopApp

#: Playback speeds `x` / `X` step through (× recording time per real second).
SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
#: Seconds `{` / `}` seek by.
SEEK = 60.0


class ReplayApp(AitopApp):
    """`AitopApp` for a `ReplayCollector`: space/p play and pause the recording instead of the display."""

    BINDINGS = [
        Binding("p", "toggle_pause", "Play/pause", tooltip="play or pause the recording"),
        Binding("space", "toggle_pause", "Play/pause", show=False, tooltip="play or pause the recording"),
        Binding("full_stop", "step(1)", "Step", key_display=".", tooltip="pause, then one scrape forward"),
        Binding("comma", "step(-1)", "Step back", show=False, key_display=",", tooltip="pause, then one scrape back"),
        Binding("right_curly_bracket", "seek(60)", "Seek +1m", show=False, key_display="}",
                tooltip="one minute forward"),
        Binding("left_curly_bracket", "seek(-60)", "Seek -1m", show=False, key_display="{", tooltip="one minute back"),
        Binding("x", "speed(1)", "Faster", show=False, tooltip="faster playback (0.5× … 60×)"),
        Binding("X", "speed(-1)", "Slower", show=False, tooltip="slower playback"),
        Binding("n", "next_alert", "Next alert", tooltip="play forward to the next alert that fires"),
    ]

    def __init__(self, monitor, **kwargs) -> None:
        # The screens' clock is the recording's: the drill-down's charts and markers end at the replay's
        # position, and "firing for 3m" counts recording time.
        kwargs.setdefault("clock", lambda: monitor.collector.position)
        super().__init__(monitor, **kwargs)

    @property
    def replay(self) -> ReplayCollector:
        """The recording being played (the monitor's collector)."""
        collector = self.monitor.collector
        if not isinstance(collector, ReplayCollector):
            raise TypeError(f"ReplayApp needs a ReplayCollector, not {type(collector).__name__}")
        return collector

    def on_mount(self) -> None:
        replay = self.replay
        if not replay.at_given:  # from the start (plus a window, so rates exist), playing
            replay.seek(replay.recording.start + replay.window_seconds)
            replay.play(True)
        super().on_mount()

    def _moved(self, backwards: bool) -> None:
        if backwards:  # alert lifecycles and baselines only run forward in time
            self.monitor.analyzer.reset()
            self.monitor.recorded = self.monitor.recorded.fresh()
        self.request_poll(show=True)

    def action_toggle_pause(self) -> None:
        """Play or pause the recording."""
        replay = self.replay
        if not replay.playing and replay.position >= replay.recording.end:
            self.notify("end of the recording: { or , go back", timeout=3)
            return
        replay.play(not replay.playing)
        self.request_poll(show=True)

    def action_step(self, direction: int) -> None:
        """Pause and move to the next (or previous) recorded scrape."""
        replay = self.replay
        replay.play(False)
        target = replay.next_scrape(replay.position) if direction > 0 else replay.previous_scrape(replay.position)
        if target is None:
            self.notify("end of the recording" if direction > 0 else "start of the recording", timeout=2)
            return
        replay.seek(target)
        self._moved(direction < 0)

    def action_seek(self, seconds: float) -> None:
        """Move by `seconds` of recording time."""
        self.replay.seek(self.replay.position + seconds)
        self._moved(seconds < 0)

    def action_speed(self, step: int) -> None:
        """The next faster (or slower) playback speed."""
        replay = self.replay
        faster = [s for s in SPEEDS if s > replay.speed]
        slower = [s for s in SPEEDS if s < replay.speed]
        if step > 0 and faster:
            replay.speed = faster[0]
        elif step < 0 and slower:
            replay.speed = slower[-1]
        self.notify(f"replay at {replay.speed:g}×", timeout=2)
        self.request_poll(show=True)

    def action_next_alert(self) -> None:
        """Pause, then step scrape by scrape (judging each, so `for` durations hold) until an alert fires."""
        self.replay.play(False)
        self.run_worker(self._to_next_alert(), group="poll", exclusive=False, description="next alert")

    async def _to_next_alert(self) -> None:
        replay, monitor = self.replay, self.monitor
        firing = {alert.id for alert in (self.latest.alerts if self.latest else ()) if alert.state == "firing"}
        snapshot = None
        self._poll_busy = True  # the timer's polls wait: they would judge the same instants twice
        try:
            while (target := replay.next_scrape(replay.position)) is not None:
                replay.seek(target)
                snapshot = await monitor.refresh()
                new = [alert for alert in snapshot.alerts if alert.state == "firing" and alert.id not in firing]
                if new:
                    self.latest = snapshot
                    self.show(snapshot)
                    self.notify(f"{rfc3339(snapshot.taken_at)}: {new[0].message}", timeout=6, markup=False)
                    return
                firing = {alert.id for alert in snapshot.alerts if alert.state == "firing"}
        finally:
            self._poll_busy = False
        if snapshot is not None:
            self.latest = snapshot
            self.show(snapshot)
        self.notify("no further alert fires in the recording", timeout=4)
