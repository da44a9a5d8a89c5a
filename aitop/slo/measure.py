"""Bad-event ratios per SLO, row and window: from a Prometheus server's history, or from a session's own.

Prometheus mode asks the server, at its current time, for each window's error (or slow-request) ratio per
row, with the same catalog expressions the table uses. Scrape mode has only what this session recorded:
the request-weighted mean of the error ratio over each window the session covers; a window longer than
the session is unknown (None), never extrapolated.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence

import httpx

from aitop.accumulator import INSTANCE, group_of
from aitop.catalog import builtin_schemas
from aitop.history import History
from aitop.slo.burn import SloStatus, status
from aitop.slo.discover import discover
from aitop.slo.spec import SLO, WINDOWS
from aitop.sources.prometheus.promql import (
    SchemaPlan,
    _escape,
    duration,
    instant_queries,
    plan_schemas,
    vector,
)
from aitop.transport import HttpSettings, httpx_client

Ratios = dict[tuple[str, str], dict[float, float | None]]  # (schema, model) -> window -> bad ratio


def le_matcher(seconds: float, scale: float) -> str:
    """A matcher for the bucket edge at `seconds` (in the histogram's unit), in either spelling a server may
    store (`1` from an exporter, `1.0` after Prometheus 3 normalised it)."""
    edge = seconds / scale
    text = f"{edge:g}"
    spellings = {text, f"{edge:.1f}"} if edge == int(edge) else {text}
    return 'le=~"' + "|".join(_escape(s.replace(".", "\\.")) for s in sorted(spellings)) + '"'


def ratio_queries(plan: SchemaPlan, slo: SLO, window: float) -> list[tuple[str, str, str]]:
    """(role, expression, group label) for one schema: role `bad`/`total` summed per group."""
    w = duration(window)
    out: list[tuple[str, str, str]] = []
    if slo.kind == "availability":
        for query in instant_queries(plan, window=window, group_by=None):
            for reading in query.readings():
                if reading.concept in ("errors", "requests") and reading.kind in ("errors", "rate"):
                    role = "bad" if reading.concept == "errors" else "total"
                    out.append((role, query.expr, reading.group_labels[0]))
        return out
    for resolved in plan.chosen.get("latency", ()):
        variant = resolved.variant
        if variant.kind != "histogram":
            continue
        labels = plan.group_labels(None, variant)
        rate = lambda selector: f"rate({selector}[{w}])"  # noqa: E731
        fast = vector(plan, variant, resolved.values, labels, [le_matcher(slo.threshold or 0.0, variant.scale)], rate)
        every = vector(plan, variant, resolved.values, labels, ['le="+Inf"'], rate)
        out.append(("good", f"sum by ({labels[0]}) ({fast})", labels[0]))
        out.append(("total", f"sum by ({labels[0]}) ({every})", labels[0]))
        break  # the table's latency source: the first histogram spelling
    return out


class PromSloReader:
    """Reads SLO ratios from one Prometheus-compatible server (its HTTP API, queried at its own time)."""

    def __init__(self, base_url: str, *, http: HttpSettings | None = None, timeout: float = 10.0,
                 schemas: Sequence | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http or HttpSettings()
        self.timeout = timeout
        self.schemas = tuple(schemas) if schemas is not None else builtin_schemas()
        self.discover = True  # also read the Sloth and Pyrra SLOs the server records

    async def _get(self, client: httpx.AsyncClient, path: str, params: Mapping[str, str] | None = None):
        response = await client.get(self.base_url + path, params=params)
        response.raise_for_status()
        body = response.json()
        if body.get("status") != "success":
            raise ValueError(str(body.get("error", "query failed"))[:200])
        return body["data"]

    async def read(self, slos: Sequence[SLO]) -> list[SloStatus]:
        """Every SLO on every row it matches; raises on a failed request (the caller says UNKNOWN)."""
        async with httpx_client(self.http, timeout=self.timeout, headers={}) as client:
            names = await self._get(client, "/api/v1/label/__name__/values")
            plans = plan_schemas(self.schemas, set(names))
            statuses: list[SloStatus] = await discover(client, self.base_url) if self.discover else []
            for slo in slos:
                chosen = [plan for plan in plans if slo.schema is None or slo.schema.fullmatch(plan.schema.name)]
                windows = (*WINDOWS, slo.period)
                per_window = await asyncio.gather(*(self._ratios(client, chosen, slo, w) for w in windows))
                ratios: Ratios = {}
                for window, found in zip(windows, per_window):
                    for key, ratio in found.items():
                        ratios.setdefault(key, {})[window] = ratio
                for (schema, group), by_window in sorted(ratios.items()):
                    if slo.matches(schema, group):
                        period = by_window.get(slo.period)
                        statuses.append(status(slo, schema, group, {w: by_window.get(w) for w in WINDOWS}, period))
            return statuses

    async def _ratios(self, client, plans: Iterable[SchemaPlan], slo: SLO, window: float) -> dict:
        sums: dict[tuple[str, str], dict[str, float]] = {}
        for plan in plans:
            for role, expr, label in ratio_queries(plan, slo, window):
                data = await self._get(client, "/api/v1/query", {"query": expr})
                for series in data.get("result", []):
                    value = float(series["value"][1])
                    if not math.isfinite(value):
                        continue
                    labels = series["metric"]
                    group = group_of(labels, (label,), labels.get(INSTANCE))[1]  # the table's row
                    entry = sums.setdefault((plan.schema.name, group), {})
                    entry[role] = entry.get(role, 0.0) + value
        out: dict[tuple[str, str], float | None] = {}
        for key, entry in sums.items():
            total = entry.get("total", 0.0)
            if total <= 0:
                out[key] = None  # no traffic in the window: nothing to judge
            elif slo.kind == "availability":
                out[key] = min(1.0, entry.get("bad", 0.0) / total)
            else:
                out[key] = max(0.0, 1.0 - entry.get("good", 0.0) / total)
        return out


def session_statuses(slos: Sequence[SLO], history: History, now: float, interval: float) -> list[SloStatus]:
    """Scrape mode: burn rates from what this session recorded; windows it has not covered are unknown.

    Availability only: the recorded series hold rates and ratios, not the latency buckets a latency SLO
    needs (those SLOs are judged in Prometheus mode)."""
    statuses = []
    for key in sorted(history.keys()):
        schema, group = key
        for slo in slos:
            if slo.kind != "availability" or not slo.matches(schema, group):
                continue
            errors = history.series(key, "error_rate")
            requests = dict(history.series(key, "request_rate"))
            ratios = {w: _session_ratio(errors, requests, now, w, interval) for w in WINDOWS}
            statuses.append(status(slo, schema, group, ratios, None))
    return statuses


def _session_ratio(errors, requests: Mapping[float, float | None], now: float, window: float,
                   interval: float) -> float | None:
    if not errors or errors[0][0] > now - window + interval:
        return None  # the session has not seen the whole window
    bad = total = 0.0
    for at, ratio in errors:
        rate = requests.get(at)
        if at < now - window or ratio is None or rate is None:
            continue
        bad += ratio * rate
        total += rate
    return bad / total if total > 0 else None
