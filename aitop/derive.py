"""Row fields from aggregated rates, shared by both sources.

A source fills one `Accumulator` per row — summed rates per concept, merged bucket rates (or quantiles a
server already computed), summary quantile lines, mean numerator/denominator rates, gauge readings, vote
rates — and `finish_row` derives the contract's fields from it, with a reason for every field it cannot
know and a one-line provenance for the explain view.

A latency-like field (latency, TTFT, TPOT, queue) is read from the best source the row has: a summary
quantile when exactly one series holds it (summaries of separate series cannot be merged), else histogram
buckets, else a mean (Δsum/Δcount), else a gauge's last value. A mean or a last value fills every field of
its concept, and its provenance says it is not a percentile.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aitop.engine_fields import GOODPUT_FIELDS, GOODPUT_TARGETS, RATIO_FIELDS, Ratio, gpu_fields
from aitop.model import Missing, Row
from aitop.prommath import Histogram

#: Which quantiles of which histogram concept become which fields.
QUANTILE_FIELDS: Mapping[str, tuple[tuple[str, float], ...]] = {
    "latency": (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99)),
    "ttft": (("ttft_p50", 0.5), ("ttft_p95", 0.95), ("ttft_p99", 0.99)),
    "tpot": (("tpot_p95", 0.95),),
    "queue": (("queue_p95", 0.95),),
    "prefill": (("prefill_p95", 0.95),),
    "decode": (("decode_p95", 0.95),),
    "prompt_length": (("prompt_length_p50", 0.5),),
    "output_length": (("output_length_p50", 0.5),),
}
RATE_FIELDS: Mapping[str, str] = {
    "requests": "request_rate",
    "input_tokens": "input_tokens_rate",
    "output_tokens": "output_tokens_rate",
    "preemptions": "preemptions_rate",
    "fallbacks": "fallbacks_rate",
    "transfer_failures": "transfer_failures_rate",
}
GAUGE_FIELDS: Mapping[str, str] = {
    "running": "running", "waiting": "waiting", "kv_cache": "kv_cache_usage",
    "waiting_capacity": "waiting_capacity", "waiting_deferred": "waiting_deferred",
    "prefill_queue": "prefill_queue", "decode_queue": "decode_queue",
    "gpu_utilization": "gpu_utilization", "gpu_memory_used": "gpu_memory_used", "gpu_power": "gpu_power",
    "gpu_temperature": "gpu_temperature",
    "ratelimit_remaining_requests": "ratelimit_remaining_requests",
    "ratelimit_remaining_tokens": "ratelimit_remaining_tokens",
}


#: The fields each concept can fill, for saying why a field is empty.
CONCEPT_FIELDS: Mapping[str, tuple[str, ...]] = {
    **{concept: tuple(name for name, _ in fields) for concept, fields in QUANTILE_FIELDS.items()},
    **{concept: (name,) for concept, name in RATE_FIELDS.items()},
    **{concept: (name,) for concept, name in GAUGE_FIELDS.items()},
    "errors": ("error_rate",),
    "cost": ("cost_per_hour", "cost_per_request"),
    "cost_per_query": ("cost_per_hour", "cost_per_request"),
    "feedback": ("feedback_negative_ratio",),
    **{concept: tuple(name for name, ratio in RATIO_FIELDS.items()
                      if concept in (ratio.numerator, ratio.denominator, ratio.gauge))
       for ratio in RATIO_FIELDS.values() for concept in (ratio.numerator, ratio.gauge) if concept},
}
MONOTONICITY_INFO = "input to histogram_quantile needed to be fixed for monotonicity"
#: What a latency-like field read from something other than a histogram is (said in its provenance).
KIND_NOTES: Mapping[str, str] = {
    "summary": "a client-side summary quantile of one series (summaries are not mergeable)",
    "mean": "a mean (Δsum/Δcount), not a percentile: no histogram exists",
    "gauge": "the last observed value (a gauge), not a percentile",
}
_AGGREGATE: Mapping[str, Callable[[list[float]], float]] = {
    "sum": sum, "max": max, "min": min, "avg": lambda values: sum(values) / len(values),
}


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
    summaries: dict[str, dict[float, list[float]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
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
    #: concept -> bound -> cumulative rate, from a server's `sum by (le)` answer (goodput in Prometheus mode;
    #: kept apart from `buckets`, which a server's quantiles make unnecessary)
    places: set[str] = field(default_factory=set)  # hosts and pods behind the row (aitop.gpus joins on them)
    goodput_buckets: dict[str, dict[float, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    #: concept -> observations/s of a histogram whose quantiles a server computed (Prometheus mode): with a
    #: NaN quantile, observations mean fewer than two buckets — only +Inf, as `buckets` shows in scrape mode
    unbounded: dict[str, float] = field(default_factory=dict)


def _detail(source: Provenance) -> str:
    targets = len(source.targets)
    return (
        f"{source.series} series from {targets} target{'s' if targets != 1 else ''}, "
        f"computed locally from scrapes {source.elapsed:.1f}s apart"
    )


def _scaled(source: Provenance) -> str:
    return "" if source.scale == 1 else f" × {source.scale:g}"


def _selected(source: Provenance, counts: bool = False) -> str:
    return ", ".join(sorted(source.counts if counts else source.metrics)) + source.selector


def _rate(source: Provenance, counts: bool = False) -> str:
    return f"sum(rate({_selected(source, counts)}[{source.elapsed:.1f}s]))"


def _distribution_line(acc: Accumulator, concept: str, kind: str, q: float) -> str:
    source = acc.provenance[(concept, kind)]
    window = f"{source.elapsed:.1f}s"
    if kind == "histogram":
        bounds = "" if source.scale == 1 else f" (bounds × {source.scale:g})"
        return f"histogram_quantile({q:g}, sum by (le) (rate({_selected(source)}[{window}]))){bounds} — {_detail(source)}"
    if kind == "summary":
        return f'{_selected(source)}{{quantile="{q:g}"}}{_scaled(source)} — {KIND_NOTES[kind]}; {_detail(source)}'
    if kind == "mean":
        return f"{_rate(source)} / {_rate(source, counts=True)}{_scaled(source)} — {KIND_NOTES[kind]}; {_detail(source)}"
    return f"{source.aggregate}({_selected(source)}){_scaled(source)} — {KIND_NOTES[kind]}; {_detail(source)}"


def _local_provenance(acc: Accumulator, used: Mapping[str, str]) -> dict[str, str]:
    """One line per field: the PromQL equivalent of what aitop computed locally, and from how much data.
    `used` names the source kind each latency-like field was read from."""
    sources = acc.provenance
    lines: dict[str, str] = {}

    def counter(concept: str) -> Provenance | None:
        return sources.get((concept, "counter"))

    for concept, name in RATE_FIELDS.items():
        if (source := counter(concept)) is not None:
            lines[name] = f"{_rate(source)}{_scaled(source)} — {_detail(source)}"
    for concept, fields in QUANTILE_FIELDS.items():
        for name, q in fields:
            if name in used:
                lines[name] = _distribution_line(acc, concept, used[name], q)
    for concept, name in GAUGE_FIELDS.items():
        if (source := sources.get((concept, "gauge"))) is not None:
            lines[name] = f"{source.aggregate}({_selected(source)}){_scaled(source)} — {_detail(source)}"
    errors, requests = counter("errors"), counter("requests")
    if errors is not None and requests is not None:
        lines["error_rate"] = f"{_rate(errors)} / {_rate(requests)} — {_detail(errors)}"
    if (cost := counter("cost")) is not None:
        lines["cost_per_hour"] = f"{_rate(cost)}{_scaled(cost)} × 3600 — {_detail(cost)}"
        lines["cost_per_request"] = f"{_rate(cost)}{_scaled(cost)} / request rate — {_detail(cost)}"
    elif (per_query := sources.get(("cost_per_query", "gauge"))) is not None:
        selected = _selected(per_query)
        mean = f"avg(avg_over_time({selected}[{per_query.elapsed:.1f}s]))"
        lines["cost_per_request"] = f"{mean} — {_detail(per_query)}"
        lines["cost_per_hour"] = f"{mean} × request rate × 3600 — {_detail(per_query)}"
    if (feedback := counter("feedback")) is not None:
        lines["feedback_negative_ratio"] = f"negative / all votes of {_rate(feedback)} — {_detail(feedback)}"
    return lines


def _distribution(acc: Accumulator, concept: str, name: str, q: float,
                  histograms: dict[str, Histogram]) -> tuple[float | None, str | None, int]:  # fmt: skip
    """(value, source kind, summary series that could not be merged) of one latency-like field.
    `histograms` keeps each concept's merged buckets for its other fields."""
    unmerged = 0
    lines = acc.summaries.get(concept, {}).get(q)
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
        return _AGGREGATE[acc.aggregates.get(concept, "avg")](samples), "gauge", unmerged
    return None, None, unmerged


def _unbounded(acc: Accumulator, concept: str, histogram: Histogram | None) -> float:
    """Observations/s of a histogram holding only a +Inf bucket; 0 when it has bounds or nothing is known.
    Scrape mode has the buckets; a server answered either its bucket rates by bound (goodput) or the +Inf
    rate alone (read only beside a NaN quantile: with observations, fewer than two buckets)."""
    if histogram is not None:
        return histogram.ordered[0][1] if len(histogram.ordered) == 1 else 0.0
    if server := acc.goodput_buckets.get(concept):
        return server.get(math.inf, 0.0) if len(server) == 1 else 0.0
    return acc.unbounded.get(concept, 0.0)


def finish_row(schema: str, group: str, acc: Accumulator) -> Row:
    """The `Row` of one accumulated group: contract fields, missing reasons, provenance."""
    values: dict[str, float | None] = {}
    missing: dict[str, Missing] = {}
    notes: dict[str, str] = {}  # field -> why it is empty, when the catalog or the data can say more

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
    used: dict[str, str] = {}
    histograms: dict[str, Histogram] = {}  # concept -> its buckets merged and sorted, once per row
    for concept, fields in QUANTILE_FIELDS.items():
        for name, q in fields:
            value, kind, unmerged = _distribution(acc, concept, name, q, histograms)
            put(name, value, concept)
            if kind is not None:
                used[name] = kind
            histogram = histograms.get(concept)
            observed = _unbounded(acc, concept, histogram)
            if kind == "histogram" and values[name] is None and observed > 0:
                # An OTel histogram exported without explicit bounds: observations, but no distribution.
                missing[name] = Missing.NO_BUCKETS
                notes[name] = (f"the histogram has only a +Inf bucket: {observed:g} observations/s "
                               "in the window, none placed in a bounded bucket")
            if unmerged and kind is None:
                missing[name] = Missing.NO_METRIC  # no mergeable source: a summary's series cannot be combined
                notes[name] = (f"not shown: {unmerged} series of a summary hold this row, and summary quantiles "
                               "cannot be merged (no histogram or mean to fall back on)")
    for concept, name in GAUGE_FIELDS.items():
        samples = acc.gauges.get(concept)
        aggregate = acc.aggregates.get(concept, "max" if concept == "kv_cache" else "sum")
        put(name, _AGGREGATE[aggregate](samples) if samples else None, concept)

    _ratios(acc, put)
    gpu_fields(acc.gauges, values, missing)
    goodput_notes = _goodput(acc, put, missing)

    # Errors are often counted only when they happen: with requests counted and errors exposed by the
    # target, no error series for this row means 0. With no requests in the window the rate is unknown.
    exposed = "errors" in acc.present or "errors" in acc.exposed
    errors = acc.rates.get("errors", 0.0) if exposed and requests is not None else None
    put("error_rate", min(errors / requests, 1.0) if errors is not None and requests else None, "errors")
    if values["error_rate"] is None and exposed:
        missing["error_rate"] = Missing.NO_OBSERVATIONS if requests == 0 else unknown("requests")

    _cost(acc, requests, put)
    positive, negative = acc.votes
    put("feedback_negative_ratio", negative / (positive + negative) if positive + negative > 0 else None, "feedback")

    if acc.queries or acc.kind_queries:  # a server answered: its PromQL, for the source each field used
        provenance = dict(acc.queries)
        provenance.update({name: acc.kind_queries[(name, kind)] for name, kind in used.items()
                           if (name, kind) in acc.kind_queries})
    else:
        provenance = _local_provenance(acc, used)
        for concept, fields in QUANTILE_FIELDS.items():  # as Prometheus's info annotation says (docs/architecture.md)
            buckets = acc.buckets.get(concept)
            histogram = histograms.get(concept) or (Histogram(buckets.items()) if buckets else None)
            if histogram is not None and histogram.forced_monotonic():
                for name, _ in fields:
                    if used.get(name) == "histogram" and name in provenance:
                        provenance[name] += f" — info: {MONOTONICITY_INFO}"
    provenance = {name: line for name, line in provenance.items() if not name.startswith("@")}  # ratio parts
    for name, line in goodput_notes.items():
        provenance[name] = line
    for name, ratio in RATIO_FIELDS.items():  # the ratio of the two rates, as PromQL would divide them
        if name not in provenance and values.get(name) is not None and ratio.numerator in acc.counted:
            provenance[name] = _ratio_line(acc, ratio)
        elif name not in provenance and values.get(name) is not None and ratio.gauge is not None \
                and (gauge := acc.provenance.get((ratio.gauge, "gauge"))) is not None:
            provenance[name] = f"{gauge.aggregate}({_selected(gauge)}) — the engine's own ratio; {_detail(gauge)}"
    for concept, why in acc.absent.items():
        for name in CONCEPT_FIELDS.get(concept, ()):
            if values.get(name) is None:
                notes.setdefault(name, f"not exposed: {why}")
    for name, note in notes.items():
        if missing.get(name) is Missing.NO_BUCKETS and name in provenance:  # the query, then why it gave nothing
            provenance[name] += f" — {note}"
        provenance.setdefault(name, note)
    if values["error_rate"] is not None and "error_rate" not in provenance:
        provenance["error_rate"] = "0: the error metric has no series for this row (failures are counted when they happen)"
    return Row(
        schema=schema,
        group=group,
        group_label=acc.group_label,
        values=values,
        missing=missing,
        errors_by_type=dict(sorted(acc.error_types.items(), key=lambda item: -item[1])),
        # Scrape mode: the row repeats its last good window only when no target behind it is up; with some
        # up it is live, and `replicas` says how many are missing.
        stale=acc.stale or bool(acc.replicas) and not acc.replicas_up,
        provenance=provenance,
        distributions={concept: tuple(sorted(b.items())) for concept, b in acc.buckets.items() if b},
        data_since=acc.data_since,
        replicas=(len(acc.replicas_up), len(acc.replicas)) if len(acc.replicas) > 1 else None,
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


def _ratios(acc: Accumulator, put) -> None:
    """Ratio fields: the counters' rates divided (0 queries in the window: unknown), else the engine's gauge."""
    for name, ratio in RATIO_FIELDS.items():
        numerator, denominator = ratio.numerator, ratio.denominator
        if numerator in acc.counted and denominator in acc.counted:
            below = acc.rates.get(denominator, 0.0)
            put(name, ratio.offset + acc.rates.get(numerator, 0.0) / below if below > 0 else None, numerator)
        elif numerator in acc.present and denominator in acc.present:
            put(name, None, numerator)
        elif ratio.gauge is not None and (samples := acc.gauges.get(ratio.gauge)):
            put(name, _AGGREGATE[acc.aggregates.get(ratio.gauge, "avg")](samples), ratio.gauge)
        elif numerator == "length_cut" and "length_cut" not in acc.present and "length_cut" in acc.exposed \
                and "requests" in acc.counted and acc.rates.get("requests", 0.0) > 0:
            put(name, 0.0, numerator)  # counted only when it happens, like errors: no series means none
        else:
            put(name, None, ratio.gauge if ratio.gauge in acc.present else numerator)


def _ratio_line(acc: Accumulator, ratio: Ratio) -> str:
    """The PromQL of a ratio field, from the queries a server answered or the local provenance."""
    parts = []
    for concept in (ratio.numerator, ratio.denominator):
        source = acc.provenance.get((concept, "counter"))
        parts.append(acc.queries.get(f"@{concept}") or (_rate(source) if source is not None else concept))
    offset = "" if ratio.offset == 0 else f"{ratio.offset:g} + "
    source = acc.provenance.get((ratio.numerator, "counter"))
    detail = f" — {_detail(source)}" if source is not None and source.series else " — answered by the server"
    return f"{offset}{parts[0]} / {parts[1]}{detail}"


def _goodput(acc: Accumulator, put, missing: dict[str, Missing]) -> dict[str, str]:
    """Goodput fields from the concept's merged bucket rates; field -> its explanation (the bound used)."""
    lines: dict[str, str] = {}
    for name, (concept, _) in GOODPUT_FIELDS.items():
        target = GOODPUT_TARGETS[name]
        buckets = acc.buckets.get(concept) or acc.goodput_buckets.get(concept)
        if not buckets:  # a mean, a summary or a gauge has no bucket to count at the target
            put(name, None, concept)
            missing[name] = Missing.NO_METRIC
            if concept in acc.present:
                lines[name] = f"goodput needs a {concept} histogram: this row's {concept} has no buckets"
            continue
        total = buckets.get(math.inf)
        bounds = sorted(bound for bound in buckets if bound <= target * (1 + 1e-9))
        metric = ", ".join(sorted(acc.provenance[(concept, "histogram")].metrics)) or concept
        if not bounds or total is None:
            put(name, None, concept)
            lines[name] = (f"no bucket bound at or below the target {target:g}s" if total is not None
                           else "the histogram has no +Inf bucket")
            continue
        bound = bounds[-1]
        scale = acc.provenance[(concept, "histogram")].scale or 1.0
        label = bound / scale  # the `le` as the server spells it (Triton's are milliseconds)
        put(name, buckets[bound] / total if total > 0 else None, concept)
        if total == 0:
            missing[name] = Missing.NO_OBSERVATIONS
        family = metric.removesuffix("_bucket")
        window = acc.provenance[(concept, "histogram")].elapsed
        named = f"le={label:g}" + ("" if scale == 1 else f" ({bound:g}s)")  # as the server spells it
        rounded = "" if abs(bound - target) <= target * 1e-9 else \
            f" — target {target:g}s lies between bucket bounds: rounded down to {named}"
        lines[name] = (f'sum(rate({family}_bucket{{le="{label:g}"}}[{window:g}s])) / '
                       f'sum(rate({family}_count[{window:g}s])) — bucket bound {named} used for the target '
                       f"{target:g}s{rounded}")
    return lines

