"""Synthetic /metrics pages: vLLM-style families for N model engines, and node-exporter-like noise.

Everything is deterministic (seeded), so two runs parse the same bytes. The vLLM part is rendered by a real
prometheus_client registry with the metric names, labels and bucket edges vLLM ships (as `aitop.demo`
does), so its text is exactly what a vLLM server sends, `_created` lines included. `advance()` moves every
counter forward, so two renders make a realistic pair of scrapes (rates, quantiles) for the store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_E2E = (0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680)
_TTFT = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
         160, 640, 2560)
_ITL = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80)
_REASONS = ("stop", "length", "abort", "error")


def model_name(index: int) -> str:
    return f"model-{index:05d}"


@dataclass
class VllmFleet:
    """`models` vLLM models on `engines` engines each, in one prometheus_client registry."""

    models: int
    engines: int = 1
    seed: int = 1
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r, labels = self.registry, ("model_name", "engine")
        self._rng = random.Random(self.seed)
        self.success = Counter("vllm:request_success", "Count of successfully processed requests.",
                               [*labels, "finished_reason"], registry=r)
        self.e2e = Histogram("vllm:e2e_request_latency_seconds", "E2E latency.", labels, buckets=_E2E, registry=r)
        self.ttft = Histogram("vllm:time_to_first_token_seconds", "TTFT.", labels, buckets=_TTFT, registry=r)
        self.itl = Histogram("vllm:inter_token_latency_seconds", "ITL.", labels, buckets=_ITL, registry=r)
        self.queue = Histogram("vllm:request_queue_time_seconds", "Queue.", labels, buckets=_E2E, registry=r)
        self.prompt = Counter("vllm:prompt_tokens", "Prefill tokens.", labels, registry=r)
        self.gen = Counter("vllm:generation_tokens", "Generation tokens.", labels, registry=r)
        self.running = Gauge("vllm:num_requests_running", "Running.", labels, registry=r)
        self.waiting = Gauge("vllm:num_requests_waiting", "Waiting.", labels, registry=r)
        self.kv = Gauge("vllm:kv_cache_usage_perc", "KV-cache usage.", labels, registry=r)
        self.lanes = [(model_name(m), str(e)) for m in range(self.models) for e in range(self.engines)]
        for lane in self.lanes:  # every finished_reason child exists from the start, as in vLLM
            for reason in _REASONS:
                self.success.labels(*lane, reason)
        self.advance(observations=3)

    def advance(self, observations: int = 3, lanes: range | None = None) -> None:
        """Finish `observations` requests on every lane (or only the lanes indexed by `lanes`)."""
        rng = self._rng
        for index in lanes if lanes is not None else range(len(self.lanes)):
            lane = self.lanes[index]
            for _ in range(observations):
                # A calm fleet: no failures, latencies well under aitop's alert thresholds.
                self.success.labels(*lane, "length" if rng.random() < 0.1 else "stop").inc()
                ttft = rng.lognormvariate(-2.5, 0.3)
                self.ttft.labels(*lane).observe(ttft)
                self.itl.labels(*lane).observe(rng.lognormvariate(-4.6, 0.2))
                self.queue.labels(*lane).observe(rng.lognormvariate(-4, 0.5))
                self.e2e.labels(*lane).observe(ttft + rng.lognormvariate(-1.2, 0.3))
            self.prompt.labels(*lane).inc(observations * rng.randint(100, 900))
            self.gen.labels(*lane).inc(observations * rng.randint(50, 200))
            self.running.labels(*lane).set(rng.randint(0, 16))
            self.waiting.labels(*lane).set(rng.randint(0, 4))
            self.kv.labels(*lane).set(round(rng.random(), 3))

    def render(self) -> str:
        return generate_latest(self.registry).decode()


def lanes_for(lines: int) -> int:
    """How many (model, engine) lanes make a vLLM page of about `lines` lines."""
    one, two = VllmFleet(1).render().count("\n"), VllmFleet(2).render().count("\n")
    per_lane = two - one
    return max(1, round((lines - (one - per_lane)) / per_lane))


#: Noise families: (sample name, type, labels of sample i). None of them is read by any aitop schema.
_CPU_MODES = ("idle", "user", "system", "iowait", "irq", "nice", "softirq", "steal")
_APISERVER_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, "+Inf")
_NOISE = (
    ("node_cpu_seconds_total", "counter",
     lambda i: f'cpu="{i // 8}",mode="{_CPU_MODES[i % 8]}"'),
    ("node_network_receive_bytes_total", "counter", lambda i: f'device="eth{i}"'),
    ("node_filesystem_avail_bytes", "gauge", lambda i: f'device="/dev/sd{i}",fstype="ext4",mountpoint="/mnt/d{i}"'),
    ("kube_pod_status_phase", "gauge",
     lambda i: f'namespace="ns-{i % 40}",phase="Running",pod="pod-{i:06d}",uid="{i:08x}-aa"'),
    ("kube_pod_container_resource_requests", "gauge",
     lambda i: (f'container="c{i % 3}",namespace="ns-{i % 40}",node="node-{i % 90}",pod="pod-{i:06d}",'
                'resource="cpu",unit="core"')),
    ("apiserver_request_duration_seconds_bucket", "histogram",
     lambda i: f'resource="r{i // 12}",verb="GET",le="{_APISERVER_BOUNDS[i % 12]}"'),
)


def noise(lines: int, seed: int = 7) -> str:
    """Exactly `lines` lines of node-exporter / kube-state-metrics-like families (HELP and TYPE included)."""
    rng = random.Random(seed)
    out: list[str] = []
    share = lines // len(_NOISE)
    for number, (name, kind, labels) in enumerate(_NOISE):
        family = name.removesuffix("_bucket")
        end = lines if number == len(_NOISE) - 1 else (number + 1) * share
        out += [f"# HELP {family} Synthetic noise family {number}.", f"# TYPE {family} {kind}"]
        out += [f"{name}{{{labels(i)}}} {rng.randint(0, 10**9) / 16:g}" for i in range(max(0, end - len(out)))]
    return "\n".join(out[:lines]) + "\n"


@dataclass(frozen=True)
class Page:
    """A page and what it holds: `relevant` lines belong to families aitop reads."""

    text: str
    lines: int
    relevant: int


def mixed_page(fleet: VllmFleet, lines: int, seed: int = 7) -> Page:
    """The fleet's vLLM text with node-like noise before and after it, `lines` lines in all."""
    vllm = fleet.render()
    relevant = vllm.count("\n")
    rest = lines - relevant
    head = noise(rest // 2, seed)
    tail = noise(rest - rest // 2, seed + 1)
    text = head + vllm + tail
    return Page(text, text.count("\n"), relevant)
