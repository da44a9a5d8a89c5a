"""Known metric schemas, as data: one TOML file per serving system in this folder.

A schema says which sample names identify the system, which label names the rows, and for each *concept*
(requests, errors, latency, …) one or more *variants* — metric name, label selector, unit scale — tried in
order. Supporting another system means adding a file here, not a branch in code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: Every concept aitop understands, with the metric kind it must be.
CONCEPT_KINDS: Mapping[str, str] = {
    "requests": "counter",
    "errors": "counter",
    "latency": "histogram",
    "ttft": "histogram",
    "tpot": "histogram",
    "queue": "histogram",
    "input_tokens": "counter",
    "output_tokens": "counter",
    "cost": "counter",
    "cost_per_query": "gauge",
    "feedback": "counter",
    "running": "gauge",
    "waiting": "gauge",
    "kv_cache": "gauge",
}

#: Rating-label values that count as a thumbs-up / thumbs-down (compared lower-cased).
FEEDBACK_POSITIVE = frozenset({"up", "thumbs_up", "thumbsup", "positive", "good", "like", "👍", "1", "+1"})
FEEDBACK_NEGATIVE = frozenset({"down", "thumbs_down", "thumbsdown", "negative", "bad", "dislike", "👎", "0", "-1"})

_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum", "_created")
_AGGREGATES = ("sum", "max", "avg")
_VARIANT_KEYS = {"kind", "metric", "metric_regex", "match", "exclude", "type_label", "aggregate", "scale"}
_SCHEMA_KEYS = {"name", "title", "group_labels", "detect", "concept"}


class CatalogError(ValueError):
    """A schema file is malformed; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One way a system exposes a concept."""

    concept: str
    kind: str  # counter | histogram | gauge
    metric: str | None = None
    metric_regex: re.Pattern[str] | None = None
    match: tuple[tuple[str, re.Pattern[str]], ...] = ()
    exclude: tuple[tuple[str, re.Pattern[str]], ...] = ()
    type_labels: tuple[str, ...] = ()
    aggregate: str = "sum"
    scale: float = 1.0

    @property
    def sample_names(self) -> tuple[str, ...]:
        """Exposed sample names this variant reads (with `_created` for reset detection)."""
        if self.metric is None:
            return ()
        if self.kind == "histogram":
            return tuple(self.metric + suffix for suffix in _HISTOGRAM_SUFFIXES)
        if self.kind == "counter":
            # Counter suffixes are unreliable across client libraries (TGI and Triton omit `_total`).
            bare = self.metric.removesuffix("_total")
            return (self.metric, bare, bare + "_total", bare + "_created")
        return (self.metric,)

    @property
    def value_names(self) -> tuple[str, ...]:
        """The sample names whose values this variant aggregates (buckets for a histogram)."""
        if self.metric is None:
            return ()
        if self.kind == "histogram":
            return (self.metric + "_bucket",)
        if self.kind == "counter":
            bare = self.metric.removesuffix("_total")
            return (self.metric,) if bare == self.metric else (self.metric, bare)
        return (self.metric,)

    def names_value(self, name: str) -> bool:
        """Whether `name` is a sample this variant aggregates."""
        if self.metric_regex is not None:
            return self.metric_regex.fullmatch(name) is not None
        return name in self.value_names

    def selects(self, labels: Mapping[str, str]) -> bool:
        """PromQL-style selector: anchored regexes; an absent label reads as ""."""
        for label, pattern in self.match:
            if pattern.fullmatch(labels.get(label, "")) is None:
                return False
        for label, pattern in self.exclude:
            if pattern.fullmatch(labels.get(label, "")) is not None:
                return False
        return True

    def selector(self) -> str:
        """The variant's label selector in PromQL syntax (`{a=~"x",b!~"y"}`), "" when it selects all."""
        parts = [f'{label}=~"{pattern.pattern}"' for label, pattern in self.match]
        parts += [f'{label}!~"{pattern.pattern}"' for label, pattern in self.exclude]
        return "{" + ",".join(parts) + "}" if parts else ""

    def type_of(self, labels: Mapping[str, str]) -> str | None:
        """The error type / rating a series carries, from the first type label it has."""
        for label in self.type_labels:
            value = labels.get(label)
            if value:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Schema:
    """A serving system's metric vocabulary."""

    name: str
    title: str
    group_labels: tuple[str, ...]
    detect: tuple[str, ...]
    concepts: Mapping[str, tuple[Variant, ...]]

    def variants(self) -> Iterable[Variant]:
        for variants in self.concepts.values():
            yield from variants


def _regex(where: str, source: object) -> re.Pattern[str]:
    if not isinstance(source, str):
        raise CatalogError(f"{where}: expected a regular expression string")
    try:
        return re.compile(source)
    except re.error as exc:
        raise CatalogError(f"{where}: invalid regular expression: {exc}") from None


def _selector(where: str, table: object) -> tuple[tuple[str, re.Pattern[str]], ...]:
    if not isinstance(table, dict):
        raise CatalogError(f"{where}: expected a table of label = regex")
    return tuple((label, _regex(f"{where}.{label}", pattern)) for label, pattern in table.items())


def _string_list(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CatalogError(f"{where}: expected a list of strings")
    return tuple(value)


def _variant(where: str, concept: str, raw: dict) -> Variant:
    unknown = set(raw) - _VARIANT_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kind = raw.get("kind")
    if kind != CONCEPT_KINDS[concept]:
        raise CatalogError(f"{where}.kind: {concept} must be a {CONCEPT_KINDS[concept]}, not {kind!r}")
    if ("metric" in raw) == ("metric_regex" in raw):
        raise CatalogError(f"{where}: give exactly one of metric or metric_regex")
    aggregate = raw.get("aggregate", "sum")
    if aggregate not in _AGGREGATES:
        raise CatalogError(f"{where}.aggregate: one of {', '.join(_AGGREGATES)}")
    scale = raw.get("scale", 1.0)
    if not isinstance(scale, int | float) or scale <= 0:
        raise CatalogError(f"{where}.scale: a positive number")
    return Variant(
        concept=concept,
        kind=kind,
        metric=raw.get("metric"),
        metric_regex=_regex(f"{where}.metric_regex", raw["metric_regex"]) if "metric_regex" in raw else None,
        match=_selector(f"{where}.match", raw.get("match", {})),
        exclude=_selector(f"{where}.exclude", raw.get("exclude", {})),
        type_labels=_string_list(f"{where}.type_label", raw.get("type_label", [])),
        aggregate=aggregate,
        scale=float(scale),
    )


def parse_schema(raw: dict, source: str) -> Schema:
    """Validate one schema document; `source` names it in error messages."""
    unknown = set(raw) - _SCHEMA_KEYS
    if unknown:
        raise CatalogError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "group_labels", "detect", "concept"):
        if key not in raw:
            raise CatalogError(f"{source}: missing key {key}")
    concepts: dict[str, tuple[Variant, ...]] = {}
    for concept, variants in raw["concept"].items():
        where = f"{source}: concept.{concept}"
        if concept not in CONCEPT_KINDS:
            raise CatalogError(f"{where}: unknown concept (known: {', '.join(CONCEPT_KINDS)})")
        if not isinstance(variants, list) or not variants:
            raise CatalogError(f"{where}: expected [[concept.{concept}]] entries")
        concepts[concept] = tuple(_variant(f"{where}[{i}]", concept, v) for i, v in enumerate(variants))
    return Schema(
        name=raw["name"],
        title=raw.get("title", raw["name"]),
        group_labels=_string_list(f"{source}: group_labels", raw["group_labels"]),
        detect=_string_list(f"{source}: detect", raw["detect"]),
        concepts=concepts,
    )


def load_schema_file(path: Path) -> Schema:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path.name}: {exc}") from None
    return parse_schema(raw, path.name)


@lru_cache(maxsize=1)
def builtin_schemas() -> tuple[Schema, ...]:
    """The schemas shipped with aitop, in file-name order."""
    folder = Path(__file__).parent
    return tuple(load_schema_file(path) for path in sorted(folder.glob("*.toml")))


class NameFilter:
    """Answers "does any schema need this metric?" cheaply, for the pre-parse line filter."""

    def __init__(self, schemas: Iterable[Schema]) -> None:
        names: set[str] = set()
        patterns: list[str] = []
        for schema in schemas:
            names.update(schema.detect)
            for variant in schema.variants():
                names.update(variant.sample_names)
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
