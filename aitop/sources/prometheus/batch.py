"""Batched PromQL: every query of one schema in ONE request per refresh, with a fallback that keeps isolation.

Each query of a schema is wrapped in `label_replace(<expr>, "__aitop_concept__", "<n>", "", "")` — a label
naming the sub-query — and the wrapped queries are joined with `or`, sent by POST (5 KB of PromQL does not
belong in a URL). The label makes every sub-query's series distinct, so `or` keeps them all and the answer
splits back into exactly the per-query answers. One request instead of ~14 per schema is most of a refresh's
client CPU (HTTP plumbing per request) and about half of the server's.

The risk is that one bad or slow sub-query fails the whole batch. So on any error, a batch still running
after half the poll budget, an answer that cannot be split or holds more series than all its sub-queries
may, or one carrying warnings (which could not be told apart per query), the refresh sends that schema's
queries alone at once (they get the rest of the budget), and the schema stays on one request per query for
BATCH_OFF_SECONDS. A query that fails, is slow or carries warnings on its own is kept out of the batch for
ALONE_SECONDS and sent alone meanwhile, so the others batch again without it.

The decision and its tests: docs/architecture.md, PromQL.
"""

from __future__ import annotations

import asyncio
from itertools import groupby
from operator import itemgetter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from aitop.sources.prometheus.results import QueryFailure, response_warnings
from aitop.sources.prometheus.promql import Query

if TYPE_CHECKING:
    from prometheus_api_client import PrometheusConnect

    from aitop.sources.prometheus.http import PromHttp

CONCEPT_LABEL = "__aitop_concept__"
BATCH_OFF_SECONDS = 300.0  # after a failed batch: per-query requests for this long
ALONE_SECONDS = 600.0  # a query that failed on its own stays out of the batch this long


@dataclass(frozen=True, slots=True)
class Batch:
    """The queries of one schema sent as one expression (`expr`, also its single-flight key); `schema` is
    the schema's name, with its lane when the batch is one of the schema's side lanes."""

    schema: str
    expr: str
    queries: tuple[Query, ...]


def batch_expr(queries: Sequence[Query]) -> str:
    """One expression answering every query, each answer's series tagged with its index."""
    return " or ".join(f'label_replace({q.expr}, "{CONCEPT_LABEL}", "{i}", "", "")' for i, q in enumerate(queries))


def split_answer(batch: Batch, result: Sequence[dict]) -> dict[Query, list] | None:
    """The batch's answer as each query's own answer; None when a series carries no known tag (a server
    that did not evaluate the batch as written: use per-query requests)."""
    # (The parsed answer is ours: the tag is removed in place. A server answers each sub-query's series
    # together, so the answer is cut into runs of one tag by slicing, not series by series: 20,000 series.)
    try:
        tags = [metric.pop(CONCEPT_LABEL, None) for metric in map(_METRIC, result)]
    except (KeyError, AttributeError):  # a series without labels (or null for them) carries no tag
        return None
    index = {str(i): i for i in range(len(batch.queries))}
    parts: list[list] = [[] for _ in batch.queries]
    start = 0
    for tag, run in groupby(tags):
        end = start + len(list(run))
        part = index.get(tag)
        if part is None:
            return None
        parts[part] += result[start:end]
        start = end
    return dict(zip(batch.queries, parts, strict=True))


_METRIC = itemgetter("metric")


class Batcher:
    """Which queries go out batched this refresh, and the fallback's memory (monotonic times)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.off_until: dict[str, float] = {}  # schema -> per-query requests until then
        self.alone_until: dict[str, float] = {}  # query expression -> kept out of the batch until then
        self.batches_sent = 0
        self.fallbacks = 0  # batches that failed, for tests and benchmarks

    def plan(self, queries: Sequence[Query], now: float, busy: Callable[[str], bool],
             lanes: Mapping[str, str] | None = None) -> tuple[list[Batch], list[Query]]:  # fmt: skip
        """(batches, queries sent alone). `busy(expr)`: a request for that query alone is still running
        (single flight: it is collected, never sent again). `lanes`: expression -> lane, for queries that go
        in a batch of their own beside their schema's (the model rows beside a regrouped view)."""
        self.alone_until = {e: t for e, t in self.alone_until.items() if t > now}
        grouped: dict[str, list[Query]] = {}
        alone: list[Query] = []
        for query in queries:
            lane = lanes.get(query.expr) if lanes else None
            key = query.schema if lane is None else f"{query.schema} ({lane})"
            batched = (self.enabled and self.off_until.get(key, -float("inf")) <= now
                       and query.expr not in self.alone_until and not busy(query.expr))
            (grouped.setdefault(key, []) if batched else alone).append(query)
        batches = []
        for schema, members in grouped.items():
            if len(members) == 1:
                alone.extend(members)
            else:
                batches.append(Batch(schema, batch_expr(members), tuple(members)))
        self.batches_sent += len(batches)
        return batches, alone

    def batch_failed(self, batch: Batch, now: float) -> None:
        self.fallbacks += 1
        self.off_until[batch.schema] = now + BATCH_OFF_SECONDS

    def failed_alone(self, query: Query, now: float) -> None:
        self.alone_until[query.expr] = now + ALONE_SECONDS


async def wait_for(tasks: Sequence[asyncio.Task], timeout: float) -> None:
    """Wait for `tasks` at most `timeout` seconds (not at all when there are none or no time is left)."""
    if tasks and timeout > 0:
        await asyncio.wait(tasks, timeout=timeout)


@dataclass(slots=True)
class Flight:
    """A request in progress: the task, and when it started (monotonic)."""

    task: asyncio.Task
    started: float


#: What `_gather` returns: the answers (result, response), the failures, and the queries still running (age).
Gathered = tuple[dict[Query, tuple[list, requests.Response | None]], dict[Query, QueryFailure], dict[Query, float]]


class BatchedSender:
    """The sending half of `PrometheusCollector` (a mixin over its flights, back-offs and HTTP client)."""

    if TYPE_CHECKING:  # what the host class, `PrometheusCollector`, provides
        batcher: Batcher
        max_series: int
        alerts_key: str
        _http: PromHttp
        _client: PrometheusConnect
        _inflight: dict[str, Flight]
        _tags: dict[str, str]
        _query_next: dict[str, float]
        monotonic: Callable[[], float]

        def _budget(self) -> float: ...

        def _start(self, key: str, now: float, function: Callable, *args: Any) -> None: ...

    async def _gather(self, queries: list[Query], now: float, params: dict,
                      lanes: Mapping[str, str] | None = None) -> Gathered:
        """Send the refresh's queries — batched per schema, or alone — and sort what came back within the
        budget into answers, failures and queries still running (with their age).

        A batch gets half the budget: slower, failed, over its series budget or carrying warnings (which
        could not be told apart per query), its queries are sent alone at once and get the rest."""
        budget = self._budget()
        due = [q for q in queries if self._query_next.get(q.expr, -float("inf")) <= now or q.expr in self._inflight]
        batches, alone = self.batcher.plan(due, now, lambda expr: expr in self._inflight, lanes)
        for batch in batches:
            limit = {**params, "limit": str(self.max_series * len(batch.queries) + 1)}
            self._start(batch.expr, now, self._http.post_query, batch.expr, limit)
        for query in alone:  # single flight: a query still running from an earlier poll is not sent again
            self._start(query.expr, now, self._client.custom_query, query.expr, params)
        await wait_for([self._inflight[b.expr].task for b in batches], budget / 2)
        fresh: dict[Query, tuple[list, requests.Response | None]] = {}
        self._tags = {}  # expr -> its tag in the batch that answered it (what a kept answer splits by)
        for batch in batches:
            flight = self._inflight[batch.expr]
            parts = None
            if flight.task.done():  # (a slow one stays in flight, never sent twice; it is dropped when done)
                del self._inflight[batch.expr]
                if flight.task.exception() is None:
                    (result, response) = flight.task.result()
                    if len(result) <= self.max_series * len(batch.queries) and not response_warnings(response):
                        parts = split_answer(batch, result)
            if parts is None:
                self.batcher.batch_failed(batch, now)
                for query in batch.queries:
                    self._start(query.expr, now, self._client.custom_query, query.expr, params)
                alone.extend(batch.queries)
            else:
                fresh.update({query: (part, response) for query, part in parts.items()})
                self._tags.update((query.expr, str(i)) for i, query in enumerate(batch.queries))
        keys = {q.expr for q in alone} | {self.alerts_key}
        await wait_for([f.task for k, f in self._inflight.items() if k in keys], budget - (self.monotonic() - now))
        failed: dict[Query, QueryFailure] = {}
        running: dict[Query, float] = {}
        culprits: list[Query] = []  # failed, slow or warning on their own: out of the batch for a while
        for query in alone:
            single = self._inflight.get(query.expr)
            if single is None:
                continue
            if not single.task.done():
                running[query] = self.monotonic() - single.started
                if single.started < now:  # slow on its own (not merely sent late, after a batch failed)
                    culprits.append(query)
                continue
            del self._inflight[query.expr]
            error = single.task.exception()
            if error is None:
                fresh[query] = single.task.result()
                if response_warnings(fresh[query][1]):
                    culprits.append(query)  # its notes would be every batched query's
            else:
                culprits.append(query)
                failed[query] = error if isinstance(error, QueryFailure) else QueryFailure(
                    f"request failed ({type(error).__name__})")
        if fresh:
            for query in culprits:
                self.batcher.failed_alone(query, now)
        else:  # nothing answered: the server is failing, not a query (it backs off; batch again after)
            for batch in batches:
                self.batcher.off_until.pop(batch.schema, None)
        return fresh, failed, running
