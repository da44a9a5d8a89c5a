"""aitop against production-like servers — real Prometheus scraping every 15 s and every 60 s,
aitop's clock 30 s ahead (`faketime`), query limits, TLS, VictoriaMetrics' series limit, and a fleet
mixing vLLM V0 and V1.

Each server gets its past written in before it starts (prod_servers.py), so no test waits for scrapes.
aitop runs as a user runs it: `python -m aitop snapshot|check URL`, default flags unless said otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import prod_servers  # noqa: E402
from prod_servers import MIXED_FLEET, backfill, mixed_page, openmetrics_history, scrape_config, serve_page  # noqa: E402

pytestmark = pytest.mark.integration

REL = 1e-3
JOB = "aitop-prod"
HISTORY_S = 900.0  # written before the server starts


def _times(interval: float, span: float = HISTORY_S) -> list[float]:
    """Sample times `interval` apart, the last one just now (ms-aligned, as scrape timestamps are)."""
    now = round(time.time() - 0.5, 3)
    return [round(now - i * interval, 3) for i in range(int(span // interval), -1, -1)]


@pytest.fixture(scope="session")
def fleet():
    """The two mixed-fleet vLLM pages (V0 and V1), served in this process."""
    pages = {version: serve_page(mixed_page(version)) for version in MIXED_FLEET}
    yield pages
    for page in pages.values():
        page.stop()


def _launch(known, tmp: Path, interval: float, exporter, jobs: dict, flags=(), web_config: Path | None = None,
            scheme: str = "http"):
    """A Prometheus scraping `jobs` every `interval` s, `HISTORY_S` of the exporter (and `jobs`' static
    pages) written in first."""
    binary = known.require_binary("prometheus")
    promtool = known.require_binary("promtool")
    pages = {job: (page.target, mixed_page(version)) for job, (version, page) in jobs.items()}
    text = openmetrics_history(known, exporter.t0, _times(interval), JOB, exporter.target, pages)
    backfill(promtool, text, tmp / "data")
    config = scrape_config(tmp / "prometheus.yml", f"{interval:g}s",
                           {JOB: [exporter.target], **{job: [page.target] for job, (_, page) in jobs.items()}})
    port = known.free_port()
    argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn", *flags]
    if web_config is not None:
        argv.append(f"--web.config.file={web_config}")
    return known._Server("prometheus", argv, tmp / "prometheus.log", f"{scheme}://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def prom15(known, exporter, fleet, tmp_path_factory):
    """A Prometheus scraping the exporter and the mixed fleet every 15 s (the common production setting)."""
    jobs = {"vllm-v0": ("v0", fleet["v0"]), "vllm-v1": ("v1", fleet["v1"])}
    server = _launch(known, tmp_path_factory.mktemp("prom15"), 15, exporter, jobs)
    try:
        server.wait_healthy("/-/ready")
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prom60(known, exporter, tmp_path_factory):
    """A Prometheus scraping the exporter every 60 s (Prometheus's own default)."""
    server = _launch(known, tmp_path_factory.mktemp("prom60"), 60, exporter, {})
    try:
        server.wait_healthy("/-/ready")
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prom_limited(known, exporter, tmp_path_factory):
    """15 s scrapes behind `--query.max-samples=30`: the counters (12 series of vLLM's) fit, the
    histograms (3 engines × 23 buckets) do not."""
    server = _launch(known, tmp_path_factory.mktemp("prom-limited"), 15, exporter, {},
                     flags=["--query.max-samples=30"])
    try:
        server.wait_healthy("/-/ready")
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prom_timeout(known, tmp_path_factory):
    """`--query.timeout=1ms` in front of 500 models' histograms: the latency queries cannot finish in time."""
    tmp = tmp_path_factory.mktemp("prom-timeout")
    backfill(known.require_binary("promtool"), prod_servers.many_models_history(500, _times(15, 120)), tmp / "data")
    port = known.free_port()
    argv = [known.require_binary("prometheus"), f"--config.file={scrape_config(tmp / 'p.yml', '15s', {})}",
            f"--storage.tsdb.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
            "--query.timeout=1ms"]
    server = known._Server("prometheus", argv, tmp / "prometheus.log", f"http://127.0.0.1:{port}")
    try:
        server.wait_healthy("/-/ready")
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prom_inf_only(known, tmp_path_factory):
    """A Prometheus holding an OTel GenAI histogram with only a `le="+Inf"` bucket, 2 requests/s."""
    tmp = tmp_path_factory.mktemp("prom-inf-only")
    backfill(known.require_binary("promtool"), prod_servers.inf_only_history("otel-model", _times(15, 300), 2.0),
             tmp / "data")
    port = known.free_port()
    argv = [known.require_binary("prometheus"), f"--config.file={scrape_config(tmp / 'p.yml', '15s', {})}",
            f"--storage.tsdb.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    server = known._Server("prometheus", argv, tmp / "prometheus.log", f"http://127.0.0.1:{port}")
    try:
        server.wait_healthy("/-/ready")
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prom_tls(known, exporter, tmp_path_factory):
    """15 s scrapes, served over HTTPS with a self-signed certificate -> (base URL, CA file)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    tmp = tmp_path_factory.mktemp("prom-tls")
    cert, key = prod_servers.self_signed(tmp)
    web = tmp / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
    server = _launch(known, tmp, 15, exporter, {}, web_config=web, scheme="https")
    try:
        server.wait_until("HTTPS /-/ready", lambda: _ready_tls(server.base_url, cert), time.monotonic() + 30)
        yield server.base_url, cert
    finally:
        server.stop()


def _ready_tls(base: str, cert: Path) -> bool:
    import ssl

    import httpx

    return httpx.get(base + "/-/ready", verify=ssl.create_default_context(cafile=str(cert)), timeout=1).status_code == 200


@pytest.fixture(scope="session")
def vm_limited(known, exporter, tmp_path_factory):
    """VictoriaMetrics with `-search.maxUniqueTimeseries=50` and the exporter's 15 s history imported."""
    tmp = tmp_path_factory.mktemp("vm-limited")
    port = known.free_port()
    argv = [known.require_binary("victoria-metrics"), f"-httpListenAddr=127.0.0.1:{port}",
            f"-storageDataPath={tmp / 'data'}", "-search.latencyOffset=0s", "-search.disableCache",
            "-loggerLevel=WARN", "-search.maxUniqueTimeseries=50"]
    server = known._Server("victoria-metrics", argv, tmp / "vm.log", f"http://127.0.0.1:{port}")
    try:
        server.wait_healthy("/health")
        text = openmetrics_history(known, exporter.t0, _times(15, 300), JOB, exporter.target)
        lines = []
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            head, value, stamp = line.rsplit(" ", 2)
            lines.append(f"{head} {value} {int(round(float(stamp) * 1000))}")
        known.HTTP.post(server.base_url + "/api/v1/import/prometheus", content="\n".join(lines) + "\n",
                        timeout=30).raise_for_status()
        known.HTTP.get(server.base_url + "/internal/force_flush", timeout=10).raise_for_status()
        yield server.base_url
    finally:
        server.stop()


def aitop(*args: str, clock_ahead: float = 0.0) -> subprocess.CompletedProcess:
    """`python -m aitop ARGS`, with aitop's clock `clock_ahead` seconds ahead (libfaketime) when asked."""
    argv = [sys.executable, "-m", "aitop", *args]
    env = dict(os.environ)
    if clock_ahead:
        faketime = shutil.which("faketime")
        if faketime is None:  # skipped without it, failed under AITOP_REQUIRE_INTEGRATION=1 (CI installs it)
            message = "faketime not installed (apt-get install faketime)"
            if os.environ.get("AITOP_REQUIRE_INTEGRATION") == "1":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        argv = [faketime, "-f", f"+{clock_ahead:g}s", *argv]
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=env)


def snapshot_json(*args: str, clock_ahead: float = 0.0) -> dict:
    run = aitop("snapshot", *args, "--format", "json", clock_ahead=clock_ahead)
    assert run.stdout, run.stderr
    return json.loads(run.stdout)


def _seconds(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def _server_fields(known, base: str, window: float, at: float) -> dict[tuple[str, str], dict[str, float]]:
    """The server's own PromQL for the exporter's rows over `window`, evaluated at `at`."""
    w, j = f"{window:g}s", f'job="{JOB}"'
    queries = {
        ("vllm", "model_name", "request_rate"): f"sum by (model_name) (rate(vllm:request_success_total{{{j}}}[{w}]))",
        ("vllm", "model_name", "error_rate"):
            f'sum by (model_name) (rate(vllm:request_success_total{{finished_reason=~"abort|error",{j}}}[{w}]))'
            f" / sum by (model_name) (rate(vllm:request_success_total{{{j}}}[{w}]))",
        ("vllm", "model_name", "latency_p95"): "histogram_quantile(0.95, sum by (le, model_name) "
                                               f"(rate(vllm:e2e_request_latency_seconds_bucket{{{j}}}[{w}])))",
        ("vllm", "model_name", "output_tokens_rate"):
            f"sum by (model_name) (rate(vllm:generation_tokens_total{{{j}}}[{w}]))",
        ("vllm", "model_name", "running"): f"sum by (model_name) (vllm:num_requests_running{{{j}}})",
        ("llm", "model", "request_rate"): f"sum by (model) (rate(llm_requests_total{{{j}}}[{w}]))",
        ("llm", "model", "latency_p95"): "histogram_quantile(0.95, sum by (le, model) "
                                         f"(rate(llm_request_latency_seconds_bucket{{{j}}}[{w}])))",
    }
    out: dict[tuple[str, str], dict[str, float]] = {}
    for (schema, label, field), query in queries.items():
        for group, value in known.promql_by(base, query, label, at=at).items():
            out.setdefault((schema, group), {})[field] = value
    return out


def assert_equals_server(known, base: str, doc: dict) -> None:
    """Every checked field of the exporter's rows equals the server's own PromQL over the window aitop
    says it used, at the instant it says it evaluated (0.1 %)."""
    expected = _server_fields(known, base, doc["window_seconds"], _seconds(doc["evaluated_at"]))
    rows = {(r["schema"], r["group"]): r for r in doc["rows"]}
    assert set(expected) <= set(rows), (sorted(expected), sorted(rows), doc["warnings"], doc["query_errors"])
    for key, fields in expected.items():
        for field, value in fields.items():
            assert rows[key][field] == pytest.approx(value, rel=REL), (key, field, rows[key]["missing"])


def test_snapshot_at_a_15s_scrape_interval_equals_the_servers_promql(known, prom15):
    """Default flags (asked window 10 s): the window used is 4 × 15 s, and every number is the server's."""
    doc = snapshot_json(prom15)
    assert doc["window_requested_seconds"] == 10 and doc["window_seconds"] == 60, doc["warnings"]
    assert doc["scrape_interval_seconds"] == 15
    assert doc["query_errors"] == [] and abs(doc["clock_offset_seconds"]) < 2
    assert_equals_server(known, prom15, doc)


def test_table_footer_says_the_window_used_and_why(prom15):
    run = aitop("snapshot", prom15, "--format", "table")
    assert "window 60.0s (asked 10.0s; scrape interval 15s)" in run.stdout, run.stdout


def test_snapshot_with_the_clock_30s_ahead_evaluates_at_the_servers_time(known, prom15):
    doc = snapshot_json(prom15, clock_ahead=30)
    server_now = float(known._query(prom15, "time()")["result"][0])
    assert doc["clock_offset_seconds"] == pytest.approx(-30, abs=2)
    assert server_now - 30 < _seconds(doc["evaluated_at"]) <= server_now
    assert "clock skew: aitop's clock is 30s ahead of the server's; queries are evaluated at the server's time" \
        in doc["warnings"]
    assert_equals_server(known, prom15, doc)


@pytest.mark.parametrize("clock_ahead", [0, 30])
def test_check_at_a_15s_scrape_interval_judges_the_servers_numbers(known, prom15, clock_ahead):
    """The exporter's data breach the default error-rate rules (qwen 10 %, llama 3 %): CRITICAL, with the
    ratios the server computes — not UNKNOWN "no known AI-serving metrics"."""
    run = aitop("check", prom15, "--format", "json", clock_ahead=clock_ahead)
    result = json.loads(run.stdout)
    assert run.returncode == 2 and result["status"] == "CRITICAL", result["summary"]
    assert result["window_seconds"] == 60
    errors = {(a["schema"], a["group"]): a["value"] for a in result["alerts"] if a["field"] == "error_rate"}
    expected = known.expected_rows()
    assert errors[("vllm", "qwen2.5-72b")] == pytest.approx(expected[("vllm", "qwen2.5-72b")]["error_rate"], rel=REL)
    assert errors[("vllm", "llama-3.1-8b")] == pytest.approx(expected[("vllm", "llama-3.1-8b")]["error_rate"], rel=REL)
    assert not [a for a in result["alerts"] if a["status"] == "UNKNOWN"], result["alerts"]


def test_snapshot_at_a_60s_scrape_interval_has_every_row(known, prom60):
    """Prometheus's default 1 m interval: the window becomes 4 min; all four models, the server's numbers."""
    doc = snapshot_json(prom60, "--window", "30s")
    assert doc["window_seconds"] == 240 and doc["window_requested_seconds"] == 30
    assert {(r["schema"], r["group"]) for r in doc["rows"]} == {
        ("vllm", "llama-3.1-8b"), ("vllm", "qwen2.5-72b"), ("llm", "gpt-4o"), ("llm", "claude-3.5-sonnet")}
    assert_equals_server(known, prom60, doc)


def test_mixed_v0_v1_fleet_has_kv_usage_on_every_row_in_both_modes(prom15, fleet):
    expected = {model: usage for model, _, usage, _ in MIXED_FLEET.values()}
    prom = {r["group"]: r["kv_cache_usage"] for r in snapshot_json(prom15)["rows"] if r["group"] in expected}
    scrape = {r["group"]: r["kv_cache_usage"]
              for r in snapshot_json(*(page.url for page in fleet.values()), "--window", "1s")["rows"]}
    assert prom == expected
    assert scrape == expected


def test_a_query_limit_is_named_with_the_servers_cause_and_check_is_unknown(prom_limited):
    doc = snapshot_json(prom_limited)
    errors = {e["query"]: e["error"] for e in doc["query_errors"]}
    assert "vllm latency p95" in errors, doc["query_errors"]
    assert "query rejected by a server limit (execution): query processing would load too many samples into " \
        "memory in query execution" in errors["vllm latency p95"]
    rows = {(r["schema"], r["group"]): r for r in doc["rows"]}
    llama = rows[("vllm", "llama-3.1-8b")]
    assert llama["request_rate"] is not None  # the counters fit under the limit
    assert llama["latency_p95"] is None and llama["missing"]["latency_p95"] == "query rejected by a server limit"
    table = aitop("snapshot", prom_limited, "--format", "table").stdout
    assert "QUERY FAILED vllm latency p95: query rejected by a server limit" in table
    # The error-rate rules still see their (answered) queries and breach: CRITICAL outranks UNKNOWN; the
    # latency rule's failed queries are named, never judged OK.
    run = aitop("check", prom_limited)
    assert run.returncode == 2, run.stdout
    assert "UNKNOWN: query failed: vllm latency p95: query rejected by a server limit" in run.stdout, run.stdout


def test_tls_failure_is_reported_as_tls_not_as_a_refused_connection(prom_tls):
    base, cert = prom_tls
    doc = snapshot_json(base, "--prometheus")
    error = doc["targets"][0]["error"]
    assert error.startswith("TLS failure: certificate not accepted"), error
    assert "--ca-file" in error and "refused" not in error
    trusted = snapshot_json(base, "--prometheus", "--ca-file", str(cert))
    assert trusted["targets"][0]["up"] and trusted["rows"], trusted


def test_victoria_metrics_series_limit_keeps_the_whole_cause(vm_limited):
    doc = snapshot_json(vm_limited)
    errors = {e["query"]: e["error"] for e in doc["query_errors"]}
    assert "vllm latency p95" in errors, (doc["query_errors"], doc["warnings"])
    cause = errors["vllm latency p95"]
    assert cause.count("query rejected by a server limit") == 1
    # The cause comes ~400 characters into VictoriaMetrics' message: kept whole.
    assert cause.index("the number of matching timeseries exceeds 50") > 300, cause
    assert "-search.max" in cause, cause
    run = aitop("check", vm_limited)
    assert "UNKNOWN: query failed: vllm latency p95: query rejected by a server limit" in run.stdout, run.stdout


def test_check_is_never_ok_while_its_latency_queries_time_out(prom_timeout):
    """No rule is breached by what answers (no errors at all), but the latency queries time out on the
    server: UNKNOWN, saying so — never `AITOP OK`."""
    run = aitop("check", prom_timeout, "--window", "60s")
    assert run.returncode == 3 and run.stdout.startswith("AITOP UNKNOWN"), run.stdout
    # Which queries beat 1 ms varies; the histograms' never do. Prometheus says "query timed out in
    # expression evaluation" or "expanding series: context deadline exceeded": both are timeouts.
    assert "query timed out on the server (timeout: " in run.stdout, run.stdout
    assert "query rejected" not in run.stdout, run.stdout


def test_mixed_fleet_drill_down_reads_each_rows_own_kv_spelling(prom15):
    """The V0 row's history and breakdown read `gpu_cache_usage_perc`, as its table row does, although the
    plan's first spelling is V1's `kv_cache_usage_perc` (joined with `or`, one spelling per row)."""
    import asyncio

    from aitop.sources.prometheus.collector import PrometheusCollector

    model, _, usage, _ = MIXED_FLEET["v0"]
    collector = PrometheusCollector(prom15, window=30.0, timeout=10)

    async def drill():
        rows = {row.key: row for row in (await collector.collect()).rows}
        history = await collector.history(("vllm", model), ["kv_cache_usage"], 120)
        breakdown = await collector.breakdown(("vllm", model), "job")
        await collector.aclose()
        return rows, history, breakdown

    rows, history, breakdown = asyncio.run(drill())
    assert rows[("vllm", model)].values["kv_cache_usage"] == pytest.approx(usage)
    points = [value for _, value in history["kv_cache_usage"] if value is not None]
    assert points and all(value == pytest.approx(usage) for value in points), history
    assert {row.group: row.values.get("kv_cache_usage") for row in breakdown} == {"vllm-v0": pytest.approx(usage)}


def test_an_inf_only_histogram_is_named_as_in_scrape_mode(prom_inf_only):
    """histogram_quantile gives NaN for a histogram without bounds: the reason is the histogram's, not the
    traffic's — the request rate is there."""
    (row,) = snapshot_json(prom_inf_only)["rows"]
    assert (row["schema"], row["group"]) == ("otel_genai", "otel-model")
    assert row["request_rate"] == pytest.approx(2.0, rel=REL)
    for name in ("latency_p50", "latency_p95", "latency_p99"):
        assert row[name] is None and row["missing"][name] == "histogram has only a +Inf bucket"
