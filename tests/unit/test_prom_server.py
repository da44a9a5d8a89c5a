"""What Prometheus mode learns about a server: scrape intervals (targets, config), clock skew, windows."""

from __future__ import annotations

import ssl

import pytest
import requests
import urllib3.exceptions

from aitop.catalog import builtin_schemas
from aitop.model import Missing
from aitop.sources.prometheus.results import assemble_rows
from aitop.sources.prometheus.drill import history_window
from aitop.sources.prometheus.server import (
    intervals_from_config,
    intervals_from_targets,
    longest_interval,
    parse_duration,
    rate_window,
    skew_warning,
)
from aitop.sources.prometheus.promql import instant_queries, plan_schemas
from aitop.sources.prometheus.history import history_step
from aitop.transport import tls_failure

# The shape Prometheus 2.42 answers /api/v1/targets and /api/v1/status/config with (trimmed).
TARGETS = {"status": "success", "data": {"activeTargets": [
    {"labels": {"instance": "a:8000", "job": "vllm"}, "scrapePool": "vllm", "scrapeInterval": "15s"},
    {"labels": {"instance": "b:8000", "job": "vllm"}, "scrapePool": "vllm", "scrapeInterval": "30s"},
    {"discoveredLabels": {"job": "node", "__scrape_interval__": "1m"}, "labels": {"job": "node"}},
    {"labels": {"job": "broken"}, "scrapeInterval": "soon"},
]}}
CONFIG = """global:
  scrape_interval: 1m
  scrape_timeout: 10s
  evaluation_interval: 1m
scrape_configs:
- job_name: vllm
  honor_timestamps: true
  scrape_interval: 15s
  scrape_timeout: 10s
  static_configs:
  - targets:
    - 127.0.0.1:8000
- job_name: "gateway"
  metrics_path: /metrics
"""


@pytest.mark.parametrize(("text", "seconds"), [("15s", 15), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200),
                                               ("", None), ("15", None), ("0s", None), ("1x", None), (None, None)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_intervals_from_targets_take_the_longest_per_job():
    assert intervals_from_targets(TARGETS) == {"vllm": 30.0, "node": 60.0}
    assert intervals_from_targets({"status": "success", "data": None}) == {}
    assert intervals_from_targets("not json") == {}


def test_intervals_from_config_fall_back_to_the_global_interval():
    assert intervals_from_config(CONFIG) == {"vllm": 15.0, "gateway": 60.0}


def test_the_window_is_four_scrape_intervals_at_least():
    assert rate_window(10, 15) == 60
    assert rate_window(120, 15) == 120
    assert rate_window(10, None) == 10
    assert longest_interval({"vllm": 15, "node": 60}, ["vllm"]) == 15
    assert longest_interval({"vllm": 15, "node": 60}, []) == 60  # which jobs is unknown: the safe side
    assert longest_interval({"node": 60}, ["vllm"]) is None


def test_skew_warning_only_past_five_seconds():
    assert skew_warning(-4.9) is None
    assert skew_warning(-30.2) == ("clock skew: aitop's clock is 30s ahead of the server's; "
                                   "queries are evaluated at the server's time")
    assert skew_warning(12) is not None and "behind" in skew_warning(12)


def test_history_rate_window_is_at_least_the_step():
    """24 h charts step every 360 s: a 30 s rate would sample one twelfth of each step."""
    assert history_step(86_400) == 360
    assert history_window(30, history_step(86_400)) == 360
    assert history_window(30, history_step(300)) == 30


def test_mixed_vllm_versions_read_either_kv_name_per_row():
    names = {"vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}
    (plan,) = [p for p in plan_schemas(builtin_schemas(), names) if p.schema.name == "vllm"]
    (kv,) = [q for q in instant_queries(plan, window=60, group_by=None) if q.concept == "kv_cache"]
    assert "vllm:kv_cache_usage_perc" in kv.expr and "vllm:gpu_cache_usage_perc" in kv.expr
    assert ") or (" in kv.expr


def test_tls_failure_is_named_from_the_wrapped_cause():
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cause.verify_message = "self-signed certificate"
    wrapped = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/", cause))
    assert tls_failure(wrapped) == ("TLS failure: certificate not accepted (self-signed certificate) — give the "
                                    "server's CA with --ca-file (or --insecure-skip-verify)")
    assert tls_failure(requests.ConnectionError("connection refused")) is None


def test_a_row_with_gauges_but_no_rate_lacks_samples_not_metrics():
    """A 10 s window over 15 s scrapes: every rate answers nothing, the gauges answer. The rates of the row
    are "not enough samples" — the server holds the metrics — never "no such metric"."""
    names = {"vllm:num_requests_running", "vllm:request_success_total", "vllm:e2e_request_latency_seconds_bucket"}
    (plan,) = [p for p in plan_schemas(builtin_schemas(), names) if p.schema.name == "vllm"]
    queries = instant_queries(plan, window=10, group_by=None)
    answered = {q: ([{"metric": {"model_name": "m"}, "value": [0, "3"]}] if q.kind == "gauge" else [], None)
                for q in queries}
    (row,), _ = assemble_rows([plan], answered, {}, None)
    assert row.value("running") == 3
    assert row.missing_reason("request_rate") is Missing.NOT_ENOUGH_SAMPLES
    assert row.missing_reason("latency_p95") is Missing.NOT_ENOUGH_SAMPLES
    assert row.missing_reason("cost_per_hour") is Missing.NO_METRIC
