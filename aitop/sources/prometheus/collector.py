"""Prometheus mode: PromQL against a Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics).

Queries go through `PromHttp` (bounded bodies, total deadlines, failures classified), whose calls block, so
each runs in a worker thread, a few at a time. A refresh sends one batched query per schema (`prom_batch`),
and falls back to one request per query, which the rules below apply to.

Polling discipline: at most one request per query is in flight; `collect()`
waits `poll_budget` seconds for answers and reports a query still running as slow (showing its last answer),
so a 40 s query never holds the other panels back. A query the server rejects (400/422) is retried after a
minute; refused credentials after a minute; a 429 or 503 as late as Retry-After says; other transient
failures back off exponentially with jitter. Failures never raise out of `collect()`: they become target
health, per-field reasons and warnings.

Each fault and what the user sees: docs/failure-modes.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from functools import partial

import requests

from aitop.catalog import Schema, builtin_schemas
from aitop.gcpolicy import paused_gc
from aitop.model import Row, TargetHealth
from aitop.sanitize import clean
from aitop.sources.base import Collected, CollectorBase, plain_label_names
from aitop.sources.prometheus.drill import PromDrillDown
from aitop.sources.prometheus.batch import Batcher, BatchedSender, Flight
from aitop.sources.prometheus.http import PromHttp
from aitop.sources.prometheus.kept import Kept, Recall, keep
from aitop.sources.prometheus.learn import learn_server
from aitop.sources.prometheus.server import ServerFacts, rate_window
from aitop.sources.prometheus.promql import Query, SchemaPlan, duration, instant_queries, plan_schemas
from aitop.sources.prometheus.results import (
    QueryFailure,
    alerts_from,
    capped,
    fields_of,
    query_label,
    response_warnings,
)
from aitop.sources.prometheus.rows import Planned, build_rows, plan_refresh
from aitop.transport import HttpSettings, backoff_delay

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 4  # well under Prometheus's default --query.max-concurrency of 20
REDETECT_SECONDS = 60.0  # new schemas (a LiteLLM gateway deployed) show up within a minute
#: While nothing is detected yet, or the scrape interval is still unknown (a Prometheus started with aitop has
#: scraped nothing for its first interval), detection runs again after 5 s, then 10, 20, 40, then every minute.
REDETECT_FIRST_SECONDS = 5.0
BAD_QUERY_RETRY_SECONDS = 60.0  # 400/422 are not transient: no fast retry
#: Series kept per query answer; `limit=` asks servers that know it (Prometheus 3.2+) for one more.
MAX_SERIES = 20_000
_ALERTS = "\0alerts"  # the in-flight key of the alerts request


class PrometheusCollector(BatchedSender, PromDrillDown, CollectorBase):
    """A `Collector` over one Prometheus-compatible server.

    `window_seconds` is the window asked for; `window_used` the one every `rate()` gets: widened to four
    scrape intervals when shorter (`prom_server`). Queries are evaluated at the server's time."""

    kind = "prometheus"
    alerts_key = _ALERTS

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
        at: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.targets = (clean(self.base_url, 120),)
        self.window_seconds = window
        self.timeout = timeout
        self.group_by: str | None = None
        self.backend = backend
        self.schemas = tuple(schemas) if schemas is not None else builtin_schemas()
        self.wall_clock, self.monotonic = wall_clock, monotonic
        #: `--at`: the server's time every query is evaluated at, instead of its "now" (None: now).
        self.at = at
        #: Seconds `collect()` waits for answers (None: the per-request deadline, timeout × 1.5). The TUI
        #: sets its refresh interval here, so a slow query never delays the other panels.
        self.poll_budget: float | None = None
        self.max_series = MAX_SERIES
        settings = http or HttpSettings()
        self.tls_verified = not settings.insecure_skip_verify
        self._http = PromHttp(self.base_url, timeout, settings)
        self._client = self._http.client
        self._gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._plans: list[SchemaPlan] = []
        self._labels: tuple[str, ...] = ()
        self._planned_at = -float("inf")
        self._redetect_after = REDETECT_SECONDS  # seconds from one detection to the next
        self._unsettled = 0  # detections in a row that found no schema or no scrape interval
        self._planned: tuple[list[SchemaPlan], tuple, Planned] | None = None  # (plans, key, the queries)
        self._inflight: dict[str, Flight] = {}  # query expression (or _ALERTS) -> the one request running
        self._answers: dict[str, Kept] = {}  # last good answer (`kept`)
        self._recall = Recall(self.max_series)
        self._tags: dict[str, str] = {}  # expr -> its tag in the batch that answered it this refresh
        self._query_next: dict[str, float] = {}  # expr -> monotonic time before which it is not sent again
        self._query_failures: dict[str, int] = {}
        self._query_error: dict[str, QueryFailure] = {}
        self._next_attempt = -float("inf")
        self._failures = 0
        self._alerts_supported = True
        self._last_alerts: tuple = ()
        self.failures_total = 0  # failed polls and failed queries, for tests and the status line
        self._health = TargetHealth(self.targets[0], "prometheus", up=False, error="not queried yet")
        self._last_rows: tuple[Row, ...] = ()
        self.batcher = Batcher()  # one request per schema per refresh, with the per-query fallback
        self.facts = ServerFacts()  # clock offset and scrape interval, learned with the metric names

    async def _run(self, function: Callable, *args, **kwargs):
        """One request in a worker thread; ends when the thread does (its own deadlines bound it)."""
        async with self._gate:
            return await asyncio.to_thread(self._http.call, function, *args, **kwargs)

    async def _run_bounded(self, function: Callable, *args, **kwargs):
        """`_run` with a deadline for callers that must not wait longer (detection, drill-down)."""
        try:
            # A little over the thread's own deadline (timeout × 1.5), which normally answers first.
            return await asyncio.wait_for(self._run(function, *args, **kwargs), timeout=self.timeout * 1.5 + 0.5)
        except TimeoutError:  # a blackholed connection: the thread ends with its own timeout later
            raise QueryFailure(f"no answer within {self.timeout:g}s") from None

    def _query_params(self, at: float) -> dict:
        # The server's own timeout answers first (errorType=timeout) instead of a silent client cut-off;
        # `limit` (Prometheus 3.2+; ignored elsewhere) keeps a runaway grouping from sending 100k series.
        return {"time": f"{at:.3f}", "timeout": duration(max(1.0, self.timeout - 0.5)),
                "limit": str(self.max_series + 1)}

    # -- detection ----------------------------------------------------------------------------------
    async def _replan(self, now: float) -> None:
        (names, _) = await self._run_bounded(self._client.get_label_values, "__name__")
        self._plans = plan_schemas(self.schemas, set(names))
        matches = [
            metric + ("_bucket" if variant.kind == "histogram" else "")
            for plan in self._plans for (variant, metric) in plan.variants.values() if variant.metric_regex is None
        ]
        labels: set[str] = {"instance", "job"}
        if matches:
            try:
                (found, _) = await self._run_bounded(self._client.get_label_names, {"match[]": matches})
                labels.update(found)
            except QueryFailure:
                pass  # label names only feed the group-by choices
        self._labels = plain_label_names(sorted(labels - {"__name__", "le", "quantile"}))
        self.facts = await learn_server(self, [name for plan in self._plans for name in plan.prints], self.facts)
        self._planned_at = now
        settled = bool(self._plans) and self.facts.scrape_interval is not None
        if settled:
            self._unsettled, self._redetect_after = 0, REDETECT_SECONDS
        else:
            self._redetect_after = min(REDETECT_SECONDS, REDETECT_FIRST_SECONDS * 2 ** self._unsettled)
            self._unsettled += 1

    @property
    def window_used(self) -> float:
        """The range of every `rate()`: the asked window, or four scrape intervals when that is longer."""
        return rate_window(self.window_seconds, self.facts.scrape_interval)

    def server_now(self) -> float:
        """The server's current time, by aitop's clock and the offset learned (or the fixed `at`)."""
        return self.at if self.at is not None else self.wall_clock() + self.facts.offset

    # -- one refresh --------------------------------------------------------------------------------
    def _fields(self, window: float, group_by: str | None) -> list[Query]:
        """Every schema's field queries, grouped by `group_by` (None: the model label)."""
        return [q for plan in self._plans for q in instant_queries(plan, window=window, group_by=group_by)]

    def _plan(self, window: float) -> Planned:
        """This refresh's queries: the last refresh's unless the plans, the window, the scrape interval or
        the grouping changed (making the PromQL again every refresh was most of a small refresh's planning)."""
        key = (window, self.facts.scrape_interval, self.group_by)
        cached = self._planned
        if cached is not None and cached[0] is self._plans and cached[1] == key:
            return cached[2]
        planned = plan_refresh(self._plans, partial(self._fields, window), window=window,
                               scrape_interval=self.facts.scrape_interval, group_by=self.group_by)
        self._planned = (self._plans, key, planned)
        return planned

    def _start(self, key: str, now: float, function: Callable, *args) -> None:
        if key not in self._inflight:
            self._inflight[key] = Flight(asyncio.create_task(self._run(function, *args)), now)

    def _budget(self) -> float:
        return self.poll_budget if self.poll_budget is not None else self.timeout * 1.5

    async def collect(self) -> Collected:
        """One refresh (`_collect`) with the cyclic garbage collector paused until its answers are freed: the
        ~66,000 small dicts and lists a 1,000-row answer decodes into (none in a cycle) are then never walked
        by a young collection (7–10 ms a refresh). A refresh waiting for a slow answer waits paused: key
        presses and repaints meanwhile make next to no cyclic garbage."""
        with paused_gc():
            return await self._collect()

    async def _collect(self) -> Collected:
        now = self.monotonic()
        taken_at = self.wall_clock()
        if now < self._next_attempt:  # backing off: the last health says why
            return self._collected(taken_at, self._last_rows, ())
        try:
            if now - self._planned_at >= self._redetect_after:
                await self._replan(now)
        except QueryFailure as failure:
            return self._fail(failure, taken_at)
        window = self.window_used
        planned = self._plan(window)
        queries = planned.sent
        self._forget_unplanned({q.expr for q in queries})  # (after a regroup, or a new window)
        # Every query of the refresh at one instant: the server's now (or the fixed `--at`).
        params = self._query_params(self.at if self.at is not None else taken_at + self.facts.offset)
        if self._alerts_supported and self.at is None:  # /api/v1/alerts knows only the present
            self._start(_ALERTS, now, partial(self._http.session.get, timeout=self.timeout),
                        f"{self.base_url}/api/v1/alerts")
        fresh, failed, running = await self._gather(queries, now, params, planned.lanes)
        self._recall = Recall(self.max_series)  # (a fallback's kept answers, decoded once this refresh)
        self._collect_alerts()
        self.failures_total += len(failed)

        # The server, not a query, is failing (every query timing out too: it is overloaded; back off).
        if not fresh and failed and all(f.transient for f in failed.values()) and not running:
            return self._fail(next(iter(failed.values())), taken_at)

        warnings: list[str] = []
        answered: dict[Query, tuple[list, requests.Response | None]] = {}
        errored: dict[Query, Exception] = {}
        for query, (result, response) in fresh.items():
            empty_partial = not result and response_warnings(response)
            if empty_partial:  # Thanos with a store down: "no data", never an empty answer read as 0
                failed[query] = QueryFailure(f"no data (partial): {response_warnings(response)[0]}")
                continue
            answered[query] = (capped(query, result, self.max_series, warnings), response)
            self._answers[query.expr] = keep(answered[query][0], response, self._tags.get(query.expr), now)
            for key in (self._query_failures, self._query_error, self._query_next):
                key.pop(query.expr, None)
        for query, problem in failed.items():
            self._query_failed(query, problem, now)
            self._fallback(query, problem.message, problem.transient, answered, errored, warnings, now,
                           kind=problem.kind)
        for query, age in running.items():
            warnings.append(f"slow query: {query_label(query)} still running after {age:.0f}s (one request at a time)")
            self._fallback(query, f"slow query: no answer yet after {age:.0f}s", True, answered, errored, warnings, now,
                           note=False)
        for query in queries:  # not sent this poll: rejected (400/422) or backing off
            if query in answered or query in errored or query.expr in self._inflight:
                continue
            last = self._query_error.get(query.expr) or QueryFailure("query error")
            wait = max(0.0, self._query_next.get(query.expr, now) - now)
            message = f"{last.message} (next try in {wait:.0f}s)"
            self._fallback(query, message, last.transient, answered, errored, warnings, now, kind=last.kind)

        # Off the event loop: a capped answer can still be 20,000 series.
        rows, models, server_warnings = await asyncio.to_thread(
            build_rows, self._plans, planned, answered, errored, group_by=self.group_by, offset=self.facts.offset)
        # Freed now, while the collector is paused: the worker thread lets go of its arguments only when it
        # next runs, which may be after this coroutine has resumed (and the collector with it).
        answered.clear()
        fresh.clear()
        if not rows and self._plans and not errored:  # never zero rows without a word
            warnings.append(f"no series of the detected schemas ({', '.join(p.schema.name for p in self._plans)}) "
                            f"answered over the last {window:g}s at the server's time")
        self._failures = 0
        self._next_attempt = -float("inf")
        self._health = TargetHealth(self.targets[0], "prometheus", up=True, error=None, last_success=taken_at,
                                    failures=self._health.failures)
        self._last_rows = tuple(rows)
        merged = list(dict.fromkeys([*warnings, *server_warnings]))
        failures = tuple((query_label(q), str(e), fields_of(q)) for q, e in errored.items())
        return self._collected(taken_at, self._last_rows, merged, alerts=self._last_alerts, failed=failures,
                               models=models)

    def _query_failed(self, query: Query, failure: QueryFailure, now: float) -> None:
        self._query_error[query.expr] = failure
        if not failure.transient:
            self._query_next[query.expr] = now + BAD_QUERY_RETRY_SECONDS
            return
        count = self._query_failures[query.expr] = self._query_failures.get(query.expr, 0) + 1
        delay = backoff_delay(count) if failure.backoff else 0.0
        if failure.retry_after is not None:
            delay = max(delay, min(failure.retry_after, 600.0))
        self._query_next[query.expr] = now + delay

    def _fallback(self, query, message, transient, answered, errored, warnings, now, *, note=True, kind="") -> None:
        """A query without a fresh answer: show its last answer if it failed only for now, else the error."""
        cached = self._answers.get(query.expr)
        if transient and cached is not None:
            answered[query] = (self._recall(query, cached), None)  # its warnings were shown when it arrived
            if note:
                warnings.append(f"{query_label(query)}: {message}; showing the answer from {now - cached.at:.0f}s ago")
        else:
            errored[query] = QueryFailure(f"{query_label(query)}: {message}", transient=transient, kind=kind)

    def _forget_unplanned(self, planned: set[str]) -> None:
        """Drop what belongs to queries no longer asked (after a regroup): answers, back-offs, and requests
        of theirs that have ended (one still running stays, so it is never sent twice)."""
        for table in (self._answers, self._query_next, self._query_failures, self._query_error):
            for expr in [expr for expr in table if expr not in planned]:
                del table[expr]
        for key in [k for k, f in self._inflight.items() if k != _ALERTS and k not in planned and f.task.done()]:
            task = self._inflight.pop(key).task
            if not task.cancelled():
                task.exception()  # its failure is moot; read, so asyncio does not print it as never retrieved

    def _collect_alerts(self) -> None:
        flight = self._inflight.get(_ALERTS)
        if flight is None or not flight.task.done():
            return  # still running: the last alerts stay
        del self._inflight[_ALERTS]
        if flight.task.exception() is not None:
            return
        (response, _) = flight.task.result()
        if response.status_code == 404:  # Mimir/VictoriaMetrics without a ruler: not supported, not down
            self._alerts_supported = False
            self._last_alerts = ()
            return
        try:
            self._last_alerts = alerts_from(response.json()) if response.status_code == 200 else ()
        except ValueError:
            self._last_alerts = ()

    def _collected(self, taken_at, rows, warnings, *, alerts=(), failed=(), models=None) -> Collected:
        return Collected(
            # At a fixed `at`: the instant by aitop's clock, so `taken_at + clock_offset` is what was evaluated.
            taken_at=taken_at if self.at is None else self.at - self.facts.offset,
            at=self.at,
            window_seconds=self.window_used,
            window_requested_seconds=self.window_seconds,
            clock_offset=self.facts.offset,
            scrape_interval=self.facts.scrape_interval,
            failed_queries=failed,
            rows=tuple(rows),
            targets=(self._health,),
            schemas=tuple(plan.schema.name for plan in self._plans),
            labels=self._labels,
            backend=self.backend,
            warnings=tuple(warnings),
            tls_verified=self.tls_verified,
            alerts=alerts,
            model_rows=models,
            server_history=True,
        )

    def _fail(self, failure: QueryFailure, taken_at: float) -> Collected:
        """Mark the server down and keep the last rows; back off exponentially with jitter (or as long as
        Retry-After says) when retrying would only add load."""
        self._failures += 1
        self.failures_total += 1
        message = failure.message
        if failure.backoff:
            delay = backoff_delay(self._failures)
            if failure.retry_after is not None:
                delay = max(delay, min(failure.retry_after, 600.0))
            self._next_attempt = self.monotonic() + delay
            message += f"; next try in {delay:.0f}s"
        previous = self._health
        self._health = TargetHealth(
            self.targets[0], "prometheus", up=False, error=message, last_success=previous.last_success,
            down_since=previous.down_since if not previous.up and previous.down_since else taken_at,
            failures=previous.failures + 1,
        )
        return self._collected(taken_at, self._last_rows, ())

    @property
    def queries_sent(self) -> int:
        """Every HTTP request sent so far, for tests and benchmarks."""
        return self._http.queries_sent

    @property
    def next_attempt(self) -> float:
        """Monotonic time before which the server is not asked again (after a failure with back-off)."""
        return self._next_attempt

    def query_next_attempt(self, expr: str) -> float:
        """Monotonic time before which the query `expr` is not sent again (-inf: at the next poll)."""
        return self._query_next.get(expr, -float("inf"))

    async def aclose(self) -> None:
        flights = [flight.task for flight in self._inflight.values()]
        for task in flights:
            task.cancel()
        if flights:
            await asyncio.gather(*flights, return_exceptions=True)
        self._inflight.clear()
        self._http.close()

