"""Distribution drift: the Kolmogorov–Smirnov distance between this window's histogram and its baseline.

Inputs are a row's `distributions[concept]`: cumulative (upper bound, rate of observations ≤ bound) pairs,
summed across replicas, as exposed. Dividing by the `+Inf` bucket gives the empirical CDF at each bound;
the KS distance is the largest gap between the two CDFs over the
bucket bounds — a lower bound of the true distance (the CDFs are only known at the bounds): 0 for the same
shape, 1 for disjoint ones. The baseline is the per-bound median of the slot-averaged CDFs of the baseline
window (`aitop.analysis.baseline`). It catches shape changes a single percentile misses (a bimodal tail, a shift
of the median with an unchanged p95).
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import deque
from collections.abc import Sequence
from itertools import accumulate
from operator import add, sub

from aitop.analysis.baseline import median
from aitop.analysis.settings import BaselineSettings

Cdf = tuple[tuple[float, float], ...]  # (upper bound, fraction ≤ bound), bounds ascending, last is +Inf

def _fractions(buckets: Sequence[tuple[float, float]]) -> tuple[tuple[float, ...], list[float], float] | None:
    """(bounds, fraction of observations ≤ each bound, total rate) from cumulative buckets; None without a
    +Inf bucket, with < 2 buckets or no data. Bounds and fractions apart: cheaper to compare and average."""
    if len(buckets) < 2:
        return None
    ordered = sorted(buckets)
    bound, total = ordered[-1]
    if not math.isinf(bound) or not total > 0:
        return None
    bounds, counts = zip(*ordered)
    # Forced monotone (a running maximum, capped at the total), as histogram_quantile does.
    running = accumulate(counts, max, initial=0.0)  # from 0: a negative or NaN count counts as none
    next(running)
    fractions = [min(total, count) / total for count in running]
    return bounds, fractions, total


def to_cdf(buckets: Sequence[tuple[float, float]]) -> tuple[Cdf, float] | None:
    """(CDF, total rate) from cumulative buckets; None without a +Inf bucket, with < 2 buckets or no data."""
    found = _fractions(buckets)
    if found is None:
        return None
    bounds, fractions, total = found
    return tuple(zip(bounds, fractions)), total


def _at(cdf: Cdf, bounds: list[float], x: float) -> float:
    """F(x) of a bucketed CDF: the fraction at the largest bound ≤ x (0 below the first bound)."""
    index = bisect.bisect_right(bounds, x) - 1
    return cdf[index][1] if index >= 0 else 0.0


def ks_distance(a: Cdf, b: Cdf) -> float:
    """Largest |Fa − Fb| over the bucket bounds of both (identical bounds: a plain point-wise max)."""
    bounds_a = [le for le, _ in a]
    bounds_b = [le for le, _ in b]
    if bounds_a == bounds_b:
        return max(abs(fa - fb) for (_, fa), (_, fb) in zip(a, b))
    grid = sorted(set(bounds_a) | set(bounds_b))
    return max(abs(_at(a, bounds_a, x) - _at(b, bounds_b, x)) for x in grid)


class DistributionBaseline:
    """Rolling per-bound median of one (row, histogram)'s CDF over time slots (like `SlotBaseline`), so a
    short incident does not become the reference shape. Starts over when the bucket layout changes."""

    __slots__ = ("_median", "bounds", "count", "done", "first", "start", "totals")

    def __init__(self) -> None:
        self.bounds: tuple[float, ...] = ()
        # (slot end, mean fraction per bound); arrays, not tuples of floats: a thousand rows keep 40 each
        self.done: deque[tuple[float, array]] = deque()
        self.start = 0.0
        self.count = 0
        self.totals: list[float] = []
        self.first = 0.0
        self._median: tuple[float, ...] | None = None  # per-bound median of `done`; changes only with it

    def ready(self, now: float, settings: BaselineSettings) -> bool:
        return len(self.done) >= settings.min_slots and now - self.first >= settings.warmup

    def fractions(self) -> tuple[float, ...]:
        """The baseline's fraction at each bound: the per-bound median of the slots (monotone, as a
        pointwise median of monotone CDFs is)."""
        if self._median is None:
            self._median = tuple(median(list(column)) for column in zip(*(means for _, means in self.done)))
        return self._median

    def cdf(self) -> Cdf:
        return tuple(zip(self.bounds, self.fractions()))

    def learn(self, bounds: tuple[float, ...], fractions: Sequence[float], now: float,
              settings: BaselineSettings) -> None:  # fmt: skip
        if bounds != self.bounds:
            self.bounds, self.done, self.first, self._median = bounds, deque(), now, None
            self.start, self.count, self.totals = now, 0, [0.0] * len(bounds)
        elif now - self.start >= settings.window / settings.slots:
            if self.count:
                self.done.append((now, array("d", [total / self.count for total in self.totals])))
                self._median = None
            self.start, self.count, self.totals = now, 0, [0.0] * len(bounds)
        self.count += 1
        self.totals = list(map(add, self.totals, fractions))
        horizon = now - settings.window
        while self.done and self.done[0][0] < horizon:
            self.done.popleft()
            self._median = None


class DriftTracker:
    """Drift per (row key, concept): measured against the baseline first, then learnt into it."""

    def __init__(self, settings: BaselineSettings) -> None:
        self.settings = settings
        self._baselines: dict[tuple[tuple[str, str], str], DistributionBaseline] = {}
        self._seen: dict[tuple[str, str], float] = {}

    def measure(self, key: tuple[str, str], concept: str, buckets: Sequence[tuple[float, float]],
                window_seconds: float, now: float, learn: bool = True) -> tuple[float | None, str]:  # fmt: skip
        """(KS distance or None, why None: "" | "few" (too few observations) | "warming")."""
        self._seen[key] = now
        found = _fractions(buckets)
        if found is None:
            return None, "few"
        bounds, fractions, total = found
        if total * window_seconds < self.settings.drift_min_observations:
            return None, "few"
        baseline = self._baselines.get((key, concept))
        distance = None
        if baseline is not None and baseline.bounds == bounds and baseline.ready(now, self.settings):
            # Same bounds: the KS distance is the largest point-wise gap (what `ks_distance` computes).
            distance = max(map(abs, map(sub, fractions, baseline.fractions())))
        if learn:
            if baseline is None:
                baseline = self._baselines[(key, concept)] = DistributionBaseline()
            baseline.learn(bounds, fractions, now, self.settings)
        return distance, "" if distance is not None else "warming"

    def forget_stale(self, now: float) -> None:
        horizon = now - self.settings.forget_after
        gone = {key for key, seen in self._seen.items() if seen < horizon}
        for key in gone:
            del self._seen[key]
        for series_key in [k for k in self._baselines if k[0] in gone]:
            del self._baselines[series_key]
