"""PromQL for every concept of every detected schema, built from the catalog (pure; no I/O).

One instant query per concept per schema, aggregated server-side by the group label, so the number of
queries never grows with the number of rows. The same expressions, narrowed to one group with a matcher,
serve `query_range` for a row's history.

Names are resolved against what the server holds: prometheus_client escapes `vllm:` to `vllm_` when a
Prometheus 2.x server negotiates OpenMetrics, so a catalog name is looked up in both spellings.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from aitop.catalog import Schema, Variant
from aitop.derive import GAUGE_FIELDS, QUANTILE_FIELDS, RATE_FIELDS

INSTANCE = "instance"


def duration(seconds: float) -> str:
    """A PromQL duration: whole seconds when possible (`30s`), else milliseconds (`1500ms`)."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{max(1, round(seconds * 1000))}ms"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True, slots=True)
class Query:
    """One instant query and how to read its answer."""

    schema: str
    concept: str
    kind: str  # rate | errors | feedback | quantile | gauge
    expr: str
    group_labels: tuple[str, ...]
    type_labels: tuple[str, ...] = ()
    field: str | None = None  # for quantiles: which field the answer fills
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class SchemaPlan:
    """A detected schema with the variant (and the server's spelling of its metric) chosen per concept."""

    schema: Schema
    variants: dict[str, tuple[Variant, str]]  # concept -> (variant, metric name as stored on the server)

    def group_labels(self, group_by: str | None) -> tuple[str, ...]:
        if group_by:
            return (group_by,)
        return self.schema.group_labels or (INSTANCE,)


def _spellings(name: str) -> tuple[str, ...]:
    return (name, name.replace(":", "_")) if ":" in name else (name,)


def _resolve(variant: Variant, names: Collection[str]) -> str | None:
    """The server's name for what this variant aggregates, or None when the server has none."""
    if variant.metric_regex is not None:
        return variant.metric_regex.pattern if any(variant.metric_regex.fullmatch(n) for n in names) else None
    wanted = variant.metric + "_bucket" if variant.kind == "histogram" else None
    for candidate in variant.value_names if wanted is None else (wanted,):
        for spelling in _spellings(candidate):
            if spelling in names:
                return spelling.removesuffix("_bucket") if wanted else spelling
    return None


def plan_schemas(schemas: Iterable[Schema], names: Collection[str]) -> list[SchemaPlan]:
    """The schemas whose fingerprints the server holds, each with its first available variant per concept."""
    plans = []
    for schema in schemas:
        if not any(spelling in names for name in schema.detect for spelling in _spellings(name)):
            continue
        chosen: dict[str, tuple[Variant, str]] = {}
        for concept, variants in schema.concepts.items():
            for variant in variants:
                resolved = _resolve(variant, names)
                if resolved is not None:
                    chosen[concept] = (variant, resolved)
                    break
        plans.append(SchemaPlan(schema, chosen))
    return plans


def _selector(variant: Variant, metric: str, extra: str = "") -> str:
    """`metric{matchers}`; a regex variant selects on `__name__` (its `metric` is the pattern)."""
    matchers = [f'{label}=~"{_escape(p.pattern)}"' for label, p in variant.match]
    matchers += [f'{label}!~"{_escape(p.pattern)}"' for label, p in variant.exclude]
    if extra:
        matchers.append(extra)
    if variant.metric_regex is not None:
        return "{" + ",".join([f'__name__=~"{_escape(metric)}"', *matchers]) + "}"
    return metric + ("{" + ",".join(matchers) + "}" if matchers else "")


def _by(labels: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(labels))


def instant_queries(plan: SchemaPlan, *, window: float, group_by: str | None, matcher: str = "") -> list[Query]:
    """Every query one refresh of this schema needs; `matcher` narrows them to one row (for a breakdown)."""
    w = duration(window)
    group = plan.group_labels(group_by)
    queries: list[Query] = []
    name = plan.schema.name
    for concept, (variant, metric) in plan.variants.items():
        if variant.kind == "histogram":
            for field, q in QUANTILE_FIELDS.get(concept, ()):
                expr = f"histogram_quantile({q:g}, sum by ({_by(['le', *group])}) (rate({_selector(variant, metric + '_bucket', matcher)}[{w}])))"
                queries.append(Query(name, concept, "quantile", expr, group, field=field, scale=variant.scale))
        elif variant.kind == "gauge":
            aggregate = "max" if concept == "kv_cache" else ("avg" if concept == "cost_per_query" else variant.aggregate)
            expr = f"{aggregate} by ({_by(group)}) ({_selector(variant, metric, matcher)})"
            queries.append(Query(name, concept, "gauge", expr, group, scale=variant.scale))
        else:
            types = variant.type_labels if concept in ("errors", "feedback") else ()
            kind = concept if concept in ("errors", "feedback") else "rate"
            expr = f"sum by ({_by([*group, *types])}) (rate({_selector(variant, metric, matcher)}[{w}]))"
            queries.append(Query(name, concept, kind, expr, group, types, scale=variant.scale))
    return queries


def row_expression(plan: SchemaPlan, field: str, *, window: float, matcher: str) -> str | None:
    """One field of one row as a single PromQL expression (for `query_range`), or None if unavailable."""
    w = duration(window)

    def rate(concept: str) -> str | None:
        if concept not in plan.variants:
            return None
        variant, metric = plan.variants[concept]
        return f"sum(rate({_selector(variant, metric, matcher)}[{w}]))"

    for concept, name in RATE_FIELDS.items():
        if field == name:
            return rate(concept)
    for concept, fields in QUANTILE_FIELDS.items():
        for name, q in fields:
            if field == name and concept in plan.variants:
                variant, metric = plan.variants[concept]
                scaled = "" if variant.scale == 1 else f" * {variant.scale:g}"
                return f"histogram_quantile({q:g}, sum by (le) (rate({_selector(variant, metric + '_bucket', matcher)}[{w}]))){scaled}"
    for concept, name in GAUGE_FIELDS.items():
        if field == name and concept in plan.variants:
            variant, metric = plan.variants[concept]
            return f"{'max' if concept == 'kv_cache' else 'sum'}({_selector(variant, metric, matcher)})"
    if field == "error_rate" and rate("errors") and rate("requests"):
        return f"({rate('errors')} or vector(0)) / {rate('requests')}"
    if field == "cost_per_hour" and rate("cost"):
        return f"{rate('cost')} * 3600"
    return None


def group_matcher(labels: tuple[str, ...], group: str) -> str:
    """A matcher selecting one group; "(none)" selects series without the label."""
    value = "" if group == "(none)" else group
    return f'{labels[0]}="{_escape(value)}"'


def history_step(seconds: float, points: int = 240, max_points: int = 11_000) -> float:
    """A query_range step giving about `points` points and never more than Prometheus's 11,000 limit."""
    step = max(1.0, math.ceil(seconds / points))
    while seconds / step > max_points:
        step *= 2
    return step
