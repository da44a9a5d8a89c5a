"""The catalog's data model: concepts, the kinds of metric that can answer them, schemas and variants.

A *variant* is one way a system exposes a concept: one metric (or several, summed), a label selector, a
unit scale, and — for the kinds that are not plain counters or histograms — how to read it:

* ``counter``   rate of a counter (with or without `_total`; several names are summed);
* ``histogram`` quantiles of merged bucket rates;
* ``summary``   client-side quantile lines (`{quantile="0.95"}`), used only when one series holds the row:
                 summary quantiles of separate series cannot be merged;
* ``mean``      Δsum / Δcount of a pair of counters (Triton's cumulative µs counters, llama.cpp's seconds
                 per token): a mean, not a percentile, filling every field of its concept;
* ``gauge``     the current value (for a latency concept: the last observed value, not a percentile).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aitop.derivations import DISTRIBUTION_KINDS
from aitop.fields import FIELDS

__all__ = ["CONCEPT_KINDS", "DEFAULT_AGGREGATE", "DISTRIBUTION_KINDS", "Schema", "Variant", "counter_forms"]


def _concepts() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Every concept a field's formula reads (`aitop.derivations`, in field order): the kinds a variant of it
    may have, and how gauges of several series are combined when a variant does not say."""
    kinds: dict[str, tuple[str, ...]] = {}
    aggregates: dict[str, str] = {}
    for spec in FIELDS:
        for concept, allowed, aggregate in spec.derive.reads():
            kinds.setdefault(concept, allowed)
            if aggregate is not None:
                aggregates.setdefault(concept, aggregate)
    return kinds, {concept: aggregate for concept, aggregate in aggregates.items() if aggregate != "sum"}


#: Kinds a variant may have, per concept (the first is the concept's natural kind), and how gauges of several
#: series are combined when a variant does not say — fractions and last values are not additive, request
#: counts are: both read from the fields' formulas, so a new field's concepts need no declaration here.
_KINDS, _AGGREGATES = _concepts()
CONCEPT_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(_KINDS)
DEFAULT_AGGREGATE: Mapping[str, str] = MappingProxyType(_AGGREGATES)

#: Rating-label values that count as a thumbs-up / thumbs-down (compared lower-cased).
FEEDBACK_POSITIVE = frozenset({"up", "thumbs_up", "thumbsup", "positive", "good", "like", "👍", "1", "+1"})
FEEDBACK_NEGATIVE = frozenset({"down", "thumbs_down", "thumbsdown", "negative", "bad", "dislike", "👎", "0", "-1"})

_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum", "_created")


def counter_forms(name: str) -> tuple[str, ...]:
    """The spellings one counter can have: as named, without and with `_total`.

    Client libraries disagree (TGI and Triton print no `_total`; prometheus_client's text parser adds it to
    every counter sample it reads, so a scraped `tgi_request_count` arrives as `tgi_request_count_total`)."""
    bare = name.removesuffix("_total")
    return tuple(dict.fromkeys((name, bare, bare + "_total")))


def _counter_samples(name: str) -> tuple[str, ...]:
    return (*counter_forms(name), name.removesuffix("_total") + "_created")


@dataclass(frozen=True, slots=True)
class Variant:
    """One way a system exposes a concept."""

    concept: str
    kind: str  # counter | histogram | gauge | summary | mean
    metrics: tuple[str, ...] = ()  # summed when several (Triton requests = success + failure)
    metric_regex: re.Pattern[str] | None = None
    count: tuple[str, ...] = ()  # mean only: the denominator counter(s)
    match: tuple[tuple[str, re.Pattern[str]], ...] = ()
    exclude: tuple[tuple[str, re.Pattern[str]], ...] = ()
    type_labels: tuple[str, ...] = ()
    type_format: str | None = None  # e.g. "{exception_status} {exception_class}"; a constant is allowed
    aggregate: str = "sum"
    scale: float = 1.0
    group_labels: tuple[str, ...] = ()  # overrides the schema's (LiteLLM proxy counters: requested_model)
    #: A join, for series that lack the row label: each series counts in the rows of the `join_via` metric's
    #: series that share its `join_on` labels (`instance`: the same target). LiteLLM's deployment state has
    #: no model label; its deployment request counter has the deployment's labels and the model.
    join_on: tuple[str, ...] = ()
    join_via: str | None = None
    #: An info gauge (vLLM's LoRA gauge: its value is the time of its last update, its labels list adapters):
    #: the reading is this label of the newest series (highest value) per join key, as a count of its
    #: comma-separated items or as a number (`value_read`).
    value_label: str | None = None
    value_read: str = "count"

    @property
    def metric(self) -> str | None:
        """The first (usually only) metric name."""
        return self.metrics[0] if self.metrics else None

    @property
    def sample_names(self) -> tuple[str, ...]:
        """Exposed sample names this variant reads (with `_created` for reset detection)."""
        names: list[str] = []
        for metric in self.metrics:
            if self.kind == "histogram":
                names += [metric + suffix for suffix in _HISTOGRAM_SUFFIXES]
            elif self.kind == "summary":
                names += [metric, *(metric + suffix for suffix in _HISTOGRAM_SUFFIXES[1:])]
            elif self.kind in ("counter", "mean"):
                names += _counter_samples(metric)
            else:
                names.append(metric)
        for metric in self.count:
            names += _counter_samples(metric)
        if self.join_via is not None:
            names += [self.join_via, *_counter_samples(self.join_via)]
        return tuple(dict.fromkeys(names))

    def value_names(self, metric: str) -> tuple[str, ...]:
        """The sample names one of this variant's metrics may be exposed as (buckets for a histogram)."""
        if self.kind == "histogram":
            return (metric + "_bucket",)
        if self.kind in ("counter", "mean"):
            return counter_forms(metric)
        return (metric,)

    @property
    def type_by(self) -> tuple[str, ...]:
        """Labels the error type / rating is read from (kept in a PromQL `by` clause)."""
        fields: tuple[str, ...] = ()
        if self.type_format:
            fields = tuple(name for _, name, _, _ in string.Formatter().parse(self.type_format) if name)
        return tuple(dict.fromkeys((*self.type_labels, *fields)))

    def selects(self, labels: Mapping[str, str]) -> bool:
        """PromQL-style selector: anchored regexes; an absent label reads as ""."""
        for label, pattern in self.match:
            if pattern.fullmatch(labels.get(label, "")) is None:
                return False
        return all(pattern.fullmatch(labels.get(label, "")) is None for label, pattern in self.exclude)

    def selector(self) -> str:
        """The variant's label selector in PromQL syntax (`{a=~"x",b!~"y"}`), "" when it selects all."""
        parts = [f'{label}=~"{pattern.pattern}"' for label, pattern in self.match]
        parts += [f'{label}!~"{pattern.pattern}"' for label, pattern in self.exclude]
        return "{" + ",".join(parts) + "}" if parts else ""

    def read_label(self, labels: Mapping[str, str]) -> float:
        """An info gauge's reading from one series' labels (`value_label`): how many comma-separated items
        ("a,b" is 2, "" is 0), or the number it spells (NaN when it spells none)."""
        text = labels.get(self.value_label or "", "")
        if self.value_read == "count":
            return float(sum(1 for item in text.split(",") if item.strip()))
        try:
            return float(text)
        except ValueError:
            return float("nan")

    def type_of(self, labels: Mapping[str, str]) -> str | None:
        """The error type / rating a series carries: the formatted `type_format`, else the first type label
        it has."""
        if self.type_format is not None:
            values = {name: labels.get(name, "") for name in self.type_by}
            text = " ".join(self.type_format.format_map(values).split())
            return text or None
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
    #: Schemas that, found on the same target, mean this one is not really there (vLLM mounts the FastAPI
    #: instrumentator, so its page also has `http_*` metrics).
    suppressed_by: tuple[str, ...] = ()
    #: concept -> why this system cannot provide it (shown for the empty fields).
    absent: Mapping[str, str] = field(default_factory=dict)
    #: Its metric names are generic (`http_requests_total`): on a Prometheus server, read them only from
    #: targets that show the schema's fingerprint, as scrape mode does per target.
    scoped: bool = False

    def variants(self) -> Iterable[Variant]:
        for variants in self.concepts.values():
            yield from variants

    def group_labels_of(self, variant: Variant) -> tuple[str, ...]:
        """The labels that name a row for this variant's series."""
        return variant.group_labels or self.group_labels

    @property
    def model_labels(self) -> frozenset[str]:
        """Every label this schema groups rows by, in any variant."""
        labels = set(self.group_labels)
        for variant in self.variants():
            labels.update(variant.group_labels)
        return frozenset(labels)
