"""Load on the server: the number of queries per refresh does not grow with the number of rows.

Two fresh VictoriaMetrics instances are fed through /api/v1/import (no scrape wait): one with 2
models, one with 2,000. A refresh of each must send the same queries and find every row.
"""

from __future__ import annotations

import time

import pytest

from aitop.sources.prometheus.collector import PrometheusCollector

pytestmark = pytest.mark.integration

SIZES = (2, 2000)
REQUESTS_PER_S = 4.0  # every model's request rate
EDGES = ("0.5", "1", "2", "+Inf")
SHARE = (0.25, 0.75, 1.0, 1.0)  # cumulative share of requests at or below each edge


def exposition(models: int, now: float) -> str:
    """llm_* samples for `models` models, 10 s apart, ending now (timestamps in ms)."""
    lines = []
    for step, at in enumerate((now - 20, now - 10, now)):
        total = 1000 + REQUESTS_PER_S * 10 * step
        stamp = int(at * 1000)
        for m in range(models):
            model = f"model-{m:04d}"
            lines.append(f'llm_requests_total{{model="{model}",status="success"}} {total * 0.99} {stamp}')
            lines.append(f'llm_requests_total{{model="{model}",status="timeout"}} {total * 0.01} {stamp}')
            for edge, share in zip(EDGES, SHARE):
                lines.append(f'llm_request_latency_seconds_bucket{{model="{model}",le="{edge}"}} {total * share} {stamp}')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def imported(known, tmp_path_factory) -> dict[int, str]:
    servers = {n: known.start_victoria_metrics(tmp_path_factory.mktemp(f"vm-{n}")) for n in SIZES}
    try:
        deadline = time.monotonic() + known.STARTUP_TIMEOUT_S
        for server in servers.values():
            server.wait_until("GET /health == 200", lambda s=server: known.HTTP.get(s.base_url + "/health", timeout=1).status_code == 200, deadline)
        now = time.time()
        for n, server in servers.items():
            known.HTTP.post(server.base_url + "/api/v1/import/prometheus", content=exposition(n, now), timeout=30).raise_for_status()

        def all_visible(server, n) -> bool:
            known.HTTP.get(server.base_url + "/internal/force_flush", timeout=5)
            return len(known.promql(server.base_url, "llm_requests_total")) == 2 * n

        for n, server in servers.items():
            server.wait_until(f"{2 * n} imported series", lambda s=server, n=n: all_visible(s, n), deadline)
        yield {n: server.base_url for n, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


async def test_queries_per_refresh_do_not_grow_with_the_number_of_rows(imported) -> None:
    sent = {}
    for n, base in imported.items():
        collector = PrometheusCollector(base, window=30, timeout=10)
        try:
            await collector.collect()  # the first refresh also detects schemas and label names
            before = collector.queries_sent
            collected = await collector.collect()
            sent[n] = collector.queries_sent - before
            assert collector.batcher.fallbacks == 0  # the batch answered: no per-query fallback
        finally:
            await collector.aclose()
        assert collected.targets[0].up and len(collected.rows) == n
        row = collected.rows[0]
        # VictoriaMetrics' rate() does not extrapolate: 10 s of increase / the 10 s between samples
        assert row.value("request_rate") == pytest.approx(REQUESTS_PER_S)
        assert row.value("error_rate") == pytest.approx(0.01)
        assert row.value("latency_p50") == pytest.approx(0.5 + 0.5 * (0.5 - 0.25) / 0.5)
    assert sent[2] == sent[2000], sent
    # llm schema: requests, errors, 3 latency quantiles and the latency's +Inf rate in ONE batched query —
    # plus one /api/v1/alerts request
    assert sent[2] == 2
