"""What "normal" is for each (row, field): a rolling median / MAD over time slots.

Samples are averaged into slots of `window / slots` seconds (30 s by default); the baseline is the median of
the completed slots of the last `window` (20 min), and its spread combines the typical within-slot noise
(the median slot variance: how much one reading wanders) with the MAD between slots (how much the level
wanders). Robust: an incident shorter than half the window moves the median not at all, and a service that
starts in a bad state is forgotten as soon as good slots outnumber bad ones. Cheap: O(1) per sample, a
sort of ≤ `slots` numbers per reading, bounded memory. Seasonality-free on purpose: a 20-minute window
follows the daily swing without modelling it. The slot still filling is never part of the baseline, so a
reading is not judged against itself.

Unknown values (None, NaN, ±Inf) are gaps: skipped, never treated as 0.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from aitop.analysis.settings import BaselineSettings

#: Deviations are never measured against less spread than this fraction of the mean: a perfectly flat
#: series would otherwise call any wobble an infinite anomaly.
RELATIVE_FLOOR = 0.05
#: MAD → standard deviation for normally distributed data.
MAD_TO_STD = 1.4826


class BaselineView(NamedTuple):
    """A frozen reading of one baseline. (A named tuple: one is made per judged field and row each refresh,
    and one costs a third of a frozen dataclass.)"""

    mean: float  # the median level (named mean: it is what rules multiply)
    std: float  # the spread of a single reading around it
    samples: int
    ready: bool

    def score(self, value: float) -> float:
        """Signed deviation of `value` in (floored) standard deviations."""
        spread = max(self.std, abs(self.mean) * RELATIVE_FLOOR, 1e-12)
        return (value - self.mean) / spread


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


class SlotBaseline:
    """Rolling median / MAD of one series, from per-slot means and variances."""

    __slots__ = ("done", "start", "count", "total", "squares", "first", "samples", "_cached")

    def __init__(self) -> None:
        # Completed slots as (slot end, mean, variance) triples in one flat array of doubles, oldest first:
        # one object per series instead of three floats and a tuple per slot (thousands of series keep 40).
        self.done = array("d")
        self.start: float | None = None  # when the filling slot began
        self.count = 0
        self.total = 0.0
        self.squares = 0.0
        self.first: float | None = None
        self.samples = 0
        self._cached: tuple[float, float] | None = None  # (level, std) of `done`; changes only with it

    def add(self, value: float, now: float, settings: BaselineSettings) -> None:
        if self.start is None:
            self.start = self.first = now
        elif now - self.start >= settings.window / settings.slots:
            self._close(now)
        self.count += 1
        self.total += value
        self.squares += value * value
        self.samples += 1
        done, horizon = self.done, now - settings.window
        while done and done[0] < horizon:
            del done[:3]
            self._cached = None

    def _close(self, now: float) -> None:
        if self.count:
            mean = self.total / self.count
            variance = max(self.squares / self.count - mean * mean, 0.0)
            self.done.extend((now, mean, variance))
            self._cached = None
        self.start, self.count, self.total, self.squares = now, 0, 0.0, 0.0

    def view(self, now: float, settings: BaselineSettings) -> BaselineView | None:
        if not self.done:
            return None
        if self._cached is None:
            means = self.done[1::3]
            level = median(means)
            between = MAD_TO_STD * median([abs(mean - level) for mean in means])
            within = median(self.done[2::3])
            self._cached = (level, math.sqrt(within + between * between))
        level, std = self._cached
        ready = (len(self.done) // 3 >= settings.min_slots and self.first is not None
                 and now - self.first >= settings.warmup)
        return BaselineView(level, std, self.samples, ready)


class Baselines:
    """Baselines per (row key, field), forgetting rows not seen for `forget_after` seconds."""

    def __init__(self, settings: BaselineSettings) -> None:
        self.settings = settings
        self._rows: dict[tuple[str, str], dict[str, SlotBaseline]] = {}  # row key -> field -> baseline
        self._seen: dict[tuple[str, str], float] = {}

    def view(self, key: tuple[str, str], field: str, now: float) -> BaselineView | None:
        """The baseline of `field` on row `key`, or None before its first completed slot."""
        series = self._rows.get(key, {}).get(field)
        return series.view(now, self.settings) if series is not None else None

    def learn(self, key: tuple[str, str], values: Iterable[tuple[str, float | None]], now: float,
              skip: frozenset[str] = frozenset()) -> None:  # fmt: skip
        """Feed the row's current values (gaps, and fields in `skip`, are passed over)."""
        self._seen[key] = now
        known = self._rows.get(key)
        if known is None:
            known = self._rows[key] = {}
        settings, isfinite = self.settings, math.isfinite
        # `SlotBaseline.add` inlined: 20 fields of 1,000 rows a refresh made the call itself the cost.
        slot, horizon = settings.window / settings.slots, now - settings.window
        for field, value in values:
            if value is None or field in skip or not isfinite(value):
                continue
            series = known.get(field)
            if series is None:
                series = known[field] = SlotBaseline()
            if series.start is None:
                series.start = series.first = now
            elif now - series.start >= slot:
                series._close(now)
            series.count += 1
            series.total += value
            series.squares += value * value
            series.samples += 1
            done = series.done
            while done and done[0] < horizon:
                del done[:3]
                series._cached = None

    def forget_stale(self, now: float) -> None:
        horizon = now - self.settings.forget_after
        gone = [key for key, seen in self._seen.items() if seen < horizon]
        for key in gone:
            del self._seen[key]
            self._rows.pop(key, None)

    def __len__(self) -> int:
        return sum(map(len, self._rows.values()))
