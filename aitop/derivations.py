"""How a row field is derived from the concepts a source aggregated, as data.

Each class names one formula. `aitop.fields` declares every field with one of these; the value (scrape
mode), its explanation and its PromQL (Prometheus mode) all follow from the same declaration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """Per-second increase of a counter concept, summed over the row's series."""

    concept: str


@dataclass(frozen=True, slots=True)
class Quantile:
    """The q-quantile of a latency-like concept: from a summary of one series, else histogram buckets, else a
    mean (Δsum/Δcount), else a gauge's value (the provenance says which)."""

    concept: str
    q: float


@dataclass(frozen=True, slots=True)
class Gauge:
    """A gauge concept's current value, aggregated over the row's series (the catalog variant may say how)."""

    concept: str
    aggregate: str = "sum"


@dataclass(frozen=True, slots=True)
class Ratio:
    """`offset + rate(numerator) / rate(denominator)` of two counter concepts, or, where an engine exports the
    ratio itself, a gauge concept's value. `absent_means_zero`: the numerator is counted only when it happens,
    so a target exposing it with no series for the row means 0. `cap`: the ratio's upper bound."""

    numerator: str
    denominator: str
    offset: float = 0.0
    gauge: str | None = None
    absent_means_zero: bool = False
    cap: float | None = None


@dataclass(frozen=True, slots=True)
class Goodput:
    """The share of a histogram concept's observations at or under `target` seconds (the configured target
    replaces it), read at the bucket bound at or below it."""

    concept: str
    target: float


@dataclass(frozen=True, slots=True)
class Cost:
    """Spend `per` hour or per request: from a cost counter (USD), else a per-query cost gauge × the request
    rate."""

    per: str


@dataclass(frozen=True, slots=True)
class Votes:
    """Negative votes / all votes of a feedback counter split by vote type."""

    concept: str


@dataclass(frozen=True, slots=True)
class GpuCount:
    """How many GPUs a GPU row (DCGM exporter) holds; model rows get theirs from the GPU join."""


@dataclass(frozen=True, slots=True)
class GpuMemoryShare:
    """Frame-buffer used / (used + free) of a GPU row; model rows get theirs from the GPU join."""


@dataclass(frozen=True, slots=True)
class Analysed:
    """Not read from a source: the analysis computes it from other fields and history (cost per day, peaks,
    drift)."""


#: Every derivation a field may declare.
Derivation = Rate | Quantile | Gauge | Ratio | Goodput | Cost | Votes | GpuCount | GpuMemoryShare | Analysed
