"""Fields the analysis adds to a row, and how every field is named and shown in alert messages.

The analysis writes these into `Row.values` next to the contract's fields, so rules, the JSON output and
the UI read them the same way (`row.value("latency_drift")`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aitop.format import format_value
from aitop.model import DERIVED_FIELDS, DRIFT_FIELDS, FIELD_NAMES

__all__ = ["DERIVED_FIELDS", "DERIVED_NAMES", "DRIFT_FIELDS", "NOUNS", "RULE_FIELDS", "noun", "show"]

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
    """`value` of `field` in its display unit ("5.2%", "2.10s", "$13,340/day", "0.077"); "?" when unknown."""
    if value is None or value != value:
        return "?"
    return format_value(field, value)
