"""The embedded simulated fleet: metric shapes, the incident script, and the HTTP exporter."""

from __future__ import annotations

import math
import re
import signal
import socket
import subprocess
import sys
import threading

import httpx
import pytest

from aitop.demo import CYCLE_SECONDS, DemoFleet, Incident, incident_at, serve

Key = tuple[str, tuple[tuple[str, str], ...]]

VLLM_MODELS = {"llama-3.1-8b": {"0", "1"}, "qwen2.5-72b": {"0"}, "mistral-7b": {"0"}}
LLM_MODELS = {"gpt-4o", "claude-3.5-sonnet", "gemini-1.5-pro"}
COUNTERS = ("vllm:request_success_total", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
            "llm_requests_total", "llm_input_tokens_total", "llm_output_tokens_total", "llm_feedback_total")
VLLM_HISTOGRAMS = ("vllm:e2e_request_latency_seconds", "vllm:time_to_first_token_seconds",
                   "vllm:inter_token_latency_seconds", "vllm:request_queue_time_seconds")
LLM_HISTOGRAMS = ("llm_request_latency_seconds", "llm_ttft_seconds")


GAUGES = ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
          "llm_cost_per_query_usd")


def samples(registry) -> dict[Key, float]:
    """Every sample of a registry except `_created` (wall-clock, not simulation)."""
    out = {}
    for family in registry.collect():
        for s in family.samples:
            if not s.name.endswith("_created"):
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(snap: dict[Key, float], name: str, **labels: str) -> float:
    """Sum of the samples named `name` whose labels include `labels` (aggregating over the rest)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in snap.items() if n == name and want <= set(ls))


def _monotone(key: Key) -> bool:
    return key[0].endswith(("_total", "_bucket", "_count", "_sum"))


class Timeline:
    """A seeded fleet stepped 1 s at a time through one incident cycle.

    Full snapshots every `EVERY` simulated seconds (collecting everything each second is the slow part),
    gauges every second.
    """

    EVERY = 5

    def __init__(self) -> None:
        fleet = DemoFleet(seed=1234)
        gauges = fleet.registry.restricted_registry(GAUGES)
        self.full = {0: samples(fleet.registry)}
        self.gauges = [samples(gauges)]
        for t in range(1, int(CYCLE_SECONDS) + 1):
            fleet.step(1.0)
            self.gauges.append(samples(gauges))
            if t % self.EVERY == 0:
                self.full[t] = samples(fleet.registry)
        assert fleet.sim_time == CYCLE_SECONDS
        self.last = self.full[int(CYCLE_SECONDS)]

    def delta(self, a: int, b: int, name: str, **labels: str) -> float:
        """Increase of `name` (summed over matching series) from simulation second a to b."""
        return total(self.full[b], name, **labels) - total(self.full[a], name, **labels)

    def gauge(self, t: int, name: str, **labels: str) -> float:
        return total(self.gauges[t], name, **labels)


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return Timeline()


# -- shape -------------------------------------------------------------------------------------------


def test_stepping_grows_every_counter_and_never_decreases_one() -> None:
    fleet = DemoFleet(seed=7)
    first = prev = samples(fleet.registry)
    for _ in range(120):
        fleet.step(0.5)
        cur = samples(fleet.registry)
        shrunk = [k for k in cur if _monotone(k) and cur[k] < prev.get(k, 0.0)]
        assert not shrunk
        prev = cur
    assert fleet.sim_time == pytest.approx(60.0)
    for name in COUNTERS:
        label, models = ("model_name", VLLM_MODELS) if name.startswith("vllm:") else ("model", LLM_MODELS)
        for model in models:
            assert total(prev, name, **{label: model}) > total(first, name, **{label: model}), (name, model)
    for name in VLLM_HISTOGRAMS + LLM_HISTOGRAMS:
        assert total(prev, name + "_count") > 0, name


def test_histograms_are_cumulative_and_count_equals_inf_bucket(timeline) -> None:
    snap = timeline.last
    series: dict[tuple[str, tuple], list[tuple[float, float]]] = {}
    for (name, labels), value in snap.items():
        if name.endswith("_bucket"):
            le = dict(labels)["le"]
            rest = tuple(kv for kv in labels if kv[0] != "le")
            series.setdefault((name.removesuffix("_bucket"), rest), []).append((float(le), value))
    assert len(series) == 4 * 4 + 2 * 3  # 4 vLLM lanes x 4 histograms + 3 hosted models x 2
    for (base, rest), buckets in series.items():
        buckets.sort()
        counts = [c for _, c in buckets]
        assert counts == sorted(counts), (base, rest)
        assert buckets[-1][0] == math.inf
        assert snap[(base + "_count", rest)] == buckets[-1][1] > 0, (base, rest)


def test_all_six_models_present_with_their_labels(timeline) -> None:
    snap = timeline.last
    vllm = {}
    for name, labels in snap:
        ls = dict(labels)
        if name.startswith("vllm:"):
            extra = set(ls) - {"model_name", "engine"}
            assert extra <= {"finished_reason", "le"}, (name, labels)
            vllm.setdefault(ls["model_name"], set()).add(ls["engine"])
            if name == "vllm:request_success_total":
                assert ls["finished_reason"] in {"stop", "length", "abort", "error"}
        elif name.startswith("llm_"):
            assert set(ls) - {"model"} <= {"status", "rating", "le"}, (name, labels)
            assert ls["model"] in LLM_MODELS
    assert vllm == VLLM_MODELS
    for model in LLM_MODELS:
        assert {dict(ls)["status"] for n, ls in snap if n == "llm_requests_total" and dict(ls)["model"] == model} == {
            "success", "timeout", "rate_limited", "server_error"}
        assert 0.001 < total(snap, "llm_cost_per_query_usd", model=model) < 0.03
    for model in VLLM_MODELS:
        assert 0.1 < total(snap, "vllm:kv_cache_usage_perc", model_name=model) / len(VLLM_MODELS[model]) < 0.8


def test_baseline_is_believable(timeline) -> None:
    # Outside its incident window, a model looks healthy: 2-15 req/s, sub-2 s median, small error rate.
    a, b = 160, 230
    for model in VLLM_MODELS:
        n = timeline.delta(a, b, "vllm:request_success_total", model_name=model)
        assert 2 <= n / (b - a) <= 15, model
        mean = timeline.delta(a, b, "vllm:e2e_request_latency_seconds_sum", model_name=model) / n
        assert 0.5 <= mean <= 3, model
        mean_ttft = timeline.delta(a, b, "vllm:time_to_first_token_seconds_sum", model_name=model) / n
        assert 0.03 <= mean_ttft <= 0.4, model
        assert 300 <= timeline.delta(a, b, "vllm:prompt_tokens_total", model_name=model) / n <= 1500
        assert 80 <= timeline.delta(a, b, "vllm:generation_tokens_total", model_name=model) / n <= 600
    for model in LLM_MODELS - {"gpt-4o"}:  # gpt-4o's cost incident is in [165, 225)
        n = timeline.delta(a, b, "llm_requests_total", model=model)
        assert 2 <= n / (b - a) <= 15, model
        assert timeline.delta(a, b, "llm_requests_total", model=model, status="success") / n > 0.98


# -- incidents -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("t", "kind", "model"), [
    (5, None, None), (30, "latency", "qwen2.5-72b"), (80, None, None), (120, "errors", "llama-3.1-8b"),
    (200, "cost", "gpt-4o"), (270, "feedback", "claude-3.5-sonnet"), (310, None, None)])
def test_incident_schedule_repeats_every_cycle(t: float, kind: str | None, model: str | None) -> None:
    fleet = DemoFleet(seed=1)
    for cycle in range(3):
        at = t + cycle * CYCLE_SECONDS
        got = fleet.incident_at(at)
        if kind is None:
            assert got is None
        else:
            assert isinstance(got, Incident) and (got.kind, got.model) == (kind, model)
            assert got.start <= at < got.end and got.end - got.start == 60
    assert incident_at(-1) is None


def test_latency_incident_slows_qwen(timeline) -> None:
    m = {"model_name": "qwen2.5-72b"}

    def mean(name: str, a: int, b: int) -> float:
        return timeline.delta(a, b, name + "_sum", **m) / timeline.delta(a, b, name + "_count", **m)

    inside, outside = (30, 60), (160, 190)
    assert mean("vllm:e2e_request_latency_seconds", *inside) > 4 * mean("vllm:e2e_request_latency_seconds", *outside)
    assert mean("vllm:time_to_first_token_seconds", *inside) > 3 * mean("vllm:time_to_first_token_seconds", *outside)
    assert mean("vllm:request_queue_time_seconds", *inside) > 1.0
    # p95 > 2 s inside (fewer than 95 % of requests at or under the 2 s bucket), < 2 s outside.
    under_2s = {w: timeline.delta(*w, "vllm:e2e_request_latency_seconds_bucket", le="2.0", **m)
                / timeline.delta(*w, "vllm:e2e_request_latency_seconds_count", **m) for w in (inside, outside)}
    assert under_2s[inside] < 0.5 and under_2s[outside] > 0.95
    waiting = [timeline.gauge(t, "vllm:num_requests_waiting", **m) for t in range(0, 321)]
    assert max(waiting[45:75]) > 3 * max(max(waiting[80:]), 1)
    # Other models do not move.
    llama = {"model_name": "llama-3.1-8b"}
    assert timeline.delta(*inside, "vllm:e2e_request_latency_seconds_sum", **llama) / timeline.delta(
        *inside, "vllm:e2e_request_latency_seconds_count", **llama) < 2


def test_error_burst_on_llama(timeline) -> None:
    def share(a: int, b: int, reason: str | None = None) -> float:
        m = {"model_name": "llama-3.1-8b"}
        all_ = timeline.delta(a, b, "vllm:request_success_total", **m)
        reasons = (reason,) if reason else ("abort", "error")
        return sum(timeline.delta(a, b, "vllm:request_success_total", finished_reason=r, **m) for r in reasons) / all_

    assert share(95, 145) > 0.05  # ~8 % scripted; 4 % would already page someone
    assert share(95, 145, "error") > share(95, 145, "abort")  # mostly server errors
    assert share(160, 320) < 0.015 and share(0, 85) < 0.015
    for engine in ("0", "1"):  # both replicas are hit, so the per-engine view agrees with the aggregate
        e = {"model_name": "llama-3.1-8b", "engine": engine}
        bad = sum(timeline.delta(95, 145, "vllm:request_success_total", finished_reason=r, **e)
                  for r in ("abort", "error"))
        assert bad / timeline.delta(95, 145, "vllm:request_success_total", **e) > 0.03


def test_cost_spike_on_gpt4o(timeline) -> None:
    def cost(a: int, b: int) -> float:
        return sum(timeline.gauge(t, "llm_cost_per_query_usd", model="gpt-4o") for t in range(a, b)) / (b - a)

    def out_per_request(a: int, b: int) -> float:
        return timeline.delta(a, b, "llm_output_tokens_total", model="gpt-4o") / timeline.delta(
            a, b, "llm_requests_total", model="gpt-4o", status="success")

    assert cost(170, 225) > 4 * cost(100, 160)
    assert out_per_request(170, 225) > 2 * out_per_request(100, 160)
    assert 0.002 < cost(100, 160) < 0.03


def test_thumbs_down_surge_on_claude(timeline) -> None:
    def ratio(a: int, b: int) -> tuple[float, float]:
        votes = timeline.delta(a, b, "llm_feedback_total", model="claude-3.5-sonnet")
        down = timeline.delta(a, b, "llm_feedback_total", model="claude-3.5-sonnet", rating="thumbs_down")
        return down / votes, votes

    (inside, votes_in), (outside, votes_out) = ratio(240, 300), ratio(0, 240)
    assert inside > 0.2 and outside < 0.1
    assert votes_in / 60 > 1.5 * votes_out / 240  # volume up too


def test_same_seed_same_fleet() -> None:
    a, b, c = DemoFleet(seed=5), DemoFleet(seed=5), DemoFleet(seed=6)
    for fleet in (a, b, c):
        fleet.step(20.0)  # one long step is split internally into 1 s sub-steps
    assert samples(a.registry) == samples(b.registry) != samples(c.registry)
    with pytest.raises(ValueError):
        a.step(-1)


# -- serving ---------------------------------------------------------------------------------------


def test_start_serves_real_http_and_stop_frees_the_port() -> None:
    ticks = iter(range(0, 10**6, 10))  # a fake clock 10 s per reading: proves the thread uses it (and clamps)
    fleet = DemoFleet(seed=3, clock=lambda: float(next(ticks)))
    with fleet:
        url = fleet.start(port=0)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/metrics", url) and fleet.url == url
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with httpx.Client(trust_env=False, timeout=5) as client:
            resp = client.get(url)
            assert resp.status_code == 200
            assert "vllm:request_success_total" in resp.text and "llm_requests_total" in resp.text
            with pytest.raises(RuntimeError):
                fleet.start()
            # Bounded wait for the first tick (0.25 s of real time); one clamped 2 s step proves the clock is used.
            for _ in range(200):
                if fleet.sim_time >= 2.0:
                    break
                threading.Event().wait(0.01)
            assert fleet.sim_time >= 2.0
    assert fleet.url is None
    with httpx.Client(trust_env=False, timeout=2) as client, pytest.raises(httpx.ConnectError):
        client.get(url)
    again = DemoFleet(seed=3)
    try:
        assert again.start(port=port) == url  # the port is free to bind again
    finally:
        again.stop()
    fleet.stop()  # idempotent


def test_serve_on_a_taken_port_returns_1_with_one_line(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve(port) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(port) in err and "Traceback" not in err


def test_serve_runs_until_sigterm_and_stays_headless() -> None:
    code = ("import sys, aitop.demo; assert 'textual' not in sys.modules, 'demo must stay headless'; "
            "raise SystemExit(aitop.demo.serve(0))")
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/metrics", line)
        assert match, line
        with httpx.Client(trust_env=False, timeout=5) as client:
            assert client.get(match.group()).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
