"""Target kind detection: ask the server, honour the flags, keep path prefixes."""

import httpx
import pytest

from aitop.sources.detect import DetectionError, detect
from aitop.transport import HttpSettings


def server(routes):
    seen = []

    def handler(request: httpx.Request):
        seen.append(request.url.path)
        status, body, ctype = routes.get(request.url.path, (404, "404 page not found", "text/plain"))
        return httpx.Response(status, text=body, headers={"content-type": ctype})

    return httpx.MockTransport(handler), seen


BUILDINFO = (200, '{"status":"success","data":{"version":"2.42.0"}}', "application/json")


async def run(url, routes, kind="auto"):
    transport, seen = server(routes)
    return await detect(url, kind=kind, http=HttpSettings(), timeout=1, transport=transport), seen


async def test_prometheus_with_a_path_prefix():
    found, seen = await run("http://mimir:8080/prometheus", {"/prometheus/api/v1/status/buildinfo": BUILDINFO})
    assert (found.kind, found.url, found.backend) == ("prometheus", "http://mimir:8080/prometheus", "Prometheus-compatible 2.42.0")
    assert seen == ["/prometheus/api/v1/status/buildinfo"]


async def test_server_without_buildinfo_answering_queries_is_prometheus():
    found, seen = await run("http://vm:8428", {"/api/v1/query": (200, '{"status":"success","data":{}}', "application/json")})
    assert found.kind == "prometheus" and seen == ["/api/v1/status/buildinfo", "/api/v1/query"]


async def test_metrics_urls_are_scraped_without_a_probe():
    found, seen = await run("http://vllm:8000/metrics", {})
    assert found == found.__class__("scrape", "http://vllm:8000/metrics") and seen == []


async def test_an_exporter_at_a_bare_host_is_scraped_at_metrics():
    found, _ = await run("http://vllm:8000", {"/metrics": (200, "vllm:num_requests_running 1\n", "text/plain")})
    assert (found.kind, found.url) == ("scrape", "http://vllm:8000/metrics")


async def test_html_that_says_success_is_not_prometheus():
    found, _ = await run("http://proxy:80/x", {"/x/api/v1/status/buildinfo": (200, "<html>status success</html>", "text/html")})
    assert (found.kind, found.url) == ("scrape", "http://proxy:80/x")


async def test_forced_kinds():
    found, seen = await run("http://h:1", {}, kind="prometheus")
    assert found.kind == "prometheus"
    found, seen = await run("http://h:1/x", {}, kind="scrape")
    assert (found.kind, seen) == ("scrape", [])


async def test_unreachable_target_of_unknown_kind():
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(DetectionError, match="pass --prometheus or --scrape"):
        await detect("http://down:9090", kind="auto", http=HttpSettings(), timeout=1, transport=httpx.MockTransport(refuse))
