"""How a row field is derived from the concepts a source aggregated: one class per formula.

`aitop.fields` declares every field with one of these. Each formula gives, from the same declaration, the
field's value (`fill`, from the `Accumulator` either transport filled), its explanation (`explain`: the
PromQL equivalent of what scrape mode computed, or what a server's answer needs added), its PromQL for a
row's history (`promql`, Prometheus mode), and the concepts whose absence or failure empties it
(`concepts`). Adding a field of an existing kind is one entry in `aitop.fields`; a new kind is one class here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Protocol

from aitop.accumulator import (
    AGGREGATE,
    MONOTONICITY_INFO,
    Draft,
    detail,
    distribution,
    distribution_line,
    rate_text,
    scaled,
    selected,
    unbounded,
)
from aitop.missing import Missing
from aitop.prommath import Histogram

#: The metric kinds a catalog variant of a latency-like concept may have (the first is its natural kind).
DISTRIBUTION_KINDS = ("histogram", "summary", "mean", "gauge")
COUNTER = ("counter",)
GAUGE = ("gauge",)
#: What a formula reads: (concept, the kinds a catalog variant of it may have, how a gauge of several
#: series is combined by default — None: the formula has no say). `aitop.catalog` checks variants with it.
Read = tuple[str, tuple[str, ...], str | None]

#: Goodput targets in use (field -> seconds), where configured; a field without one uses its declared
#: target. `aitop.engine_fields.configure_goodput` sets them from the config file.
GOODPUT_TARGETS: dict[str, float] = {}


class RowQueries(Protocol):
    """The PromQL of one row's concepts, summed to one series (`aitop.sources.promql.row_expression`)."""

    def rate(self, concept: str) -> str | None: ...
    def distribution(self, concept: str, q: float) -> str | None: ...
    def gauge(self, concept: str) -> str | None: ...


class Formula:
    """What every derivation answers; a formula without a value from the sources keeps these defaults."""

    __slots__ = ()

    @property
    def concepts(self) -> tuple[str, ...]:
        """The concepts whose absence (or failed query) empties the field."""
        return ()

    def reads(self) -> tuple[Read, ...]:
        """Every concept the formula reads, with its kinds and default gauge aggregate."""
        return ()

    def fill(self, name: str, draft: Draft) -> None:
        """Set the field's value (or why it has none) in the draft."""

    def explain(self, name: str, draft: Draft) -> str | None:
        """The field's explanation where the row's PromQL answers (Prometheus mode) do not give it."""
        return None

    def promql(self, queries: RowQueries) -> str | None:
        """The field as one PromQL expression for a row's history, or None when it has none."""
        return None


@dataclass(frozen=True, slots=True)
class Rate(Formula):
    """Per-second increase of a counter concept, summed over the row's series."""

    concept: str

    @property
    def concepts(self) -> tuple[str, ...]:
        return (self.concept,)

    def reads(self) -> tuple[Read, ...]:
        return ((self.concept, COUNTER, "sum"),)

    def fill(self, name: str, draft: Draft) -> None:
        draft.put(name, draft.acc.rates.get(self.concept, 0.0) if self.concept in draft.acc.counted else None, self.concept)

    def explain(self, name: str, draft: Draft) -> str | None:
        source = draft.acc.provenance.get((self.concept, "counter"))
        if draft.acc.served or source is None:
            return None
        return f"{rate_text(source)}{scaled(source)} — {detail(source)}"

    def promql(self, queries: RowQueries) -> str | None:
        return queries.rate(self.concept)


@dataclass(frozen=True, slots=True)
class Quantile(Formula):
    """The q-quantile of a latency-like concept: from a summary of one series, else histogram buckets, else a
    mean (Δsum/Δcount), else a gauge's value (the provenance says which)."""

    concept: str
    q: float
    kinds: tuple[str, ...] = DISTRIBUTION_KINDS

    @property
    def concepts(self) -> tuple[str, ...]:
        return (self.concept,)

    def reads(self) -> tuple[Read, ...]:
        return ((self.concept, self.kinds, "avg" if "gauge" in self.kinds else None),)

    def fill(self, name: str, draft: Draft) -> None:
        concept = self.concept
        value, kind, unmerged = distribution(draft, concept, name, self.q)
        draft.put(name, value, concept)
        if kind is not None:
            draft.used[name] = kind
        observed = unbounded(draft.acc, concept, draft.histograms.get(concept))
        if kind == "histogram" and draft.values[name] is None and observed > 0:
            # An OTel histogram exported without explicit bounds: observations, but no distribution.
            draft.missing[name] = Missing.NO_BUCKETS
            draft.notes[name] = (f"the histogram has only a +Inf bucket: {observed:g} observations/s "
                                 "in the window, none placed in a bounded bucket")
        if unmerged and kind is None:
            draft.missing[name] = Missing.NO_METRIC  # no mergeable source: a summary's series cannot be combined
            draft.notes[name] = (f"not shown: {unmerged} series of a summary hold this row, and summary quantiles "
                                 "cannot be merged (no histogram or mean to fall back on)")

    def explain(self, name: str, draft: Draft) -> str | None:
        acc, kind = draft.acc, draft.used.get(name)
        if acc.served or kind is None:
            return None
        line = distribution_line(acc, self.concept, kind, self.q)
        if kind == "histogram":  # as Prometheus's info annotation says
            buckets = acc.buckets.get(self.concept)
            histogram = draft.histograms.get(self.concept) or (Histogram(buckets.items()) if buckets else None)
            if histogram is not None and histogram.forced_monotonic():
                line += f" — info: {MONOTONICITY_INFO}"
        return line

    def promql(self, queries: RowQueries) -> str | None:
        return queries.distribution(self.concept, self.q)


@dataclass(frozen=True, slots=True)
class Gauge(Formula):
    """A gauge concept's current value, aggregated over the row's series (the catalog variant may say how)."""

    concept: str
    aggregate: str = "sum"

    @property
    def concepts(self) -> tuple[str, ...]:
        return (self.concept,)

    def reads(self) -> tuple[Read, ...]:
        return ((self.concept, GAUGE, self.aggregate),)

    def fill(self, name: str, draft: Draft) -> None:
        samples = draft.acc.gauges.get(self.concept)
        aggregate = draft.acc.aggregates.get(self.concept, self.aggregate)
        draft.put(name, AGGREGATE[aggregate](samples) if samples else None, self.concept)

    def explain(self, name: str, draft: Draft) -> str | None:
        source = draft.acc.provenance.get((self.concept, "gauge"))
        if draft.acc.served or source is None:
            return None
        return f"{source.aggregate}({selected(source)}){scaled(source)} — {detail(source)}"

    def promql(self, queries: RowQueries) -> str | None:
        return queries.gauge(self.concept)


@dataclass(frozen=True, slots=True)
class Ratio(Formula):
    """`offset + rate(numerator) / rate(denominator)` of two counter concepts (0 in the denominator: unknown),
    or, where an engine exports the ratio itself, a gauge concept's value. `absent_means_zero`: the numerator
    is counted only when it happens, so a target exposing it with no series for the row means 0."""

    numerator: str
    denominator: str
    offset: float = 0.0
    gauge: str | None = None
    absent_means_zero: bool = False

    @property
    def concepts(self) -> tuple[str, ...]:
        return (self.numerator, self.gauge) if self.gauge else (self.numerator,)

    def reads(self) -> tuple[Read, ...]:
        counters: tuple[Read, ...] = ((self.numerator, COUNTER, "sum"), (self.denominator, COUNTER, "sum"))
        return (*counters, (self.gauge, GAUGE, "avg")) if self.gauge else counters

    def fill(self, name: str, draft: Draft) -> None:
        acc, numerator, denominator = draft.acc, self.numerator, self.denominator
        if numerator in acc.counted and denominator in acc.counted:
            below = acc.rates.get(denominator, 0.0)
            draft.put(name, self.offset + acc.rates.get(numerator, 0.0) / below if below > 0 else None, numerator)
        elif numerator in acc.present and denominator in acc.present:
            draft.put(name, None, numerator)
        elif self.gauge is not None and (samples := acc.gauges.get(self.gauge)):
            draft.put(name, AGGREGATE[acc.aggregates.get(self.gauge, "avg")](samples), self.gauge)
        elif self.absent_means_zero and numerator not in acc.present and numerator in acc.exposed \
                and denominator in acc.counted and acc.rates.get(denominator, 0.0) > 0:
            draft.put(name, 0.0, numerator)  # counted only when it happens, like errors: no series means none
        else:
            draft.put(name, None, self.gauge if self.gauge in acc.present else numerator)

    def explain(self, name: str, draft: Draft) -> str | None:
        """The ratio of the two rates, as PromQL would divide them (from the server's queries or the local
        provenance), or the engine's own gauge."""
        acc = draft.acc
        if draft.values.get(name) is None:
            return None
        if self.numerator in acc.counted:
            parts = []
            for concept in (self.numerator, self.denominator):
                source = acc.provenance.get((concept, "counter"))
                parts.append(acc.queries.get(f"@{concept}") or (rate_text(source) if source is not None else concept))
            offset = "" if self.offset == 0 else f"{self.offset:g} + "
            source = acc.provenance.get((self.numerator, "counter"))
            said = f" — {detail(source)}" if source is not None and source.series else " — answered by the server"
            return f"{offset}{parts[0]} / {parts[1]}{said}"
        if self.gauge is not None and (gauge := acc.provenance.get((self.gauge, "gauge"))) is not None:
            return f"{gauge.aggregate}({selected(gauge)}) — the engine's own ratio; {detail(gauge)}"
        return None


@dataclass(frozen=True, slots=True)
class ErrorShare(Formula):
    """Failed / all requests, at most 1. Failures are often counted only when they happen: with requests
    counted and the failure metric exposed by the target, no failure series (or none counted yet) for the
    row means 0. With no requests in the window the share is unknown."""

    errors: str
    requests: str

    ZERO: ClassVar[str] = "0: the error metric has no series for this row (failures are counted when they happen)"

    @property
    def concepts(self) -> tuple[str, ...]:
        return (self.errors,)

    def reads(self) -> tuple[Read, ...]:
        return ((self.requests, COUNTER, "sum"), (self.errors, COUNTER, "sum"))

    def fill(self, name: str, draft: Draft) -> None:
        acc = draft.acc
        requests = draft.rate(self.requests)
        exposed = self.errors in acc.present or self.errors in acc.exposed
        errors = acc.rates.get(self.errors, 0.0) if exposed and requests is not None else None
        draft.put(name, min(errors / requests, 1.0) if errors is not None and requests else None, self.errors)
        if draft.values[name] is None and exposed:
            draft.missing[name] = Missing.NO_OBSERVATIONS if requests == 0 else draft.unknown(self.requests)

    def explain(self, name: str, draft: Draft) -> str | None:
        acc = draft.acc
        errors, requests = acc.provenance.get((self.errors, "counter")), acc.provenance.get((self.requests, "counter"))
        if not acc.served and errors is not None and requests is not None:
            return f"{rate_text(errors)} / {rate_text(requests)} — {detail(errors)}"
        return self.ZERO if draft.values.get(name) is not None else None

    def promql(self, queries: RowQueries) -> str | None:
        errors, requests = queries.rate(self.errors), queries.rate(self.requests)
        return f"({errors} or vector(0)) / {requests}" if errors and requests else None


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
class Votes(Formula):
    """Negative votes / all votes of a feedback counter split by vote type."""

    concept: str

    @property
    def concepts(self) -> tuple[str, ...]:
        return (self.concept,)

    def reads(self) -> tuple[Read, ...]:
        return ((self.concept, COUNTER, "sum"),)

    def fill(self, name: str, draft: Draft) -> None:
        positive, negative = draft.acc.votes
        draft.put(name, negative / (positive + negative) if positive + negative > 0 else None, self.concept)

    def explain(self, name: str, draft: Draft) -> str | None:
        source = draft.acc.provenance.get((self.concept, "counter"))
        if draft.acc.served or source is None:
            return None
        return f"negative / all votes of {rate_text(source)} — {detail(source)}"


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
    """Frame-buffer used / (used + free) of a GPU row; model rows get theirs from the GPU join."""

    used: str = "gpu_memory_used"
    free: str = "gpu_memory_free"

    def reads(self) -> tuple[Read, ...]:
        return ((self.used, GAUGE, None), (self.free, GAUGE, "sum"))

    def fill(self, name: str, draft: Draft) -> None:
        used, free = draft.acc.gauges.get(self.used), draft.acc.gauges.get(self.free)
        total = sum(used) + sum(free) if used and free else 0.0
        draft.values[name] = sum(used) / total if used and free and total > 0 else None
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


#: Every derivation a field may declare.
Derivation = Rate | Quantile | Gauge | Ratio | ErrorShare | Goodput | Cost | Votes | GpuCount | GpuMemoryShare \
    | Analysed | Drift
