"""Fields the analysis adds to a row, and how every field is named and shown in alert messages.

The analysis writes these into `Row.values` next to the contract's fields, so rules, the JSON output and
the UI read them the same way (`row.value("latency_drift")`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aitop.format import format_value
from aitop.model import FIELD_BY_NAME, FIELD_NAMES, FieldSpec

#: Histogram concept → the row field holding its drift (KS distance to the baseline distribution).
#: `output_length` is the per-request generated-token histogram, where a schema exposes one.
DRIFT_FIELDS: Mapping[str, str] = MappingProxyType(
    {"latency": "latency_drift", "ttft": "ttft_drift", "output_length": "output_length_drift"}
)

#: Derived fields, in output order.
DERIVED_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("cost_per_day", "USD/d", "$/day", "projected spend per day at the current hourly rate"),
    *(
        FieldSpec(name, "KS", f"{concept} drift",
                  f"KS distance between this window's {concept} distribution and its baseline (0 same … 1 disjoint)")
        for concept, name in DRIFT_FIELDS.items()
    ),
)  # fmt: skip
DERIVED_NAMES: tuple[str, ...] = tuple(spec.name for spec in DERIVED_FIELDS)
#: Every field a rule may judge.
RULE_FIELDS: frozenset[str] = frozenset(FIELD_NAMES) | frozenset(DERIVED_NAMES)

#: Short nouns for messages ("error rate 5.2%"): the table headings are too terse, descriptions too long.
NOUNS: Mapping[str, str] = MappingProxyType({
    "request_rate": "request rate",
    "error_rate": "error rate",
    "latency_p50": "p50 latency",
    "latency_p95": "p95 latency",
    "latency_p99": "p99 latency",
    "ttft_p50": "p50 TTFT",
    "ttft_p95": "p95 TTFT",
    "ttft_p99": "p99 TTFT",
    "tpot_p95": "p95 time per token",
    "queue_p95": "p95 queue time",
    "input_tokens_rate": "input tokens",
    "output_tokens_rate": "output tokens",
    "cost_per_hour": "hourly cost",
    "cost_per_request": "cost per request",
    "cost_per_day": "projected spend",
    "feedback_negative_ratio": "negative feedback",
    "running": "running requests",
    "waiting": "waiting requests",
    "kv_cache_usage": "KV-cache usage",
    "latency_drift": "latency drift",
    "ttft_drift": "TTFT drift",
    "output_length_drift": "output-length drift",
})


def noun(field: str) -> str:
    return NOUNS.get(field, field.replace("_", " "))


def show(field: str, value: float | None) -> str:
    """`value` of `field` in its display unit ("5.2%", "2.10s", "$1,234/day", "KS 0.42")."""
    if value is None or value != value:
        return "?"
    if field in FIELD_BY_NAME:
        return format_value(field, value)
    if field == "cost_per_day":
        return f"${value:,.0f}/day" if value >= 100 else f"${value:.2f}/day"
    return f"{value:.2f}"
