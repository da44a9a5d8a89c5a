"""From scraped windows to table rows: detect schemas, group series, aggregate, derive the fields.

Aggregation follows PromQL order: per-series rates first (resets handled in `store`), then summed by group
across targets and extra labels (engine, instance, replica); histogram bucket rates are summed by `le` and
only then turned into quantiles. A field no schema provides, or that lacks data, is None with a reason.
Which schemas and variants a target exposes is decided by `aitop.catalog.match`, the same rules
Prometheus mode plans its queries with.

A target's series are read in two steps: a *plan* (which schemas and variants, which series each reads
and into which row, each series' bucket bound or error type) that depends only on the set of series, and
the per-refresh arithmetic over the plan. The set of series rarely changes between scrapes, and the store
then keeps the same layout object, so a `RowCache` keeps the plan of the latest layout across refreshes:
a refresh then only reads values. The plan is rebuilt whenever the layout (or the grouping) changes, and
only the latest is kept, so label churn cannot grow it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aitop.accumulator import INSTANCE, absent_reasons, group_of
from aitop.catalog import (
    FEEDBACK_NEGATIVE,
    FEEDBACK_POSITIVE,
    Resolved,
    Schema,
    Variant,
    choose_all,
    detect_schemas,
)
from aitop.catalog.match import index_names
from aitop.derive import Accumulator, finish_row
from aitop.gpus import host_of, join_gpus, places_of
from aitop.model import Row
from aitop.prommath import parse_le
from aitop.sanitize import clean
from aitop.series import SeriesKey
from aitop.store import Layout, TargetWindow
from aitop.why import with_why

__all__ = ["INSTANCE", "RowBuilder", "RowCache", "TargetData"]


class RowCache:
    """One target's row plan, kept across refreshes while its set of series (its layout) stays the same.

    Give each target its own, and only to builders of one configuration (a drill-down builder gets none):
    a plan built for another grouping or another layout is replaced, never reused.
    """

    __slots__ = ("config", "layout", "plan")

    def __init__(self) -> None:
        self.layout: Layout | None = None
        self.config: tuple | None = None
        self.plan: _Plan | None = None


@dataclass(frozen=True, slots=True)
class TargetData:
    """One target as the row builder sees it."""

    instance: str  # host:port, the group of last resort for schemas without a model label
    window: TargetWindow
    up: bool
    cache: RowCache | None = None  # this target's plan from earlier refreshes, if the caller keeps one
    expired: bool = False  # down, with its last scrape older than the window: its series no longer count


@dataclass(slots=True)
class _Slot:
    """The series of one variant (and part) that land in one row: set up once per refresh, not per series."""

    concept: str
    variant: Variant
    part: str  # "value" or "count" (a mean's denominator)
    row_key: tuple[str, str]
    label_used: str
    names: set[str] = field(default_factory=set)  # sample names, for the provenance
    series: int = 0
    places: set[str] = field(default_factory=set)  # nodes and pods its series name (GPU join)
    selector: str = ""  # the provenance's selector: the same every refresh, so said once

    def __post_init__(self) -> None:
        variant = self.variant
        self.selector = variant.selector()
        if variant.join_via is not None:  # said as PromQL would join it
            on = ", ".join(variant.join_on)
            self.selector += f" * on ({on}) group_right () group by ({on}, {self.label_used}) ({variant.join_via})"
            if variant.value_label is not None:
                self.selector += (f" — read: the {variant.value_read} of {variant.value_label} in the newest "
                                  f"series (highest value) per {on}")


@dataclass(slots=True)
class _SchemaPlan:
    schema: Schema
    chosen: dict[str, tuple[Resolved, ...]]
    slots: list[_Slot]
    #: Per series, in the order they are summed: (slot index, position in the layout, key, extra, what `_apply`
    #: does with it (`_step`), its concept, its scale, whether it is a mean's denominator), all fixed by the
    #: plan so a refresh does not look them up series by series. Extra (Any: its type follows the slot's kind)
    #: is a histogram's scaled bound, a summary's quantile, a feedback rating (+1/-1/0) or an error type.
    steps: list[tuple[int, int, SeriesKey, Any, int, str, float, bool]] = field(default_factory=list)


@dataclass(slots=True)
class _Plan:
    suppressed: dict[str, str]
    schemas: list[_SchemaPlan]
    labels: set[str]  # label names of the selected series
    averaged: set[SeriesKey] = field(default_factory=set)  # gauges read as their mean over the window


class RowBuilder:
    """Accumulates targets' series into rows for one refresh.

    Rows are grouped by each schema's model label (a variant may name its own), or by `group_by` when
    given (any label the series carry, or `instance`); series without that label form a row named
    `(none)`, and series without any model label a row named by their target (`group_of`). `within` keeps only
    the series of one row — a (schema, group) pair as grouped by
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
        self._expired: list[tuple[_SchemaPlan, TargetData]] = []  # expired targets, placed by `rows`
        self._absent: dict[str, dict[str, str]] = {}  # schema -> its rows' reasons for concepts it lacks

    def add_target(self, target: TargetData) -> None:
        latest = target.window.latest
        if latest is None:
            return
        cache = target.cache
        config = (self.schemas, self.group_by, self.within, self.within_group_by, target.instance)
        if cache is not None and cache.layout is latest.layout and cache.config == config and cache.plan is not None:
            plan = cache.plan
        else:
            plan = self._plan(latest.layout, target.instance)
            if cache is not None:
                cache.layout, cache.config, cache.plan = latest.layout, config, plan
        self.suppressed.update(plan.suppressed)
        self.labels |= plan.labels
        if plan.averaged and not plan.averaged <= target.window.averaged:
            target.window.averaged |= plan.averaged  # the store keeps their readings from the next scrape on
        for schema_plan in plan.schemas:
            if target.expired:
                # Down, and its last samples have left the window (Prometheus staleness): it no longer counts
                # in rows other targets feed, which say a replica is missing (see `rows`).
                self._expired.append((schema_plan, target))
            else:
                self._apply(schema_plan, target)

    # -- the plan: everything that depends only on the set of series ------------------------------------

    def _plan(self, layout: Layout, instance: str) -> _Plan:
        index = index_names(layout)
        found, suppressed = detect_schemas(self.schemas, index)
        plan = _Plan(suppressed, [], set())
        for schema in found:
            chosen = choose_all(schema, index)
            schema_plan = _SchemaPlan(schema, chosen, [])
            slots: dict[tuple, int] = {}
            for concept, entries in chosen.items():
                for resolved in entries:
                    variant = resolved.variant
                    if variant.join_via is not None:
                        # Rows of the model label only: regrouped or split by another label, a deployment's
                        # (a caller's) series would fall into the rows of labels it does not carry.
                        if self.group_by is None:
                            self._plan_joined(schema_plan, slots, plan, resolved, index, layout, instance)
                        continue
                    for part, names in (("value", resolved.values), ("count", resolved.counts)):
                        for name in names:
                            for key in index[name]:
                                self._plan_series(schema_plan, slots, plan.labels, plan.averaged, concept,
                                                  variant, part, key, layout[key], instance)  # fmt: skip
            plan.schemas.append(schema_plan)
        return plan

    def _plan_joined(self, schema_plan: _SchemaPlan, slots: dict, plan: _Plan, resolved: Resolved,
                     index: Mapping[str, list[SeriesKey]], layout: Layout, instance: str) -> None:  # fmt: skip
        """A joined variant's series, each in the rows of the `via` series sharing its `on` labels: planned
        with that via series' labels added (its own win), once per distinct row."""
        variant = resolved.variant
        own = schema_plan.schema.group_labels_of(variant)

        def on_key(labels: Mapping[str, str]) -> tuple[str, ...]:
            return tuple(instance if label == INSTANCE else labels.get(label, "") for label in variant.join_on)

        rows: dict[tuple[str, ...], dict[tuple[str, str], dict[str, str]]] = {}
        for name in resolved.counts:
            for key in index[name]:
                labels = dict(key[1])
                row = group_of(labels, own, instance, self.group_by)
                rows.setdefault(on_key(labels), {}).setdefault(row, labels)
        for name in resolved.values:
            for key in index[name]:
                labels = dict(key[1])
                for via in rows.get(on_key(labels), {}).values():
                    self._plan_series(schema_plan, slots, plan.labels, plan.averaged, variant.concept, variant,
                                      "value", key, layout[key], instance, {**via, **labels})  # fmt: skip

    def _plan_series(self, schema_plan: _SchemaPlan, slots: dict, labels_seen: set[str], averaged: set[SeriesKey],
                     concept: str, variant: Variant, part: str, key: SeriesKey, position: int,
                     instance: str, joined: Mapping[str, str] | None = None) -> None:  # fmt: skip
        labels = dict(key[1]) if joined is None else dict(joined)  # a joined series: with its row's labels
        if not variant.selects(labels):
            return
        labels_seen.update(labels)
        schema = schema_plan.schema
        own = schema.group_labels_of(variant)
        if (self.within is not None
                and (schema.name, group_of(labels, own, instance, self.within_group_by)[1]) != self.within):
            return
        label_used, group = group_of(labels, own, instance, self.group_by)
        # Slots are numbered in the order their first series comes, the order rows were set up in before.
        slot_key = (id(variant), concept, part, group, label_used)
        index = slots.get(slot_key)
        if index is None:
            index = slots[slot_key] = len(schema_plan.slots)
            schema_plan.slots.append(_Slot(concept, variant, part, (schema.name, group), label_used))
        slot = schema_plan.slots[index]
        slot.names.add(key[0])
        slot.series += 1
        slot.places |= places_of(labels)
        extra: Any = None
        if variant.kind == "summary":
            extra = parse_le(labels.get("quantile"))
            if extra is None:  # the summary's _sum/_count lines have no quantile
                return
        elif variant.kind == "histogram":
            bound = parse_le(labels.get("le"))
            extra = None if bound is None else bound * variant.scale
        elif concept == "feedback" and variant.kind == "counter":
            rating = (variant.type_of(labels) or "").lower()
            extra = 1 if rating in FEEDBACK_POSITIVE else -1 if rating in FEEDBACK_NEGATIVE else 0
        elif variant.value_label is not None:  # an info gauge: its join key and its label's reading
            extra = (tuple(instance if label == INSTANCE else labels.get(label, "") for label in variant.join_on),
                     variant.read_label(labels))
        elif concept == "cost_per_query" and variant.kind == "gauge":
            averaged.add(key)
        elif concept == "errors" and variant.kind == "counter":
            extra = clean(variant.type_of(labels) or "error", 64)
        schema_plan.steps.append((index, position, key, extra, _step(concept, variant), concept, variant.scale,
                                  part == "count"))  # fmt: skip

    # -- a refresh: the arithmetic over the plan -------------------------------------------------------

    def _open(self, schema: Schema, slot: _Slot, target: TargetData, elapsed: float) -> Accumulator:
        """The slot's row, created or renamed as needed, with its provenance entry filled in."""
        acc = self._rows.get(slot.row_key)
        if acc is None:
            absent = self._absent.get(schema.name)
            if absent is None:  # the same reasons for every row of a schema: made once, read only
                absent = self._absent[schema.name] = absent_reasons(schema.title, schema.absent)
            acc = self._rows[slot.row_key] = Accumulator.fresh(slot.label_used, absent)
        elif slot.label_used in schema.group_labels and acc.group_label not in schema.group_labels:
            acc.group_label = slot.label_used  # name the row by the schema's own label when any series has it
        variant = slot.variant
        acc.present.add(slot.concept)
        source = acc.provenance[(slot.concept, variant.kind)]
        source.selector = slot.selector
        source.targets.add(target.instance)
        source.elapsed = max(source.elapsed, elapsed)
        source.scale, source.aggregate = variant.scale, variant.aggregate
        (source.counts if slot.part == "count" else source.metrics).update(slot.names)
        source.series += slot.series
        return acc

    def _apply(self, plan: _SchemaPlan, target: TargetData, only: set[tuple[str, str]] | None = None) -> None:
        """Add the target's series to their rows (with `only`, to those rows alone)."""
        schema, window = plan.schema, target.window
        self.detected.add(schema.name)
        self.chosen[(target.instance, schema.name)] = plan.chosen
        elapsed = window.elapsed
        accumulators = [self._open(schema, slot, target, elapsed) if only is None or slot.row_key in only else None
                        for slot in plan.slots]  # fmt: skip
        frames = window.frames
        latest, raw = frames[-1], window.raw
        # While the window's oldest frame has the latest layout, a series' increase is one subtraction.
        base = frames[0].data if len(frames) >= 2 and frames[0].layout is latest.layout else None
        now = latest.data
        newest: dict[int, dict[tuple[str, ...], tuple[float, float]]] = {}  # info gauges: slot -> key -> newest
        isnan = math.isnan
        for index, position, key, extra, step, concept, scale, counts in plan.steps:
            acc = accumulators[index]
            if acc is None:
                continue
            if step >= _HISTOGRAM:  # a rate: the usual case, most of all a histogram's buckets
                increase = now[position] - base[position] if base is not None else window.increase(key)
                if increase is None or elapsed <= 0:
                    continue
                rate = increase / elapsed
                acc.counted.add(concept)
                if step == _HISTOGRAM:
                    if extra is not None:
                        acc.buckets[concept][extra] += rate
                elif step == _MEAN:
                    parts = acc.means[concept]
                    if counts:
                        parts[1] += rate
                    else:
                        parts[0] += rate * scale
                elif step == _FEEDBACK:
                    if extra == 1:
                        acc.votes[0] += rate
                    elif extra == -1:
                        acc.votes[1] += rate
                else:
                    acc.rates[concept] += rate * scale
                    if step == _ERRORS:
                        acc.error_types[extra] += rate
            elif step == _INFO:  # the newest series (highest value: its update time) per key
                stamp, (on, reading) = raw[position], extra
                held = newest.setdefault(index, {}).get(on)
                if stamp is not None and not isnan(stamp) and (held is None or stamp > held[0]):
                    newest[index][on] = (stamp, reading)
            elif step == _GAUGE:
                # A per-query cost is the last query's: its mean over the window is what a query costs.
                value = window.mean(key) if concept == "cost_per_query" else raw[position]
                if value is None:
                    continue
                if not isnan(value):
                    acc.gauges[concept].append(value * scale)
                    acc.aggregates[concept] = plan.slots[index].variant.aggregate
            else:  # _SUMMARY
                acc.summaries[concept][extra].append(raw[position] * scale)
                acc.counted.add(concept)
        for index, by_key in newest.items():
            slot, acc = plan.slots[index], accumulators[index]
            if acc is not None:
                readings = [reading for _, reading in by_key.values() if not math.isnan(reading)]
                acc.gauges[slot.concept] += [reading * slot.variant.scale for reading in readings]
                acc.aggregates[slot.concept] = slot.variant.aggregate
        since = window.data_since
        here = ("host:" + host_of(target.instance), "target:" + target.instance)
        for slot, acc in zip(plan.slots, accumulators):
            if acc is not None:
                acc.places |= slot.places
                acc.places.update(here)
        for row_key in {slot.row_key for slot in plan.slots if only is None or slot.row_key in only}:
            accumulator = self._rows[row_key]
            accumulator.exposed |= set(plan.chosen)
            accumulator.replicas.add(target.instance)
            if target.up:
                accumulator.replicas_up.add(target.instance)
            if since is not None:
                accumulator.data_since = since if accumulator.data_since is None else max(accumulator.data_since, since)

    def rows(self) -> list[Row]:
        live = set(self._rows)
        for plan, target in self._expired:
            keys = {slot.row_key for slot in plan.slots}
            for key in keys & live:
                self._rows[key].replicas.add(target.instance)
            if keys - live:  # rows only down targets feed keep their last good window, stale, until evicted
                self._apply(plan, target, only=keys - live)
        self._expired.clear()
        rows = [finish_row(schema, group, acc) for (schema, group), acc in sorted(self._rows.items())]
        return with_why(join_gpus(rows, {key: acc.places for key, acc in self._rows.items()}))

    def label_names(self) -> tuple[str, ...]:
        """Labels rows can be grouped by (bucket and quantile labels excluded)."""
        return tuple(sorted(self.labels - {"le", "quantile"}))


# What `_apply` does with a series (`_step`): keep the newest info gauge, read a gauge or a summary's quantile,
# or take its rate into a histogram bucket, a mean, the feedback votes, an error type or a plain rate.
_INFO, _GAUGE, _SUMMARY, _HISTOGRAM, _MEAN, _FEEDBACK, _RATE, _ERRORS = range(8)


def _step(concept: str, variant: Variant) -> int:
    if variant.value_label is not None:
        return _INFO
    kind = variant.kind
    if kind in ("gauge", "summary"):
        return _GAUGE if kind == "gauge" else _SUMMARY
    if kind in ("histogram", "mean"):
        return _HISTOGRAM if kind == "histogram" else _MEAN
    if concept == "feedback":
        return _FEEDBACK
    return _ERRORS if concept == "errors" else _RATE

