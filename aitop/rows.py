"""From scraped windows to table rows: detect schemas, group series, aggregate, derive the fields.

Aggregation follows PromQL order: per-series rates first (resets handled in `store`), then summed by group
across targets and extra labels (engine, instance, replica); histogram bucket rates are summed by `le` and
only then turned into quantiles. A field no schema provides, or that lacks data, is None with a reason.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aitop.catalog import FEEDBACK_NEGATIVE, FEEDBACK_POSITIVE, Schema, Variant
from aitop.derive import Accumulator, finish_row
from aitop.model import Row
from aitop.prommath import parse_le
from aitop.sanitize import clean
from aitop.sources.exposition import SeriesKey
from aitop.store import TargetWindow


@dataclass(frozen=True, slots=True)
class TargetData:
    """One target as the row builder sees it."""

    instance: str  # host:port, the group of last resort for schemas without a model label
    window: TargetWindow
    up: bool


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
        self._rows: dict[tuple[str, str], Accumulator] = {}
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
    ) -> tuple[tuple[str, str], Accumulator] | None:
        if self.within is not None:
            if (schema.name, _group(schema, labels, instance, self.within_group_by)[1]) != self.within:
                return None
        label_used, group = _group(schema, labels, instance, self.group_by)
        key = (schema.name, group)
        accumulator = self._rows.get(key)
        if accumulator is None:
            accumulator = self._rows[key] = Accumulator(group_label=label_used)
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
        return [finish_row(schema, group, acc) for (schema, group), acc in sorted(self._rows.items())]

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


