"""A Prometheus-mode refresh runs with the cyclic garbage collector paused from its requests until its
answers are freed (aitop/sources/prometheus/collector.py, `collect`): the decoded answers (tens of thousands
of small dicts and lists at 1,000 rows, none in a cycle) are never walked by a collection, and the collector
is on again, as it was, once the refresh is over."""

from __future__ import annotations

import gc
import time

import pytest
from test_explanations import _many

from aitop.sources.prometheus import collector as prom_collector
from aitop.sources.prometheus.collector import PrometheusCollector
from aitop.sources.prometheus.server import ServerFacts


async def test_the_collector_is_paused_from_the_requests_to_the_rows(collector_on, monkeypatch) -> None:
    plans, answered = _many(50)
    by_expr = {query.expr: answer for query, answer in answered.items()}
    seen: dict[str, list[bool]] = {"gather": [], "rows": []}
    collector = PrometheusCollector("http://127.0.0.1:9", window=30)
    collector._plans, collector._planned_at = plans, time.monotonic()
    collector.facts = ServerFacts(scrape_interval=5.0)
    collector._alerts_supported = False

    async def gather(queries, now, params, lanes=None):
        seen["gather"].append(gc.isenabled())
        return {query: by_expr[query.expr] for query in queries if query.expr in by_expr}, {}, {}

    build = prom_collector.build_rows

    def build_rows(*args, **kwargs):
        seen["rows"].append(gc.isenabled())
        return build(*args, **kwargs)

    monkeypatch.setattr(collector, "_gather", gather)
    monkeypatch.setattr(prom_collector, "build_rows", build_rows)
    try:
        collected = await collector.collect()
    finally:
        await collector.aclose()
    assert len(collected.rows) == 50 and collected.targets[0].up
    assert seen == {"gather": [False], "rows": [False]}
    assert gc.isenabled()


async def test_a_refresh_that_fails_leaves_the_collector_on(collector_on, monkeypatch) -> None:
    collector = PrometheusCollector("http://127.0.0.1:9", window=30)

    async def broken(now):
        raise RuntimeError("a bug")

    monkeypatch.setattr(collector, "_replan", broken)
    try:
        with pytest.raises(RuntimeError):
            await collector.collect()
    finally:
        await collector.aclose()
    assert gc.isenabled()


class _Answer(list):
    """A query's decoded series (a list that can be referred to weakly)."""


async def test_the_answers_are_freed_before_the_collector_resumes(collector_on, monkeypatch) -> None:
    """The worker thread that built the rows lets go of its arguments only when it next runs, which may be
    after the refresh has resumed the collector: the refresh itself drops the answers it handed over."""
    import weakref

    import requests

    plans, answered = _many(20)
    response = requests.Response()
    response._content, response.status_code = b"{}", 200
    answers = {query.expr: _Answer(result) for query, (result, _) in answered.items()}
    alive = [weakref.ref(answer) for answer in answers.values()]
    held: list[tuple] = []  # what the worker thread still holds when the refresh goes on
    collector = PrometheusCollector("http://127.0.0.1:9", window=30)
    collector._plans, collector._planned_at = plans, time.monotonic()
    collector.facts = ServerFacts(scrape_interval=5.0)
    collector._alerts_supported = False

    async def gather(queries, now, params, lanes=None):
        return {query: (answers.pop(query.expr), response) for query in queries if query.expr in answers}, {}, {}

    build = prom_collector.build_rows

    def build_rows(*args, **kwargs):
        held.append(args)
        return build(*args, **kwargs)

    monkeypatch.setattr(collector, "_gather", gather)
    monkeypatch.setattr(prom_collector, "build_rows", build_rows)
    del answered
    try:
        collected = await collector.collect()
    finally:
        await collector.aclose()
    assert len(collected.rows) == 20 and len(held) == 1 and not answers
    assert [ref() for ref in alive] == [None] * len(alive)
