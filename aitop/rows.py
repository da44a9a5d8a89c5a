"""From scraped windows to table rows: detect schemas, group series, aggregate, derive the fields.

Aggregation follows PromQL order: per-series rates first (resets handled in `store`), then summed by group
across targets and extra labels (engine, instance, replica); histogram bucket rates are summed by `le` and
only then turned into quantiles. A field no schema provides, or that lacks data, is None with a reason.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aitop.catalog import FEEDBACK_NEGATIVE, FEEDBACK_POSITIVE, Schema, Variant
from aitop.model import Missing, Row
from aitop.prommath import histogram_quantile, parse_le
from aitop.sanitize import clean
from aitop.sources.exposition import SeriesKey
from aitop.store import TargetWindow

#: Which quantiles of which histogram concept become which fields.
QUANTILE_FIELDS: Mapping[str, tuple[tuple[str, float], ...]] = {
    "latency": (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99)),
    "ttft": (("ttft_p50", 0.5), ("ttft_p95", 0.95), ("ttft_p99", 0.99)),
    "tpot": (("tpot_p95", 0.95),),
    "queue": (("queue_p95", 0.95),),
}
RATE_FIELDS: Mapping[str, str] = {
    "requests": "request_rate",
    "input_tokens": "input_tokens_rate",
    "output_tokens": "output_tokens_rate",
}
GAUGE_FIELDS: Mapping[str, str] = {"running": "running", "waiting": "waiting", "kv_cache": "kv_cache_usage"}
#: The fields each concept can fill, for saying why a field is empty.
CONCEPT_FIELDS: Mapping[str, tuple[str, ...]] = {
    **{concept: tuple(name for name, _ in fields) for concept, fields in QUANTILE_FIELDS.items()},
    **{concept: (name,) for concept, name in RATE_FIELDS.items()},
    **{concept: (name,) for concept, name in GAUGE_FIELDS.items()},
    "errors": ("error_rate",),
    "cost": ("cost_per_hour", "cost_per_request"),
    "cost_per_query": ("cost_per_hour", "cost_per_request"),
    "feedback": ("feedback_negative_ratio",),
}


@dataclass(frozen=True, slots=True)
class TargetData:
    """One target as the row builder sees it."""

    instance: str  # host:port, the group of last resort for schemas without a model label
    window: TargetWindow
    up: bool


@dataclass(slots=True)
class _Provenance:
    """Where a concept's numbers came from, for the explain view."""

    metrics: set[str] = field(default_factory=set)
    selector: str = ""
    series: int = 0
    targets: set[str] = field(default_factory=set)
    elapsed: float = 0.0


@dataclass(slots=True)
class _Accumulator:
    group_label: str
    present: set[str] = field(default_factory=set)  # concepts some target exposes for this row
    counted: set[str] = field(default_factory=set)  # concepts with a series that has a window-long increase
    rates: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    buckets: dict[str, dict[float, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    gauges: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    error_types: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    votes: list[float] = field(default_factory=lambda: [0.0, 0.0])  # positive, negative per second
    stale: bool = False
    provenance: dict[str, _Provenance] = field(default_factory=lambda: defaultdict(_Provenance))


def _index_by_name(keys: Iterable[SeriesKey]) -> dict[str, list[SeriesKey]]:
    index: dict[str, list[SeriesKey]] = defaultdict(list)
    for key in keys:
        index[key[0]].append(key)
    return index


def _choose(variants: Iterable[Variant], index: Mapping[str, list[SeriesKey]]) -> Variant | None:
    """The first variant the target exposes (old and new names are never summed together)."""
    for variant in variants:
        if variant.metric_regex is not None:
            if any(variant.names_value(name) for name in index):
                return variant
        elif any(name in index for name in variant.value_names):
            return variant
    return None


def _series_of(variant: Variant, index: Mapping[str, list[SeriesKey]]) -> Iterable[SeriesKey]:
    if variant.metric_regex is not None:
        names = [name for name in index if variant.names_value(name)]
    else:
        names = [name for name in variant.value_names if name in index]
    for name in names:
        yield from index[name]


#: The pseudo-label that groups by target (host:port), as Prometheus's `instance` label does.
INSTANCE = "instance"


class RowBuilder:
    """Accumulates targets' series into rows for one refresh.

    Rows are grouped by each schema's model label, or by `group_by` when given (any label the series
    carry, or `instance`); series without that label form a row named `(none)`. `within` keeps only the
    series of one row — a (schema, group) pair as grouped by `within_group_by` — which is how a row is broken
    down by a second label.
    """

    def __init__(
        self,
        schemas: Iterable[Schema],
        *,
        group_by: str | None = None,
        within: tuple[str, str] | None = None,
        within_group_by: str | None = None,
    ) -> None:
        self.schemas = tuple(schemas)
        self.group_by = group_by
        self.within = within
        self.within_group_by = within_group_by
        self._rows: dict[tuple[str, str], _Accumulator] = {}
        self.detected: set[str] = set()
        self.labels: set[str] = {INSTANCE}  # label names seen on the series read: choices for group_by

    def add_target(self, target: TargetData) -> None:
        latest = target.window.latest
        if latest is None:
            return
        index = _index_by_name(latest.values)
        elapsed = target.window.elapsed
        for schema in self.schemas:
            if not any(name in index for name in schema.detect):
                continue
            self.detected.add(schema.name)
            touched: set[tuple[str, str]] = set()
            chosen = {concept: _choose(variants, index) for concept, variants in schema.concepts.items()}
            for concept, variant in chosen.items():
                if variant is not None:
                    self._add_variant(schema, concept, variant, target, index, elapsed, touched)
            present = {concept for concept, variant in chosen.items() if variant is not None}
            for key in touched:
                accumulator = self._rows[key]
                accumulator.present |= present
                accumulator.stale |= not target.up

    def _accumulator(
        self, schema: Schema, labels: Mapping[str, str], instance: str
    ) -> tuple[tuple[str, str], _Accumulator] | None:
        if self.within is not None:
            if (schema.name, _group(schema, labels, instance, self.within_group_by)[1]) != self.within:
                return None
        label_used, group = _group(schema, labels, instance, self.group_by)
        key = (schema.name, group)
        accumulator = self._rows.get(key)
        if accumulator is None:
            accumulator = self._rows[key] = _Accumulator(group_label=label_used)
        return key, accumulator

    def _add_variant(self, schema, concept, variant, target, index, elapsed, touched) -> None:
        window = target.window
        for key in _series_of(variant, index):
            labels = dict(key[1])
            if not variant.selects(labels):
                continue
            self.labels.update(labels)
            found = self._accumulator(schema, labels, target.instance)
            if found is None:
                continue
            row_key, accumulator = found
            touched.add(row_key)
            source = accumulator.provenance[concept]
            source.metrics.add(key[0])
            source.selector = variant.selector()
            source.series += 1
            source.targets.add(target.instance)
            source.elapsed = max(source.elapsed, elapsed)
            if variant.kind == "gauge":
                value = window.latest_raw.get(key)
                if value is not None and not math.isnan(value):
                    accumulator.gauges[concept].append(value * variant.scale)
                continue
            increase = window.increase(key)
            if increase is None or elapsed <= 0:
                continue
            rate = increase / elapsed
            accumulator.counted.add(concept)
            if variant.kind == "histogram":
                bound = parse_le(labels.get("le"))
                if bound is not None:
                    accumulator.buckets[concept][bound * variant.scale] += rate
            elif concept == "feedback":
                rating = (variant.type_of(labels) or "").lower()
                if rating in FEEDBACK_POSITIVE:
                    accumulator.votes[0] += rate
                elif rating in FEEDBACK_NEGATIVE:
                    accumulator.votes[1] += rate
            else:
                accumulator.rates[concept] += rate * variant.scale
                if concept == "errors":
                    accumulator.error_types[clean(variant.type_of(labels) or "error", 64)] += rate

    def rows(self) -> list[Row]:
        return [_finish(schema, group, acc) for (schema, group), acc in sorted(self._rows.items())]

    def label_names(self) -> tuple[str, ...]:
        """Labels rows can be grouped by (bucket and quantile labels excluded)."""
        return tuple(sorted(self.labels - {"le", "quantile"}))


def _group(schema: Schema, labels: Mapping[str, str], instance: str, group_by: str | None) -> tuple[str, str]:
    """(label used, sanitised group value) of a series: the `group_by` label, else the schema's model label."""
    if group_by is not None:
        value = instance if group_by == INSTANCE else labels.get(group_by)
        return group_by, clean(value) if value else "(none)"
    for label in schema.group_labels:
        value = labels.get(label)
        if value:
            return label, clean(value)
    return INSTANCE, clean(instance)


def _detail(source: _Provenance) -> str:
    targets = len(source.targets)
    return (
        f"{source.series} series from {targets} target{'s' if targets != 1 else ''}, "
        f"computed locally from scrapes {source.elapsed:.1f}s apart"
    )


def _provenance(acc: _Accumulator) -> dict[str, str]:
    """One line per field: the PromQL equivalent of what aitop computed, and from how much data."""
    sources = acc.provenance

    def selected(concept: str) -> str:
        source = sources[concept]
        return ", ".join(sorted(source.metrics)) + source.selector

    def rate(concept: str) -> str:
        return f"sum(rate({selected(concept)}[{sources[concept].elapsed:.1f}s]))"

    expressions: dict[str, tuple[str, str]] = {}  # field -> (expression, concept it rests on)
    for concept, name in RATE_FIELDS.items():
        if concept in sources:
            expressions[name] = (rate(concept), concept)
    for concept, fields in QUANTILE_FIELDS.items():
        if concept in sources:
            window = f"{sources[concept].elapsed:.1f}s"
            for name, q in fields:
                expressions[name] = (f"histogram_quantile({q:g}, sum by (le) (rate({selected(concept)}[{window}])))", concept)
    for concept, name in GAUGE_FIELDS.items():
        if concept in sources:
            expressions[name] = (f"{'max' if concept == 'kv_cache' else 'sum'}({selected(concept)})", concept)
    if "errors" in sources and "requests" in sources:
        expressions["error_rate"] = (f"{rate('errors')} / {rate('requests')}", "errors")
    if "cost" in sources:
        expressions["cost_per_hour"] = (f"{rate('cost')} × 3600", "cost")
        expressions["cost_per_request"] = (f"{rate('cost')} / request rate", "cost")
    elif "cost_per_query" in sources:
        expressions["cost_per_request"] = (f"avg({selected('cost_per_query')})", "cost_per_query")
        expressions["cost_per_hour"] = (f"avg({selected('cost_per_query')}) × request rate × 3600", "cost_per_query")
    if "feedback" in sources:
        expressions["feedback_negative_ratio"] = (f"negative / all votes of {rate('feedback')}", "feedback")
    return {name: f"{expression} — {_detail(sources[concept])}" for name, (expression, concept) in expressions.items()}


def _finish(schema: str, group: str, acc: _Accumulator) -> Row:
    values: dict[str, float | None] = {}
    missing: dict[str, Missing] = {}

    def unknown(concept: str) -> Missing:
        if concept not in acc.present:
            return Missing.NO_METRIC
        if concept not in acc.counted:
            return Missing.NOT_ENOUGH_SAMPLES
        return Missing.NO_OBSERVATIONS

    def put(name: str, value: float | None, concept: str) -> None:
        if value is None or math.isnan(value):
            values[name] = None
            missing[name] = unknown(concept)
        else:
            values[name] = value

    requests = acc.rates.get("requests") if "requests" in acc.counted else None
    for concept, name in RATE_FIELDS.items():
        put(name, acc.rates.get(concept, 0.0) if concept in acc.counted else None, concept)
    for concept, fields in QUANTILE_FIELDS.items():
        buckets = acc.buckets.get(concept, {})
        for name, q in fields:
            put(name, histogram_quantile(q, buckets.items()) if buckets else None, concept)
    for concept, name in GAUGE_FIELDS.items():
        samples = acc.gauges.get(concept)
        value = None
        if samples:
            value = max(samples) if concept == "kv_cache" else sum(samples)
        put(name, value, concept)

    # Errors are often counted only when they happen: with requests counted, no error series means 0.
    # With no requests in the window the rate is unknown, not 0.
    errors = acc.rates.get("errors", 0.0) if "errors" in acc.present and requests is not None else None
    put("error_rate", min(errors / requests, 1.0) if errors is not None and requests else None, "errors")
    if values["error_rate"] is None and "errors" in acc.present:
        missing["error_rate"] = Missing.NO_OBSERVATIONS if requests == 0 else unknown("requests")

    _cost(acc, requests, put)
    positive, negative = acc.votes
    put("feedback_negative_ratio", negative / (positive + negative) if positive + negative > 0 else None, "feedback")
    return Row(
        schema=schema,
        group=group,
        group_label=acc.group_label,
        values=values,
        missing=missing,
        errors_by_type=dict(sorted(acc.error_types.items(), key=lambda item: -item[1])),
        stale=acc.stale,
        provenance=_provenance(acc),
        distributions={concept: tuple(sorted(b.items())) for concept, b in acc.buckets.items() if b},
    )


def _cost(acc: _Accumulator, requests: float | None, put) -> None:
    if "cost" in acc.present:
        spend = acc.rates.get("cost", 0.0) if "cost" in acc.counted else None  # USD per second
        put("cost_per_hour", spend * 3600 if spend is not None else None, "cost")
        put("cost_per_request", spend / requests if spend is not None and requests else None, "cost")
        return
    per_query = acc.gauges.get("cost_per_query")
    average = sum(per_query) / len(per_query) if per_query else None
    put("cost_per_request", average, "cost_per_query")
    hourly = average * requests * 3600 if average is not None and requests is not None else None
    put("cost_per_hour", hourly, "cost_per_query" if "requests" in acc.counted or average is None else "requests")
