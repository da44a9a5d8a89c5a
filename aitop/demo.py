"""Embedded simulated LLM fleet: a prometheus_client registry served over real HTTP on 127.0.0.1.

`aitop --demo` scrapes it like any other target and `aitop demo-server` exposes it to a real Prometheus,
so the demo exercises the same code paths as production. Two schemas are simulated, with exactly the
names aitop's catalog matches: vLLM engines (`vllm:*`, labels `model_name` + `engine`) and an application
calling hosted models through the hand-rolled "tutorial" schema (`llm_*`, label `model`). A scripted
incident cycle (`INCIDENTS`, repeating every `CYCLE_SECONDS`) makes each alert path visible within minutes.
"""

from __future__ import annotations

import contextlib
import math
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass
from types import TracebackType
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

#: Real seconds between simulation steps while the fleet is running.
TICK_SECONDS = 0.25
#: The incident script repeats with this period (simulation seconds).
CYCLE_SECONDS = 320.0

_MAX_SUBSTEP = 1.0  # long steps are split so incidents and gauges are evaluated at least every second
_MAX_OBSERVATIONS = 200  # per lane and sub-step: bounds CPU; counters are scaled, quantiles unaffected
_DIURNAL_PERIOD = 600.0  # a compressed "day" so the wobble is visible in a short demo

# Bucket edges as vLLM and the typical tutorial exporter ship them.
_E2E_BUCKETS = (0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680)
_TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
                 20, 40, 80, 160, 640, 2560)
_ITL_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80)
_LLM_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)
_LLM_TTFT_BUCKETS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4)

_FINISHED_REASONS = ("stop", "length", "abort", "error")
_LLM_STATUSES = ("success", "timeout", "rate_limited", "server_error")
_RATINGS = ("thumbs_up", "thumbs_down")


@dataclass(frozen=True, slots=True)
class Incident:
    """A scripted fault of `kind` ("latency", "errors", "cost", "feedback") on `model` during [start, end)."""

    kind: str
    model: str
    start: float
    end: float


#: One cycle of the script; times are offsets into the cycle in simulation seconds.
INCIDENTS: tuple[Incident, ...] = (
    Incident("latency", "qwen2.5-72b", 15.0, 75.0),
    Incident("errors", "llama-3.1-8b", 90.0, 150.0),
    Incident("cost", "gpt-4o", 165.0, 225.0),
    Incident("feedback", "claude-3.5-sonnet", 240.0, 300.0),
)


def incident_at(t: float) -> Incident | None:
    """The incident active at simulation time `t`, with absolute start/end, or None between incidents."""
    if t < 0:
        return None
    cycle, offset = divmod(t, CYCLE_SECONDS)
    base = cycle * CYCLE_SECONDS
    for incident in INCIDENTS:
        if incident.start <= offset < incident.end:
            return Incident(incident.kind, incident.model, base + incident.start, base + incident.end)
    return None


@dataclass(frozen=True, slots=True)
class _Model:
    name: str
    schema: str  # "vllm" or "llm"
    rate: float  # finished requests/s over all engines
    ttft: float  # median seconds
    itl: float  # median seconds between output tokens
    prompt: float  # mean prompt tokens per request
    output: float  # mean output tokens per request
    error: float  # baseline failure fraction
    engines: tuple[str, ...] = ("0",)
    kv_capacity: float = 1.0  # running requests that would fill the KV cache
    price_in: float = 0.0  # USD per million tokens
    price_out: float = 0.0


# Healthy p95 latency stays well under 2 s (qwen2.5-72b's used to sit just under it and went pending) and
# errors near 0.03 %, so the scripted incidents stand out against a calm fleet: at 4 req/s a 30 s window
# holds ~120 requests, where two chance errors would already pass the 1 % warning.
MODELS: tuple[_Model, ...] = (
    _Model("llama-3.1-8b", "vllm", 11.0, 0.07, 0.0095, 700, 110, 0.0003, engines=("0", "1"), kv_capacity=16),
    _Model("qwen2.5-72b", "vllm", 4.0, 0.16, 0.0085, 1200, 100, 0.0003, kv_capacity=10),
    _Model("mistral-7b", "vllm", 8.0, 0.05, 0.008, 400, 120, 0.0003, kv_capacity=24),
    _Model("gpt-4o", "llm", 7.0, 0.30, 0.0085, 1000, 100, 0.0003, price_in=2.5, price_out=10.0),
    _Model("claude-3.5-sonnet", "llm", 6.0, 0.40, 0.007, 1400, 110, 0.0003, price_in=3.0, price_out=15.0),
    _Model("gemini-1.5-pro", "llm", 4.0, 0.25, 0.005, 1500, 150, 0.0003, price_in=1.25, price_out=5.0),
)
#: Names of the simulated models, in display order.
MODEL_NAMES: tuple[str, ...] = tuple(m.name for m in MODELS)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # Knuth's loop is O(lam); the normal approximation is good enough here
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _tokens(rng: random.Random, mean: float, sigma: float) -> int:
    # lognormal with the given *mean* (not median), so token counters average out to the baseline
    return max(1, round(rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)))


class _Lane:
    """One scrape-visible series set: a (model, engine) for vLLM or a model for llm_*; holds bound children."""

    def __init__(self, model: _Model, engine: str | None, phase: float, children: dict[str, Any]) -> None:
        self.model = model
        self.engine = engine
        self.phase = phase
        self.drift = 0.0
        self.kv = 0.3
        self.c = children


class DemoFleet:
    """A simulated fleet of six models behind its own `registry` (never the global one).

    Drive it deterministically with `step(dt)`, or `start()` it to serve `/metrics` over HTTP while a daemon
    thread steps it every `TICK_SECONDS` of `clock` time. Usable as a context manager (`__exit__` stops it).
    """

    def __init__(self, seed: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = CollectorRegistry()
        self._rng = random.Random(seed)
        self._clock = clock
        self._time = 0.0
        self._lock = threading.Lock()  # step() may be called by the sim thread and by a caller at once
        self._stop = threading.Event()
        self._server: WSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._url: str | None = None
        self._lanes = self._build()

    # -- metrics ---------------------------------------------------------------------------------------

    def _build(self) -> list[_Lane]:
        r, vl, ll = self.registry, ("model_name", "engine"), ("model",)
        success = Counter("vllm:request_success", "Count of successfully processed requests.",
                          [*vl, "finished_reason"], registry=r)
        e2e = Histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
                        vl, buckets=_E2E_BUCKETS, registry=r)
        ttft = Histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                         vl, buckets=_TTFT_BUCKETS, registry=r)
        itl = Histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
                        vl, buckets=_ITL_BUCKETS, registry=r)
        queue = Histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase.",
                          vl, buckets=_E2E_BUCKETS, registry=r)
        prompt = Counter("vllm:prompt_tokens", "Number of prefill tokens processed.", vl, registry=r)
        gen = Counter("vllm:generation_tokens", "Number of generation tokens processed.", vl, registry=r)
        running = Gauge("vllm:num_requests_running", "Number of requests in model execution batches.", vl,
                        registry=r)
        waiting = Gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", vl,
                        registry=r)
        kv = Gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", vl, registry=r)

        requests = Counter("llm_requests_total", "LLM API requests by outcome.", [*ll, "status"], registry=r)
        latency = Histogram("llm_request_latency_seconds", "LLM API request latency.", ll,
                            buckets=_LLM_LATENCY_BUCKETS, registry=r)
        l_ttft = Histogram("llm_ttft_seconds", "Time to first streamed token.", ll, buckets=_LLM_TTFT_BUCKETS,
                           registry=r)
        tin = Counter("llm_input_tokens_total", "Prompt tokens sent.", ll, registry=r)
        tout = Counter("llm_output_tokens_total", "Completion tokens received.", ll, registry=r)
        cost = Gauge("llm_cost_per_query_usd", "USD cost of the most recent query.", ll, registry=r)
        feedback = Counter("llm_feedback_total", "User votes on answers.", [*ll, "rating"], registry=r)

        per_engine = {"e2e": e2e, "ttft": ttft, "itl": itl, "queue": queue, "prompt": prompt, "gen": gen,
                      "running": running, "waiting": waiting, "kv": kv}
        per_model = {"latency": latency, "ttft": l_ttft, "in": tin, "out": tout, "cost": cost}
        lanes = []
        for m in MODELS:
            phase = self._rng.uniform(0, 2 * math.pi)
            if m.schema == "vllm":
                for e in m.engines:
                    ch: dict[str, Any] = {k: fam.labels(m.name, e) for k, fam in per_engine.items()}
                    # Every finished_reason child exists from the start, as in vLLM: scrapers see 0, not absence.
                    ch["success"] = {f: success.labels(m.name, e, f) for f in _FINISHED_REASONS}
                    lanes.append(_Lane(m, e, phase, ch))
                    ch["kv"].set(lanes[-1].kv)  # a warm engine never reports an empty cache
            else:
                ch = {k: fam.labels(m.name) for k, fam in per_model.items()}
                ch["requests"] = {s: requests.labels(m.name, s) for s in _LLM_STATUSES}
                ch["feedback"] = {x: feedback.labels(m.name, x) for x in _RATINGS}
                lanes.append(_Lane(m, None, phase, ch))
        return lanes

    # -- simulation ------------------------------------------------------------------------------------

    @property
    def sim_time(self) -> float:
        """Simulation seconds elapsed (the sum of all `step` durations)."""
        return self._time

    def incident_at(self, t: float) -> Incident | None:
        """The scripted incident active at simulation time `t` (see module-level `incident_at`)."""
        return incident_at(t)

    def step(self, dt: float) -> None:
        """Advance the simulation by `dt` seconds: finish requests, observe histograms, update gauges."""
        if dt < 0:
            raise ValueError(f"dt must be >= 0, got {dt}")
        with self._lock:
            remaining = dt
            while remaining > 0:
                h = min(remaining, _MAX_SUBSTEP)
                remaining -= h
                self._time += h
                incident = incident_at(self._time)
                for lane in self._lanes:
                    hit = incident if incident is not None and incident.model == lane.model.name else None
                    self._advance(lane, h, hit)

    def _advance(self, lane: _Lane, dt: float, hit: Incident | None) -> None:
        rng, m, kind = self._rng, lane.model, hit.kind if hit else None
        # Slow mean-reverting drift (~30 s memory) makes traffic bursty beyond Poisson noise.
        lane.drift += -lane.drift * dt / 30 + 0.03 * math.sqrt(dt) * rng.gauss(0, 1)
        diurnal = 1 + 0.1 * math.sin(2 * math.pi * self._time / _DIURNAL_PERIOD + lane.phase)
        rate = m.rate / len(m.engines) * diurnal * math.exp(lane.drift)
        n = _poisson(rng, rate * dt)
        k = min(n, _MAX_OBSERVATIONS)
        weight = n / k if k else 0.0
        slow = 4.0 if kind == "latency" else 1.0
        if m.schema == "vllm":
            self._advance_vllm(lane, dt, hit, rate, k, weight, slow)
        else:
            self._advance_llm(lane, kind, k, weight, slow)

    def _advance_vllm(self, lane: _Lane, dt: float, hit: Incident | None, rate: float, k: int, weight: float,
                      slow: float) -> None:
        rng, m, c = self._rng, lane.model, lane.c
        queue_median = 0.02
        if hit is not None and hit.kind == "latency":
            queue_median = 0.3 + 0.08 * (self._time - hit.start)  # the backlog builds while the spike lasts
        errors = hit is not None and hit.kind == "errors"
        fail = 0.08 if errors else m.error
        error_share = 0.8 if errors else 0.3  # normally most failures are client aborts, in the burst 500s
        prompt_sum = out_sum = 0
        for _ in range(k):
            queue = rng.lognormvariate(math.log(queue_median), 0.8)
            ttft = rng.lognormvariate(math.log(m.ttft * slow), 0.35)
            itl = rng.lognormvariate(math.log(m.itl * slow), 0.12)
            prompt, out = _tokens(rng, m.prompt, 0.5), _tokens(rng, m.output, 0.25)
            if rng.random() < fail:
                reason = "error" if rng.random() < error_share else "abort"
                out = int(out * rng.random())  # failed part-way through decoding
            else:
                reason = "length" if rng.random() < 0.08 else "stop"
            c["success"][reason].inc(weight)
            c["e2e"].observe(queue + ttft + out * itl)
            c["ttft"].observe(ttft)
            c["queue"].observe(queue)
            if out > 1:  # vLLM observes every token gap; one mean gap per request keeps the cost bounded
                c["itl"].observe(itl)
            prompt_sum += prompt
            out_sum += out
        c["prompt"].inc(prompt_sum * weight)
        c["gen"].inc(out_sum * weight)
        # Little's law: concurrency = arrival rate x time in system.
        in_flight = _poisson(rng, rate * (m.ttft * slow + m.output * m.itl * slow))
        c["running"].set(in_flight)
        c["waiting"].set(_poisson(rng, rate * queue_median))
        target = min(0.95, 0.15 + 0.55 * in_flight / m.kv_capacity)
        lane.kv += (target - lane.kv) * min(1.0, dt / 5)  # KV blocks fill and drain over seconds, not instantly
        c["kv"].set(round(lane.kv, 4))

    def _advance_llm(self, lane: _Lane, kind: str | None, k: int, weight: float, slow: float) -> None:
        rng, m, c = self._rng, lane.model, lane.c
        costly = kind == "cost"
        out_mean = m.output * (2.5 if costly else 1.0)  # runaway generations...
        surcharge = 4.0 if costly else 1.0  # ...routed to a pricier tier: together ~x6 per query
        # Votes are common enough that a 30 s window holds dozens: a quiet ratio must not flicker past 10 %.
        vote_p, negative_p = (0.6, 0.35) if kind == "feedback" else (0.3, 0.02)
        last_cost = None
        for _ in range(k):
            if rng.random() < m.error:
                status = rng.choices(_LLM_STATUSES[1:], weights=(3, 5, 2))[0]
                # Failures still take time: the client gives up at 30 s, a 429 is instant, a 5xx is quick.
                seconds = {"timeout": 30.0, "rate_limited": rng.lognormvariate(math.log(0.05), 0.3),
                           "server_error": rng.lognormvariate(math.log(0.4), 0.5)}[status]
                c["requests"][status].inc(weight)
                c["latency"].observe(seconds)
                continue
            ttft = rng.lognormvariate(math.log(m.ttft * slow), 0.35)
            itl = rng.lognormvariate(math.log(m.itl * slow), 0.12)
            prompt, out = _tokens(rng, m.prompt, 0.5), _tokens(rng, out_mean, 0.25)
            c["requests"]["success"].inc(weight)
            c["latency"].observe(ttft + out * itl)
            c["ttft"].observe(ttft)
            c["in"].inc(prompt * weight)
            c["out"].inc(out * weight)
            last_cost = (prompt * m.price_in + out * m.price_out) / 1e6 * surcharge
            if rng.random() < vote_p:
                c["feedback"]["thumbs_down" if rng.random() < negative_p else "thumbs_up"].inc(weight)
        if last_cost is not None:
            c["cost"].set(round(last_cost, 6))

    # -- serving ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str | None:
        """The metrics URL while started, else None."""
        return self._url

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve `/metrics` on host:port (0 = ephemeral) and start stepping; returns the metrics URL.

        Raises OSError when the address cannot be bound, RuntimeError when already started.
        """
        if self._server is not None:
            raise RuntimeError("DemoFleet is already started")
        server, server_thread = start_http_server(port, addr=host, registry=self.registry)
        self._server = server
        self._stop.clear()
        sim = threading.Thread(target=self._run, name="aitop-demo-sim", daemon=True)
        sim.start()
        self._threads = [server_thread, sim]
        shown = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown}:{server.server_port}/metrics"
        return self._url

    def _run(self) -> None:
        last = self._clock()
        while not self._stop.wait(TICK_SECONDS):
            now = self._clock()
            # Clamp: after a suspend the simulation should resume, not replay hours of traffic in one tick.
            self.step(min(max(0.0, now - last), 2.0))
            last = now

    def stop(self) -> None:
        """Stop stepping and shut the HTTP server down, freeing the port. Safe to call twice."""
        self._stop.set()
        server, self._server = self._server, None
        if server is not None:
            # serve_forever() notices shutdown only every 0.5 s; throwaway connections wake it at once.
            closer = threading.Thread(target=server.shutdown, daemon=True)
            closer.start()
            host, port = server.server_address[:2]
            while closer.is_alive():
                with contextlib.suppress(OSError):
                    socket.create_connection((str(host), port), timeout=0.2).close()
                closer.join(0.05)
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads = []
        self._url = None

    def __enter__(self) -> DemoFleet:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve(port: int, host: str = "127.0.0.1") -> int:
    """Run only the demo exporter (`aitop demo-server`) until Ctrl-C or SIGTERM; returns the exit code."""
    fleet = DemoFleet()
    try:
        url = fleet.start(port, host)
    except OSError as exc:
        print(f"aitop demo-server: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"aitop demo exporter on {url} — point Prometheus at it; Ctrl-C stops", file=sys.stderr)
    done = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():  # signal handlers only install there
        previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):  # a timed wait keeps Ctrl-C responsive on every platform
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        fleet.stop()
    return 0
