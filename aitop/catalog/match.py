"""Which schemas and variants a source exposes, from the metric names it holds — shared by both modes.

The same rules serve a scraped page (the sample names of the latest scrape) and a Prometheus server (the
values of `__name__`), so scrape and Prometheus mode always pick the same variants:

* a name matches in any counter spelling (with or without `_total`) and in the escaped spelling a
  Prometheus 2.x server stores when it negotiated OpenMetrics (`vllm:x` -> `vllm_x`);
* the first variant of a concept that is present wins (old and new names are never summed together);
  after a summary, the next present variant is kept too, to fill rows whose summary has several series
  (their quantiles cannot be merged);
* a schema is found when any of its `detect` names is present, unless a schema named in its
  `suppressed_by` is found on the same source.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from aitop.catalog.schema import Schema, Variant, counter_forms


def spellings(name: str) -> tuple[str, ...]:
    """A name as exposed, and as Prometheus 2.x stores it after escaping `:` for OpenMetrics."""
    return (name, name.replace(":", "_")) if ":" in name else (name,)


def _first_present(candidates: Iterable[str], names: Collection[str]) -> str | None:
    for candidate in candidates:
        for spelling in spellings(candidate):
            if spelling in names:
                return spelling
    return None


@dataclass(frozen=True, slots=True)
class Resolved:
    """A variant as found on one source: the exposed names holding its values (and a mean's counts)."""

    variant: Variant
    values: tuple[str, ...]  # exposed sample names (bucket names for a histogram)
    counts: tuple[str, ...] = ()  # a mean's denominator; a joined variant's `via` (exposed names)

    @property
    def metrics(self) -> tuple[str, ...]:
        """The exposed metric names (a histogram's without `_bucket`), for queries and explanations."""
        if self.variant.kind == "histogram":
            return tuple(name.removesuffix("_bucket") for name in self.values)
        return self.values


def resolve(variant: Variant, names: Collection[str]) -> Resolved | None:
    """The variant as exposed by a source holding `names`, or None when it exposes none of it."""
    if variant.metric_regex is not None:
        found = tuple(sorted(name for name in names if variant.metric_regex.fullmatch(name)))
        return Resolved(variant, found) if found else None
    values = tuple(
        name for name in (_first_present(variant.value_names(metric), names) for metric in variant.metrics) if name
    )
    if not values:
        return None
    counts: tuple[str, ...] = ()
    if variant.join_via is not None:  # without the series naming its rows, a joined variant has none
        via = _first_present((variant.join_via, *counter_forms(variant.join_via)), names)
        return Resolved(variant, values, (via,)) if via else None
    if variant.kind == "mean":
        counts = tuple(name for name in (_first_present(counter_forms(m), names) for m in variant.count) if name)
        if not counts:
            return None
    return Resolved(variant, values, counts)


def choose(variants: Iterable[Variant], names: Collection[str]) -> tuple[Resolved, ...]:
    """The variants of one concept to read: the first present one, plus a fallback after a summary."""
    chosen: list[Resolved] = []
    for variant in variants:
        found = resolve(variant, names)
        if found is None:
            continue
        chosen.append(found)
        if variant.kind != "summary":
            break
    return tuple(chosen)


_OR_KINDS = ("counter", "gauge", "histogram")


def alternates(schema: Schema, concept: str, names: Collection[str]) -> tuple[Resolved, ...]:
    """The other spellings of a concept a server holds (vLLM V0's `gpu_cache_usage_perc` beside V1's
    `kv_cache_usage_perc`), read the same way as the first: Prometheus mode joins them with `or`, so each
    row gets whichever it has — as scrape mode, choosing per target, does. Only variants of one plain
    metric, of the same kind, scale, grouping and types qualify; others could not share an expression."""
    present = [found for variant in schema.concepts.get(concept, ()) if (found := resolve(variant, names))]
    if len(present) < 2:
        return ()
    first = present[0].variant

    def same_shape(variant) -> bool:
        return (variant.kind == first.kind and variant.kind in _OR_KINDS and variant.metric_regex is None
                and len(variant.metrics) == 1 and variant.scale == first.scale
                and variant.aggregate == first.aggregate and variant.type_labels == first.type_labels
                and schema.group_labels_of(variant) == schema.group_labels_of(first))

    if not same_shape(first) or first.kind == "summary":
        return ()
    return tuple(found for found in present[1:] if same_shape(found.variant))


def fingerprint(schema: Schema, names: Collection[str]) -> tuple[str, ...]:
    """The exposed names that identify `schema` on a source (empty: not there)."""
    found = (_first_present(counter_forms(name), names) for name in schema.detect)
    return tuple(dict.fromkeys(name for name in found if name))


def detect_schemas(schemas: Iterable[Schema], names: Collection[str]) -> tuple[list[Schema], dict[str, str]]:
    """(schemas found, {schema suppressed: the schema that suppressed it}) for one source."""
    found = [schema for schema in schemas if fingerprint(schema, names)]
    present = {schema.name for schema in found}
    suppressed: dict[str, str] = {}
    for schema in found:
        by = next((other for other in schema.suppressed_by if other in present), None)
        if by is not None:
            suppressed[schema.name] = by
    return [schema for schema in found if schema.name not in suppressed], suppressed


def choose_all(schema: Schema, names: Collection[str]) -> dict[str, tuple[Resolved, ...]]:
    """concept -> what to read, for every concept the source exposes."""
    chosen = {concept: choose(variants, names) for concept, variants in schema.concepts.items()}
    return {concept: found for concept, found in chosen.items() if found}


#: Series read whatever the schema, for the drill-down's restart and deployment markers (aitop/markers.py):
#: the process start time, and the engine's configuration info whose new label set means a new deployment.
MARKER_SERIES = frozenset({"process_start_time_seconds", "vllm:cache_config_info"})


class NameFilter:
    """Answers "does any schema need this metric?" cheaply, for the pre-parse line filter."""

    def __init__(self, schemas: Iterable[Schema]) -> None:
        names: set[str] = set(MARKER_SERIES)
        patterns: list[str] = []
        for schema in schemas:
            for name in schema.detect:
                names.update(spelling for form in counter_forms(name) for spelling in spellings(form))
            for variant in schema.variants():
                names.update(spelling for name in variant.sample_names for spelling in spellings(name))
                if variant.metric_regex is not None:
                    patterns.append(variant.metric_regex.pattern)
        self.names = frozenset(names)
        # Family names as they appear on `# TYPE` lines (bare in OpenMetrics, suffixed in text 0.0.4).
        self.families = frozenset(names | {_family_of(name) for name in names})
        self._pattern = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def wants(self, name: str) -> bool:
        if name in self.names:
            return True
        if self._pattern is None:
            return False
        candidates = (name, name + "_total", name.removesuffix("_created") + "_total")
        return any(self._pattern.fullmatch(candidate) is not None for candidate in candidates)

    def wants_family(self, family: str) -> bool:
        return family in self.families or self.wants(family)


def _family_of(sample_name: str) -> str:
    for suffix in ("_total", "_created", "_bucket", "_count", "_sum"):
        if sample_name.endswith(suffix):
            return sample_name[: -len(suffix)]
    return sample_name


def index_names(keys: Iterable[tuple[str, object]]) -> Mapping[str, list]:
    """Series keys grouped by sample name."""
    index: dict[str, list] = {}
    for key in keys:
        index.setdefault(key[0], []).append(key)
    return index
