"""Row fields from aggregated rates, shared by both sources.

A source fills one `Accumulator` per row — summed rates per concept, merged bucket rates (or quantiles a
server already computed), gauge readings, vote rates — and `finish_row` derives the contract's fields from
it, with a reason for every field it cannot know and a one-line provenance for the explain view.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from aitop.model import Missing, Row
from aitop.prommath import histogram_quantile

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


@dataclass(slots=True)
class Provenance:
    """Where a concept's numbers came from, for the explain view."""

    metrics: set[str] = field(default_factory=set)
    selector: str = ""
    series: int = 0
    targets: set[str] = field(default_factory=set)
    elapsed: float = 0.0


@dataclass(slots=True)
class Accumulator:
    """Everything known about one row while a source aggregates; `finish_row` turns it into a `Row`."""

    group_label: str
    present: set[str] = field(default_factory=set)  # concepts some target exposes for this row
    counted: set[str] = field(default_factory=set)  # concepts with a series that has a window-long increase
    rates: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    buckets: dict[str, dict[float, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    gauges: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    error_types: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    votes: list[float] = field(default_factory=lambda: [0.0, 0.0])  # positive, negative per second
    stale: bool = False
    provenance: dict[str, Provenance] = field(default_factory=lambda: defaultdict(Provenance))
    quantiles: dict[str, float] = field(default_factory=dict)  # field -> value a server computed (NaN: none)
    queries: dict[str, str] = field(default_factory=dict)  # field -> the PromQL a server answered


def _detail(source: Provenance) -> str:
    targets = len(source.targets)
    return (
        f"{source.series} series from {targets} target{'s' if targets != 1 else ''}, "
        f"computed locally from scrapes {source.elapsed:.1f}s apart"
    )


def _provenance(acc: Accumulator) -> dict[str, str]:
    """One line per field: the PromQL a server answered, or the PromQL equivalent of what aitop computed
    locally and from how much data."""
    if acc.queries:
        return dict(acc.queries)
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


def finish_row(schema: str, group: str, acc: Accumulator) -> Row:
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
            if name in acc.quantiles:
                put(name, acc.quantiles[name], concept)
            else:
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


def _cost(acc: Accumulator, requests: float | None, put) -> None:
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
