"""A real Prometheus holding backfilled history (promtool), for what reads a server's past:

- `aitop record SERVER --output FILE --duration D` (the raw series behind the catalog's concepts): the
  recording replays to the same rows as `aitop snapshot SERVER` over the same window (0.1 %);
- `aitop snapshot SERVER --at T` equals the server's own PromQL evaluated at T.

The history is an `llm_*` app on two targets, every counter linear in time, one sample per 15 s, from
40 minutes before the test to 15 minutes after it (so a rate at the server's "now" has samples on both
sides of its window and Prometheus's extrapolation equals the slope). At RESTART the second target restarts:
its counters start again from zero and its `process_start_time_seconds` changes.
"""

from __future__ import annotations

import json
import math
import subprocess
import time

import pytest

from aitop.cli import main
from aitop.recording.reader import read_recording

pytestmark = pytest.mark.integration

STEP = 15.0
#: model -> (instance, successes/s, errors/s, input tokens/s, output tokens/s)
MODELS = {
    "alpha": ("10.0.0.1:8000", 5.0, 0.5, 100.0, 40.0),
    "beta": ("10.0.0.2:8000", 3.0, 0.0, 60.0, 30.0),
}
#: Fraction of requests at or under each latency bucket bound.
BUCKETS = ((0.5, 0.1), (1.0, 0.5), (2.0, 0.9), (4.0, 1.0), (math.inf, 1.0))
NUMERIC = ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "input_tokens_rate",
           "output_tokens_rate", "cost_per_hour")


def _history(t0: float, restart: float, end: float) -> str:
    lines: dict[str, list[str]] = {"llm_requests": [], "llm_request_latency_seconds": [], "llm_input_tokens": [],
                                   "llm_output_tokens": [], "process_start_time_seconds": [],
                                   "vllm:cache_config_info": []}
    t = t0
    while t <= end:
        for model, (instance, ok, errors, tokens_in, tokens_out) in MODELS.items():
            started = restart if model == "beta" and t >= restart else t0 - 3600.0
            age = t - max(started, t0)  # seconds the counters have been counting
            labels = f'instance="{instance}",job="llm",model="{model}"'
            lines["llm_requests"] += [f'llm_requests_total{{{labels},status="success"}} {ok * age} {t:.3f}',
                                      f'llm_requests_total{{{labels},status="error"}} {errors * age} {t:.3f}']
            count = (ok + errors) * age
            for bound, share in BUCKETS:
                le = "+Inf" if bound == math.inf else repr(bound)
                lines["llm_request_latency_seconds"].append(
                    f'llm_request_latency_seconds_bucket{{{labels},le="{le}"}} {count * share} {t:.3f}')
            lines["llm_request_latency_seconds"] += [
                f"llm_request_latency_seconds_count{{{labels}}} {count} {t:.3f}",
                f"llm_request_latency_seconds_sum{{{labels}}} {count * 1.2} {t:.3f}"]
            lines["llm_input_tokens"].append(f"llm_input_tokens_total{{{labels}}} {tokens_in * age} {t:.3f}")
            lines["llm_output_tokens"].append(f"llm_output_tokens_total{{{labels}}} {tokens_out * age} {t:.3f}")
            lines["process_start_time_seconds"].append(
                f'process_start_time_seconds{{instance="{instance}",job="llm"}} {started} {t:.3f}')
            block = 32 if model == "beta" and t >= restart else 16  # beta's new deployment
            lines["vllm:cache_config_info"].append(
                f'vllm:cache_config_info{{block_size="{block}",instance="{instance}",job="llm"}} 1 {t:.3f}')
        t += STEP
    kinds = {"llm_requests": "counter", "llm_request_latency_seconds": "histogram", "llm_input_tokens": "counter",
             "llm_output_tokens": "counter", "process_start_time_seconds": "gauge",
             "vllm:cache_config_info": "gauge"}
    out = []
    for family, body in lines.items():
        out.append(f"# TYPE {family} {kinds[family]}")
        out += body
    return "\n".join(out) + "\n# EOF\n"


@pytest.fixture(scope="module")
def history(tmp_path_factory, known):
    """(base URL, t0, restart time) of a real Prometheus holding the backfilled history."""
    tmp = tmp_path_factory.mktemp("history")
    now = time.time()
    t0 = math.floor((now - 2400.0) / STEP) * STEP
    restart = t0 + 1200.0
    source = tmp / "history.om"
    source.write_text(_history(t0, restart, now + 900.0))
    data = tmp / "data"
    done = subprocess.run([known.require_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics",
                           str(source), str(data)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    config = tmp / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: {STEP:g}s\n")
    port = known.free_port()
    server = known._Server("prometheus", [
        known.require_binary("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
    ], tmp / "prometheus.log", f"http://127.0.0.1:{port}")
    try:
        server.wait_healthy("/-/ready")
        yield server.base_url, t0, restart
    finally:
        server.stop()


def _rows(capsys, argv) -> dict:
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    return {(row["schema"], row["group"]): row for row in document["rows"]}, document


def _assert_same(rows, expected, rel):
    assert rows.keys() == expected.keys() and len(rows) == 2
    compared = 0
    for key, row in rows.items():
        for field in NUMERIC:
            if expected[key][field] is None:
                assert row[field] is None, (key, field)
            else:
                assert row[field] == pytest.approx(expected[key][field], rel=rel), (key, field)
                compared += 1
    assert compared >= 2 * 7


@pytest.mark.timeout(120)
def test_a_recording_taken_from_prometheus_replays_to_the_rows_of_a_snapshot_of_the_server(
        history, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AITOP_CONFIG_DIR", str(tmp_path))
    url, t0, restart = history
    path = tmp_path / "from-server.om.gz"
    assert main(["record", url, "--output", str(path), "--duration", "10m"]) == 0
    told = capsys.readouterr().err
    assert "aitop: recorded " in told and "of 2 target(s)" in told
    recording = read_recording(path)
    assert recording.complete and recording.notes == ()
    assert set(recording.targets) == {"10.0.0.1:8000", "10.0.0.2:8000"}
    stamps = recording.targets["10.0.0.1:8000"].times
    assert all(math.isclose((b - a), STEP) for a, b in zip(stamps, stamps[1:]))  # the scrapes' own times
    assert len(stamps) == 40  # 10 minutes of 15 s scrapes, not resampled, none twice

    live, live_doc = _rows(capsys, ["snapshot", url, "--window", "2m", "--format", "json"])
    assert live_doc["source"]["kind"] == "prometheus"
    replayed, doc = _rows(capsys, ["snapshot", str(path), "--window", "2m", "--format", "json"])
    assert doc["source"]["kind"] == "replay" and doc["window_seconds"] == 120.0
    _assert_same(replayed, live, rel=1e-3)
    # And both are the history's slopes.
    assert replayed[("llm", "alpha")]["request_rate"] == pytest.approx(5.5, rel=1e-9)
    assert replayed[("llm", "alpha")]["error_rate"] == pytest.approx(0.5 / 5.5, rel=1e-9)

    # --at: the span ends there (the server's past), not now.
    at = restart + 300.0
    past = tmp_path / "past.om"
    assert main(["record", url, "--output", str(past), "--duration", "5m", "--at", f"{at:.3f}"]) == 0
    recording = read_recording(past)
    assert at - STEP <= recording.end <= at and recording.start > at - 300.0
    assert len(recording.targets["10.0.0.2:8000"].times) == 20


@pytest.mark.timeout(120)
def test_snapshot_at_a_past_instant_equals_the_servers_own_promql_at_that_instant(history, tmp_path, monkeypatch,
                                                                                  capsys, known):
    monkeypatch.setenv("AITOP_CONFIG_DIR", str(tmp_path))
    url, t0, restart = history
    at = restart + 37.5  # beta's counters restarted inside this window; between two scrapes
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + ".500Z"
    rows, doc = _rows(capsys, ["snapshot", url, "--window", "2m", "--at", stamp, "--format", "json"])
    assert doc["at"] == stamp.replace(".500Z", ".500Z") and doc["evaluated_at"] == stamp
    requests = known.promql_by(url, "sum by (model) (rate(llm_requests_total[2m]))", "model", at=at)
    errors = known.promql_by(url, 'sum by (model) (rate(llm_requests_total{status="error"}[2m]))', "model", at=at)
    p95 = known.promql_by(
        url, "histogram_quantile(0.95, sum by (le, model) (rate(llm_request_latency_seconds_bucket[2m])))",
        "model", at=at)
    tokens = known.promql_by(url, "sum by (model) (rate(llm_output_tokens_total[2m]))", "model", at=at)
    now = known.promql_by(url, "sum by (model) (rate(llm_requests_total[2m]))", "model")
    assert requests["beta"] != pytest.approx(now["beta"], rel=0.01)  # the instant matters: a reset in the window
    for model in ("alpha", "beta"):
        row = rows[("llm", model)]
        assert row["request_rate"] == pytest.approx(requests[model], rel=1e-9), model
        assert row["error_rate"] == pytest.approx(errors.get(model, 0.0) / requests[model], rel=1e-9, abs=1e-12)
        assert row["latency_p95"] == pytest.approx(p95[model], rel=1e-9), model
        assert row["output_tokens_rate"] == pytest.approx(tokens[model], rel=1e-9), model

    # -DURATION counts back from now.
    before = time.time()
    _, doc = _rows(capsys, ["snapshot", url, "--window", "2m", "--at=-20m", "--format", "json"])
    from datetime import datetime

    evaluated = datetime.fromisoformat(doc["at"].replace("Z", "+00:00")).timestamp()
    assert before - 1200 - 1 <= evaluated <= time.time() - 1200 + 1


@pytest.mark.timeout(120)
def test_restart_and_deployment_markers_come_from_the_servers_history(history):
    import asyncio

    from aitop.sources.prometheus.collector import PrometheusCollector

    url, t0, restart = history

    async def markers():
        collector = PrometheusCollector(url, window=120.0)
        try:
            await collector.collect()
            return (await collector.history_markers(("llm", "beta"), 1800.0),
                    await collector.history_markers(("llm", "alpha"), 1800.0))
        finally:
            await collector.aclose()

    beta, alpha = asyncio.run(markers())
    assert alpha == []  # alpha's target did not restart; its history began before the range
    kinds = sorted((m.kind, m.text) for m in beta)
    assert kinds == [("deploy", "vllm:cache_config_info new on 10.0.0.2:8000: block_size=32"),
                     ("restart", "10.0.0.2:8000 restarted (process start time changed)")]
    for marker in beta:  # placed within one step (history_step(1800) = 15 s) of the event
        assert restart <= marker.at <= restart + 15.0, marker
        assert marker.applies_to(("llm", "beta"))
