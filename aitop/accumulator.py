"""What a source knows about one row while it aggregates (`Accumulator`), the row while its fields are derived
(`Draft`), and the wording the explanations share.

Both transports fill the same `Accumulator` — scrape mode from its windows (`aitop.rows`), Prometheus mode
from query answers (`aitop.sources.prometheus.results`) — and `aitop.derive.finish_row` turns it into a `Row`, each
field by its declared derivation (`aitop.derivations`).

A latency-like field (latency, TTFT, TPOT, queue) is read from the best source the row has: a summary
quantile when exactly one series holds it (summaries of separate series cannot be merged), else histogram
buckets, else a mean (Δsum/Δcount), else a gauge's last value. A mean or a last value fills every field of
its concept, and its provenance says it is not a percentile.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aitop.missing import Missing
from aitop.prommath import Histogram
from aitop.sanitize import clean

#: The pseudo-label naming a series' target (host:port), as Prometheus's `instance` label does.
INSTANCE = "instance"
#: The row of series that lack the label the user chose to group by.
NONE_GROUP = "(none)"

MONOTONICITY_INFO = "input to histogram_quantile needed to be fixed for monotonicity"
#: What a latency-like field read from something other than a histogram is (said in its provenance).
KIND_NOTES: Mapping[str, str] = {
    "summary": "a client-side summary quantile of one series (summaries are not mergeable)",
    "mean": "a mean (Δsum/Δcount), not a percentile: no histogram exists",
    "gauge": "the last observed value (a gauge), not a percentile",
}
#: How a gauge's readings across series become one value.
AGGREGATE: Mapping[str, Callable[[list[float]], float]] = {
    "sum": sum, "max": max, "min": min, "avg": lambda values: sum(values) / len(values),
}


def group_of(labels: Mapping[str, str], group_labels: Sequence[str], target: str | None,
             group_by: str | None = None, names: dict[str, str] | None = None) -> tuple[str, str]:  # fmt: skip
    """(label used, sanitised row name) of one series, in both modes: the `group_by` label when one was
    chosen (`instance`: the series' target; lacking it: `(none)`), else the first of the schema's model labels
    it has, else its target. Prometheus mode's PromQL names series the same way before it sums them
    (`aitop.sources.prometheus.promql.vector`) for schemas with several model labels; for a schema with one, a series
    without it is summed into the `(none)` row there (naming it by its `instance` in PromQL would hold more
    samples at once, over a server's --query.max-samples where the plain query fits).

    `names`: label value -> row name, kept by a caller that names many series in one go (a refresh's
    thousands of series name each row many times over)."""
    if group_by is not None:
        value = target if group_by == INSTANCE else labels.get(group_by)
        return group_by, _name(value, names) if value else NONE_GROUP
    for label in group_labels:
        if value := labels.get(label):
            return label, _name(value, names)
    if target:
        return INSTANCE, _name(target, names)
    return (group_labels[0] if group_labels else INSTANCE), NONE_GROUP  # (an answer that lost its instance)


def _name(value: str, names: dict[str, str] | None) -> str:
    if names is None:
        return clean(value)
    name = names.get(value)
    if name is None:
        name = names[value] = clean(value)
    return name


def absent_reasons(title: str, absent: Mapping[str, str]) -> dict[str, str]:
    """concept -> why a schema cannot provide it, as a row's notes say it ("vLLM: …")."""
    return {concept: f"{title}: {why}" for concept, why in absent.items()}


@dataclass(slots=True)
class Provenance:
    """Where a concept's numbers came from (one per concept and variant kind), for the explain view."""

    metrics: set[str] = field(default_factory=set)
    counts: set[str] = field(default_factory=set)  # a mean's denominator
    selector: str = ""
    series: int = 0
    targets: set[str] = field(default_factory=set)
    elapsed: float = 0.0
    scale: float = 1.0
    aggregate: str = "sum"


def _bounds() -> defaultdict[float, float]:
    return defaultdict(float)


def _quantile_lines() -> defaultdict[float, list[float]]:
    return defaultdict(list)


def _no_mean() -> list[float]:
    return [0.0, 0.0]


@dataclass(slots=True)
class Accumulator:
    """Everything known about one row while a source aggregates; `finish_row` turns it into a `Row`."""

    group_label: str
    present: set[str] = field(default_factory=set)  # concepts with a series in this row
    exposed: set[str] = field(default_factory=set)  # concepts the row's targets expose (for any row)
    counted: set[str] = field(default_factory=set)  # concepts with a series that has a window-long increase
    rates: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    buckets: dict[str, dict[float, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    gauges: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    aggregates: dict[str, str] = field(default_factory=dict)  # gauge concept -> sum | max | avg
    summaries: dict[str, dict[float, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    means: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))
    error_types: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    votes: list[float] = field(default_factory=lambda: [0.0, 0.0])  # positive, negative per second
    stale: bool = False
    provenance: dict[tuple[str, str], Provenance] = field(default_factory=lambda: defaultdict(Provenance))
    quantiles: dict[str, float] = field(default_factory=dict)  # field -> value a server computed (NaN: none)
    queries: dict[str, str] = field(default_factory=dict)  # field -> the PromQL a server answered
    kind_queries: dict[tuple[str, str], str] = field(default_factory=dict)  # (field, source kind) -> PromQL
    absent: Mapping[str, str] = field(default_factory=dict)  # concept -> why the schema cannot provide it
    data_since: float | None = None  # unix time from which every target's window behind the row is unbroken
    replicas: set[str] = field(default_factory=set)  # targets behind the row (scrape mode)
    replicas_up: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)  # hosts and pods behind the row (aitop.gpus joins on them)
    #: concept -> bound -> cumulative rate, from a server's `sum by (le)` answer (goodput in Prometheus mode;
    #: kept apart from `buckets`, which a server's quantiles make unnecessary)
    goodput_buckets: dict[str, dict[float, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    #: concept -> observations/s of a histogram whose quantiles a server computed (Prometheus mode): with a
    #: NaN quantile, observations mean fewer than two buckets — only +Inf, as `buckets` shows in scrape mode
    unbounded: dict[str, float] = field(default_factory=dict)
    #: Prometheus mode: fills `queries` and `kind_queries` from the answers behind the row, called when an
    #: explanation is first read (`explaining`) rather than for every row of every refresh
    pending: Callable[[Accumulator], None] | None = None

    @classmethod
    def fresh(cls, group_label: str, absent: Mapping[str, str]) -> Accumulator:
        """`Accumulator(group_label=…, absent=…)` at half the cost (each field set directly, no factory
        called through the generated `__init__`): Prometheus mode makes one per row, 1,000 a refresh.
        tests/unit/test_prom_reading.py keeps it equal to the constructor, field by field."""
        acc = cls.__new__(cls)
        acc.group_label, acc.absent = group_label, absent
        acc.present, acc.exposed, acc.counted = set(), set(), set()
        acc.rates, acc.buckets, acc.gauges = defaultdict(float), defaultdict(_bounds), defaultdict(list)
        acc.aggregates, acc.summaries, acc.means = {}, defaultdict(_quantile_lines), defaultdict(_no_mean)
        acc.error_types, acc.votes, acc.stale = defaultdict(float), [0.0, 0.0], False
        acc.provenance, acc.quantiles, acc.queries, acc.kind_queries = defaultdict(Provenance), {}, {}, {}
        acc.data_since, acc.replicas, acc.replicas_up, acc.places = None, set(), set(), set()
        acc.goodput_buckets, acc.unbounded, acc.pending = defaultdict(_bounds), {}, None
        return acc

    @property
    def served(self) -> bool:
        """Whether a server answered this row (Prometheus mode): its PromQL is then the explanation."""
        return bool(self.queries or self.kind_queries or self.pending is not None)

    def for_explaining(self) -> Accumulator:
        """The same row with only what explanations read (`EXPLAINED`): a finished row keeps it until they
        are made, and the rest of the accumulator is most of its memory."""
        slim = Accumulator.__new__(Accumulator)
        # `EXPLAINED`, one by one (a loop of setattr costs 3 times as much, for every row of every refresh)
        slim.group_label, slim.provenance, slim.counted, slim.buckets = \
            self.group_label, self.provenance, self.counted, self.buckets
        slim.queries, slim.kind_queries, slim.absent, slim.pending = \
            self.queries, self.kind_queries, self.absent, self.pending
        return slim

    def explaining(self) -> None:
        """Make `queries` and `kind_queries` if they wait (`pending`). Two threads may both make them: the
        same lines in the same order, so the second changes nothing; `pending` is cleared only after."""
        pending = self.pending
        if pending is not None:
            pending(self)
            self.pending = None


#: What the formulas' `explain` and the row's explanations read of an accumulator (`for_explaining`).
EXPLAINED = ("group_label", "provenance", "counted", "buckets", "queries", "kind_queries", "absent", "pending")


# (An enum member read through its class costs ~70 ns: these are read for most fields of every row.)
_NO_METRIC, _NOT_ENOUGH_SAMPLES = Missing.NO_METRIC, Missing.NOT_ENOUGH_SAMPLES
_NO_OBSERVATIONS = Missing.NO_OBSERVATIONS


@dataclass(slots=True)
class Draft:
    """One row while its fields are derived: values, why each empty one is empty, what each was read from."""

    acc: Accumulator
    values: dict[str, float | None] = field(default_factory=dict)
    missing: dict[str, Missing] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # field -> why it is empty, when more can be said
    lines: dict[str, str] = field(default_factory=dict)  # field -> its explanation, known while deriving it
    used: dict[str, str] = field(default_factory=dict)  # latency-like field -> the source kind it was read from
    histograms: dict[str, Histogram] = field(default_factory=dict)  # concept -> merged buckets, once per row

    def unknown(self, concept: str) -> Missing:
        """Why a field of this concept is empty: no series, too few samples, or nothing observed."""
        if concept not in self.acc.present:
            return _NO_METRIC
        if concept not in self.acc.counted:
            return _NOT_ENOUGH_SAMPLES
        return _NO_OBSERVATIONS

    def put(self, name: str, value: float | None, concept: str) -> None:
        """Set a field; None or NaN is unknown, for the reason `concept`'s data gives."""
        if value is None or value != value:  # (NaN: the cheapest test of a call made for every field of every row)
            self.values[name] = None
            self.missing[name] = self.unknown(concept)
        else:
            self.values[name] = value

    def rate(self, concept: str) -> float | None:
        """A counter concept's summed rate, or None when no series of it had a window-long increase."""
        return self.acc.rates.get(concept) if concept in self.acc.counted else None


def detail(source: Provenance) -> str:
    """How much data a locally computed field rests on."""
    targets = len(source.targets)
    return (
        f"{source.series} series from {targets} target{'s' if targets != 1 else ''}, "
        f"computed locally from scrapes {source.elapsed:.1f}s apart"
    )


def scaled(source: Provenance) -> str:
    return "" if source.scale == 1 else f" × {source.scale:g}"


def selected(source: Provenance, counts: bool = False) -> str:
    return ", ".join(sorted(source.counts if counts else source.metrics)) + source.selector


def rate_text(source: Provenance, counts: bool = False) -> str:
    """The PromQL equivalent of a counter's locally computed rate."""
    return f"sum(rate({selected(source, counts)}[{source.elapsed:.1f}s]))"


def distribution_line(acc: Accumulator, concept: str, kind: str, q: float) -> str:
    """The local explanation of a latency-like field read from a source of `kind`."""
    source = acc.provenance[(concept, kind)]
    window = f"{source.elapsed:.1f}s"
    if kind == "histogram":
        bounds = "" if source.scale == 1 else f" (bounds × {source.scale:g})"
        return f"histogram_quantile({q:g}, sum by (le) (rate({selected(source)}[{window}]))){bounds} — {detail(source)}"
    if kind == "summary":
        return f'{selected(source)}{{quantile="{q:g}"}}{scaled(source)} — {KIND_NOTES[kind]}; {detail(source)}'
    if kind == "mean":
        mean = f"{rate_text(source)} / {rate_text(source, counts=True)}{scaled(source)}"
        return f"{mean} — {KIND_NOTES[kind]}; {detail(source)}"
    return f"{source.aggregate}({selected(source)}){scaled(source)} — {KIND_NOTES[kind]}; {detail(source)}"


def distribution(draft: Draft, concept: str, name: str, q: float) -> tuple[float | None, str | None, int]:
    """(value, source kind, summary series that could not be merged) of one latency-like field.
    The draft keeps each concept's merged buckets for its other fields."""
    acc, histograms = draft.acc, draft.histograms
    unmerged = 0
    summary = acc.summaries.get(concept)
    lines = summary.get(q) if summary is not None else None
    if lines:
        if len(lines) == 1:
            return lines[0], "summary", 0
        unmerged = len(lines)
    if name in acc.quantiles:
        return acc.quantiles[name], "histogram", unmerged
    buckets = acc.buckets.get(concept)
    if buckets:
        histogram = histograms.get(concept)
        if histogram is None:
            histogram = histograms[concept] = Histogram(buckets.items())
        return histogram.quantile(q), "histogram", unmerged
    if concept in acc.means:
        total, count = acc.means[concept]
        return (total / count if count else math.nan), "mean", unmerged
    samples = acc.gauges.get(concept)
    if samples:
        return AGGREGATE[acc.aggregates.get(concept, "avg")](samples), "gauge", unmerged
    return None, None, unmerged


def unbounded(acc: Accumulator, concept: str, histogram: Histogram | None) -> float:
    """Observations/s of a histogram holding only a +Inf bucket; 0 when it has bounds or nothing is known.
    Scrape mode has the buckets; a server answered either its bucket rates by bound (goodput) or the +Inf
    rate alone (read only beside a NaN quantile: with observations, fewer than two buckets)."""
    if histogram is not None:
        return histogram.ordered[0][1] if len(histogram.ordered) == 1 else 0.0
    if server := acc.goodput_buckets.get(concept):
        return server.get(math.inf, 0.0) if len(server) == 1 else 0.0
    return acc.unbounded.get(concept, 0.0)
