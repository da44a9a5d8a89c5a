"""Prometheus mode: PromQL against a Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics).

Queries go through prometheus-api-client, whose calls block, so each runs in a worker thread, a few at a
time, with a deadline. The library drops a response's `warnings` and headers, so the session it is given
carries a response hook that keeps the latest response per thread: partial-data warnings, `Retry-After` and
`X-Prometheus-Stopping` are read from there. Failures never raise out of `collect()`: they become target
health, per-field reasons and back-off (reliability.md §A, §D.2).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from aitop.catalog import Schema, builtin_schemas
from aitop.model import Row, TargetHealth
from aitop.sanitize import clean
from aitop.sources.base import Collected, Points
from aitop.sources.promql import (
    SchemaPlan,
    duration,
    group_matcher,
    history_step,
    instant_queries,
    plan_schemas,
    row_expression,
)
from aitop.sources.prom_results import QueryFailure, alerts_from, assemble_rows, describe_failure
from aitop.transport import HttpSettings, requests_session

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 4  # well under Prometheus's default --query.max-concurrency of 20
REDETECT_SECONDS = 60.0  # new schemas (a LiteLLM gateway deployed) show up within a minute
BAD_QUERY_RETRY_SECONDS = 60.0  # 400/422 are not transient: no fast retry
BACKOFF_FIRST, BACKOFF_CAP = 1.0, 30.0


class PrometheusCollector:
    """A `Collector` over one Prometheus-compatible server."""

    kind = "prometheus"

    def __init__(
        self,
        base_url: str,
        *,
        window: float = 60.0,
        timeout: float = 10.0,
        http: HttpSettings | None = None,
        backend: str | None = None,
        schemas: Sequence[Schema] | None = None,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.targets = (clean(self.base_url, 120),)
        self.window_seconds = window
        self.timeout = timeout
        self.group_by: str | None = None
        self.backend = backend
        self.schemas = tuple(schemas) if schemas is not None else builtin_schemas()
        self.wall_clock, self.monotonic = wall_clock, monotonic
        settings = http or HttpSettings()
        self.tls_verified = not settings.insecure_skip_verify
        self._local = threading.local()
        self._session = requests_session(settings)
        self._session.hooks["response"].append(self._remember_response)
        # aitop backs off itself (and honours Retry-After); the library's own retries would hide that.
        self._client = PrometheusConnect(
            url=self.base_url, session=self._session, retry=Retry(total=0, redirect=0), timeout=timeout
        )
        self._gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._plans: list[SchemaPlan] = []
        self._labels: tuple[str, ...] = ()
        self._planned_at = -float("inf")
        self._bad_queries: dict[str, float] = {}  # expr -> monotonic time to try again
        self._next_attempt = -float("inf")
        self._failures = 0
        self._alerts_supported = True
        self.queries_sent = 0  # every HTTP request, for tests and benchmarks
        self._health = TargetHealth(self.targets[0], "prometheus", up=False, error="not queried yet")
        self._last_rows: tuple[Row, ...] = ()

    # -- HTTP plumbing (runs in worker threads) ---------------------------------------------------
    def _remember_response(self, response: requests.Response, *args, **kwargs) -> None:
        self._local.response = response

    def _call(self, function: Callable, *args, **kwargs):
        self._local.response = None
        self.queries_sent += 1
        try:
            result = function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 — every failure is classified from what was received
            raise describe_failure(exc, getattr(self._local, "response", None), self.timeout) from None
        return result, getattr(self._local, "response", None)

    async def _run(self, function: Callable, *args, **kwargs):
        async with self._gate:
            try:
                return await asyncio.wait_for(
                    asyncio.to_thread(self._call, function, *args, **kwargs), timeout=self.timeout * 1.5
                )
            except TimeoutError:  # a blackholed connection: the thread ends with its own timeout later
                raise QueryFailure(f"no answer within {self.timeout:g}s") from None

    def _query_params(self, at: float) -> dict:
        # The server's own timeout answers first (errorType=timeout) instead of a silent client cut-off.
        return {"time": f"{at:.3f}", "timeout": duration(max(1.0, self.timeout - 0.5))}

    # -- detection ----------------------------------------------------------------------------------
    async def _replan(self, now: float) -> None:
        (names, _) = await self._run(self._client.get_label_values, "__name__")
        self._plans = plan_schemas(self.schemas, set(names))
        matches = [
            metric + ("_bucket" if variant.kind == "histogram" else "")
            for plan in self._plans for (variant, metric) in plan.variants.values() if variant.metric_regex is None
        ]
        labels: set[str] = {"instance", "job"}
        if matches:
            try:
                (found, _) = await self._run(self._client.get_label_names, {"match[]": matches})
                labels.update(found)
            except QueryFailure:
                pass  # label names only feed the group-by choices
        self._labels = tuple(sorted(labels - {"__name__", "le", "quantile"}))
        self._planned_at = now

    # -- one refresh --------------------------------------------------------------------------------
    async def collect(self) -> Collected:
        now = self.monotonic()
        taken_at = self.wall_clock()
        if now < self._next_attempt:  # backing off: the last health says why
            return self._collected(taken_at, self._last_rows, ())
        try:
            if now - self._planned_at >= REDETECT_SECONDS:
                await self._replan(now)
        except QueryFailure as failure:
            return self._fail(failure, taken_at)
        queries = [q for plan in self._plans for q in instant_queries(plan, window=self.window_seconds, group_by=self.group_by)]
        due = [q for q in queries if self._bad_queries.get(q.expr, 0.0) <= now]
        params = self._query_params(taken_at)
        answers = await asyncio.gather(
            *(self._run(self._client.custom_query, q.expr, params) for q in due), self._fetch_alerts(),
            return_exceptions=True,
        )
        *results, alerts = answers
        failures = [r for r in results if isinstance(r, QueryFailure)]
        if due and len(failures) == len(due) and all(f.transient for f in failures):
            return self._fail(failures[0], taken_at)
        for query, result in zip(due, results):
            if isinstance(result, QueryFailure) and not result.transient:
                self._bad_queries[query.expr] = now + BAD_QUERY_RETRY_SECONDS
        answered = {q: r for q, r in zip(due, results) if not isinstance(r, BaseException)}
        errored = {q: r for q, r in zip(due, results) if isinstance(r, QueryFailure)}
        errored.update({q: QueryFailure("query error (retrying in a minute)") for q in queries if q not in due})
        rows, warnings = assemble_rows(self._plans, answered, errored, self.group_by)
        self._failures = 0
        self._health = TargetHealth(self.targets[0], "prometheus", up=True, error=None, last_success=taken_at)
        self._last_rows = tuple(rows)
        remote = alerts if isinstance(alerts, tuple) else ()
        return self._collected(taken_at, self._last_rows, warnings, alerts=remote)

    def _collected(self, taken_at, rows, warnings, *, alerts=()) -> Collected:
        return Collected(
            taken_at=taken_at,
            window_seconds=self.window_seconds,
            rows=tuple(rows),
            targets=(self._health,),
            schemas=tuple(plan.schema.name for plan in self._plans),
            labels=self._labels,
            backend=self.backend,
            warnings=tuple(warnings),
            tls_verified=self.tls_verified,
            alerts=alerts,
        )

    def _fail(self, failure: QueryFailure, taken_at: float) -> Collected:
        """Mark the server down and keep the last rows; back off exponentially with full jitter (or as long
        as Retry-After says) when retrying would only add load."""
        self._failures += 1
        if failure.backoff:
            delay = random.uniform(0, min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (self._failures - 1)))
            if failure.retry_after is not None:
                delay = max(delay, min(failure.retry_after, 300.0))
            self._next_attempt = self.monotonic() + delay
        self._health = TargetHealth(
            self.targets[0], "prometheus", up=False, error=failure.message, last_success=self._health.last_success
        )
        return self._collected(taken_at, self._last_rows, ())

    async def _fetch_alerts(self) -> tuple:
        if not self._alerts_supported:
            return ()
        url = f"{self.base_url}/api/v1/alerts"
        try:
            (response, _) = await self._run(self._session.get, url, timeout=self.timeout)
        except QueryFailure:
            return ()
        if response.status_code == 404:  # Mimir/VictoriaMetrics without a ruler: not supported, not down
            self._alerts_supported = False
            return ()
        try:
            return alerts_from(response.json()) if response.status_code == 200 else ()
        except ValueError:
            return ()

    # -- drill-down ---------------------------------------------------------------------------------
    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        plan = next((p for p in self._plans if p.schema.name == key[0]), None)
        if plan is None:
            return ()
        row = next((r for r in self._last_rows if r.key == key), None)
        matcher = group_matcher((row.group_label,) if row else plan.group_labels(self.group_by), key[1])
        narrowed = instant_queries(plan, window=self.window_seconds, group_by=label, matcher=matcher)
        params = self._query_params(self.wall_clock())
        results = await asyncio.gather(*(self._run(self._client.custom_query, q.expr, params) for q in narrowed), return_exceptions=True)
        answered = {q: r for q, r in zip(narrowed, results) if not isinstance(r, BaseException)}
        rows, _ = assemble_rows([plan], answered, {}, label)
        return tuple(rows)

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points] | None:
        plan = next((p for p in self._plans if p.schema.name == key[0]), None)
        if plan is None:
            return {name: () for name in fields}
        row = next((r for r in self._last_rows if r.key == key), None)
        label = row.group_label if row is not None else plan.group_labels(self.group_by)[0]
        matcher = group_matcher((label,), key[1])
        end = datetime.fromtimestamp(self.wall_clock(), UTC)
        start = datetime.fromtimestamp(self.wall_clock() - seconds, UTC)
        step = f"{history_step(seconds):g}s"
        series: dict[str, Points] = {}
        for name in fields:
            expr = row_expression(plan, name, window=self.window_seconds, matcher=matcher)
            if expr is None:
                series[name] = ()
                continue
            try:
                (result, _) = await self._run(self._client.custom_query_range, expr, start, end, step)
            except QueryFailure:
                series[name] = ()
                continue
            values = result[0]["values"] if result else []
            series[name] = tuple((float(t), _number(v)) for t, v in values)
        return series

    async def aclose(self) -> None:
        self._session.close()


def _number(text: str) -> float | None:
    value = float(text)
    return None if value != value else value
