"""One query's answered series into their rows' accumulators, by the kind of query that answered it.

A refresh at 1,000 rows reads some 20,000 series: the reader is chosen once per query (`reads`), not by a
chain of kind tests per series, and what a query's kind makes constant is looked up once per query too. The
commonest kinds (a server's quantile, a counter's rate, a plain gauge) read every series of the answer in one
loop of their own; the others call their one-series reader (`reader`) per series.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aitop.accumulator import Accumulator
from aitop.catalog import FEEDBACK_NEGATIVE, FEEDBACK_POSITIVE
from aitop.prommath import parse_le
from aitop.sanitize import clean
from aitop.sources.prometheus.promql import Query

__all__ = ["Reader", "Reads", "reader", "reads"]

#: Reads one series (its labels and value) of `query`'s answer into a row's accumulator.
Reader = Callable[[Accumulator, Query, Mapping[str, str], float], None]
#: Reads every series of `query`'s answer: `found[i]` starts with the accumulator of `result[i]`'s row.
Reads = Callable[[Query, Sequence[tuple[Accumulator, Any]], Sequence[Mapping[str, Any]]], None]
_NO_LABELS: Mapping[str, str] = {}


def _quantile(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    acc.present.add(query.concept)
    if query.field is not None:  # (every quantile query names the field it fills)
        acc.quantiles[query.field] = value * query.scale
    acc.counted.add(query.concept)


def _buckets(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    """Bucket rates by `le`, for goodput."""
    acc.present.add(query.concept)
    bound = parse_le(labels.get("le"))
    if bound is not None and value == value:
        acc.goodput_buckets[query.concept][bound * query.scale] += value
        source = acc.provenance[(query.concept, "histogram")]  # what the goodput explanation quotes
        metric = query.variant.metric if query.variant is not None else None
        source.metrics.add(metric or query.concept)
        source.scale, source.elapsed = query.scale, query.window


def _unbounded(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    """Observations/s, read only beside a NaN quantile (finish_row)."""
    acc.present.add(query.concept)
    if value == value:
        acc.unbounded[query.concept] = value


def _gauge(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    acc.present.add(query.concept)
    variant = query.variant
    if variant is not None and variant.value_label is not None:  # an info gauge: the reading is a label
        value = variant.read_label(labels)
    if value == value:
        acc.gauges[query.concept].append(value * query.scale)
        acc.aggregates[query.concept] = variant.aggregate if variant is not None else "sum"


def _summary(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    acc.present.add(query.concept)
    quantile = parse_le(labels.get("quantile"))
    if quantile is None:
        return
    acc.summaries[query.concept][quantile].append(value * query.scale)
    acc.counted.add(query.concept)


def _mean(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    acc.present.add(query.concept)
    # The server divided already; NaN (nothing counted in the window) stays NaN.
    acc.means[query.concept] = [value * query.scale, 1.0]
    acc.counted.add(query.concept)


def _errors(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    acc.present.add(query.concept)
    variant = query.variant
    kind = (variant.type_of(labels) if variant is not None else None) or "error"
    acc.error_types[clean(kind, 64)] += value
    acc.rates["errors"] += value
    acc.counted.add(query.concept)


def _feedback(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    acc.present.add(query.concept)
    variant = query.variant
    rating = ((variant.type_of(labels) if variant is not None else None) or "").lower()
    if rating in FEEDBACK_POSITIVE:
        acc.votes[0] += value
    elif rating in FEEDBACK_NEGATIVE:
        acc.votes[1] += value
    acc.counted.add(query.concept)


def _rate(acc: Accumulator, query: Query, labels: Mapping[str, str], value: float) -> None:
    concept = query.concept
    acc.present.add(concept)
    acc.rates[concept] += value * query.scale
    acc.counted.add(concept)


_READERS: dict[str, Reader] = {
    "quantile": _quantile, "buckets": _buckets, "unbounded": _unbounded, "gauge": _gauge, "summary": _summary,
    "mean": _mean, "errors": _errors, "feedback": _feedback,
}


def reader(query: Query) -> Reader:
    """How a series of `query`'s answer is read: by its kind (any other kind is a counter's rate)."""
    return _READERS.get(query.kind, _rate)


def _each(read: Reader) -> Reads:
    def reads(query: Query, found: Sequence[tuple[Accumulator, Any]], result: Sequence[Mapping[str, Any]]) -> None:
        for (acc, _), series in zip(found, result, strict=True):
            read(acc, query, series.get("metric", _NO_LABELS), float(series["value"][1]))
    return reads


#: Info gauges (their readings are labels) through the one-series reader.
_each_gauge = _each(_gauge)


def _quantiles(query: Query, found: Sequence[tuple[Accumulator, Any]], result: Sequence[Mapping[str, Any]]) -> None:
    concept, field, scale = query.concept, query.field, query.scale
    for (acc, _), series in zip(found, result, strict=True):
        value = float(series["value"][1])
        acc.present.add(concept)
        if field is not None:
            acc.quantiles[field] = value * scale
        acc.counted.add(concept)


def _rates(query: Query, found: Sequence[tuple[Accumulator, Any]], result: Sequence[Mapping[str, Any]]) -> None:
    concept, scale = query.concept, query.scale
    for (acc, _), series in zip(found, result, strict=True):
        value = float(series["value"][1])
        acc.present.add(concept)
        rates = acc.rates
        rates[concept] = rates.get(concept, 0.0) + value * scale  # (`+=` on the defaultdict, without its factory)
        acc.counted.add(concept)


def _every_error(query: Query, found: Sequence[tuple[Accumulator, Any]], result: Sequence[Mapping[str, Any]]) -> None:
    """`_errors` for every series, each error type cleaned once per answer (2,000 series at 1,000 rows)."""
    concept, variant = query.concept, query.variant
    cleaned: dict[str, str] = {}
    for (acc, _), series in zip(found, result, strict=True):
        value = float(series["value"][1])
        acc.present.add(concept)
        kind = (variant.type_of(series.get("metric", _NO_LABELS)) if variant is not None else None) or "error"
        name = cleaned.get(kind)
        if name is None:
            name = cleaned[kind] = clean(kind, 64)
        acc.error_types[name] += value
        acc.rates["errors"] += value
        acc.counted.add(concept)


def _every_unbounded(query: Query, found: Sequence[tuple[Accumulator, Any]],
                     result: Sequence[Mapping[str, Any]]) -> None:  # fmt: skip
    concept = query.concept
    for (acc, _), series in zip(found, result, strict=True):
        value = float(series["value"][1])
        acc.present.add(concept)
        if value == value:
            acc.unbounded[concept] = value


def _gauges(query: Query, found: Sequence[tuple[Accumulator, Any]], result: Sequence[Mapping[str, Any]]) -> None:
    variant = query.variant
    if variant is not None and variant.value_label is not None:  # an info gauge: its readings are labels
        _each_gauge(query, found, result)
        return
    concept, scale = query.concept, query.scale
    aggregate = variant.aggregate if variant is not None else "sum"
    for (acc, _), series in zip(found, result, strict=True):
        value = float(series["value"][1])
        acc.present.add(concept)
        if value == value:
            acc.gauges[concept].append(value * scale)
            acc.aggregates[concept] = aggregate


_READS: dict[str, Reads] = {
    **{kind: _each(read) for kind, read in _READERS.items()}, "quantile": _quantiles, "gauge": _gauges,
    "errors": _every_error, "unbounded": _every_unbounded,
}


def reads(query: Query) -> Reads:
    """How every series of `query`'s answer is read, by its kind (any other kind is a counter's rate)."""
    return _READS.get(query.kind, _rates)
