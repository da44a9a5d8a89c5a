"""`aitop check`: the pure evaluation, and the command against real local exporters (Nagios exit codes)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily

from aitop import cli
from aitop.analysis.configure import DEFAULT_RULES
from aitop.check import evaluate_snapshot, render_json, render_text, unknown
from aitop.model import Alert, Row, Severity, Snapshot, TargetHealth

UP = TargetHealth("http://a/metrics", "scrape", True)
DOWN = TargetHealth("http://b/metrics", "scrape", False, "cannot connect: refused")


def snapshot(*rows: Row, targets=(UP,), alerts=()) -> Snapshot:
    return Snapshot(1_700_000_000.0, 10.0, "scrape", tuple(t.url for t in targets), tuple(targets), rows,
                    alerts=tuple(alerts))


def row(group: str, **values) -> Row:
    return Row("vllm", group, "model_name", values, errors_by_type={"timeout": 1.0})


# -- pure ------------------------------------------------------------------------------------------------


def test_healthy_is_ok():
    result = evaluate_snapshot(snapshot(row("a", error_rate=0.001, latency_p95=0.5)), DEFAULT_RULES)
    assert (result.status, result.exit_code) == ("OK", 0)
    assert result.summary.startswith("AITOP OK: no rule breached (1 rows, 1/1 targets up, window 10.0s)")
    assert result.skipped_rules == 3  # the baseline rules cannot be judged in one shot


def test_worst_finding_sets_the_status_and_each_field_reports_once():
    result = evaluate_snapshot(snapshot(row("a", error_rate=0.09), row("b", error_rate=0.02)), DEFAULT_RULES)
    assert (result.status, result.exit_code) == ("CRITICAL", 2)
    assert [(f.status, f.group, f.rule) for f in result.findings] == [
        ("CRITICAL", "a", "error_rate_critical"), ("WARNING", "b", "error_rate_warning")]
    text = render_text(result)
    assert text.splitlines()[0].startswith(
        "AITOP CRITICAL: 1 critical, 1 warning — vllm/a: error rate 9.0% (threshold 5.0%) on a, top error: timeout")
    assert text.splitlines()[1] == ("CRITICAL vllm/a [error_rate_critical]: error rate 9.0% (threshold 5.0%) on a, "
                                    "top error: timeout (100%)")
    assert text.splitlines()[0].endswith("| critical=1 warning=1 rows=2 targets_up=1")


def test_warning_only_exits_1_and_missing_values_are_not_judged():
    result = evaluate_snapshot(snapshot(row("a", error_rate=0.02, latency_p95=None)), DEFAULT_RULES)
    assert result.exit_code == 1 and len(result.findings) == 1


@pytest.mark.parametrize(("targets", "rows", "status"), [
    ((DOWN,), (), "UNKNOWN"),
    ((UP, DOWN), (row("a", error_rate=0.0),), "UNKNOWN"),  # what could not be seen may be worse
    ((UP, DOWN), (row("a", error_rate=0.5),), "CRITICAL"),  # a dead target does not hide a known critical
    ((UP, DOWN), (row("a", error_rate=0.02),), "UNKNOWN"),  # ...but outranks a known warning (may be worse)
    ((UP,), (), "UNKNOWN"),  # nothing aitop knows how to read
])
def test_unknown_when_something_cannot_be_seen(targets, rows, status):
    assert evaluate_snapshot(snapshot(*rows, targets=targets), DEFAULT_RULES).status == status


def test_unknown_outranks_warning_in_the_exit_code_and_the_report_order():
    result = evaluate_snapshot(snapshot(row("a", error_rate=0.02), targets=(UP, DOWN)), DEFAULT_RULES)
    assert (result.status, result.exit_code) == ("UNKNOWN", 3)
    assert [f.status for f in result.findings] == ["UNKNOWN", "WARNING"]
    assert result.summary.startswith("AITOP UNKNOWN: 1 warning, 1 unknown — http://b/metrics: cannot connect")


def test_all_targets_down_is_one_line():
    text = render_text(evaluate_snapshot(snapshot(targets=(DOWN,)), DEFAULT_RULES))
    assert text == "AITOP UNKNOWN: cannot reach http://b/metrics: cannot connect: refused\n"


def test_backend_firing_alerts_count_pending_ones_do_not():
    firing = Alert("x", "prometheus:HighLatency", Severity.CRITICAL, "firing", "", "api", "", 3.0, None, 0.0, "slow")
    pending = Alert("y", "prometheus:Other", Severity.CRITICAL, "pending", "", "api", "", 3.0, None, 0.0, "meh")
    result = evaluate_snapshot(snapshot(row("a", error_rate=0.0), alerts=(firing, pending)), DEFAULT_RULES)
    assert result.status == "CRITICAL" and [f.rule for f in result.findings] == ["prometheus:HighLatency"]


def test_budget_is_judged_even_on_rows_built_without_the_analysis():
    result = evaluate_snapshot(snapshot(Row("llm", "gpt-4o", "model", {"cost_per_hour": 10.0})), DEFAULT_RULES)
    assert result.status == "WARNING" and result.findings[0].message.startswith("projected spend $240/day")


def test_json_report():
    data = json.loads(render_json(evaluate_snapshot(snapshot(row("a", error_rate=0.09)), DEFAULT_RULES)))
    assert (data["status"], data["exit_code"], data["skipped_rules"]) == ("CRITICAL", 2, 3)
    assert data["alerts"][0]["group"] == "a" and data["alerts"][0]["value"] == 0.09
    assert json.loads(render_json(unknown("boom")))["status"] == "UNKNOWN"


# -- the command against real exporters ----------------------------------------------------------------


class Traffic:
    """A custom collector: steady traffic whose counters grow with real time, `errors[model]` of it failing."""

    def __init__(self, errors: dict[str, float], rate: float = 200.0) -> None:
        self.errors, self.rate, self.start = errors, rate, time.monotonic()

    def collect(self):
        requests = CounterMetricFamily("llm_requests", "LLM requests", labels=["model", "status"])
        done = self.rate * (time.monotonic() - self.start)
        for model, fraction in self.errors.items():
            requests.add_metric([model, "success"], done * (1 - fraction))
            requests.add_metric([model, "timeout"], done * fraction)
        yield requests


@pytest.fixture
def exporter():
    servers = []

    def serve(errors: dict[str, float]) -> str:
        registry = CollectorRegistry()
        registry.register(Traffic(errors))
        server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
        servers.append(server)
        return f"127.0.0.1:{server.server_port}/metrics"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_one_model_at_9_percent_errors_is_critical_and_named(exporter, capsys):
    target = exporter({"gpt-4o": 0.09, "claude-3.5-sonnet": 0.0, "gemini-1.5-pro": 0.001})
    assert cli.main(["check", target, "--window", "0.3s"]) == 2
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("AITOP CRITICAL: 1 critical — llm/gpt-4o: error rate 9.0% (threshold 5.0%) on gpt-4o")
    assert lines[1:] == ["CRITICAL llm/gpt-4o [error_rate_critical]: error rate 9.0% (threshold 5.0%) on gpt-4o, "
                         "top error: timeout (100%)"]
    assert err == ""


def test_healthy_exporter_is_ok(exporter, capsys):
    target = exporter({"gpt-4o": 0.0, "claude-3.5-sonnet": 0.002})
    assert cli.main(["check", target, "--window", "0.3s"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("AITOP OK: no rule breached (2 rows, 1/1 targets up") and out.count("\n") == 1


def test_unreachable_target_is_unknown_with_one_line(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
        port = sock.getsockname()[1]
        started = time.monotonic()
        assert cli.main(["check", f"127.0.0.1:{port}/metrics", "--window", "5s"]) == 3
    # Nothing reachable: no waiting for a second scrape, which would take the 5 s window at least.
    assert time.monotonic() - started < 5
    out = capsys.readouterr().out
    assert out.startswith(f"AITOP UNKNOWN: cannot reach http://127.0.0.1:{port}/metrics: cannot connect")
    assert out.count("\n") == 1


def test_json_format_and_usage_errors_are_unknown(exporter, capsys):
    target = exporter({"gpt-4o": 0.09})
    assert cli.main(["check", target, "--window", "0.3s", "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "CRITICAL" and data["alerts"][0]["group"] == "gpt-4o"
    with pytest.raises(SystemExit) as exited:
        cli.main(["check", "--format", "yaml", target])
    assert exited.value.code == 3  # Nagios: a usage error is UNKNOWN, not CRITICAL
    capsys.readouterr()
    assert cli.main(["check", "http://user:pw@127.0.0.1:1/metrics"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("AITOP UNKNOWN: credentials in URLs are not accepted") and "pw" not in out


# -- failed queries (docs/failure-modes.md) -------------------------------------------------------------


def test_a_failed_query_a_rule_needs_makes_check_unknown_not_ok():
    """Latency queries timed out: what answered breaches nothing, yet the latency rule saw nothing — UNKNOWN,
    naming the query, never OK."""
    failed = (("vllm latency p95", "vllm latency p95: query timed out on the server (timeout: query timed out)",
               ("latency_p95",)),)
    healthy = snapshot(row("a", error_rate=0.001, latency_p95=None))
    result = evaluate_snapshot(replace(healthy, failed_queries=failed), DEFAULT_RULES)
    assert (result.status, result.exit_code) == ("UNKNOWN", 3)
    assert result.summary.startswith(
        "AITOP UNKNOWN: 1 unknown — query failed: vllm latency p95: query timed out on the server")


def test_a_failed_query_no_rule_needs_leaves_check_ok():
    failed = (("vllm kv cache", "vllm kv cache: query rejected by a server limit (execution): too many samples",
               ("kv_cache_usage",)),)
    result = evaluate_snapshot(replace(snapshot(row("a", error_rate=0.001)), failed_queries=failed), DEFAULT_RULES)
    assert result.status == "OK"


def test_no_rows_because_queries_failed_names_them_not_the_metrics():
    failed = (("llm requests", "llm requests: query rejected by a server limit (422): the number of matching "
               "timeseries exceeds 100", ("request_rate",)),)
    result = evaluate_snapshot(replace(snapshot(), failed_queries=failed), DEFAULT_RULES)
    assert result.status == "UNKNOWN"
    assert "query failed: llm requests: query rejected by a server limit" in render_text(result)
    assert "no known AI-serving metrics" not in render_text(result)
