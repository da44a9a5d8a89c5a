"""How a row field is derived from the concepts a source aggregated: one class per formula.

`aitop.fields` declares every field with one of these. Each formula (`aitop.formula.Formula`) gives, from the
same declaration, the field's value (`fill`, from the `Accumulator` either transport filled), its explanation
(`explain`: the PromQL equivalent of what scrape mode computed, or what a server's answer needs added), its
PromQL for a row's history (`promql`, Prometheus mode), the concepts whose absence or failure empties it
(`concepts`) and what it reads (`reads`: the catalog's concepts and their kinds). Adding a field of an
existing kind is one entry in `aitop.fields`; a new kind is one class. Counters, distributions, gauges and
their ratios are here; spend, votes, goodput, a GPU row's count and memory share, and the analysis's fields in
`aitop.composites`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

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
from aitop.composites import (
    Analysed,
    Cost,
    Drift,
    Goodput,
    GpuCount,
    GpuMemoryShare,
    Votes,
)
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
from aitop.prommath import Histogram

__all__ = [
    "DISTRIBUTION_KINDS", "GOODPUT_TARGETS", "Analysed", "Cost", "Derivation", "Drift", "ErrorShare", "Formula",
    "Gauge",
    "Goodput", "GpuCount", "GpuMemoryShare", "Quantile", "Rate", "Ratio", "Read", "RowQueries", "Votes",
]


@dataclass(frozen=True, slots=True)
class Rate(OneCounter):
    """Per-second increase of a counter concept, summed over the row's series."""

    def fill(self, name: str, draft: Draft) -> None:
        counted = self.concept in draft.acc.counted
        draft.put(name, draft.acc.rates.get(self.concept, 0.0) if counted else None, self.concept)

    def explain(self, name: str, draft: Draft) -> str | None:
        source = self.local_source(draft)
        return None if source is None else f"{rate_text(source)}{scaled(source)} — {detail(source)}"

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
        if kind == "histogram" and draft.values[name] is None \
                and (observed := unbounded(draft.acc, concept, draft.histograms.get(concept))) > 0:
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
        if self.annotated(name, draft):
            line += f" — info: {MONOTONICITY_INFO}"
        return line

    def annotated(self, name: str, draft: Draft) -> bool:
        """Whether `explain` adds Prometheus's info annotation (the buckets had to be made monotonic), without
        making the line: the table underlines such a cell every refresh."""
        acc = draft.acc
        if acc.served or draft.used.get(name) != "histogram":
            return False
        buckets = acc.buckets.get(self.concept)
        histogram = draft.histograms.get(self.concept) or (Histogram(buckets.items()) if buckets else None)
        return histogram is not None and histogram.forced_monotonic()

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
        if not samples:  # most gauges of most rows (engine internals a server may not export): no lookups
            draft.values[name] = None
            draft.missing[name] = draft.unknown(self.concept)
            return
        aggregate = draft.acc.aggregates.get(self.concept, self.aggregate)
        draft.put(name, AGGREGATE[aggregate](samples), self.concept)

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


#: Every derivation a field may declare.
Derivation = Rate | Quantile | Gauge | Ratio | ErrorShare | Goodput | Cost | Votes | GpuCount | GpuMemoryShare \
    | Analysed | Drift
