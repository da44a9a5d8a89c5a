"""PromQL for every concept of every detected schema, built from the catalog (pure; no I/O).

One instant query per concept per schema (per quantile for histograms), aggregated server-side by the
group label, so the number of queries never grows with the number of rows. The same expressions, narrowed
to one group with a matcher, serve `query_range` for a row's history.

Which schemas and variants are used is decided by `aitop.catalog.match` from the server's metric names —
the rules scrape mode uses — including the escaped spelling (`vllm_x` for `vllm:x`) a Prometheus 2.x
server stores when it negotiated OpenMetrics. A schema that stands down for another on the same target
(`suppressed_by`) keeps only series of instances where the other is absent (`unless on (instance)`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from aitop.catalog import Resolved, Schema, Variant, alternates, choose_all, fingerprint
from aitop.derive import INDEX
from aitop.gpus import GPU_SCHEMAS

INSTANCE = "instance"
INF_BUCKET = 'le="+Inf"'


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
    kind: str  # rate | errors | feedback | quantile | buckets | unbounded | gauge | mean | summary | places
    expr: str
    group_labels: tuple[str, ...]
    type_labels: tuple[str, ...] = ()
    field: str | None = None  # for quantiles: which field the answer fills
    scale: float = 1.0
    variant: Variant | None = None  # the catalog entry behind it (error-type format, aggregate)
    also: tuple[Query, ...] = ()  # other readings of the same expression (it is sent once)
    window: float = 0.0  # the rate window, for explanations built after the answer (goodput)

    def readings(self) -> tuple[Query, ...]:
        """This query and the others answered by the same expression."""
        return (self, *self.also)


@dataclass(frozen=True, slots=True)
class SchemaPlan:
    """A detected schema with what to read per concept on this server."""

    schema: Schema
    variants: dict[str, tuple[Variant, str]]  # concept -> (first variant, its metric as stored on the server)
    chosen: dict[str, tuple[Resolved, ...]] = field(default_factory=dict)  # concept -> every variant to read
    unless: str = ""  # selector of the suppressing schemas' fingerprints, when the server holds any
    scope: str = ""  # selector of this schema's own fingerprint, for variants read only where it shows
    scoped: frozenset[Variant] = frozenset()  # variants whose series may belong to another system
    prints: tuple[str, ...] = ()  # the fingerprint names found (which jobs hold the schema)
    #: concept -> other spellings present on the server, joined with `or` so each row reads the one it has
    others: dict[str, tuple[Resolved, ...]] = field(default_factory=dict)

    def group_labels(self, group_by: str | None, variant: Variant | None = None) -> tuple[str, ...]:
        if group_by:
            return (group_by,)
        labels = self.schema.group_labels_of(variant) if variant is not None else self.schema.group_labels
        return labels or (INSTANCE,)

    def wrap(self, vector: str, variant: Variant | None = None) -> str:
        """`vector` restricted as scrape mode restricts a target: only instances showing this schema's
        fingerprint (for a scoped variant), none where a suppressing schema was found."""
        if variant is not None and variant in self.scoped and self.scope:
            vector = f"({vector} and on ({INSTANCE}) group by ({INSTANCE}) ({self.scope}))"
        if self.unless:
            vector = f"({vector} unless on ({INSTANCE}) group by ({INSTANCE}) ({self.unless}))"
        return vector


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(re.escape(name) for name in names)


def _names_selector(names: Sequence[str]) -> str:
    return '{__name__=~"' + _escape(_alternatives(names)) + '"}' if names else ""


def _readers(schemas: Iterable[Schema]) -> dict[str, set[str]]:
    """metric name (without `_total`) -> the schemas that read it."""
    readers: dict[str, set[str]] = {}
    for schema in schemas:
        for variant in schema.variants():
            for metric in (*variant.metrics, *variant.count):
                readers.setdefault(metric.removesuffix("_total"), set()).add(schema.name)
    return readers


def _needs_scope(schema: Schema, variant: Variant, readers: dict[str, set[str]]) -> bool:
    """Could a series this variant reads belong to another system? Yes for a generic schema, and for names
    another schema reads too — unless that schema outranks this one on shared targets (it is excluded
    there anyway: `suppressed_by`)."""
    if schema.scoped:
        return True
    others = {other for metric in (*variant.metrics, *variant.count)
              for other in readers.get(metric.removesuffix("_total"), ())} - {schema.name}
    return bool(others - set(schema.suppressed_by))


def plan_schemas(schemas: Iterable[Schema], names: Collection[str]) -> list[SchemaPlan]:
    """The schemas whose fingerprints the server holds, each with the variants to read per concept."""
    schemas = tuple(schemas)
    prints = {schema.name: fingerprint(schema, names) for schema in schemas}
    readers = _readers(schemas)
    plans = []
    for schema in schemas:
        if not prints[schema.name]:
            continue
        chosen = choose_all(schema, names)
        variants = {concept: (found[0].variant, found[0].metrics[0]) for concept, found in chosen.items()}
        suppressors = [name for other in schema.suppressed_by for name in prints.get(other, ())]
        scoped = frozenset(found.variant for concept, entries in chosen.items()
                           for found in (*entries, *alternates(schema, concept, names))
                           if _needs_scope(schema, found.variant, readers))
        plans.append(SchemaPlan(schema, variants, chosen, _names_selector(suppressors),
                                _names_selector(prints[schema.name]), scoped, prints[schema.name],
                                {concept: found for concept in chosen if len(chosen[concept]) == 1
                                 and (found := alternates(schema, concept, names))}))
    return plans


def _selector(variant: Variant, names: Sequence[str], extra: Sequence[str] = ()) -> str:
    """`metric{matchers}`; several names (or a regex variant) select on `__name__`."""
    matchers = [f'{label}=~"{_escape(p.pattern)}"' for label, p in variant.match]
    matchers += [f'{label}!~"{_escape(p.pattern)}"' for label, p in variant.exclude]
    matchers += [m for m in extra if m]
    if variant.metric_regex is not None or len(names) > 1:
        pattern = variant.metric_regex.pattern if variant.metric_regex is not None else _alternatives(names)
        return "{" + ",".join([f'__name__=~"{_escape(pattern)}"', *matchers]) + "}"
    return names[0] + ("{" + ",".join(matchers) + "}" if matchers else "")


def by_labels(labels: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(labels))


class GroupMatcher(str):
    """A matcher selecting one row's group (`label="value"`), that remembers its parts so a query whose
    variant names rows by another label (LiteLLM's `requested_model`) can select the same row."""

    label: str
    value: str

    def __new__(cls, label: str, value: str) -> GroupMatcher:
        matcher = super().__new__(cls, f'{label}="{_escape(value)}"')
        matcher.label, matcher.value = label, value
        return matcher

    def for_variant(self, schema: Schema, variant: Variant) -> str:
        own = schema.group_labels_of(variant)
        if self.label in schema.model_labels and own and self.label not in own:
            return GroupMatcher(own[0], self.value)
        return self


def group_matcher(labels: tuple[str, ...], group: str) -> GroupMatcher:
    """A matcher selecting one group; "(none)" selects series without the label."""
    return GroupMatcher(labels[0], "" if group == "(none)" else group)


def matcher_for(matcher: str, plan: SchemaPlan, variant: Variant) -> str:
    return matcher.for_variant(plan.schema, variant) if isinstance(matcher, GroupMatcher) else matcher


def _quantiles_regex(concept: str) -> str:
    return _escape(_alternatives(f"{q:g}" for _, q in INDEX.quantile_fields[concept]))


def vector(plan: SchemaPlan, variant: Variant, names: Sequence[str], labels: Sequence[str], extra: Sequence[str],
            fn: Callable[[str], str] = str) -> str:
    """`fn(selector)` over the variant's series, with the row label in `labels[0]`, restricted as `wrap` says.

    With several group labels a series is named by the first it has (scrape mode's rule), so the others
    are copied into the first where it is empty (`label_replace` over disjoint selections), and series with
    none of them are named by their target — then one `by (labels[0])` groups them all. Grouping by all
    the labels at once would split one model's series into rows by which labels they happen to carry.
    """
    own = plan.schema.group_labels_of(variant)
    split = next((m for m in extra if isinstance(m, GroupMatcher) and m.label == own[0]), None) \
        if len(own) > 1 and own[0] not in labels else None
    if split is not None:  # a breakdown by another label: the row's series under each of its names
        rest = [m for m in extra if m is not split]
        under = [fn(_selector(variant, names, [*rest, GroupMatcher(label, split.value), *(f'{o}=""' for o in own[:i])]))
                 for i, label in enumerate((*own, INSTANCE))]
        return plan.wrap("(" + " or ".join(under) + ")", variant)
    if len(labels) < 2:
        return plan.wrap(fn(_selector(variant, names, extra)), variant)
    first = labels[0]
    # A row's matcher (breakdown) selects the row's name under whichever label names each branch's series.
    row = next((m for m in extra if isinstance(m, GroupMatcher) and m.label in labels), None)
    extra = [m for m in extra if m is not row]

    def named(label: str) -> list[str]:
        return [GroupMatcher(label, row.value)] if row is not None else []

    branches = [fn(_selector(variant, names, [*extra, *named(first), f'{first}!=""']))]
    for i, label in enumerate((*labels[1:], INSTANCE)):
        empty = [f'{other}=""' for other in labels[: i + 1]]
        present = [f'{label}!=""'] if label != INSTANCE else [f'{other}=""' for other in labels[i + 1:]]
        selected = fn(_selector(variant, names, [*extra, *named(label), *empty, *present]))
        branches.append(f'label_replace({selected}, "{first}", "$1", "{label}", "(.+)")')
    return plan.wrap("(" + " or ".join(branches) + ")", variant)


def _same(selector: str) -> str:
    return selector


def joined(plan: SchemaPlan, resolved: Resolved, labels: Sequence[str], extra: Sequence[str], aggregate: str,
            fn: Callable[[str], str]) -> str:
    """A joined variant (series without the row label) per row: combined per `on` key, copied by `group_right`
    onto the rows of the `via` series sharing that key (which the row's matchers select), combined per row."""
    variant = resolved.variant
    on, group = by_labels(variant.join_on), labels[0]
    own = plan.wrap(fn(_selector(variant, resolved.values)), variant)
    via = vector(plan, replace(variant, kind="gauge", join_on=(), join_via=None, value_label=None), resolved.counts,
                  labels, extra)
    if variant.value_label is not None:  # an info gauge: the newest series per key, its label read by the reader
        label, pairs = variant.value_label, by_labels([*variant.join_on, group])
        return (f"{aggregate} by ({group}, {label}) (group by ({pairs}) ({via}) * on ({on}) group_left ({label}) "
                f"topk by ({on}) (1, {own}))")
    return (f"{aggregate} by ({group}) ({aggregate} by ({on}) ({own}) * on ({on}) group_right () "
            f"group by ({by_labels([*variant.join_on, group])}) ({via}))")


def _concept_queries(plan: SchemaPlan, concept: str, resolved: Resolved, *, window: float, group_by: str | None,
                     matcher: str) -> list[Query]:
    """The queries one variant of one concept needs (a function of its own, so the expression builders
    below close over this variant's values rather than a loop's)."""
    w = duration(window)
    name = plan.schema.name
    variant = resolved.variant
    labels = plan.group_labels(group_by, variant)
    group = labels[:1]  # several labels are coalesced into the first (vector)
    extra = [matcher_for(matcher, plan, variant)]
    spellings = (resolved, *plan.others.get(concept, ()))  # one row reads the first it has
    queries: list[Query] = []

    def query(kind: str, expr: str, *, field: str | None = None, type_labels: tuple[str, ...] = (),
              window: float = 0.0) -> None:
        queries.append(Query(name, concept, kind, expr, group, type_labels=type_labels, field=field,
                             scale=variant.scale, variant=variant, window=window))

    def rate(selector: str) -> str:
        return f"rate({selector}[{w}])"

    def either(build: Callable[[Resolved], str]) -> str:
        return " or ".join(f"({build(found)})" for found in spellings) if len(spellings) > 1 \
            else build(resolved)

    if variant.join_via is not None:
        if group_by:
            return queries  # read in the model rows only (`aitop.rows.RowBuilder._plan_joined` says why)
        kind = "gauge" if variant.kind == "gauge" else "rate"
        aggregate = variant.aggregate if variant.kind == "gauge" else "sum"
        query(kind, joined(plan, resolved, labels, extra, aggregate, rate if kind == "rate" else _same))
    elif variant.kind == "histogram":
        def quantile(found: Resolved, q: float) -> str:
            return (f"histogram_quantile({q:g}, sum by ({by_labels(['le', *group])}) "
                    f"({vector(plan, found.variant, found.values, labels, extra, rate)}))")

        for field_name, q in INDEX.quantile_fields.get(concept, ()):
            query("quantile", either(partial(quantile, q=q)), field=field_name)
        if concept not in INDEX.goodput_concepts:
            # Observations/s per row: beside a NaN quantile they tell "only a +Inf bucket" (an OTel
            # histogram without bounds) from "nothing observed"; the goodput buckets below tell it too.
            expr = either(lambda found: f"sum by ({by_labels(group)}) "
                          f"({vector(plan, found.variant, found.values, labels, [*extra, INF_BUCKET], rate)})")
            query("unbounded", expr)
        else:  # bucket rates by bound: goodput reads the bound at its target
            expr = either(lambda found: f"sum by ({by_labels(['le', *group])}) "
                          f"({vector(plan, found.variant, found.values, labels, extra, rate)})")
            query("buckets", expr, field=INDEX.goodput_concepts[concept], window=window)
    elif variant.kind == "summary":
        # Raw quantile lines: whether one series or several hold a row is decided while reading.
        quantiles = f'quantile=~"{_quantiles_regex(concept)}"'
        query("summary", vector(plan, variant, resolved.values, labels, [*extra, quantiles]))
    elif variant.kind == "mean":
        total = vector(plan, variant, resolved.values, labels, extra, rate)
        count = vector(plan, variant, resolved.counts, labels, extra, rate)
        query("mean", f"sum by ({by_labels(group)}) ({total}) / sum by ({by_labels(group)}) ({count})")
    elif variant.kind == "gauge":
        # A per-query cost gauge holds the last query's cost: averaged over the window it is steady
        # when traffic is (× the request rate it gives the spend); other gauges are read as they are.
        def over(selector: str) -> str:
            return f"avg_over_time({selector}[{w}])" if concept == "cost_per_query" else selector

        expr = either(lambda found: f"{variant.aggregate} by ({by_labels(group)}) "
                      f"({vector(plan, found.variant, found.values, labels, extra, over)})")
        query("gauge", expr)
    else:
        types = variant.type_by if concept in ("errors", "feedback") else ()
        kind = concept if concept in ("errors", "feedback") else "rate"
        # One query per name of a summed counter, added while reading: rate() over several names
        # fails when two of them have the same labels ("vector cannot contain metrics with the same
        # labelset"), and `a + b` would drop the groups only one of them has.
        names = [(n,) for n in resolved.values] if variant.metric_regex is None else [resolved.values]
        if len(spellings) > 1:  # (alternates exist only for one-name counters)
            expr = either(lambda found: f"sum by ({by_labels([*group, *types])}) "
                          f"({vector(plan, found.variant, found.values, labels, extra, rate)})")
            query(kind, expr, type_labels=types)
            names = []
        for selected in names:
            series = vector(plan, variant, selected, labels, extra, rate)
            query(kind, f"sum by ({by_labels([*group, *types])}) ({series})", type_labels=types)
    return queries


def instant_queries(plan: SchemaPlan, *, window: float, group_by: str | None, matcher: str = "") -> list[Query]:
    """Every query one refresh of this schema needs; `matcher` narrows them to one row (for a breakdown)."""
    queries: list[Query] = []
    for concept, entries in plan.chosen.items():
        for resolved in entries:
            queries += _concept_queries(plan, concept, resolved, window=window, group_by=group_by, matcher=matcher)
    # One request per expression: SGLang's aborted counter is both a summand of requests and the errors.
    unique: dict[str, Query] = {}
    for query in queries:
        first = unique.get(query.expr)
        unique[query.expr] = query if first is None else replace(first, also=(*first.also, query))
    return list(unique.values())


#: Labels a places query keeps: where each row's series run (the GPU join, `aitop.gpus`).
PLACE_LABELS = (INSTANCE, "Hostname", "hostname", "node", "namespace", "pod")


def places_queries(plans: Sequence[SchemaPlan], *, group_by: str | None) -> list[Query]:
    """Where each row of each schema runs (its instances, nodes and pods), one query per schema — only when
    the server holds GPUs (the `dcgm` schema) to join the model rows to."""
    if not any(plan.schema.name in GPU_SCHEMAS for plan in plans):
        return []
    queries = []
    for plan in plans:
        if not plan.chosen:
            continue
        resolved = next(iter(plan.chosen.values()))[0]
        variant = resolved.variant
        labels = plan.group_labels(group_by, variant)
        series = vector(plan, variant, resolved.values, labels, [])
        expr = f"group by ({by_labels([labels[0], *PLACE_LABELS])}) ({series})"
        queries.append(Query(plan.schema.name, "places", "places", expr, group_labels=labels[:1], variant=variant))
    return queries
