"""Prometheus mode: PromQL against a Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics).

Queries go through prometheus-api-client, whose calls block, so each runs in a worker thread, a few at a
time. The library drops a response's `warnings` and headers, so the session it is given carries a response
hook that keeps the latest response per thread: partial-data warnings, `Retry-After` and
`X-Prometheus-Stopping` are read from there. The same hook reads the body itself — capped on the wire and
after gunzip, and within a total deadline — so neither a 100k-series answer, a gzip bomb nor a trickling
server can exhaust memory or hang a thread.

Polling discipline (reliability.md §D.1, §D.2): at most one request per query is in flight; `collect()`
waits `poll_budget` seconds for answers and reports a query still running as slow (showing its last answer),
so a 40 s query never holds the other panels back. A query the server rejects (400/422) is retried after a
minute; refused credentials after a minute; a 429 or 503 as late as Retry-After says; other transient
failures back off exponentially with jitter. Failures never raise out of `collect()`: they become target
health, per-field reasons and warnings.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect  # noqa: F401 — re-exported
from urllib3.util.retry import Retry

from aitop.catalog import Schema, builtin_schemas
from aitop.model import Missing, Row, TargetHealth
from aitop.sanitize import clean
from aitop.sources.base import Collected, Points
from aitop.sources.promql import (
    Query,
    SchemaPlan,
    duration,
    group_matcher,
    history_step,
    instant_queries,
    plan_schemas,
    row_expression,
)
from aitop.sources.prom_results import QueryFailure, alerts_from, assemble_rows, describe_failure, response_warnings
from aitop.sources.scrape import plain_label_names
from aitop.transport import (
    BoundedInflater,
    HttpSettings,
    TooLarge,
    backoff_delay,
    connect_failure,
    is_dns_failure,
    requests_session,
)

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 4  # well under Prometheus's default --query.max-concurrency of 20
REDETECT_SECONDS = 60.0  # new schemas (a LiteLLM gateway deployed) show up within a minute
BAD_QUERY_RETRY_SECONDS = 60.0  # 400/422 are not transient: no fast retry
AUTH_RETRY_SECONDS = 60.0  # refused credentials or a missing tenant: retry slowly
#: Series kept per query answer; `limit=` asks servers that know it (Prometheus 3.2+) for one more.
MAX_SERIES = 20_000
#: Per response: compressed bytes on the wire, and bytes after gunzip (reliability.md §D.4).
MAX_WIRE_BYTES = 8 * 1024 * 1024
MAX_DECODED_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024
_ALERTS = "\0alerts"  # the in-flight key of the alerts request
_NARROW_HINT = " — narrow the query: a shorter --window, or group by fewer labels"


@dataclass(slots=True)
class _Flight:
    """A request in progress: the task, and when it started (monotonic)."""

    task: asyncio.Task
    started: float


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
        #: Seconds `collect()` waits for answers (None: the per-request deadline, timeout × 1.5). The TUI
        #: sets its refresh interval here, so a slow query never delays the other panels.
        self.poll_budget: float | None = None
        self.max_series = MAX_SERIES
        settings = http or HttpSettings()
        self.tls_verified = not settings.insecure_skip_verify
        self._host = clean(urlsplit(self.base_url).hostname or "", 80)
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
        self._inflight: dict[str, _Flight] = {}  # query expression (or _ALERTS) -> the one request running
        self._answers: dict[str, tuple[list, requests.Response | None, float]] = {}  # last good answer, when
        self._query_next: dict[str, float] = {}  # expr -> monotonic time before which it is not sent again
        self._query_failures: dict[str, int] = {}
        self._query_error: dict[str, QueryFailure] = {}
        self._next_attempt = -float("inf")
        self._failures = 0
        self._alerts_supported = True
        self._last_alerts: tuple = ()
        self.queries_sent = 0  # every HTTP request, for tests and benchmarks
        self.failures_total = 0  # failed polls and failed queries, for tests and the status line
        self._health = TargetHealth(self.targets[0], "prometheus", up=False, error="not queried yet")
        self._last_rows: tuple[Row, ...] = ()

    # -- HTTP plumbing (runs in worker threads) ---------------------------------------------------
    def _remember_response(self, response: requests.Response, *args, **kwargs) -> None:
        """Session hook, before requests reads the body: keep the response, read the body within bounds."""
        self._local.response = response
        media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if response.status_code == 200 and media_type in ("text/html", "application/xhtml+xml"):
            response.close()
            raise QueryFailure(f"unexpected HTML from {self._host} — authentication proxy?")
        self._read_body(response)

    def _read_body(self, response: requests.Response) -> None:
        raw = response.raw
        if raw is None or response._content is not False:  # already read (or a test's canned response)
            return
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_WIRE_BYTES:
            response.close()
            raise QueryFailure(f"response too large: {int(declared) // 2**20} MiB exceeds the {MAX_WIRE_BYTES // 2**20} MiB cap")
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            inflater = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            inflater = BoundedInflater(encoding, MAX_DECODED_BYTES)
        else:
            response.close()
            raise QueryFailure(f"unsupported Content-Encoding {clean(encoding, 30)}")
        deadline = getattr(self._local, "deadline", None)
        chunks: list[bytes] = []
        wire = decoded = 0
        try:
            while True:
                # read1: whatever one receive brings, so the deadline is checked however slowly bytes trickle
                # (stream()/read(n) would block until n bytes arrived).
                chunk = raw.read1(_CHUNK, decode_content=False)
                if not chunk:
                    break
                wire += len(chunk)
                if wire > MAX_WIRE_BYTES:
                    raise QueryFailure(f"response too large: exceeds the {MAX_WIRE_BYTES // 2**20} MiB cap")
                if inflater is not None:
                    chunks.extend(inflater.feed(chunk))
                else:
                    decoded += len(chunk)
                    if decoded > MAX_DECODED_BYTES:
                        raise TooLarge(decoded)
                    chunks.append(chunk)
                if deadline is not None and time.monotonic() > deadline:
                    raise QueryFailure(f"no complete answer within {self.timeout * 1.5:g}s")
            if inflater is not None:
                chunks.append(inflater.flush())
        except TooLarge:
            chunks.clear()
            response.close()
            raise QueryFailure(
                f"response too large: decoded body exceeds the {MAX_DECODED_BYTES // 2**20} MiB cap"
            ) from None
        except QueryFailure:
            chunks.clear()
            response.close()
            raise
        except urllib3.exceptions.ReadTimeoutError:
            response.close()
            raise QueryFailure(f"no answer within {self.timeout:g}s") from None
        except (urllib3.exceptions.HTTPError, OSError, zlib.error):
            response.close()
            raise QueryFailure("connection broken mid-response (answer incomplete)") from None
        response._content = b"".join(chunks)
        response._content_consumed = True
        response.close()

    def _failure(self, exc: Exception, response: requests.Response | None) -> QueryFailure:
        """`describe_failure`, plus what Prometheus mode knows better: DNS, auth, tenants, narrowing hints."""
        if isinstance(exc, QueryFailure):
            return exc
        if response is None and isinstance(exc, requests.ConnectionError):
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, urllib3.exceptions.ReadTimeoutError):  # requests reports it as ConnectionError
                return QueryFailure(f"no answer within {self.timeout:g}s")
            if is_dns_failure(exc):
                return QueryFailure(f"DNS lookup failed for {self._host}")
            cause = connect_failure(exc)
            if cause in ("connection refused", "connection reset"):
                return QueryFailure(f"cannot connect: {cause}", backoff=False)
        failure = describe_failure(exc, response, self.timeout)
        if response is None or response.status_code == 200:
            return failure
        status = response.status_code
        if status in (401, 403):
            body = (response.content or b"")[:512].decode("utf-8", "replace").lower()
            if "no org id" in body or "tenant" in body and "missing" in body:
                message = f"missing tenant (set --tenant): the server answered HTTP {status} 'no org id'"
            else:
                message = f"authentication failed: {failure.message}"
            return QueryFailure(message, retry_after=AUTH_RETRY_SECONDS)
        if status in (400, 422):
            text = failure.message.lower()
            if any(word in text for word in ("too many samples", "maximum resolution", "too many series",
                                              "limit", "max-chunks", "max_chunks", "max-series")):
                return QueryFailure(failure.message + _NARROW_HINT, transient=False)
        return failure

    def _call(self, function: Callable, *args, **kwargs):
        self._local.response = None
        self._local.deadline = time.monotonic() + self.timeout * 1.5
        self.queries_sent += 1
        try:
            result = function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 — every failure is classified from what was received
            raise self._failure(exc, getattr(self._local, "response", None)) from None
        return result, getattr(self._local, "response", None)

    async def _run(self, function: Callable, *args, **kwargs):
        """One request in a worker thread; ends when the thread does (its own deadlines bound it)."""
        async with self._gate:
            return await asyncio.to_thread(self._call, function, *args, **kwargs)

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
        self._planned_at = now

    # -- one refresh --------------------------------------------------------------------------------
    def _start(self, key: str, now: float, function: Callable, *args) -> None:
        if key not in self._inflight:
            self._inflight[key] = _Flight(asyncio.create_task(self._run(function, *args)), now)

    def _budget(self) -> float:
        return self.poll_budget if self.poll_budget is not None else self.timeout * 1.5

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
        self._forget_unplanned({q.expr for q in queries})  # (after a regroup)
        params = self._query_params(taken_at)
        for query in queries:  # single flight: a query still running from an earlier poll is not sent again
            if self._query_next.get(query.expr, -float("inf")) <= now:
                self._start(query.expr, now, self._client.custom_query, query.expr, params)
        if self._alerts_supported:
            self._start(_ALERTS, now, partial(self._session.get, timeout=self.timeout), f"{self.base_url}/api/v1/alerts")
        planned = {q.expr for q in queries} | {_ALERTS}
        waiting = [flight.task for key, flight in self._inflight.items() if key in planned]
        if waiting:
            await asyncio.wait(waiting, timeout=self._budget())
        after = self.monotonic()

        fresh: dict[Query, tuple[list, requests.Response | None]] = {}
        failed: dict[Query, QueryFailure] = {}
        running: dict[Query, float] = {}
        for query in queries:
            flight = self._inflight.get(query.expr)
            if flight is None:
                continue
            if not flight.task.done():
                running[query] = after - flight.started
                continue
            del self._inflight[query.expr]
            error = flight.task.exception()
            if error is None:
                fresh[query] = flight.task.result()
            else:
                failed[query] = error if isinstance(error, QueryFailure) else QueryFailure(
                    f"request failed ({type(error).__name__})")
        self._collect_alerts()
        self.failures_total += len(failed)

        if not fresh and failed and all(f.transient for f in failed.values()) and not running:
            return self._fail(next(iter(failed.values())), taken_at)  # the server, not a query, is failing

        warnings: list[str] = []
        answered: dict[Query, tuple[list, requests.Response | None]] = {}
        errored: dict[Query, Exception] = {}
        for query, (result, response) in fresh.items():
            empty_partial = not result and response_warnings(response)
            if empty_partial:  # Thanos with a store down: "no data", never an empty answer read as 0
                failed[query] = QueryFailure(f"no data (partial): {response_warnings(response)[0]}")
                continue
            answered[query] = (self._capped(query, result, warnings), response)
            self._answers[query.expr] = (answered[query][0], None, now)
            for key in (self._query_failures, self._query_error, self._query_next):
                key.pop(query.expr, None)
        for query, failure in failed.items():
            self._query_failed(query, failure, now)
            self._fallback(query, failure.message, failure.transient, answered, errored, warnings, now)
        for query, age in running.items():
            warnings.append(f"slow query: {_label(query)} still running after {age:.0f}s (one request at a time)")
            self._fallback(query, f"slow query: no answer yet after {age:.0f}s", True, answered, errored, warnings, now,
                           note=False)
        for query in queries:  # not sent this poll: rejected (400/422) or backing off
            if query in answered or query in errored or query.expr in self._inflight:
                continue
            last = self._query_error.get(query.expr) or QueryFailure("query error")
            wait = max(0.0, self._query_next.get(query.expr, now) - now)
            message = f"{last.message} (next try in {wait:.0f}s)"
            self._fallback(query, message, last.transient, answered, errored, warnings, now)

        # Off the event loop: a capped answer can still be 20,000 series.
        rows, server_warnings = await asyncio.to_thread(assemble_rows, self._plans, answered, errored, self.group_by)
        rows = _with_infos(_unknown_where_failed(rows, errored), answered)
        self._failures = 0
        self._next_attempt = -float("inf")
        self._health = TargetHealth(self.targets[0], "prometheus", up=True, error=None, last_success=taken_at,
                                    failures=self._health.failures)
        self._last_rows = tuple(rows)
        merged = list(dict.fromkeys([*warnings, *server_warnings]))
        return self._collected(taken_at, self._last_rows, merged, alerts=self._last_alerts)

    def _capped(self, query: Query, result: list, warnings: list[str]) -> list:
        if len(result) <= self.max_series:
            return result
        at_least = "≥" if len(result) == self.max_series + 1 else ""  # the server stopped at `limit`
        warnings.append(f"{_label(query)}: showing {self.max_series:,} of {at_least}{len(result):,} series"
                        " — group by fewer labels or filter")
        return result[: self.max_series]

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

    def _fallback(self, query, message, transient, answered, errored, warnings, now, *, note=True) -> None:
        """A query without a fresh answer: show its last answer if it failed only for now, else the error."""
        cached = self._answers.get(query.expr)
        if transient and cached is not None:
            answered[query] = (cached[0], None)  # its warnings were shown when it arrived
            if note:
                warnings.append(f"{_label(query)}: {message}; showing the answer from {now - cached[2]:.0f}s ago")
        else:
            errored[query] = QueryFailure(f"{_label(query)}: {message}", transient=transient)

    def _forget_unplanned(self, planned: set[str]) -> None:
        """Drop what belongs to queries no longer asked (after a regroup): answers, back-offs, and requests
        of theirs that have ended (one still running stays, so it is never sent twice)."""
        for table in (self._answers, self._query_next, self._query_failures, self._query_error):
            for expr in [expr for expr in table if expr not in planned]:
                del table[expr]
        for key in [k for k, f in self._inflight.items() if k != _ALERTS and k not in planned and f.task.done()]:
            del self._inflight[key]

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
    def next_attempt(self) -> float:
        """Monotonic time before which the server is not asked again (after a failure with back-off)."""
        return self._next_attempt

    def query_next_attempt(self, expr: str) -> float:
        """Monotonic time before which the query `expr` is not sent again (-inf: at the next poll)."""
        return self._query_next.get(expr, -float("inf"))

    # -- drill-down ---------------------------------------------------------------------------------
    async def metric_names(self) -> dict[str, set[str]]:
        """{instance: the catalog's metric names the server holds for it}, for `aitop detect`: a schema stands
        down per target, so one server-wide list of names would be too coarse."""
        from aitop.detect_report import names_by_instance, names_query

        (result, _) = await self._run(self._client.custom_query, names_query(self.schemas), self._query_params(self.wall_clock()))
        return names_by_instance(result)

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        plan = next((p for p in self._plans if p.schema.name == key[0]), None)
        if plan is None:
            return ()
        row = next((r for r in self._last_rows if r.key == key), None)
        matcher = group_matcher((row.group_label,) if row else plan.group_labels(self.group_by), key[1])
        narrowed = instant_queries(plan, window=self.window_seconds, group_by=label, matcher=matcher)
        params = self._query_params(self.wall_clock())
        results = await asyncio.gather(*(self._run_bounded(self._client.custom_query, q.expr, params) for q in narrowed), return_exceptions=True)
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
                (result, _) = await self._run_bounded(self._client.custom_query_range, expr, start, end, step)
            except QueryFailure:
                series[name] = ()
                continue
            values = result[0]["values"] if result else []
            series[name] = tuple((float(t), _number(v)) for t, v in values)
        return series

    async def aclose(self) -> None:
        flights = [flight.task for flight in self._inflight.values()]
        for task in flights:
            task.cancel()
        if flights:
            await asyncio.gather(*flights, return_exceptions=True)
        self._inflight.clear()
        self._session.close()


def _number(text: str) -> float | None:
    value = float(text)
    return None if value != value else value


def _label(query: Query) -> str:
    """A query's name in messages: its field (latency_p95) or concept (requests) and schema."""
    return f"{query.schema} {(query.field or query.concept).replace('_', ' ')}"


def _unknown_where_failed(rows: list[Row], errored: Mapping[Query, Exception]) -> list[Row]:
    """A field whose query failed is unknown ("query error"), never a number derived from its absence —
    a failed error query must not read as 0 % errors (reliability.md §F 6, 8)."""
    from aitop.sources.prom_results import _fields_of

    failed: dict[str, dict[str, str]] = {}
    for query, error in errored.items():
        for field in _fields_of(query):
            failed.setdefault(query.schema, {})[field] = str(error)
    if not failed:
        return rows
    out = []
    for row in rows:
        fields = failed.get(row.schema, {})
        known = [field for field in fields if row.values.get(field) is not None]
        if known:
            values, missing, provenance = dict(row.values), dict(row.missing), dict(row.provenance)
            for field in known:
                values[field] = None
                missing[field] = Missing.QUERY_ERROR
                provenance[field] = f"query error: {fields[field]}"
            errors_by_type = {} if "error_rate" in known else row.errors_by_type
            row = replace(row, values=values, missing=missing, provenance=provenance, errors_by_type=errors_by_type)
        out.append(row)
    return out


def _with_infos(rows: list[Row], answered: Mapping[Query, tuple[list, requests.Response | None]]) -> list[Row]:
    """Attach the server's info annotations to the provenance of the fields they concern (drill-down)."""
    from aitop.sources.prom_results import _fields_of

    notes: dict[str, dict[str, list[str]]] = {}
    for query, (_, response) in answered.items():
        infos = [w for w in response_warnings(response) if w.startswith("info: ")]
        if infos:
            for field in _fields_of(query):
                notes.setdefault(query.schema, {}).setdefault(field, []).extend(infos)
    if not notes:
        return rows
    out = []
    for row in rows:
        fields = notes.get(row.schema, {})
        marked = {f: lines for f, lines in fields.items() if row.value(f) is not None}
        if marked:
            provenance = dict(row.provenance)
            for field, lines in marked.items():
                provenance[field] = " — ".join([provenance.get(field, ""), *dict.fromkeys(lines)]).lstrip(" —")
            row = replace(row, provenance=provenance)
        out.append(row)
    return out
