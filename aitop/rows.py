"""From scraped windows to table rows: detect schemas, group series, aggregate, derive the fields.

Aggregation follows PromQL order: per-series rates first (resets handled in `store`), then summed by group
across targets and extra labels (engine, instance, replica); histogram bucket rates are summed by `le` and
only then turned into quantiles. A field no schema provides, or that lacks data, is None with a reason.
Which schemas and variants a target exposes is decided by `aitop.catalog.match`, the same rules
Prometheus mode plans its queries with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aitop.catalog import FEEDBACK_NEGATIVE, FEEDBACK_POSITIVE, Resolved, Schema, Variant, choose_all, detect_schemas
from aitop.catalog.match import index_names
from aitop.derive import Accumulator, finish_row
from aitop.model import Row
from aitop.prommath import parse_le
from aitop.sanitize import clean
from aitop.sources.exposition import SeriesKey
from aitop.store import TargetWindow

#: The pseudo-label that groups by target (host:port), as Prometheus's `instance` label does.
INSTANCE = "instance"


@dataclass(frozen=True, slots=True)
class TargetData:
    """One target as the row builder sees it."""

    instance: str  # host:port, the group of last resort for schemas without a model label
    window: TargetWindow
    up: bool


class RowBuilder:
    """Accumulates targets' series into rows for one refresh.

    Rows are grouped by each schema's model label (a variant may name its own), or by `group_by` when
    given (any label the series carry, or `instance`); series without that label form a row named
    `(none)`. `within` keeps only the series of one row — a (schema, group) pair as grouped by
    `within_group_by` — which is how a row is broken down by a second label.

    After `add_target`, `detected` holds the schemas found, `suppressed` the ones that stood down for
    another on the same target, and `chosen` what each target's schemas were read from (for `aitop detect`).
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
        self.suppressed: dict[str, str] = {}  # schema -> the schema it stood down for
        self.chosen: dict[tuple[str, str], dict[str, tuple[Resolved, ...]]] = {}  # (instance, schema) -> concepts
        self.labels: set[str] = {INSTANCE}  # label names seen on the series read: choices for group_by

    def add_target(self, target: TargetData) -> None:
        latest = target.window.latest
        if latest is None:
            return
        index = index_names(latest.values)
        found, suppressed = detect_schemas(self.schemas, index)
        self.suppressed.update(suppressed)
        for schema in found:
            self.detected.add(schema.name)
            chosen = self.chosen[(target.instance, schema.name)] = choose_all(schema, index)
            touched: set[tuple[str, str]] = set()
            for concept, entries in chosen.items():
                for resolved in entries:
                    self._add_variant(schema, concept, resolved, target, index, touched)
            for key in touched:
                accumulator = self._rows[key]
                accumulator.exposed |= set(chosen)
                accumulator.stale |= not target.up

    def _accumulator(
        self, schema: Schema, variant: Variant, labels: Mapping[str, str], instance: str
    ) -> tuple[tuple[str, str], Accumulator] | None:
        own = schema.group_labels_of(variant)
        if self.within is not None:
            if (schema.name, _group(own, labels, instance, self.within_group_by)[1]) != self.within:
                return None
        label_used, group = _group(own, labels, instance, self.group_by)
        key = (schema.name, group)
        accumulator = self._rows.get(key)
        if accumulator is None:
            accumulator = self._rows[key] = Accumulator(group_label=label_used, absent=_absent(schema))
        elif label_used in schema.group_labels and accumulator.group_label not in schema.group_labels:
            accumulator.group_label = label_used  # name the row by the schema's own label when any series has it
        return key, accumulator

    def _add_variant(self, schema, concept, resolved: Resolved, target, index, touched) -> None:
        variant = resolved.variant
        # The same for every series of the variant: worked out once, not per series (a target has 10⁵).
        common = (variant.selector(), target.window.elapsed, {})
        for part, names in (("value", resolved.values), ("count", resolved.counts)):
            for name in names:
                for key in index[name]:
                    self._add_series(schema, concept, variant, part, key, target, touched, common)

    def _add_series(self, schema, concept, variant: Variant, part: str, key: SeriesKey, target, touched,
                    common: tuple[str, float, dict]) -> None:  # fmt: skip
        labels = dict(key[1])
        if not variant.selects(labels):
            return
        self.labels.update(labels)
        selector, elapsed, groups = common
        # Series of one row share their grouping labels (a histogram's buckets differ only in `le`): the row
        # and its provenance entry are looked up and set up once per row and variant, not once per series.
        cacheable = self.group_by is None and self.within is None
        group_key = tuple(labels.get(label) for label in schema.group_labels_of(variant)) if cacheable else None
        found = groups.get(group_key) if cacheable else None
        if found is None:
            found = self._accumulator(schema, variant, labels, target.instance)
            if found is None:
                return
            row_key, acc = found
            touched.add(row_key)
            acc.present.add(concept)
            source = acc.provenance[(concept, variant.kind)]
            source.selector = selector
            source.targets.add(target.instance)
            source.elapsed = max(source.elapsed, elapsed)
            source.scale, source.aggregate = variant.scale, variant.aggregate
            found = (row_key, acc, source)
            if cacheable:
                groups[group_key] = found
        _, acc, source = found
        (source.counts if part == "count" else source.metrics).add(key[0])
        source.series += 1
        window = target.window
        if variant.kind in ("gauge", "summary"):
            value = window.latest_raw.get(key)
            if value is None:
                return
            if variant.kind == "gauge":
                if not math.isnan(value):
                    acc.gauges[concept].append(value * variant.scale)
                    acc.aggregates[concept] = variant.aggregate
                return
            quantile = parse_le(labels.get("quantile"))
            if quantile is not None:  # the summary's _sum/_count lines have no quantile
                acc.summaries[concept][quantile].append(value * variant.scale)
                acc.counted.add(concept)
            return
        increase = window.increase(key)
        if increase is None or elapsed <= 0:
            return
        rate = increase / elapsed
        acc.counted.add(concept)
        if variant.kind == "histogram":
            bound = parse_le(labels.get("le"))
            if bound is not None:
                acc.buckets[concept][bound * variant.scale] += rate
        elif variant.kind == "mean":
            parts = acc.means[concept]
            if part == "count":
                parts[1] += rate
            else:
                parts[0] += rate * variant.scale
        elif concept == "feedback":
            rating = (variant.type_of(labels) or "").lower()
            if rating in FEEDBACK_POSITIVE:
                acc.votes[0] += rate
            elif rating in FEEDBACK_NEGATIVE:
                acc.votes[1] += rate
        else:
            acc.rates[concept] += rate * variant.scale
            if concept == "errors":
                acc.error_types[clean(variant.type_of(labels) or "error", 64)] += rate

    def rows(self) -> list[Row]:
        return [finish_row(schema, group, acc) for (schema, group), acc in sorted(self._rows.items())]

    def label_names(self) -> tuple[str, ...]:
        """Labels rows can be grouped by (bucket and quantile labels excluded)."""
        return tuple(sorted(self.labels - {"le", "quantile"}))


def _absent(schema: Schema) -> dict[str, str]:
    return {concept: f"{schema.title}: {why}" for concept, why in schema.absent.items()}


def _group(
    labels_in_order: tuple[str, ...], labels: Mapping[str, str], instance: str, group_by: str | None
) -> tuple[str, str]:
    """(label used, sanitised group value) of a series: the `group_by` label, else the first model label it
    has, else its target."""
    if group_by is not None:
        value = instance if group_by == INSTANCE else labels.get(group_by)
        return group_by, clean(value) if value else "(none)"
    for label in labels_in_order:
        value = labels.get(label)
        if value:
            return label, clean(value)
    return INSTANCE, clean(instance)
