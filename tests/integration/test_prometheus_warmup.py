"""Prometheus mode's warm-up and alert state, against a real Prometheus scraping an exporter this module
controls (every second, on 127.0.0.1): the server's history counts (a model with a full window is judged on
the first refresh, one whose series began seconds ago is warming), a restarted exporter (its counters back
to zero) starts its row's warm-up again, and an alert keeps its state and `since` while the view is
regrouped, because the per-model rows are queried beside the regrouped ones.

Time bounds are measured against the run's own refresh spacing or the server's own samples, never a fixed
wall-clock figure.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aitop.analysis.configure import parse_analysis
from aitop.model import WARMUP_SLACK
from aitop.monitor import Monitor
from aitop.sources.prometheus.collector import PrometheusCollector

pytestmark = pytest.mark.integration

WINDOW = 4.0  # four scrape intervals: the shortest window Prometheus mode uses at a 1 s scrape interval
RATE = 20.0  # requests/s per model
BOUNDS = (1.0, 2.0, 4.0)  # every request of a phase in one bucket: p95 is 3.9 s in (2, 4], 1.95 s in (1, 2]
SLOW, FAST = 4.0, 2.0
FOR, KEEP_FIRING_FOR, MISSING_GRACE = 1.0, 2.0, 2.0
JOB = "warmup-exporter"


class Exporter:
    """`llm_*` series of the models the test adds, on one port: counters grow at `RATE`/s in wall time, every
    request in the latency bucket the model's `le` says. `restart()` stops serving and serves again on the
    same port with every counter back at zero, as a restarted server process does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, tuple[float, dict[float, float], float]] = {}  # model -> (le, counts, since)
        self.server = self._serve(0)
        self.port = self.server.server_port
        self.target = f"127.0.0.1:{self.port}"

    def _serve(self, port: int) -> ThreadingHTTPServer:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.page().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    def add(self, model: str, le: float) -> None:
        """Serve `model`'s series from now on, every request in the bucket with upper bound `le`."""
        with self._lock:
            self._models[model] = (le, {bound: 0.0 for bound in (*BOUNDS, float("inf"))}, time.monotonic())

    def step(self, model: str, le: float) -> None:
        with self._lock:
            self._settle()
            _, counts, since = self._models[model]
            self._models[model] = (le, counts, since)

    def restart(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            self._models = {m: (le, dict.fromkeys(c, 0.0), time.monotonic()) for m, (le, c, _) in self._models.items()}
        self.server = self._serve(self.port)

    def _settle(self) -> None:
        now = time.monotonic()
        for model, (le, counts, since) in self._models.items():
            for bound in counts:
                if bound >= le:
                    counts[bound] += RATE * (now - since)
            self._models[model] = (le, counts, now)

    def page(self) -> str:
        lines = ["# TYPE llm_requests_total counter", "# TYPE llm_request_latency_seconds histogram"]
        with self._lock:
            self._settle()
            for model, (_, counts, _) in self._models.items():
                total = counts[float("inf")]
                lines.insert(1, f'llm_requests_total{{model="{model}",status="success"}} {total}')
                for bound, count in counts.items():
                    le = "+Inf" if bound == float("inf") else f"{bound}"
                    lines.append(f'llm_request_latency_seconds_bucket{{model="{model}",le="{le}"}} {count}')
                lines.append(f'llm_request_latency_seconds_sum{{model="{model}"}} {total * 1.5}')
                lines.append(f'llm_request_latency_seconds_count{{model="{model}"}} {total}')
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_prometheus(known, tmp: Path, target: str):
    """A fresh Prometheus (its own data directory) scraping `target` every second, started, not waited for."""
    binary = known.require_binary("prometheus")
    port = known.free_port()
    config = tmp / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                      f"  - job_name: {JOB}\n    static_configs:\n      - targets: ['{target}']\n")
    return known._Server("prometheus", [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
                                        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                         tmp / "prometheus.log", f"http://127.0.0.1:{port}")


@pytest.fixture(scope="module")
def exporter() -> Iterator[Exporter]:
    served = Exporter()
    try:
        yield served
    finally:
        served.close()


@pytest.fixture(scope="module")
def prometheus(known, exporter, tmp_path_factory) -> Iterator[str]:
    exporter.add("steady", FAST)
    server = start_prometheus(known, tmp_path_factory.mktemp("prometheus-warmup"), exporter.target)
    try:
        server.wait_healthy("/-/ready")
        yield server.base_url
    finally:
        server.stop()


def series_age(known, base: str, model: str) -> float:
    """Seconds since the server's oldest sample of `model`'s request counter within the last 5 minutes (0:
    none yet): what the server itself holds, independent of aitop."""
    data = known._query(base, f'llm_requests_total{{model="{model}"}}[5m]')
    stamps = [float(t) for series in data["result"] for t, _ in series["values"]]
    return time.time() - min(stamps) if stamps else 0.0


def wait_for_age(known, base: str, model: str, seconds: float) -> None:
    deadline = time.monotonic() + 60
    while series_age(known, base, model) < seconds:
        assert time.monotonic() < deadline, f"the server holds no {seconds:g}s of {model}"
        time.sleep(0.2)


def watch(base: str, tmp: Path, config: str, *args: str, window: float = WINDOW) -> subprocess.Popen:
    path = tmp / "config.toml"
    path.write_text(config)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("AITOP_CONFIG", None)
    return subprocess.Popen([sys.executable, "-m", "aitop", "watch", base, "--format", "jsonl", "--window",
                             f"{window:g}s", "--interval", "0.5s", "--config", str(path), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def lines(process: subprocess.Popen) -> Iterator[dict]:
    assert process.stdout is not None
    for line in process.stdout:
        yield json.loads(line)


def taken(snapshot: dict) -> float:
    return datetime.fromisoformat(snapshot["taken_at"]).timestamp()


def row(snapshot: dict, model: str) -> dict | None:
    return next((r for r in snapshot["rows"] if r["group"] == model), None)


LATENCY_RULE = f"""
[[rules]]
name = "latency_p95_critical"
for = "{FOR:g}s"
keep_firing_for = "{KEEP_FIRING_FOR:g}s"
"""


#: Long enough that aitop's start-up (seconds, on a loaded machine) never fills the new model's window first.
FIRST_WINDOW = 15.0


@pytest.mark.timeout(120)
def test_a_model_with_a_full_window_on_the_server_is_judged_at_once_a_new_one_warms_up(known, prometheus, exporter,
                                                                                        tmp_path):
    exporter.add("slow", SLOW)
    wait_for_age(known, prometheus, "slow", FIRST_WINDOW + 2)
    exporter.add("new", SLOW)
    wait_for_age(known, prometheus, "new", 1.0)  # two samples: its rates exist, over a part of the window
    born = time.time() - series_age(known, prometheus, "new")  # the server's first sample of it
    process = watch(prometheus, tmp_path, LATENCY_RULE, "--count", "1", window=FIRST_WINDOW)
    try:
        (first,) = list(lines(process))
    finally:
        stop(process)
    slow, new = row(first, "slow"), row(first, "new")
    assert slow is not None and new is not None
    assert taken(first) - born < FIRST_WINDOW * WARMUP_SLACK - 1, "aitop started too late to see a young series"
    # The server holds the slow model's whole window: judged on aitop's first refresh, its alert pending.
    assert slow["warming"] is False
    assert slow["severity"]["latency_p95"] == "critical"
    alerts = {a["group"]: a for a in first["alerts"] if a["rule"] == "latency_p95_critical"}
    assert alerts["slow"]["state"] == "pending"
    # The new model's series began a moment ago: warming, unjudged, no alert, however slow it is.
    assert new["warming"] is True and "new" not in alerts
    assert new["severity"].get("latency_p95", "ok") == "ok"


@pytest.mark.timeout(120)
def test_a_restarted_exporter_starts_its_rows_warm_up_again(known, prometheus, exporter, tmp_path):
    wait_for_age(known, prometheus, "steady", 2 * WINDOW)
    process = watch(prometheus, tmp_path, "")
    try:
        stream = lines(process)
        for snapshot in stream:
            steady = row(snapshot, "steady")
            if steady is not None:
                break
        assert steady is not None and steady["warming"] is False  # a full window on the server already
        exporter.restart()
        restarted = time.time()
        seen_warming = judged_again = None
        previous, gaps = None, []
        for snapshot in stream:
            now = taken(snapshot)
            if previous is not None:
                gaps.append(now - previous)
            previous = now
            steady = row(snapshot, "steady")
            if steady is None:
                continue
            if steady["warming"] and seen_warming is None:
                seen_warming = now
            if seen_warming is not None and not steady["warming"]:
                judged_again = now
                break
            if now - restarted > 10 * WINDOW:  # a failure says so, not a test timeout
                break
        assert seen_warming is not None, "the row never warmed up again after its counters reset"
        assert judged_again is not None, "the row stayed warming"
        # Judged again once a window has passed since the reset (the server's first sample after it).
        assert judged_again - restarted >= WINDOW * WARMUP_SLACK - 0.1  # (0.1 s: the clocks' offset, learned)
        assert judged_again - seen_warming <= WINDOW + 3 * max(gaps)
    finally:
        stop(process)


@pytest.mark.timeout(120)
async def test_regrouped_the_alert_stays_judged_on_the_model_rows_then_resolves(known, prometheus, exporter):
    exporter.add("regrouped", SLOW)
    wait_for_age(known, prometheus, "regrouped", 2 * WINDOW)
    settings, _ = parse_analysis({"rules": [{"name": "latency_p95_critical", "for": f"{FOR:g}s",
                                             "keep_firing_for": f"{KEEP_FIRING_FOR:g}s"}],
                                  "alerts": {"missing_grace": f"{MISSING_GRACE:g}s"}})
    monitor = Monitor(PrometheusCollector(prometheus, window=WINDOW, timeout=5), analysis=settings, warmup=True)

    def alert(snapshot):
        return next((a for a in snapshot.alerts if a.rule == "latency_p95_critical" and a.group == "regrouped"), None)

    try:
        deadline = time.monotonic() + 60
        while (fired := alert(snapshot := await monitor.refresh())) is None or fired.state != "firing":
            assert time.monotonic() < deadline, "the alert never fired"
            await asyncio.sleep(0.5)
        monitor.group_by = "instance"
        regrouped = snapshot.taken_at
        while snapshot.taken_at - regrouped <= 2 * MISSING_GRACE:  # past the grace of an unjudged alert
            await asyncio.sleep(0.5)
            snapshot = await monitor.refresh()
            assert {r.group_label for r in snapshot.rows} == {"instance"}  # the table shows the regrouped rows
            now = alert(snapshot)
            assert now is not None and now.state == "firing" and now.since == fired.since, now

        exporter.step("regrouped", FAST)
        stepped = time.time()
        gaps, previous = [], snapshot.taken_at
        while (now := alert(snapshot)) is not None and now.state == "firing":
            assert snapshot.taken_at - stepped < 10 * (WINDOW + KEEP_FIRING_FOR), "the alert never resolved"
            await asyncio.sleep(0.5)
            snapshot = await monitor.refresh()
            gaps.append(snapshot.taken_at - previous)
            previous = snapshot.taken_at
        assert monitor.group_by == "instance"
        assert now is not None and now.state == "resolved" and "no data" not in now.message, now
        assert now.value == pytest.approx(1.95, rel=0.01)  # resolved on the model row's own value
        assert snapshot.taken_at - stepped <= WINDOW + KEEP_FIRING_FOR + 2 * max(gaps)
    finally:
        await monitor.aclose()


DEMO_WINDOW = 30.0  # the TUI's default: the window the demo's healthy fleet is known to sit quiet in
DEMO_BUDGET = """
[[rules]]
name = "cost_per_day_warning"
threshold = 10000
"""  # as `aitop --demo` raises it: the demo's hosted models spend like real ones


@pytest.mark.timeout(180)
def test_a_fresh_prometheus_over_a_fresh_demo_warms_up_from_its_first_sample_and_raises_no_alert(
        known, tmp_path, monkeypatch):
    from aitop import demo

    monkeypatch.setattr(demo, "incident_at", lambda t: None)  # the calm fleet: no scripted incident,
    # and no chance failure: at the demo's 0.03 % a 30 s window of qwen's ~120 requests still draws two now
    # and then, a real 1.7 % past the 1 % warning (seen once in a CI run) — data, not a warm-up question.
    monkeypatch.setattr(demo, "MODELS", tuple(replace(model, error=0.0) for model in demo.MODELS))
    fleet = demo.DemoFleet(seed=0)
    target = fleet.start(0).removeprefix("http://").removesuffix("/metrics")
    server = start_prometheus(known, tmp_path, target)
    process = None
    try:
        server.wait_healthy("/-/ready")
        # aitop detects schemas from the metric names: start it once the server has scraped the fleet once.
        server.wait_until("the demo's first scrape", lambda: known.promql(server.base_url, "llm_requests_total"),
                          time.monotonic() + known.STARTUP_TIMEOUT_S)
        first = min(float(t) for series in known._query(server.base_url, "llm_requests_total[5m]")["result"]
                    for t, _ in series["values"])  # the server's oldest sample of the fleet
        process = watch(server.base_url, tmp_path, DEMO_BUDGET, window=DEMO_WINDOW)
        seen = []
        for snapshot in lines(process):
            if snapshot["rows"]:
                seen.append(snapshot)
            if taken(snapshot) - first > DEMO_WINDOW + 3:  # a few refreshes past a full window
                break
    finally:
        if process is not None:
            stop(process)
        server.stop()
        fleet.stop()
    warming = [s for s in seen if taken(s) - first < DEMO_WINDOW * WARMUP_SLACK - 1]
    # No alert while the server holds less than a window: the start-up claim. Once judged on full windows,
    # the calm fleet's chance data may cross a limit for real (a 10.1 % 👎 share was seen once in CI).
    assert [a for s in seen if taken(s) - first < DEMO_WINDOW for a in s["alerts"]] == []
    judged = [s for s in seen if taken(s) - first > DEMO_WINDOW + 1]
    assert warming, "no refresh while the server held less than a window"
    assert all(r["warming"] for s in warming for r in s["rows"])  # judged on a part of a window: never
    assert judged and not any(r["warming"] for s in judged for r in s["rows"])  # from the server's first sample
