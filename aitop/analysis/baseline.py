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

    __slots__ = ("done", "lo", "hi", "room", "start", "count", "total", "squares", "first", "closed", "_cached")

    def __init__(self, slots: int = 0) -> None:
        # Completed slots as (slot end, mean, variance) triples in one flat array of doubles, oldest first, live
        # from `lo` to `hi`: one object per series instead of three floats and a tuple per slot. Room for
        # `_YOUNG_SLOTS` at first, then for a whole window's `slots` at once, so a fleet's memory is reached
        # in its first minutes instead of growing for a whole window, and a row that comes and goes (label
        # churn) never takes a window's room. Expired slots are dropped by moving `lo`.
        self.room = slots + 1  # slots a window can hold: at most one more than it is cut into
        self.done = array("d", bytes(_TRIPLE * min(self.room, _YOUNG_SLOTS)))
        self.lo = self.hi = 0
        self.start: float | None = None  # when the filling slot began
        self.count = 0
        self.total = 0.0
        self.squares = 0.0
        self.first: float | None = None
        self.closed = 0  # samples in the completed (and expired) slots
        self._cached: tuple[float, float] | None = None  # (level, std) of the completed slots

    @property
    def samples(self) -> int:
        """Samples learnt in all (one per value added; kept as the closed slots' and the filling one's)."""
        return self.closed + self.count

    def completed(self) -> array[float]:
        """The completed slots' (slot end, mean, variance) triples, oldest first, one after the other."""
        return self.done[self.lo:self.hi]

    def add(self, value: float, now: float, settings: BaselineSettings) -> None:
        self._expire(now - settings.window)
        if self.start is None:
            self.start = self.first = now
        elif now - self.start >= settings.window / settings.slots:
            self._close(now)
        self.count += 1
        self.total += value
        self.squares += value * value

    def _expire(self, horizon: float) -> None:
        """Drop the completed slots that ended before `horizon`. (Done before a slot closes rather than after,
        which leaves the same slots: the slot closing now is never past the horizon.)"""
        done, lo, hi = self.done, self.lo, self.hi
        if lo < hi and done[lo] < horizon:
            while lo < hi and done[lo] < horizon:
                lo += 3
            self.lo, self._cached = lo, None

    def _close(self, now: float) -> None:
        if self.count:
            mean = self.total / self.count
            variance = max(self.squares / self.count - mean * mean, 0.0)
            done, hi = self.done, self.hi
            if hi == len(done):
                done, hi = self._make_room()
            done[hi] = now
            done[hi + 1] = mean
            done[hi + 2] = variance
            self.hi = hi + 3
            self._cached = None
        self.closed += self.count
        self.start, self.count, self.total, self.squares = now, 0, 0.0, 0.0

    def _make_room(self) -> tuple[array[float], int]:
        """Move the live slots to the front; when they fill the array, take the window's room (a young
        series), or double it (samples irregular enough for more slots to end within a window)."""
        done, lo, hi = self.done, self.lo, self.hi
        if lo:
            done[:hi - lo] = done[lo:hi]
            self.lo, self.hi = 0, hi - lo
        held = self.hi // 3
        if self.hi == len(done):
            done.extend(array("d", bytes(_TRIPLE * (self.room - held if held < self.room else max(held, 1)))))
        return done, self.hi

    def view(self, now: float, settings: BaselineSettings) -> BaselineView | None:
        done, lo, hi = self.done, self.lo, self.hi
        if lo == hi:
            return None
        if self._cached is None:
            means = done[lo + 1:hi:3]
            level = median(means)
            between = MAD_TO_STD * median([abs(mean - level) for mean in means])
            within = median(done[lo + 2:hi:3])
            self._cached = (level, math.sqrt(within + between * between))
        level, std = self._cached
        ready = ((hi - lo) // 3 >= settings.min_slots and self.first is not None
                 and now - self.first >= settings.warmup)
        return BaselineView(level, std, self.samples, ready)


#: Bytes of one completed slot: its end, mean and variance.
_TRIPLE = 3 * 8
#: Completed slots a new series has room for (2 minutes at the default 30 s slots) before its window's.
_YOUNG_SLOTS = 4
_NEVER = math.inf


class _RowBaselines(dict[str, SlotBaseline]):
    """One row's baselines by field, with what lets `Baselines.learn` skip the slot bookkeeping: the earliest
    start of a filling slot (`due`) and the earliest end of a completed one (`oldest`)."""

    __slots__ = ("due", "oldest")

    def __init__(self) -> None:
        super().__init__()
        self.due = _NEVER
        self.oldest = _NEVER

    def settle(self) -> None:
        """Work `due` and `oldest` out again from every series (after slots closed or expired)."""
        due = oldest = _NEVER
        for series in self.values():
            if series.start is not None and series.start < due:
                due = series.start
            if series.lo < series.hi and series.done[series.lo] < oldest:
                oldest = series.done[series.lo]
        self.due, self.oldest = due, oldest


class Baselines:
    """Baselines per (row key, field), forgetting rows not seen for `forget_after` seconds."""

    def __init__(self, settings: BaselineSettings) -> None:
        self.settings = settings
        self._rows: dict[tuple[str, str], _RowBaselines] = {}  # row key -> field -> baseline
        self._seen: dict[tuple[str, str], float] = {}

    def view(self, key: tuple[str, str], field: str, now: float) -> BaselineView | None:
        """The baseline of `field` on row `key`, or None before its first completed slot."""
        known = self._rows.get(key)
        series = known.get(field) if known is not None else None
        return series.view(now, self.settings) if series is not None else None

    def learn(self, key: tuple[str, str], values: Iterable[tuple[str, float | None]], now: float,
              skip: frozenset[str] = frozenset()) -> None:  # fmt: skip
        """Feed the row's current values (gaps, and fields in `skip`, are passed over): what
        `SlotBaseline.add` of each value would leave, done inline (20 fields of 1,000 rows a refresh made the
        call itself the cost)."""
        self._seen[key] = now
        known = self._rows.get(key)
        if known is None:
            known = self._rows[key] = _RowBaselines()
        settings, isfinite = self.settings, math.isfinite
        slot, horizon = settings.window / settings.slots, now - settings.window
        # Unless a slot of the row may close (a start before `due` + a slot; a float subtraction is monotonic)
        # or expire (an end before the horizon), only the sums move: 14 refreshes in 15 by default.
        closing = now - known.due >= slot or known.oldest < horizon
        for field, value in values:
            if value is None or field in skip or not isfinite(value):
                continue
            series = known.get(field)
            if series is None:
                series = known[field] = SlotBaseline(settings.slots)
                series.start = series.first = now
                if now < known.due:
                    known.due = now
            elif closing:
                series._expire(horizon)
                if series.start is None:
                    series.start = series.first = now
                elif now - series.start >= slot:
                    series._close(now)
            series.count += 1
            series.total += value
            series.squares += value * value
        if closing:
            known.settle()

    def forget_stale(self, now: float) -> None:
        horizon = now - self.settings.forget_after
        gone = [key for key, seen in self._seen.items() if seen < horizon]
        for key in gone:
            del self._seen[key]
            self._rows.pop(key, None)

    def __len__(self) -> int:
        return sum(map(len, self._rows.values()))
