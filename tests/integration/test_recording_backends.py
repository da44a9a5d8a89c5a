"""Must show: a recording loads into a real Prometheus (`promtool tsdb create-blocks-from openmetrics`, then
/usr/bin/prometheus on that data directory) and into a real VictoriaMetrics (`/api/v1/import/prometheus`),
and their PromQL over it equals aitop's replay of the same file.

Exactness: aitop's replay of a W-second window is the increase between two recorded scrapes (the latest at
T, the newest at least W before it, Tb) divided by T - Tb. The servers are asked for the same thing in
PromQL — `sum(x)` at T minus at Tb, and `histogram_quantile` over the bucket increases by `offset` — which
must agree to float precision (1e-9; 1e-6 for VictoriaMetrics' own histogram_quantile). Their `rate()`
extrapolates to the window's edges, so it is held to 1 % (the recorded scrapes are ~1 s apart but not
exactly, and the exporter is linear in its own clock).
"""

from __future__ import annotations

import asyncio
import gzip
import math
import subprocess
import time

import pytest

from aitop.cli import main
from aitop.recording.reader import read_recording
from aitop.recording.replay import ReplayCollector

pytestmark = pytest.mark.integration

WINDOW = 5.0


def _ceil_ms(stamp: float) -> int:
    return math.ceil(stamp * 1000)


@pytest.fixture(scope="module")
def recorded(exporter, tmp_path_factory, known):
    """8 s of the linear exporter recorded by the real `aitop record` command (gzip), its replay's rows,
    and the two scrape times the replay's window spans."""
    tmp = tmp_path_factory.mktemp("recording")
    path = tmp / "linear.om.gz"
    assert main(["record", exporter.url, "--output", str(path), "--duration", "8s", "--interval", "1s"]) == 0
    recording = read_recording(path)
    assert recording.complete
    (scrapes,) = recording.targets.values()
    latest = scrapes.times[-1]
    base = scrapes.times[scrapes.last_at(latest - WINDOW)]
    collected = asyncio.run(ReplayCollector(recording, window=WINDOW).collect())
    rows = {(row.schema, row.group): row.values for row in collected.rows}
    assert collected.window_seconds == latest - base
    return path, rows, latest, base


def _server_view(base_url: str, known, latest: float, base: float) -> dict[str, dict[str, float]]:
    at, offset = _ceil_ms(latest) / 1000, _ceil_ms(latest) - _ceil_ms(base)
    span = latest - base
    now = known.promql_by(base_url, "sum by (model_name) (vllm:request_success_total)", "model_name", at=at)
    then = known.promql_by(base_url, "sum by (model_name) (vllm:request_success_total)", "model_name", at=at - offset / 1000)
    bucket = "vllm:e2e_request_latency_seconds_bucket"
    p95 = known.promql_by(
        base_url,
        f"histogram_quantile(0.95, sum by (le, model_name) ({bucket}) - sum by (le, model_name) ({bucket} offset {offset}ms))",
        "model_name", at=at,
    )
    rate = known.promql_by(
        base_url, f"sum by (model_name) (rate(vllm:request_success_total[{WINDOW + 1:g}s]))", "model_name", at=at
    )
    return {
        "request_rate": {model: (now[model] - then[model]) / span for model in now},
        "latency_p95": p95,
        "rate()": rate,
    }


def _wait_for_sample_at(base_url: str, known, latest: float) -> None:
    """VictoriaMetrics makes freshly imported samples searchable in batches: wait for the latest one."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        known.HTTP.get(base_url + "/internal/force_flush", timeout=10).raise_for_status()
        stamps = known.promql(base_url, "max(timestamp(vllm:request_success_total))", at=_ceil_ms(latest) / 1000)
        if stamps and max(stamps.values()) * 1000 >= _ceil_ms(latest) - 1:
            return
        time.sleep(0.5)
    raise AssertionError("VictoriaMetrics did not make the imported recording's last scrape searchable in 30 s")


def _compare(view, rows, rel_quantile: float) -> None:
    models = {group for schema, group in rows if schema == "vllm"}
    assert models and set(view["request_rate"]) == models
    for model in models:
        row = rows[("vllm", model)]
        assert row["request_rate"] == pytest.approx(view["request_rate"][model], rel=1e-9), model
        assert row["latency_p95"] == pytest.approx(view["latency_p95"][model], rel=rel_quantile), model
        assert row["request_rate"] == pytest.approx(view["rate()"][model], rel=0.01), model


@pytest.mark.timeout(120)
def test_prometheus_loads_the_recording_with_promtool_and_agrees(recorded, tmp_path, known):
    path, rows, latest, base = recorded
    plain = tmp_path / "linear.om"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    data = tmp_path / "data"
    promtool = known.require_binary("promtool")
    done = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(plain), str(data)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\n")
    port = known.free_port()
    server = known._Server("prometheus", [
        known.require_binary("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
    ], tmp_path / "prometheus.log", f"http://127.0.0.1:{port}")
    try:
        server.wait_healthy("/-/ready")
        _compare(_server_view(server.base_url, known, latest, base), rows, rel_quantile=1e-9)
    finally:
        server.stop()


@pytest.mark.timeout(120)
def test_victoria_metrics_imports_the_recording_and_agrees(recorded, tmp_path, known):
    path, rows, latest, base = recorded
    server = known.start_victoria_metrics(tmp_path)
    try:
        server.wait_healthy("/health")
        answer = known.HTTP.post(server.base_url + "/api/v1/import/prometheus",
                                 content=gzip.decompress(path.read_bytes()), timeout=30)
        assert answer.status_code == 204, answer.text
        _wait_for_sample_at(server.base_url, known, latest)
        _compare(_server_view(server.base_url, known, latest, base), rows, rel_quantile=1e-6)
    finally:
        server.stop()
