"""The window's peak request rate: the tracker keeps only readings that can still be a peak, and says what
keeping every reading of the window would say."""

from __future__ import annotations

import random
from collections import deque

from aitop.analysis.usage import PeakTracker


def _every_reading(readings: list[tuple[float, float | None]], window: float) -> list[float | None]:
    """The peaks as the whole window's readings give them (the definition)."""
    kept: deque[tuple[float, float]] = deque()
    peaks = []
    for now, rate in readings:
        if rate is not None:
            kept.append((now, rate))
        while kept and kept[0][0] <= now - window:
            kept.popleft()
        peaks.append(max((value for _, value in kept), default=None))
    return peaks


def test_window_peaks_equal_every_reading_even_with_a_clock_going_back() -> None:
    chooser = random.Random(17)
    for _ in range(200):
        tracker, now, readings = PeakTracker(), 1000.0, []
        for _ in range(60):
            now += chooser.choice([2.0, 2.0, 0.5, 7.0, -3.0])  # (-3: a clock stepped back)
            rate = chooser.choice([None, float(chooser.randint(0, 6)), chooser.random() * 6])
            readings.append((now, rate))
        window = chooser.choice([5.0, 10.0, 30.0])
        got = [tracker.observe(("", "vllm", "m"), rate, at, window)[0] for at, rate in readings]
        assert got == _every_reading(readings, window)


def test_a_rising_rate_keeps_one_reading_however_long_the_window() -> None:
    tracker = PeakTracker()
    for step in range(500):
        tracker.observe(("", "vllm", "m"), 1.0 + step, float(step), 3600.0)
    assert len(tracker._recent[("", "vllm", "m")]) == 1
