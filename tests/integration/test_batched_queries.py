"""Batched PromQL (one request per schema per refresh) against a real Prometheus and a real VictoriaMetrics.

The batch must answer exactly what each query sent alone answers, evaluated at the same instant; and one bad
or slow sub-query must not take the others down: the refresh falls back to one request per query, and the
culprit stays out of the batch once the schema batches again.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from aitop.sources.prometheus import collector as prom
from aitop.sources.prometheus.batch import BATCH_OFF_SECONDS, CONCEPT_LABEL, Batch, batch_expr, split_answer
from aitop.sources.prometheus.promql import Query, instant_queries

pytestmark = pytest.mark.integration

MODELS = {"gpt-4o", "claude-3.5-sonnet"}  # the exporter's llm_* models
BAD = 'sum by (model) (rate(llm_requests_total{model=~"gpt.*"}[30s]'  # a parse error: HTTP 400
SLOW_MARK = "aitop_test_slow_total"
SLOW = f"sum by (model) (rate({SLOW_MARK}[30s]))"  # valid and empty; the proxy holds it back


def _plans(collector):
    return {plan.schema.name: plan for plan in collector._plans}


def _by_labels(result: list) -> dict:
    """{labels: value}; values to 12 significant digits, as a sum's last bit depends on the order the
    engine adds the series in (VictoriaMetrics: 3.0000000000002047 once, ...2043 the next)."""
    return {tuple(sorted(s["metric"].items())): f"{float(s['value'][1]):.12g}" for s in result}


@pytest.mark.parametrize("server", ["prometheus", "victoria_metrics"])
async def test_batched_answers_equal_per_query_answers(server, request, known) -> None:
    base = request.getfixturevalue(server)
    known.wait_for_history(base, 7.0)
    collector = prom.PrometheusCollector(base, window=5, timeout=10)
    try:
        first = await collector.collect()  # detects schemas; the refresh itself is batched
        assert collector.batcher.batches_sent >= 2 and collector.batcher.fallbacks == 0, first.warnings
        assert {"vllm", "llm"} <= set(_plans(collector))
        at = time.time() - 1.0
        params = {**collector._query_params(at), "limit": "100000"}
        compared = 0
        for name in ("vllm", "llm"):
            queries = instant_queries(_plans(collector)[name], window=collector.window_used, group_by=None)
            batch = Batch(name, batch_expr(queries), tuple(queries))
            (answer, _) = collector._http.call(collector._http.post_query, batch.expr, params)
            parts = split_answer(batch, answer)
            assert parts is not None
            for query in queries:
                (alone, _) = collector._http.call(collector._client.custom_query, query.expr, params)
                assert _by_labels(parts[query]) == _by_labels(alone), query.expr
                compared += bool(alone)
            assert not any(CONCEPT_LABEL in s["metric"] for part in parts.values() for s in part)
        assert compared >= 10  # not an equality of empty answers
    finally:
        await collector.aclose()


class _Clock:
    """time.monotonic plus a jump, to pass the fallback's waiting times without waiting."""

    def __init__(self) -> None:
        self.jump = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.jump


def _inject(monkeypatch, *extra: str) -> None:
    """The llm schema asks `extra` queries too (a concept no field reads: their failure blanks nothing)."""
    real = prom.instant_queries

    def planned(plan, **kwargs):
        queries = real(plan, **kwargs)
        if plan.schema.name == "llm":
            queries += [Query("llm", "injected", "gauge", expr, ("model",)) for expr in extra]
        return queries

    monkeypatch.setattr(prom, "instant_queries", planned)


def _rates(collected) -> dict[str, float | None]:
    """The exporter's llm models' request rates (the fixture pages add more models)."""
    return {row.group: row.value("request_rate") for row in collected.rows if row.schema == "llm" and row.group in MODELS}


async def test_a_bad_sub_query_falls_back_then_leaves_the_batch(prometheus, monkeypatch) -> None:
    _inject(monkeypatch, BAD)
    clock = _Clock()
    collector = prom.PrometheusCollector(prometheus, window=5, timeout=10, monotonic=clock)
    try:
        collected = await collector.collect()
        assert collector.batcher.fallbacks == 1  # the llm batch was rejected (HTTP 400)…
        assert set(_rates(collected)) == MODELS and all(_rates(collected).values())  # …its queries answered alone
        assert BAD in collector.batcher.alone_until
        assert any("llm injected: query rejected (bad_data)" in failed[1] for failed in collected.failed_queries)

        clock.jump = BATCH_OFF_SECONDS + 1  # the schema batches again, without the bad query
        await collector.collect()  # (this one also detects again: a minute has passed)
        before = collector.queries_sent
        collected = await collector.collect()
        assert collector.batcher.fallbacks == 1 and all(_rates(collected).values())
        # one batch per schema (vllm, llm and the fixture pages'), the alerts; the bad query waits a minute
        assert collector.queries_sent - before == len(collector._plans) + 1
    finally:
        await collector.aclose()


class _Proxy(ThreadingHTTPServer):
    """Forwards to `upstream`, holding back any request that mentions SLOW_MARK until `release` is set: slower
    than any poll budget for as long as the test needs, whatever the machine's load."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream).netloc
        self.seen: list[bytes] = []
        self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(handler) -> None:
                body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
                self.seen.append(handler.path.encode() + body)
                if SLOW_MARK.encode() in handler.path.encode() + body:
                    self.release.wait(60)
                conn = http.client.HTTPConnection(self.upstream, timeout=30)
                headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(handler.command, handler.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                handler.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        handler.send_header(key, value)
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)
                conn.close()

            do_GET = do_POST = _forward

            def log_message(handler, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.mark.timeout(180)  # two polls wait out their budget, which a loaded machine stretches (see below)
async def test_a_slow_sub_query_falls_back_then_leaves_the_batch(prometheus, monkeypatch) -> None:
    proxy = _Proxy(prometheus)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    # The baseline: a refresh through the proxy with nothing held (every batch answered), on this machine now.
    baseline = prom.PrometheusCollector(url, window=5, timeout=10)
    try:
        await baseline.collect()  # (detection)
        refresh = 0.0
        for _ in range(2):  # the slower of two, as the load varies
            started = time.monotonic()
            await baseline.collect()
            refresh = max(refresh, time.monotonic() - started)
        assert baseline.batcher.fallbacks == 0
    finally:
        await baseline.aclose()
    _inject(monkeypatch, SLOW)
    clock = _Clock()
    # A batch gets half the budget, the queries sent alone after it the rest: three whole refreshes' time
    # each, so only the held query (it answers when released) can make a batch fail, never the load; no
    # request is abandoned (its timeout) before the budget ends.
    budget = max(2.0, 6 * refresh)
    collector = prom.PrometheusCollector(url, window=5, timeout=max(10.0, 2 * budget), monotonic=clock)
    collector.poll_budget = budget
    try:
        await collector.collect()  # detection, then the first refresh: the llm batch is held back
        assert collector.batcher.fallbacks == 1
        collected = await collector.collect()  # the queries sent alone answered; the slow one is still running
        assert set(_rates(collected)) == MODELS and all(_rates(collected).values())
        assert SLOW in collector.batcher.alone_until
        assert any(w.startswith("slow query: llm injected still running") for w in collected.warnings), collected.warnings
        proxy.release.set()
        collector.poll_budget = None  # nothing is held any more: every request may take its own timeout

        clock.jump = BATCH_OFF_SECONDS + 1
        seen = len(proxy.seen)
        collected = await collector.collect()
        assert collector.batcher.fallbacks == 1 and all(_rates(collected).values())
        batches = [r for r in proxy.seen[seen:] if CONCEPT_LABEL.encode() in r]
        assert len(batches) == len(collector._plans) and not any(SLOW_MARK.encode() in r for r in batches)
    finally:
        proxy.release.set()
        await collector.aclose()
        proxy.shutdown()
