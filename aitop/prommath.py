"""Histogram arithmetic exactly as Prometheus does it; counter increases with resets
are `aitop.store`'s.

`histogram_quantile` follows `BucketQuantile`, `coalesceBuckets` and `ensureMonotonicAndIgnoreSmallDeltas`
in prometheus/prometheus `promql/quantile.go`. Aggregation happens *before* the quantile: callers sum bucket
rates across targets and extra labels with `merge_buckets`, then ask for the quantile — percentiles are never
averaged.

Why aitop matches Prometheus's arithmetic, and where it deliberately differs: docs/architecture.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

#: Relative tolerance under which neighbouring bucket counts are treated as equal (`almost.Equal`).
SMALL_DELTA_TOLERANCE = 1e-12


def parse_le(raw: str | None) -> float | None:
    """The bucket bound of an `le` label as a float (`1`, `1.0` and `1e0` are one bound); None if malformed."""
    if raw is None:
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


_MIN_NORMAL = 2.2250738585072014e-308


def _almost_equal(a: float, b: float) -> bool:
    # Go's almost.Equal (prometheus util/almost): exact equality first, then relative difference.
    if a == b:
        return True
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    if a == 0 or b == 0 or abs_sum < _MIN_NORMAL:
        return diff < SMALL_DELTA_TOLERANCE * _MIN_NORMAL
    return diff / min(abs_sum, 1.7976931348623157e308) < SMALL_DELTA_TOLERANCE


def _go_divide(numerator: float, denominator: float) -> float:
    # Go float division: x/0 is ±Inf and 0/0 is NaN, where Python would raise.
    if denominator == 0:
        return math.nan if numerator == 0 or math.isnan(numerator) else math.copysign(math.inf, numerator)
    return numerator / denominator


def merge_buckets(bucket_sets: Iterable[Iterable[tuple[float, float]]]) -> dict[float, float]:
    """Sum several histograms' (upper bound, cumulative count) pairs into one, bucket by bucket.

    This is `sum by (le) (...)`: bounds are compared as floats, so spellings of one bound coalesce.
    """
    merged: dict[float, float] = {}
    for buckets in bucket_sets:
        for upper, count in buckets:
            merged[upper] = merged.get(upper, 0.0) + count
    return merged


class Histogram:
    """A classic histogram's (upper bound, cumulative count) pairs, merged by bound and sorted once, so that
    several quantiles (and the monotonicity check) of one row cost one sort, not one each."""

    __slots__ = ("_bounds", "_counts", "ordered")

    def __init__(self, buckets: Iterable[tuple[float, float]]) -> None:
        self.ordered: list[tuple[float, float]] = sorted(merge_buckets([buckets]).items())
        self._bounds: list[float] | None = None
        self._counts: list[float] = []

    def quantile(self, q: float) -> float:
        """The q-quantile, as `histogram_quantile` gives it."""
        if math.isnan(q):
            return math.nan
        if q < 0:
            return -math.inf
        if q > 1:
            return math.inf
        ordered = self.ordered
        if not ordered or ordered[-1][0] != math.inf:
            return math.nan
        if self._bounds is None:
            self._counts = _ensure_monotonic([count for _, count in ordered])
            self._bounds = [upper for upper, _ in ordered]
        bounds, counts = self._bounds, self._counts
        if len(bounds) < 2:
            return math.nan
        total = counts[-1]
        if total == 0 or math.isnan(total):
            return math.nan
        rank = q * total
        index = _first_at_least(counts, rank, len(counts) - 1)
        if index == len(bounds) - 1:
            return bounds[-2]
        if index == 0 and bounds[0] <= 0:
            return bounds[0]
        start = 0.0
        previous_count = 0.0
        if index > 0:
            start = bounds[index - 1]
            previous_count = counts[index - 1]
        end = bounds[index]
        count = counts[index] - previous_count
        return start + (end - start) * _go_divide(rank - previous_count, count)

    def forced_monotonic(self) -> bool:
        """Whether a quantile has to raise a bucket count to keep the counts monotonic (see `forced_monotonic`)."""
        highest = -math.inf
        for _, count in self.ordered:
            if count < highest and not _almost_equal(highest, count):
                return True
            highest = max(highest, count)
        return False


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """The q-quantile of a classic histogram given as (upper bound, cumulative count) pairs.

    Returns NaN when Prometheus would (no +Inf bucket, fewer than two buckets, no observations), -Inf for
    q < 0 and +Inf for q > 1.
    """
    return Histogram(buckets).quantile(q)


def forced_monotonic(buckets: Iterable[tuple[float, float]]) -> bool:
    """Whether `histogram_quantile` has to raise a bucket count to keep the counts monotonic (Prometheus then
    adds the info annotation "input to histogram_quantile needed to be fixed for monotonicity")."""
    return Histogram(buckets).forced_monotonic()


def _ensure_monotonic(counts: Sequence[float]) -> list[float]:
    fixed = list(counts)
    previous = fixed[0]
    for i in range(1, len(fixed)):
        current = fixed[i]
        if current == previous:
            continue
        if _almost_equal(previous, current):
            fixed[i] = previous  # float noise from sharded sums, not a real step
        elif current < previous:
            fixed[i] = previous  # monotonicity repair (Prometheus flags it with an info annotation)
        else:
            previous = current
    return fixed


def _first_at_least(counts: Sequence[float], rank: float, limit: int) -> int:
    """Index of the first of `counts[:limit]` that is >= rank (sort.SearchFloat64s), else `limit`."""
    low, high = 0, limit
    while low < high:
        middle = (low + high) // 2
        if counts[middle] >= rank:
            high = middle
        else:
            low = middle + 1
    return low
