"""Fault cases F14, F15, F26 (tests/faults/README.md): answers too big to hold — a 100k-series vector, a gzip bomb, a day of pod
churn — and the UI staying responsive while a poll works (keys answered in < 200 ms).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import tracemalloc

import pytest
from kit import prometheus, scrape
from server import JSON, TEXT, PrometheusAPI, Reply, gzip_bomb, huge_vector, query_kind
from soak import ContainerWatch, short_settings, soak

from aitop.history import History
from aitop.monitor import Monitor
from aitop.sources.scrape import fetch
from aitop.sources.prometheus import http as prom_http
from aitop.sources.base import CollectorBase

# -- F14 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("honours_limit", [True, False], ids=["server-honours-limit", "server-ignores-limit"])
async def test_f14_huge_vector_is_capped_with_showing_n_of_m(serve, clock, honours_limit):
    api = PrometheusAPI()

    def huge(request):
        if query_kind(request) == "requests":  # a top-N panel grouped by something with 5,000 values
            return huge_vector(5_000, limit=int(request.param("limit") or 0) if honours_limit else None)
        return None

    api.fault(huge)
    server = serve(api)
    collector = prometheus(server, clock)
    collector.max_series = 500  # scaled down from 20,000
    result = await collector.collect()
    await collector.aclose()
    (request,) = server.requests(lambda r: query_kind(r) == "requests")
    assert request.param("limit") == "501"  # asked the server to stop at the cap (Prometheus 3.2+)
    shown = "≥501" if honours_limit else "5,000"
    assert f"llm requests: showing 500 of {shown} series — group by fewer labels or filter" in result.warnings
    assert len(result.rows) <= 500 + 2


async def test_f14_response_byte_cap(serve, clock, monkeypatch):
    monkeypatch.setattr(prom_http, "MAX_WIRE_BYTES", 64 * 1024)
    api = PrometheusAPI()
    api.fault(lambda r: huge_vector(5_000) if query_kind(r) == "requests" else None)  # ~300 KB of JSON
    collector = prometheus(serve(api), clock)
    result = await collector.collect()
    await collector.aclose()
    assert any("llm requests: response too large" in w for w in result.warnings), result.warnings
    assert result.targets[0].up  # only that panel failed


async def test_f14_scrape_series_cap(serve, clock):
    lines = [f'llm_requests_total{{model="m{i:05d}",status="success"}} {i}' for i in range(3_000)]
    collector = scrape(serve(lambda r: Reply(200, "\n".join(lines) + "\n", TEXT)), clock=clock)
    collector.max_series = 1_000
    result = await collector.collect()
    await collector.aclose()
    assert result.targets[0].up and len(result.rows) == 1_000
    assert any(w.endswith("showing 1,000 of 3,000 series (per-target cap)") for w in result.warnings)


async def test_f14_memory_of_a_capped_huge_answer_is_bounded(serve, clock):
    api = PrometheusAPI()
    api.fault(lambda r: huge_vector(8_000) if query_kind(r) == "requests" else None)  # ~500 KB, 8k series
    # The claim is about memory, not speed: tracemalloc slows every allocation several times over, which a
    # loaded machine multiplies past the usual 2 s deadline; a timeout far above it still fails a hang.
    collector = prometheus(serve(api), clock, timeout=30.0)
    collector.max_series = 500
    gc.collect()
    tracemalloc.start()
    try:
        result = await collector.collect()
        _, peak = tracemalloc.get_traced_memory()
        kept = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    await collector.aclose()
    assert any("showing 500 of 8,000" in w for w in result.warnings), result.warnings
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB while reading an 8k-series answer"
    held = sum(stat.size for stat in kept.statistics("filename"))
    assert held < 4 * 2**20, f"{held / 2**20:.1f} MiB still held after the poll (500 series kept)"


class SlowCollector(CollectorBase):
    """A collector whose poll blocks a worker thread (sleeping, or burning CPU under the GIL)."""

    kind = "scrape"
    targets = ("http://slow:1/metrics",)
    window_seconds = 30.0

    def __init__(self, seconds: float, busy: bool) -> None:
        self.seconds, self.busy = seconds, busy

    def _work(self) -> None:
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            if self.busy:
                sum(i * i for i in range(2_000))  # pure Python: holds the GIL between switches
            else:
                time.sleep(0.01)

    async def collect(self):
        from aitop.sources.base import Collected

        await asyncio.to_thread(self._work)
        return Collected(time.time(), 30.0, (), (), ())

    async def breakdown(self, key, label):
        return ()

    async def history(self, key, fields, seconds):
        return None

    async def aclose(self):
        pass


async def _key_round_trips(app, pilot, poll_running, most: int = 12) -> list[float]:
    """Time `p` (pause) presses from the key event to the app's state change, while `poll_running()`."""
    times = []
    while poll_running() and len(times) < most:
        before = app.paused
        started = time.perf_counter()
        app.simulate_key("p")
        while app.paused == before:
            await asyncio.sleep(0.001)
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.03)
    return times


#: How much later than an idle key a key pressed during a poll may be answered.
KEY_SLACK = 0.2


def assert_answered_like_idle(idle: list[float], busy: list[float], *, at_least: int = 5) -> None:
    """Keys pressed during a poll are answered within `KEY_SLACK` of keys pressed with nothing running, both
    measured in the same test on the same (maybe loaded) machine. The worst busy press is left out: one
    scheduling hiccup of a shared 2-core CI machine is not the event loop being held, which would delay
    every press made during the poll."""
    assert len(busy) >= at_least, "the poll ended before keys could be timed"
    def ms(times: list[float]) -> list[str]:
        return [f"{t * 1000:.0f} ms" for t in times]

    assert statistics.median(busy) <= statistics.median(idle) + KEY_SLACK, (ms(idle), ms(busy))
    all_but_worst = sorted(busy)[:-1] or busy
    assert max(all_but_worst) <= max(idle) + KEY_SLACK, (ms(idle), ms(busy))


@pytest.mark.parametrize("busy", [False, True], ids=["io-bound", "cpu-bound"])
async def test_f14_keys_answered_within_200ms_while_a_poll_runs(busy):
    from aitop.ui.app import AitopApp

    app = AitopApp(Monitor(SlowCollector(0.5, busy)), interval=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        idle = await _key_round_trips(app, pilot, lambda: True, most=6)  # the baseline: nothing running
        assert app.request_poll()
        await asyncio.sleep(0.05)
        times = await _key_round_trips(app, pilot, lambda: app._poll_busy)
        await app.workers.wait_for_complete()
    print(f"FIGURES f14 keys ({'cpu' if busy else 'io'}-bound poll): {len(times)} presses, "
          f"max {max(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms; "
          f"idle max {max(idle) * 1000:.0f} ms, median {statistics.median(idle) * 1000:.0f} ms")
    assert_answered_like_idle(idle, times)


async def test_f14_keys_answered_while_a_real_scrape_parses_a_big_page(serve):
    from aitop.ui.app import AitopApp

    models = [f"model-{i:03d}" for i in range(60)]
    lines = ["# TYPE llm_request_latency_seconds histogram"]
    for model in models:  # 60 models × 250 buckets: ~15k series to parse in the worker thread
        lines += [f'llm_request_latency_seconds_bucket{{le="{b / 100}",model="{model}"}} {b}' for b in range(1, 250)]
        lines += [f'llm_request_latency_seconds_bucket{{le="+Inf",model="{model}"}} 250',
                  f'llm_request_latency_seconds_count{{model="{model}"}} 250',
                  f'llm_requests_total{{model="{model}",status="success"}} 250']
    page = "\n".join(lines) + "\n"
    collector = scrape(serve(lambda r: Reply(200, page, TEXT)))
    app = AitopApp(Monitor(collector), interval=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        idle = await _key_round_trips(app, pilot, lambda: True, most=6)  # the baseline: nothing running
        assert app.request_poll()
        await asyncio.sleep(0.02)
        times = await _key_round_trips(app, pilot, lambda: app._poll_busy)
        await app.workers.wait_for_complete()
        # (`p` toggles the pause: the poll's result is the latest one, shown or held)
        assert app.latest is not None and len(app.latest.rows) == 60
    print(f"FIGURES f14 keys (real scrape): {len(times)} presses, max {max(times, default=0) * 1000:.0f} ms; "
          f"idle max {max(idle) * 1000:.0f} ms")
    assert_answered_like_idle(idle, times, at_least=1)  # a fast machine parses the page in few presses


# -- F15 ----------------------------------------------------------------------------------------------


async def collect_with_peak(collector):
    """One poll of `collector` (then closed): its result and the peak of memory allocated meanwhile."""
    gc.collect()
    tracemalloc.start()
    try:
        result = await collector.collect()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await collector.aclose()
    return result, peak


async def test_f15_gzip_bomb_stops_at_the_decoded_cap(serve, clock):
    bomb = gzip_bomb(200 * 2**20)  # 200 MiB of '#'
    assert len(bomb) < 256 * 1024
    server = serve(lambda r: Reply(200, bomb, {**TEXT, "Content-Encoding": "gzip"}))
    collector = scrape(server, clock=clock)
    result, peak = await collect_with_peak(collector)
    cap = fetch.MAX_DECODED_BYTES
    assert result.targets[0].error == "response too large: decoded body exceeds the 64 MiB cap"
    assert peak < cap + 2 * 2**20, f"peak {peak / 2**20:.1f} MiB for a {cap / 2**20:.0f} MiB cap"


async def test_f15_gzip_bomb_against_the_prometheus_api(serve, clock):
    bomb = gzip_bomb(200 * 2**20, fill=b" ")  # 200 MiB of JSON whitespace
    api = PrometheusAPI()
    api.fault(lambda r: Reply(200, bomb, {**JSON, "Content-Encoding": "gzip"}) if query_kind(r) == "requests" else None)
    collector = prometheus(serve(api), clock)
    result, peak = await collect_with_peak(collector)
    cap = prom_http.MAX_DECODED_BYTES
    assert any("llm requests: response too large: decoded body exceeds the 32 MiB cap" in w for w in result.warnings)
    assert peak < cap + 4 * 2**20, f"peak {peak / 2**20:.1f} MiB for a {cap / 2**20:.0f} MiB cap"


# -- F26 ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_soak():
    """A short run of tests/faults/soak.py (the full 24 h is run by hand): 60 polls, 20 label sets, 5 %
    replaced per poll, the eviction horizons shortened (history 10 polls, baselines 30, resolved alerts 9)
    so they are reached; structure sizes every 5 polls, every container in the process at 30, 45, 60."""
    watch = ContainerWatch()
    seen = []

    def report(checkpoint):
        seen.append(checkpoint)
        if checkpoint.poll in (30, 45, 60):
            watch.sample()

    result = asyncio.run(soak(60, models=20, churn=0.05, every=5, analysis=short_settings(),
                              history=History(maxlen=30, evict_after=10), report=report))
    growing = watch.growing()
    watch.clear()
    return result, seen, growing


@pytest.mark.xdist_group("faults-soak")  # with the next test on one xdist worker: the soak runs once
def test_f26_soak_structures_reach_a_plateau(short_soak):
    result, seen, _ = short_soak
    assert result.label_sets_seen >= 20 + 60  # one label set replaced per poll
    plateau = [c.sizes for c in seen if c.poll >= 35]  # past every horizon
    for name in plateau[0]:
        sizes = [s[name] for s in plateau]
        assert max(sizes) <= min(sizes) * 1.25 + 15, f"{name} keeps growing: {sizes}"
    last = seen[-1].sizes
    assert last["rows"] == 20 and last["history_rows"] <= 20 + 10 + 1 and last["history_longest"] <= 30
    assert last["window_series"] <= 20 * 11 * 2  # this window's pages only, never every label set seen


@pytest.mark.xdist_group("faults-soak")
def test_f26_no_container_grows_with_label_churn(short_soak):
    *_, growing = short_soak
    assert growing == [], "containers that grow with every new label set: " + "; ".join(growing)
