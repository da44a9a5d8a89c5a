"""The scrape collector against scripted HTTP answers (httpx.MockTransport): faults stay per target."""

import gzip

import httpx
import pytest

from aitop.sources.scrape import fetch
from aitop.sources.scrape.collector import ScrapeCollector

PAGE = 'vllm:request_success_total{model_name="m",finished_reason="stop"} %d\n'
GOOD = "http://good:8000/metrics"
BAD = "http://bad:8000/metrics"


def respond(status=200, body=b"", headers=None):
    """A streamed response, as a real server's is (a pre-read one cannot be iterated raw)."""
    data = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, headers=headers or {}, stream=httpx.ByteStream(data))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def collector(handler, urls=(GOOD, BAD), clock=None):
    clock = clock or Clock()
    return ScrapeCollector(urls, window=5, transport=httpx.MockTransport(handler), wall_clock=clock, monotonic=clock), clock


async def two_polls(handler):
    col, clock = collector(handler)
    await col.collect()
    clock.now = 5.0
    result = await col.collect()
    await col.aclose()
    return result


def good_or(bad_response):
    count = {"n": 0}

    def handler(request: httpx.Request):
        if request.url.host == "good":
            count["n"] += 10
            return respond(200, PAGE % count["n"], {"content-type": "text/plain; version=0.0.4"})
        return bad_response(request)

    return handler


def health(result, url=BAD):
    return next(t for t in result.targets if t.url == url)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda r: respond(503, "Service Unavailable"), "HTTP 503 Service Unavailable"),
        (lambda r: respond(302, "", {"location": "https://sso.example/login?next=/metrics"}), "HTTP 302 Found to /login"),
        (lambda r: respond(200, "<html>sign in</html>", {"content-type": "text/html"}), "not a metrics page"),
        (lambda r: respond(200, "{{{{ not metrics", {"content-type": "text/plain"}), "unparsable exposition"),
        (lambda r: respond(200, "x", {"content-encoding": "br"}), "unsupported Content-Encoding"),
    ],
)
async def test_bad_answers_are_target_errors_and_the_good_target_is_unaffected(answer, message):
    result = await two_polls(good_or(answer))
    assert not health(result).up and message in health(result).error
    assert health(result, GOOD).up
    (row,) = result.rows
    assert row.value("request_rate") == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("exception", "message"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "cannot connect: connection refused"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "DNS lookup failed for bad"),
        (httpx.ReadTimeout("timed out"), "no answer within 5s"),
        (httpx.ConnectTimeout("timed out"), "connect timed out"),
        (httpx.RemoteProtocolError("peer closed"), "connection broken mid-response"),
    ],
)
async def test_transport_faults_are_described_without_the_url(exception, message):
    def fail(request):
        raise exception

    result = await two_polls(good_or(fail))
    assert health(result).error == message


async def test_gzip_is_decoded():
    def handler(request):
        body = gzip.compress((PAGE % 7).encode())
        return respond(200, body, {"content-encoding": "gzip", "content-type": "text/plain"})

    col, _ = collector(handler, urls=(GOOD,))
    result = await col.collect()
    assert result.targets[0].up and result.rows[0].group == "m"


async def test_gzip_bomb_is_stopped_at_the_decoded_cap(monkeypatch):
    monkeypatch.setattr(fetch, "MAX_DECODED_BYTES", 1_000_000)
    bomb = gzip.compress(b"#" * 50_000_000)  # ~50 KB on the wire

    def handler(request):
        return respond(200, bomb, {"content-encoding": "gzip"})

    col, _ = collector(handler, urls=(GOOD,))
    result = await col.collect()
    assert "decoded body exceeds" in result.targets[0].error


async def test_wire_cap_and_declared_length(monkeypatch):
    monkeypatch.setattr(fetch, "MAX_WIRE_BYTES", 1000)

    def handler(request):
        return respond(200, b"#" * 5000)

    col, _ = collector(handler, urls=(GOOD,))
    result = await col.collect()
    assert "exceeds the" in result.targets[0].error


async def test_accept_header_asks_for_classic_text():
    seen = {}

    def handler(request):
        seen.update(request.headers)
        return respond(200, "")

    col, _ = collector(handler, urls=(GOOD,))
    await col.collect()
    assert seen["accept"] == "text/plain;version=0.0.4"
    assert "gzip" in seen["accept-encoding"]


async def test_counter_reset_between_polls_is_never_negative():
    values = iter([100, 5])

    def handler(request):
        return respond(200, PAGE % next(values))

    col, clock = collector(handler, urls=(GOOD,))
    await col.collect()
    clock.now = 5.0
    result = await col.collect()
    assert result.rows[0].value("request_rate") == pytest.approx(1.0)  # 5 counted since the restart


async def test_down_target_keeps_its_last_window_marked_stale():
    answers = iter([PAGE % 10, PAGE % 20, None])

    def handler(request):
        text = next(answers)
        if text is None:
            raise httpx.ConnectError("[Errno 111] Connection refused")
        return respond(200, text)

    col, clock = collector(handler, urls=(GOOD,))
    await col.collect()
    clock.now = 5.0
    await col.collect()
    clock.now = 10.0
    result = await col.collect()
    (row,) = result.rows
    assert row.stale and row.value("request_rate") == pytest.approx(2.0)
    assert result.targets[0].last_success == 5.0


async def test_small_pages_are_read_on_the_loop_and_large_ones_in_a_thread(monkeypatch):
    from aitop.sources.scrape import collector as module

    hops: list[str] = []

    async def to_thread(function, *args):
        hops.append(function.__name__)
        return function(*args)

    monkeypatch.setattr(module.asyncio, "to_thread", to_thread)
    count = iter(range(10, 100, 10))
    col, clock = collector(lambda request: respond(200, PAGE % next(count)), urls=(GOOD,))
    small = await col.collect()
    assert hops == [] and small.rows  # a thread hand-off costs more than reading a small page
    col.inline_bytes, col.inline_series = 10, 0  # this page and its one series count as large now
    clock.now = 5.0
    large = await col.collect()
    assert hops == ["read_page", "_rows"]
    assert large.rows[0].value("request_rate") == pytest.approx(2.0)
    await col.aclose()
