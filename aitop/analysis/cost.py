"""Cost: a per-model price table for rows without a native cost, and the projected spend per day.

Native cost always wins: a USD counter (LiteLLM spend, OpenLIT `gen_ai_usage_cost_USD`, `*_cost_usd_total`)
or a per-query cost gauge × request rate, as the row builder derives them. Only a row with no cost metric at
all is priced from its token rates: USD per 1M input / output tokens, looked up by the row's group (the
model name) — an exact name first, then glob patterns (`llama-*`) in config order.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypeGuard

from aitop.analysis.settings import ConfigError, number, table
from aitop.explanations import with_lines
from aitop.model import Missing, Row

HOURS_PER_DAY = 24.0
_PRICE_KEYS = frozenset({"input", "output"})


@dataclass(frozen=True, slots=True)
class Price:
    """USD per one million tokens."""

    input: float
    output: float


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Model name or glob pattern → price, in config order."""

    entries: tuple[tuple[str, Price], ...] = ()

    def lookup(self, model: str) -> tuple[str, Price] | None:
        for pattern, price in self.entries:
            if pattern == model:
                return pattern, price
        for pattern, price in self.entries:
            if fnmatch.fnmatchcase(model, pattern):
                return pattern, price
        return None

    def __bool__(self) -> bool:
        return bool(self.entries)


def parse_prices(raw: object, where: str = "prices") -> PriceTable:
    """`[prices]` of the config: `"gpt-4o" = { input = 2.5, output = 10.0 }`."""
    entries = []
    for model, spec in table(where, raw).items():
        here = f'{where}."{model}"'
        spec = table(here, spec, _PRICE_KEYS)
        if set(spec) != _PRICE_KEYS:
            raise ConfigError(f"{here}: give both input and output (USD per 1M tokens)")
        price = Price(number(f"{here}.input", spec["input"], minimum=0),
                      number(f"{here}.output", spec["output"], minimum=0))
        entries.append((model, price))
    return PriceTable(tuple(entries))


def _known(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def priced(row: Row, prices: PriceTable) -> Row:
    """`row` with cost_per_hour / cost_per_request from the price table, when it has no cost metric."""
    if not prices or row.value("cost_per_hour") is not None:
        return row
    if row.missing_reason("cost_per_hour") is not Missing.NO_METRIC:
        return row  # a native cost exists but lacks data this window: not ours to replace
    found = prices.lookup(row.group)
    if found is None:
        return row
    pattern, price = found
    values = dict(row.values)
    missing = dict(row.missing)
    tokens_in, tokens_out = row.value("input_tokens_rate"), row.value("output_tokens_rate")
    parts = []
    for rate, per_million, name in ((tokens_in, price.input, "input_tokens_rate"),
                                    (tokens_out, price.output, "output_tokens_rate")):  # fmt: skip
        if per_million == 0:
            continue
        if _known(rate):
            parts.append(rate * per_million / 1e6)
            continue
        for field in ("cost_per_hour", "cost_per_request"):
            missing[field] = row.missing_reason(name) or Missing.NO_METRIC
        return replace(row, missing=missing)
    per_second = sum(parts)
    values["cost_per_hour"] = per_second * 3600
    missing.pop("cost_per_hour", None)
    requests = row.value("request_rate")
    if _known(requests) and requests:
        values["cost_per_request"] = per_second / requests
        missing.pop("cost_per_request", None)
    else:
        values["cost_per_request"] = None
        reason = Missing.NO_OBSERVATIONS if requests == 0 else row.missing_reason("request_rate")
        missing["cost_per_request"] = reason or Missing.NO_METRIC
    source = f"price table entry {pattern!r}: ${price.input:g} / ${price.output:g} per 1M input / output tokens"
    formula = f"(input tok/s × {price.input:g} + output tok/s × {price.output:g}) / 1e6 × 3600"
    provenance = with_lines(row.provenance, {"cost_per_hour": f"{formula} — {source}",
                                             "cost_per_request": f"cost per second / request rate — {source}"})
    return replace(row, values=values, missing=missing, provenance=provenance)


DAILY_PROVENANCE = "cost_per_hour × 24 (the current rate, projected)"


def daily_spend(row: Row) -> tuple[float | None, Missing | None]:
    """(cost_per_day, why it is unknown): the current hourly spend × 24."""
    hourly = row.value("cost_per_hour")
    if _known(hourly):
        return hourly * HOURS_PER_DAY, None
    return None, row.missing_reason("cost_per_hour") or Missing.NO_METRIC


def with_daily_spend(row: Row) -> Row:
    """`row` with cost_per_day: the current hourly spend × 24 (unknown when the hourly spend is)."""
    value, reason = daily_spend(row)
    missing: Mapping[str, Missing] = row.missing if reason is None else {**row.missing, "cost_per_day": reason}
    provenance = with_lines(row.provenance, {"cost_per_day": DAILY_PROVENANCE}, when="cost_per_hour")
    return replace(row, values={**row.values, "cost_per_day": value}, missing=missing, provenance=provenance)
