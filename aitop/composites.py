"""Formulas built on several concepts or on none: spend, feedback votes, goodput at a target, a GPU row's
count and memory share, and the fields the analysis adds (`aitop.derivations` holds the rest)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aitop.accumulator import Draft, detail, rate_text, scaled, selected
from aitop.formula import (
    COUNTER,
    DISTRIBUTION_KINDS,
    GAUGE,
    GOODPUT_TARGETS,
    Formula,
    OneCounter,
    Read,
    RowQueries,
)
from aitop.missing import Missing


@dataclass(frozen=True, slots=True)
class Goodput(Formula):
    """The share of a histogram concept's observations at or under `target` seconds (the configured target
    replaces it), read at the bucket bound at or below it, as `rate(…_bucket{le="b"}) / rate(…_count)` does."""

    concept: str
    target: float

    def reads(self) -> tuple[Read, ...]:
        return ((self.concept, DISTRIBUTION_KINDS, "avg"),)

    def fill(self, name: str, draft: Draft) -> None:
        acc, concept = draft.acc, self.concept
        target = GOODPUT_TARGETS.get(name, self.target)
        buckets = acc.buckets.get(concept) or acc.goodput_buckets.get(concept)
        if not buckets:  # a mean, a summary or a gauge has no bucket to count at the target
            draft.put(name, None, concept)
            draft.missing[name] = Missing.NO_METRIC
            if concept in acc.present:
                draft.lines[name] = f"goodput needs a {concept} histogram: this row's {concept} has no buckets"
            return
        total = buckets.get(math.inf)
        bounds = sorted(bound for bound in buckets if bound <= target * (1 + 1e-9))
        source = acc.provenance[(concept, "histogram")]
        metric = ", ".join(sorted(source.metrics)) or concept
        if not bounds or total is None:
            draft.put(name, None, concept)
            draft.lines[name] = (f"no bucket bound at or below the target {target:g}s" if total is not None
                                 else "the histogram has no +Inf bucket")
            return
        bound = bounds[-1]
        scale = source.scale or 1.0
        label = bound / scale  # the `le` as the server spells it (Triton's are milliseconds)
        draft.put(name, buckets[bound] / total if total > 0 else None, concept)
        if total == 0:
            draft.missing[name] = Missing.NO_OBSERVATIONS
        family = metric.removesuffix("_bucket")
        window = source.elapsed
        named = f"le={label:g}" + ("" if scale == 1 else f" ({bound:g}s)")  # as the server spells it
        rounded = "" if abs(bound - target) <= target * 1e-9 else \
            f" — target {target:g}s lies between bucket bounds: rounded down to {named}"
        draft.lines[name] = (f'sum(rate({family}_bucket{{le="{label:g}"}}[{window:g}s])) / '
                             f'sum(rate({family}_count[{window:g}s])) — bucket bound {named} used for the target '
                             f"{target:g}s{rounded}")

    def explain(self, name: str, draft: Draft) -> str | None:
        return draft.lines.get(name)


@dataclass(frozen=True, slots=True)
class Cost(Formula):
    """Spend `per` hour or per request: from a cost counter (USD), else a per-query cost gauge averaged over
    the window × the request rate."""

    per: str  # "hour" | "request"
    counter: str = "cost"
    per_query: str = "cost_per_query"
    requests: str = "requests"

    @property
    def concepts(self) -> tuple[str, ...]:
        return (self.counter, self.per_query)

    def reads(self) -> tuple[Read, ...]:
        return ((self.counter, COUNTER, "sum"), (self.per_query, GAUGE, "avg"), (self.requests, COUNTER, "sum"))

    def fill(self, name: str, draft: Draft) -> None:
        acc, requests = draft.acc, draft.rate(self.requests)
        if self.counter in acc.present:
            spend = acc.rates.get(self.counter, 0.0) if self.counter in acc.counted else None  # USD per second
            if self.per == "hour":
                draft.put(name, spend * 3600 if spend is not None else None, self.counter)
            else:
                draft.put(name, spend / requests if spend is not None and requests else None, self.counter)
            return
        per_query = acc.gauges.get(self.per_query)
        average = sum(per_query) / len(per_query) if per_query else None
        if self.per == "request":
            draft.put(name, average, self.per_query)
            return
        hourly = average * requests * 3600 if average is not None and requests is not None else None
        draft.put(name, hourly, self.per_query if self.requests in acc.counted or average is None else self.requests)

    def explain(self, name: str, draft: Draft) -> str | None:
        acc = draft.acc
        if acc.served:
            return None
        if (cost := acc.provenance.get((self.counter, "counter"))) is not None:
            if self.per == "hour":
                return f"{rate_text(cost)}{scaled(cost)} × 3600 — {detail(cost)}"
            return f"{rate_text(cost)}{scaled(cost)} / request rate — {detail(cost)}"
        if (per_query := acc.provenance.get((self.per_query, "gauge"))) is not None:
            mean = f"avg(avg_over_time({selected(per_query)}[{per_query.elapsed:.1f}s]))"
            return f"{mean} — {detail(per_query)}" if self.per == "request" else \
                f"{mean} × request rate × 3600 — {detail(per_query)}"
        return None

    def promql(self, queries: RowQueries) -> str | None:
        spend = queries.rate(self.counter) if self.per == "hour" else None
        return f"{spend} * 3600" if spend else None


@dataclass(frozen=True, slots=True)
class Votes(OneCounter):
    """Negative votes / all votes of a feedback counter split by vote type."""

    def fill(self, name: str, draft: Draft) -> None:
        positive, negative = draft.acc.votes
        draft.put(name, negative / (positive + negative) if positive + negative > 0 else None, self.concept)

    def explain(self, name: str, draft: Draft) -> str | None:
        source = self.local_source(draft)
        return None if source is None else f"negative / all votes of {rate_text(source)} — {detail(source)}"


@dataclass(frozen=True, slots=True)
class GpuCount(Formula):
    """How many GPUs a GPU row (DCGM exporter) holds; model rows get theirs from the GPU join (`aitop.gpus`)."""

    readings: tuple[str, ...] = ("gpu_utilization", "gpu_memory_used")

    def reads(self) -> tuple[Read, ...]:
        return tuple((concept, GAUGE, None) for concept in self.readings)

    def fill(self, name: str, draft: Draft) -> None:
        gauges = draft.acc.gauges
        readings = next((found for concept in self.readings if (found := gauges.get(concept))), None)
        draft.values[name] = float(len(readings)) if readings else None
        if draft.values[name] is None:
            draft.missing[name] = Missing.NO_METRIC


@dataclass(frozen=True, slots=True)
class GpuMemoryShare(Formula):
    """Frame-buffer used / total of a GPU row, the total given (Triton) or used + free (DCGM); model rows get
    theirs from the GPU join."""

    used: str = "gpu_memory_used"
    free: str = "gpu_memory_free"
    capacity: str = "gpu_memory_total"

    def reads(self) -> tuple[Read, ...]:
        return ((self.used, GAUGE, None), (self.free, GAUGE, "sum"), (self.capacity, GAUGE, "sum"))

    def fill(self, name: str, draft: Draft) -> None:
        gauges = draft.acc.gauges
        used, free, capacity = gauges.get(self.used), gauges.get(self.free), gauges.get(self.capacity)
        total = sum(capacity) if capacity else sum(used) + sum(free) if used and free else 0.0
        draft.values[name] = sum(used) / total if used and total > 0 else None
        if draft.values[name] is None:
            draft.missing[name] = Missing.NO_METRIC


@dataclass(frozen=True, slots=True)
class Analysed(Formula):
    """Not read from a source: the analysis computes it from other fields and history (cost per day, peaks)."""


@dataclass(frozen=True, slots=True)
class Drift(Formula):
    """Not read from a source: the analysis's KS distance between this window's distribution of a histogram
    concept and its baseline."""

    concept: str
