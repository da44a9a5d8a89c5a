"""Integration fixtures: a known-answer exporter, a real Prometheus and a real VictoriaMetrics.

The exporter serves counters and histograms that are LINEAR in wall-clock time
(value = base + slope * (now - t0), computed at every scrape). On such data
Prometheus' extrapolated ``rate()``, VictoriaMetrics' non-extrapolating ``rate()`` and
aitop's two-scrape delta all equal the slope, so their answers can be compared to 0.1 %
and against the hand-computed expectations below (an independent oracle).

Fixture API
-----------
``known``              session scope -> namespace of this file's data tables and helpers (below);
                       test modules use it instead of ``import conftest`` (ambiguous with several
                       conftest.py files in the tree).
``exporter``           module scope -> ``Exporter(url, target, port, t0)``; ``url`` is the /metrics URL,
                       ``target`` the ``host:port`` for a scrape config. A prometheus_client registry
                       with ``LinearCollector``, served (classic text format) by a child interpreter.
``prometheus``         module scope -> base URL (``http://127.0.0.1:PORT``) of /usr/bin/prometheus scraping
                       the exporter every 1 s (job ``aitop-exporter``), and every tests/data fixture page
                       (job ``aitop-fixtures``, see ``fixture_pages``); returned once the exporter is up.
``prometheus_launched``, ``victoria_metrics_launched``
                       session scope -> the same servers' ``_Server``, started but not waited for: a fixture
                       that needs both starts both first, then waits (their start-ups overlap).
``fixture_pages``      session scope -> ``FixturePages(ports, t0)``: the schema fixture pages, one port each,
                       counters growing at (fixture value) / 10 per second (fixture_server.py).
``victoria_metrics``   module scope -> base URL of /usr/bin/victoria-metrics scraping the exporter every 1 s.
``free_port()``        a free TCP port on 127.0.0.1.
``HTTP``               an ``httpx.Client`` for the tests' own requests (``httpx.get()`` costs ~30 ms a call).
``promql(base, q)``    instant query -> ``{labels-tuple: float}`` (labels-tuple = sorted ``(name, value)`` pairs).
``promql_by(base, q, label)`` -> ``{label value: float}`` for ``sum by (label)`` style results.
``wait_for_history(base, seconds)`` blocks until the server holds >= ``seconds`` of exporter samples.
``expected_rows()``    hand-computed ``{(schema, group): {field: value}}`` from the slope tables.

A missing binary skips the tests, unless ``AITOP_REQUIRE_INTEGRATION=1`` (CI), which fails them.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.exposition import ThreadingWSGIServer, make_wsgi_app
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

INF = math.inf

#: One client for the tests' own requests to the servers: `HTTP.get()` builds a new client, TLS context
#: included, for every call (~30 ms each on this 2-core box; a test asks dozens of questions). No keep-alive:
#: a pooled connection could outlive a killed server (test_zz_prometheus_restart), and a fresh local
#: connection costs well under a millisecond.
HTTP = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))

# ---------------------------------------------------------------------------------------------
# Known-answer data. Every slope is "per second". Histograms are given as NON-cumulative
# per-bucket rates (one entry per finite edge plus a last entry for the +Inf overflow); the
# exporter exposes their running sums, as real histograms do.
# ---------------------------------------------------------------------------------------------

#: Seconds of history already "counted" at t0: base = slope * HISTORY_S. Large, so Prometheus'
#: extrapolation never clips at zero and counters look like a long-running server's.
HISTORY_S = 3600.0

#: vLLM's real bucket edges (vllm/v1/metrics/buckets.py).
VLLM_E2E_EDGES: tuple[float, ...] = (
    0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
)
VLLM_TTFT_EDGES: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    20, 40, 80, 160, 640, 2560,
)
LLM_LATENCY_EDGES: tuple[float, ...] = (0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)

VLLM_ERROR_REASONS = ("abort", "error")
LLM_SUCCESS_STATUS = "success"


def per_bucket(edges: Sequence[float], rates: Mapping[float, float]) -> tuple[float, ...]:
    """Per-bucket rates keyed by upper edge (INF = overflow) -> tuple aligned with edges + (+Inf)."""
    unknown = set(rates) - set(edges) - {INF}
    assert not unknown, f"bucket edges not in layout: {sorted(unknown)}"
    return tuple(rates.get(e, 0.0) for e in (*edges, INF))


@dataclass(frozen=True)
class VllmEngine:
    model: str
    engine: str
    finished: Mapping[str, float]  # finished_reason -> requests/s
    e2e: tuple[float, ...]  # per-bucket requests/s over VLLM_E2E_EDGES + +Inf
    ttft: tuple[float, ...]  # per-bucket requests/s over VLLM_TTFT_EDGES + +Inf
    prompt_tokens: float  # tokens/s
    generation_tokens: float  # tokens/s
    running: float  # gauge
    waiting: float  # gauge


@dataclass(frozen=True)
class LlmModel:
    model: str
    requests: Mapping[str, float]  # status -> requests/s
    latency: tuple[float, ...]  # per-bucket over LLM_LATENCY_EDGES + +Inf
    input_tokens: float
    output_tokens: float


# llama-3.1-8b runs on two engines with DIFFERENT latency distributions and error ratios
# (2 % and 5 %): only summing bucket increases / error counts across engines gives the
# model's values (error 0.36/12 = 3 %); averaging per-engine figures gives something else.
VLLM_ENGINES: tuple[VllmEngine, ...] = (
    VllmEngine(
        model="llama-3.1-8b",
        engine="0",
        finished={"stop": 6.2, "length": 1.64, "abort": 0.10, "error": 0.06},
        e2e=per_bucket(VLLM_E2E_EDGES, {
            0.3: 0.2, 0.5: 0.6, 0.8: 1.0, 1: 1.2, 1.5: 1.4, 2: 1.0, 2.5: 0.8, 5: 0.9, 10: 0.5,
            15: 0.2, 20: 0.1, 30: 0.06, 40: 0.04,
        }),
        ttft=per_bucket(VLLM_TTFT_EDGES, {
            0.02: 0.1, 0.04: 0.5, 0.06: 1.0, 0.08: 1.5, 0.1: 1.6, 0.25: 2.0, 0.5: 0.8,
            0.75: 0.3, 1: 0.12, 2.5: 0.08,
        }),
        prompt_tokens=800.0,
        generation_tokens=1600.0,
        running=7,
        waiting=2,
    ),
    VllmEngine(
        model="llama-3.1-8b",
        engine="1",
        finished={"stop": 3.2, "length": 0.6, "abort": 0.12, "error": 0.08},
        e2e=per_bucket(VLLM_E2E_EDGES, {
            0.5: 0.1, 0.8: 0.2, 1: 0.3, 1.5: 0.4, 2: 0.5, 2.5: 0.5, 5: 0.9, 10: 0.5, 15: 0.25,
            20: 0.15, 30: 0.1, 40: 0.05, 50: 0.03, 60: 0.02,
        }),
        ttft=per_bucket(VLLM_TTFT_EDGES, {
            0.04: 0.1, 0.06: 0.2, 0.08: 0.3, 0.1: 0.4, 0.25: 1.2, 0.5: 0.9, 0.75: 0.45,
            1: 0.25, 2.5: 0.15, 5: 0.05,
        }),
        prompt_tokens=420.0,
        generation_tokens=900.0,
        running=4,
        waiting=0,
    ),
    VllmEngine(
        model="qwen2.5-72b",
        engine="0",
        finished={"stop": 1.5, "length": 0.3, "abort": 0.12, "error": 0.08},
        e2e=per_bucket(VLLM_E2E_EDGES, {
            0.8: 0.02, 1: 0.04, 1.5: 0.1, 2: 0.14, 2.5: 0.2, 5: 0.55, 10: 0.45, 15: 0.25,
            20: 0.07, 30: 0.07, 40: 0.05, 50: 0.02, 60: 0.015, 120: 0.015, 240: 0.01,
        }),
        ttft=per_bucket(VLLM_TTFT_EDGES, {
            0.06: 0.05, 0.08: 0.1, 0.1: 0.15, 0.25: 0.5, 0.5: 0.55, 0.75: 0.3, 1: 0.17,
            2.5: 0.1, 5: 0.05, 7.5: 0.03,
        }),
        prompt_tokens=300.0,
        generation_tokens=450.0,
        running=3,
        waiting=5,
    ),
)

LLM_MODELS: tuple[LlmModel, ...] = (
    LlmModel(
        model="gpt-4o",
        requests={"success": 4.75, "timeout": 0.15, "server_error": 0.10},
        latency=per_bucket(LLM_LATENCY_EDGES, {
            0.25: 0.1, 0.5: 0.4, 1: 1.2, 2: 1.6, 4: 1.0, 8: 0.5, 16: 0.12, 32: 0.06, 64: 0.02,
        }),
        input_tokens=2500.0,
        output_tokens=600.0,
    ),
    LlmModel(
        model="claude-3.5-sonnet",
        requests={"success": 2.76, "timeout": 0.12, "server_error": 0.12},
        latency=per_bucket(LLM_LATENCY_EDGES, {
            0.5: 0.1, 1: 0.3, 2: 0.8, 4: 0.9, 8: 0.55, 16: 0.22, 32: 0.09, 64: 0.03, INF: 0.01,
        }),
        input_tokens=1800.0,
        output_tokens=450.0,
    ),
)

QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


# ---------------------------------------------------------------------------------------------
# Hand-computed expectations (independent of Prometheus and of aitop.prommath).
# ---------------------------------------------------------------------------------------------


def cumulative(rates: Sequence[float]) -> list[float]:
    out, acc = [], 0.0
    for r in rates:
        acc += r
        out.append(acc)
    return out


def bucket_quantile(q: float, edges: Sequence[float], rates: Sequence[float]) -> float:
    """Quantile of a histogram given per-bucket rates, by Prometheus' linear interpolation.

    Only the well-behaved case the fixture data needs (the rank falls in a finite bucket)."""
    cum = cumulative(rates)
    rank = q * cum[-1]
    lower, below = 0.0, 0.0
    for upper, c in zip(edges, cum):
        if c >= rank:
            return lower + (upper - lower) * (rank - below) / (c - below)
        lower, below = upper, c
    raise AssertionError("quantile falls in the +Inf bucket; fix the fixture data")


def quantile_bucket(q: float, edges: Sequence[float], rates: Sequence[float]) -> tuple[float, float]:
    """(lower, upper) bounds of the bucket the q-quantile falls in."""
    cum = cumulative(rates)
    rank = q * cum[-1]
    lower = 0.0
    for upper, c in zip(edges, cum):
        if c >= rank:
            return lower, upper
        lower = upper
    return lower, INF


def _sum_rates(rows: Sequence[Sequence[float]]) -> list[float]:
    return [sum(col) for col in zip(*rows)]


def expected_rows() -> dict[tuple[str, str], dict[str, float | None]]:
    """{(schema, group): {json field: value}} from the slope tables, by hand."""
    out: dict[tuple[str, str], dict[str, float | None]] = {}
    for model in dict.fromkeys(e.model for e in VLLM_ENGINES):
        engines = [e for e in VLLM_ENGINES if e.model == model]
        total = sum(sum(e.finished.values()) for e in engines)
        errors = sum(e.finished.get(r, 0.0) for e in engines for r in VLLM_ERROR_REASONS)
        e2e = _sum_rates([e.e2e for e in engines])
        ttft = _sum_rates([e.ttft for e in engines])
        row: dict[str, float | None] = {
            "request_rate": total,
            "error_rate": errors / total,
            "input_tokens_rate": sum(e.prompt_tokens for e in engines),
            "output_tokens_rate": sum(e.generation_tokens for e in engines),
            "running": sum(e.running for e in engines),
            "waiting": sum(e.waiting for e in engines),
        }
        for name, q in QUANTILES.items():
            row[f"latency_{name}"] = bucket_quantile(q, VLLM_E2E_EDGES, e2e)
            row[f"ttft_{name}"] = bucket_quantile(q, VLLM_TTFT_EDGES, ttft)
        out[("vllm", model)] = row
    for m in LLM_MODELS:
        total = sum(m.requests.values())
        errors = total - m.requests.get(LLM_SUCCESS_STATUS, 0.0)
        row = {
            "request_rate": total,
            "error_rate": errors / total,
            "input_tokens_rate": m.input_tokens,
            "output_tokens_rate": m.output_tokens,
        }
        for name, q in QUANTILES.items():
            row[f"latency_{name}"] = bucket_quantile(q, LLM_LATENCY_EDGES, m.latency)
        out[("llm", m.model)] = row
    return out


# ---------------------------------------------------------------------------------------------
# The exporter.
# ---------------------------------------------------------------------------------------------


def _representative(edges: Sequence[float]) -> list[float]:
    """A value inside each bucket (for a plausible, linear _sum)."""
    bounds = [0.0, *edges]
    reps = [(lo + hi) / 2 for lo, hi in zip(bounds, edges)]
    return [*reps, edges[-1] * 2]


def _histogram(fam: HistogramMetricFamily, labels: list[str], edges: Sequence[float],
               rates: Sequence[float], elapsed: float, ts: float | None) -> None:
    cum = cumulative(rates)
    buckets = [(floatToGoString(e), c * elapsed) for e, c in zip((*edges, INF), cum)]
    sum_slope = sum(r * v for r, v in zip(rates, _representative(edges)))
    fam.add_metric(labels, buckets, sum_value=sum_slope * elapsed, timestamp=ts)


#: Per-request flag set by the WSGI middleware: is the scraper a time-series server?
_scrape = threading.local()
#: Wall times at which the pages served to aitop were computed (the exact instants of its samples).
AITOP_RENDERS: list[float] = []

#: User-Agent prefixes of the servers whose scrapes get explicit sample timestamps.
SERVER_USER_AGENTS = ("Prometheus/", "vm_promscrape")


def _stamp(now: float) -> tuple[float, float]:
    """(instant the values are computed at, timestamp to expose) for a scrape at `now`.

    The exposition prints int(ts * 1000) ms; the values are computed at exactly that ms, and the
    timestamp handed over is half a ms later so float rounding cannot truncate it to the ms before."""
    ms = int(now * 1000)
    return ms / 1000, (ms + 0.5) / 1000


class LinearCollector(Collector):
    """Every counter/bucket = slope * (HISTORY_S + now - t0), evaluated at collect() time.

    Scrapes by Prometheus / VictoriaMetrics (see `_for_scrapers`) also get each sample's exact
    timestamp, so the servers' own timing noise drops out: their scrape timestamp is taken when
    the request starts, the values here a few ms later, and that delay varies (by up to ~7 ms on a
    busy 2-core box: ~7e-4 of a 10 s rate, most of the 1e-3 budget). aitop gets the plain page, as
    from a real vLLM, so all remaining error in a comparison is aitop's.
    """

    def __init__(self, t0: float, clock=time.time) -> None:
        self.t0 = t0
        self.clock = clock

    def collect(self):
        now, ts = self.clock(), None
        if getattr(_scrape, "server", False):
            now, ts = _stamp(now)
        elif getattr(_scrape, "aitop", False):
            AITOP_RENDERS.append(now)
        el = HISTORY_S + (now - self.t0)
        vl = ["model_name", "engine"]

        success = CounterMetricFamily(
            "vllm:request_success", "Count of successfully processed requests.",
            labels=[*vl, "finished_reason"])
        e2e = HistogramMetricFamily(
            "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
            labels=vl)
        ttft = HistogramMetricFamily(
            "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
            labels=vl)
        prompt = CounterMetricFamily(
            "vllm:prompt_tokens", "Number of prefill tokens processed.", labels=vl)
        gen = CounterMetricFamily(
            "vllm:generation_tokens", "Number of generation tokens processed.", labels=vl)
        running = GaugeMetricFamily(
            "vllm:num_requests_running", "Number of requests in model execution batches.",
            labels=vl)
        waiting = GaugeMetricFamily(
            "vllm:num_requests_waiting", "Number of requests waiting to be processed.",
            labels=vl)
        for e in VLLM_ENGINES:
            lv = [e.model, e.engine]
            for reason, slope in e.finished.items():
                success.add_metric([*lv, reason], slope * el, timestamp=ts)
            _histogram(e2e, lv, VLLM_E2E_EDGES, e.e2e, el, ts)
            _histogram(ttft, lv, VLLM_TTFT_EDGES, e.ttft, el, ts)
            prompt.add_metric(lv, e.prompt_tokens * el, timestamp=ts)
            gen.add_metric(lv, e.generation_tokens * el, timestamp=ts)
            running.add_metric(lv, e.running, timestamp=ts)
            waiting.add_metric(lv, e.waiting, timestamp=ts)
        yield from (success, e2e, ttft, prompt, gen, running, waiting)

        reqs = CounterMetricFamily("llm_requests", "LLM requests by status.",
                                   labels=["model", "status"])
        lat = HistogramMetricFamily("llm_request_latency_seconds", "LLM request latency.",
                                    labels=["model"])
        tin = CounterMetricFamily("llm_input_tokens", "Input tokens.", labels=["model"])
        tout = CounterMetricFamily("llm_output_tokens", "Output tokens.", labels=["model"])
        for m in LLM_MODELS:
            for status, slope in m.requests.items():
                reqs.add_metric([m.model, status], slope * el, timestamp=ts)
            _histogram(lat, [m.model], LLM_LATENCY_EDGES, m.latency, el, ts)
            tin.add_metric([m.model], m.input_tokens * el, timestamp=ts)
            tout.add_metric([m.model], m.output_tokens * el, timestamp=ts)
        yield from (reqs, lat, tin, tout)


@dataclass(frozen=True)
class Exporter:
    url: str  # full /metrics URL
    target: str  # host:port, for a scrape config
    port: int
    t0: float

    def aitop_renders(self) -> list[float]:
        """Wall times at which the exporter computed each page it served to aitop, oldest first."""
        return HTTP.get(self.url.removesuffix("/metrics") + "/aitop-renders", timeout=5).json()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


def _for_scrapers(app):
    """WSGI middleware in front of prometheus_client's app.

    1. Drops the Accept header, so every scraper gets the classic text format (0.0.4). Why:
       Prometheus 2.x asks for OpenMetrics 1.0.0 without an `escaping=` parameter, and
       prometheus_client 0.26 then writes sample lines with ':' escaped to '_'
       (`vllm_request_success_total{...}` under `# TYPE vllm:request_success counter`), so a real
       Prometheus 2.42 stores `vllm_*` names. VictoriaMetrics asks for text/plain and gets the real
       `vllm:*` names. Text for everyone keeps the names vLLM documents in both servers.
    2. Marks scrapes by Prometheus / VictoriaMetrics for explicit timestamps (LinearCollector).
    3. Notes when each of aitop's pages was computed, and serves that list at /aitop-renders (JSON).
    """

    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == "/aitop-renders":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(AITOP_RENDERS).encode()]
        environ = dict(environ)
        environ.pop("HTTP_ACCEPT", None)
        agent = environ.get("HTTP_USER_AGENT", "")
        _scrape.server = agent.startswith(SERVER_USER_AGENTS)
        _scrape.aitop = agent.startswith("aitop")
        return app(environ, start_response)

    return wrapped


def serve_exporter(host: str = "127.0.0.1", port: int = 0, t0: float | None = None):
    """Start the known-answer exporter in this process -> (server, thread, t0).

    What prometheus_client.start_http_server(port, addr=host, registry=reg) does, plus the
    _for_scrapers middleware (see there). Stop with server.shutdown(); server.server_close().
    """
    t0 = time.time() if t0 is None else t0
    reg = CollectorRegistry(auto_describe=False)
    reg.register(LinearCollector(t0))
    server = make_server(host, port, _for_scrapers(make_wsgi_app(reg)),
                         ThreadingWSGIServer, handler_class=_QuietHandler)
    # (polling for shutdown every 50 ms, not 0.5 s: shutdown() waits for the poll)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="aitop-test-exporter", daemon=True)
    thread.start()
    return server, thread, t0


# The exporter runs in its own interpreter: inside the pytest process, the GIL held by the test
# (HTTP queries, JSON) delays collect() by several ms at random, and that jitter, divided by a
# 10 s window, is a visible part of the 1e-3 error budget. Alone, it answers within ~1-2 ms.
_EXPORTER_MAIN = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("_aitop_known_answer_exporter", sys.argv[1])
mod = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
server, thread, t0 = mod.serve_exporter()
print(json.dumps({"port": server.server_port, "t0": t0}), flush=True)
sys.stdin.read()  # serve until the parent closes our stdin (or terminates us)
server.shutdown()
server.server_close()
"""


@pytest.fixture(scope="session")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    """The known-answer exporter on 127.0.0.1:<ephemeral>, in a child interpreter."""
    log = tmp_path_factory.mktemp("exporter") / "exporter.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", _EXPORTER_MAIN, __file__],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    try:
        line = proc.stdout.readline()  # blocks until the child serves (or dies: EOF)
        if not line:
            proc.wait(timeout=10)
            pytest.fail(f"exporter exited with {proc.returncode}:\n{_log_tail(log)}", pytrace=False)
        info = json.loads(line)
        port = info["port"]
        yield Exporter(url=f"http://127.0.0.1:{port}/metrics", target=f"127.0.0.1:{port}",
                       port=port, t0=info["t0"])
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        proc.stdout.close()


# ---------------------------------------------------------------------------------------------
# Servers.
# ---------------------------------------------------------------------------------------------

JOB = "aitop-exporter"
STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_binary(name: str) -> str:
    """Path of a Debian-packaged binary; skip when missing, fail when CI demands it."""
    path = f"/usr/bin/{name}"
    if not os.access(path, os.X_OK):
        path = shutil.which(name) or ""
    if path:
        return path
    msg = f"`{name}` binary not found (apt-get install {name})"
    if os.environ.get("AITOP_REQUIRE_INTEGRATION") == "1":
        pytest.fail(f"{msg}, and AITOP_REQUIRE_INTEGRATION=1 forbids skipping integration tests",
                    pytrace=False)
    pytest.skip(msg)


def write_scrape_config(path: Path, target: str, extra_jobs: Mapping[str, Sequence[str]] | None = None) -> Path:
    """A 1 s scrape config for the known-answer exporter, plus `extra_jobs` ({job name: targets})."""
    jobs = {JOB: [target], **(extra_jobs or {})}
    text = (
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
    )
    for job, targets in jobs.items():
        text += (
            f"  - job_name: {job}\n"
            "    metrics_path: /metrics\n"
            "    honor_timestamps: true\n"
            "    static_configs:\n"
            f"      - targets: [{', '.join(repr(t) for t in targets)}]\n"
        )
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------
# The schema fixture pages (tests/data/*.prom), each on its own port, growing linearly in time
# (fixture_server.py): a second job of the session's Prometheus, for the catalog's Prometheus-mode tests.
# ---------------------------------------------------------------------------------------------

FIXTURE_JOB = "aitop-fixtures"


@dataclass(frozen=True)
class FixturePages:
    ports: Mapping[str, int]  # fixture name -> port
    t0: float

    def instance(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    def url(self, name: str) -> str:
        return f"http://{self.instance(name)}/metrics"


@pytest.fixture(scope="session")
def fixture_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixturePages]:
    """Every tests/data fixture page served by a child interpreter, one port each."""
    log = tmp_path_factory.mktemp("fixture-pages") / "fixture-pages.log"
    script = Path(__file__).with_name("fixture_server.py")
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    try:
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=10)
            pytest.fail(f"fixture server exited with {proc.returncode}:\n{_log_tail(log)}", pytrace=False)
        info = json.loads(line)
        yield FixturePages(ports=info["ports"], t0=info["t0"])
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        proc.stdout.close()


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


class _Server:
    def __init__(self, name: str, argv: list[str], log: Path, base_url: str) -> None:
        self.name, self.argv, self.log, self.base_url = name, argv, log, base_url
        self._log_fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log_fh,
                                     stderr=subprocess.STDOUT)

    def fail(self, why: str) -> None:
        self.stop()
        pytest.fail(f"{self.name} did not start: {why}\ncommand: {' '.join(self.argv)}\n"
                    f"--- tail of {self.log} ---\n{_log_tail(self.log)}", pytrace=False)

    def wait_until(self, what: str, check, deadline: float) -> None:
        while True:
            if self.proc.poll() is not None:
                self.fail(f"exited with code {self.proc.returncode} while waiting for {what}")
            try:
                if check():
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                self.fail(f"timed out after {STARTUP_TIMEOUT_S:.0f}s waiting for {what}")
            time.sleep(0.1)

    def wait_healthy(self, health_path: str, deadline: float | None = None) -> None:
        """Until the health endpoint answers 200 (the server is up; it may not have scraped yet)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S if deadline is None else deadline
        self.wait_until(f"GET {health_path} == 200",
                        lambda: HTTP.get(self.base_url + health_path, timeout=1).status_code == 200,
                        deadline)

    def wait_ready(self, health_path: str, flush_path: str | None = None) -> None:
        """Health endpoint answers 200, then the exporter target is up (flushing before each
        look when the server buffers fresh samples)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        self.wait_healthy(health_path, deadline)

        def target_up() -> bool:
            if flush_path:
                HTTP.get(self.base_url + flush_path, timeout=5).raise_for_status()
            return any(v == 1 for v in promql(self.base_url, f'up{{job="{JOB}"}}').values())

        self.wait_until(f'up{{job="{JOB}"}} == 1', target_up, deadline)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log_fh.close()

    def kill(self) -> None:
        """SIGKILL, as when a server crashes or its pod is evicted."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def restart(self, health_path: str) -> None:
        """Start the same command again (same port, same data directory) and wait until healthy."""
        self._log_fh = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._log_fh,
                                     stderr=subprocess.STDOUT)
        self.wait_until(f"GET {health_path} == 200",
                        lambda: HTTP.get(self.base_url + health_path, timeout=1).status_code == 200,
                        time.monotonic() + STARTUP_TIMEOUT_S)


@pytest.fixture(scope="session")
def prometheus(prometheus_server: _Server) -> str:
    """Base URL of a real Prometheus scraping the known-answer exporter every second."""
    return prometheus_server.base_url


@pytest.fixture(scope="session")
def prometheus_server(prometheus_launched: _Server) -> _Server:
    """The session's Prometheus, ready: the exporter target is up.

    Prometheus 2.42 hands its scrape loops their targets only at its discovery's first 5 s tick, so this
    takes ~5 s after the launch, whatever the machine does meanwhile."""
    prometheus_launched.wait_ready("/-/ready")
    return prometheus_launched


@pytest.fixture(scope="session")
def prometheus_launched(exporter: Exporter, fixture_pages: FixturePages,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    """The session's Prometheus process, started and not waited for (`prometheus_server` waits)."""
    binary = require_binary("prometheus")
    tmp = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    fixtures = {FIXTURE_JOB: [fixture_pages.instance(name) for name in fixture_pages.ports]}
    config = write_scrape_config(tmp / "prometheus.yml", exporter.target, fixtures)
    server = _Server("prometheus", [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ], tmp / "prometheus.log", f"http://127.0.0.1:{port}")
    try:
        yield server
    finally:
        server.stop()


def start_victoria_metrics(tmp: Path, scrape_config: Path | None = None) -> _Server:
    """A VictoriaMetrics on a free port answering at once: samples younger than 30 s are not hidden
    (-search.latencyOffset) and rollups are not cached. Without a scrape config, feed it through
    /api/v1/import/prometheus."""
    binary = require_binary("victoria-metrics")
    port = free_port()
    argv = [
        binary,
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-storageDataPath={tmp / 'data'}",
        "-search.latencyOffset=0s",
        "-search.disableCache",
        "-loggerLevel=WARN",
    ]
    if scrape_config is not None:
        argv += [f"-promscrape.config={scrape_config}", "-promscrape.config.strictParse=false"]
    return _Server("victoria-metrics", argv, tmp / "victoria-metrics.log", f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def victoria_metrics(victoria_metrics_launched: _Server) -> str:
    """Base URL of a real VictoriaMetrics scraping the known-answer exporter every second."""
    # VM 1.79 makes a NEW series searchable only ~10 s after its first sample (its index
    # is flushed on a timer); /internal/force_flush makes it visible at once.
    victoria_metrics_launched.wait_ready("/health", flush_path="/internal/force_flush")
    return victoria_metrics_launched.base_url


@pytest.fixture(scope="session")
def victoria_metrics_launched(exporter: Exporter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    """The session's VictoriaMetrics process, started and not waited for (`victoria_metrics` waits)."""
    tmp = tmp_path_factory.mktemp("victoria-metrics")
    server = start_victoria_metrics(tmp, write_scrape_config(tmp / "scrape.yml", exporter.target))
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# Query helpers.
# ---------------------------------------------------------------------------------------------

LabelsKey = tuple[tuple[str, str], ...]


def _query(base_url: str, query: str, at: float | None = None) -> dict:
    params = {"query": query}
    if at is not None:
        params["time"] = f"{at:.3f}"
    resp = HTTP.get(f"{base_url}/api/v1/query", params=params, timeout=10)
    resp.raise_for_status()
    body = resp.json()
    if body.get("status") != "success":
        raise ValueError(f"query {query!r} failed: {body}")
    return body["data"]


def promql(base_url: str, query: str, at: float | None = None) -> dict[LabelsKey, float]:
    """Instant query returning a vector -> {sorted (label, value) pairs: float}."""
    data = _query(base_url, query, at)
    if data["resultType"] != "vector":
        raise ValueError(f"query {query!r} returned {data['resultType']}, not a vector")
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in data["result"]}


def promql_by(base_url: str, query: str, label: str, at: float | None = None) -> dict[str, float]:
    """Instant query aggregated `by (label)` -> {label value: float}."""
    return {dict(k).get(label, ""): v for k, v in promql(base_url, query, at).items()}


def history_seconds(base_url: str, series: str) -> float:
    """now - timestamp of the oldest stored sample of `series` within the last 5 minutes."""
    data = _query(base_url, f"{series}[5m]")
    stamps = [float(t) for r in data["result"] for t, _ in r["values"]]
    return time.time() - min(stamps) if stamps else 0.0


HISTORY_SERIES = 'vllm:request_success_total{model_name="qwen2.5-72b",finished_reason="stop"}'


def wait_for_history(base_url: str, seconds: float, timeout: float = 30.0) -> None:
    """Block until the server has held exporter samples for >= `seconds`."""
    deadline = time.monotonic() + timeout
    while (have := history_seconds(base_url, HISTORY_SERIES)) < seconds:
        if time.monotonic() > deadline:
            pytest.fail(f"{base_url} holds only {have:.1f}s of samples after {timeout:.0f}s")
        time.sleep(min(0.25, seconds - have + 0.05))


@pytest.fixture(scope="session")
def known():
    """This module's data tables and helpers, for test modules.

    A conftest is not importable by name: every tests/**/conftest.py is module `conftest`, so
    neither `import conftest` nor sys.modules["conftest"] reliably means this file.
    """
    return types.SimpleNamespace(**{k: v for k, v in globals().items() if not k.startswith("__")})


class TlsPrometheus:
    """A Prometheus that speaks only HTTPS: its URL, certificate, key, and a HOME for the aitop runs."""

    def __init__(self, url: str, cert: Path, key: Path, home: Path) -> None:
        self.url, self.cert, self.key, self.home = url, cert, key, home
        self.port = url.rsplit(":", 1)[1]


@pytest.fixture(scope="session")
def tls_prometheus(tmp_path_factory: pytest.TempPathFactory):
    """A Prometheus answering only HTTPS on 127.0.0.1, with a fresh self-signed EC certificate."""
    openssl, binary = require_binary("openssl"), require_binary("prometheus")
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    web = tmp / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
    config = tmp / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n")
    port = free_port()
    server = _Server("prometheus (TLS)", [
        binary, f"--config.file={config}", f"--web.config.file={web}", f"--storage.tsdb.path={tmp / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
    ], tmp / "prometheus.log", f"https://127.0.0.1:{port}")
    with httpx.Client(verify=ssl.create_default_context(cafile=str(cert))) as client:
        server.wait_until("GET /-/ready == 200 over TLS",
                          lambda: client.get(server.base_url + "/-/ready", timeout=1).status_code == 200,
                          time.monotonic() + STARTUP_TIMEOUT_S)
    try:
        yield TlsPrometheus(server.base_url, cert, key, tmp)
    finally:
        server.stop()
