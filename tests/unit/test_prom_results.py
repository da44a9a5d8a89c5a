"""Reading Prometheus answers: failure classes, warnings, rows, remote alerts."""

from datetime import UTC, datetime

import pytest
import requests

from aitop.catalog import builtin_schemas
from aitop.model import Missing, Severity
from aitop.sources.prometheus.results import alerts_from, assemble_rows, describe_failure, response_warnings
from aitop.sources.prometheus.promql import instant_queries, plan_schemas


def response(status=200, body=b"", headers=None, reason=""):
    r = requests.Response()
    r.status_code, r._content, r.reason = status, body, reason
    r.headers.update(headers or {})
    return r


FAIL = Exception("http://admin:SECRET@prom/api/v1/query")


@pytest.mark.parametrize(
    ("answer", "message", "transient", "backoff", "retry_after"),
    [
        (response(503, b"Service Unavailable", {"X-Prometheus-Stopping": "false"}), "Prometheus is starting up (HTTP 503)", True, True, None),
        (response(503, b"Service Unavailable", {"X-Prometheus-Stopping": "true"}), "Prometheus is shutting down", True, True, None),
        (response(429, b"too many outstanding requests", {"Retry-After": "7"}), "rate limited", True, True, 7.0),
        (response(422, b'{"status":"error","errorType":"execution","error":"query processing would load too many samples"}'),
         "query rejected (execution): query processing would load too many samples", False, True, None),
        (response(400, b'{"status":"error","errorType":"bad_data","error":"parse error \\u001b]0;x"}'), "query rejected (bad_data): parse error ^[]0;x", False, True, None),
        (response(401, b"no"), "not authorised (HTTP 401)", True, True, None),
        (response(404, b"404 page not found"), "path prefix", True, True, None),
        (response(302, b"", {"Location": "https://sso.example/login?next=x"}), "HTTP 302 redirect to /login", True, True, None),
        (response(502, b"<html>bad gateway</html>", reason="Bad Gateway"), "HTTP 502 Bad Gateway", True, True, None),
    ],
)
def test_http_failures(answer, message, transient, backoff, retry_after):
    failure = describe_failure(FAIL, answer, 5)
    assert message in failure.message
    assert (failure.transient, failure.backoff, failure.retry_after) == (transient, backoff, retry_after)
    assert "SECRET" not in failure.message and "admin" not in failure.message


@pytest.mark.parametrize(
    ("exception", "message", "backoff"),
    [
        (requests.ConnectionError("http://admin:SECRET@x"), "cannot connect", False),
        (requests.ReadTimeout("http://admin:SECRET@x"), "no answer within 5s", True),
        (ValueError("Expecting value"), "not a Prometheus API response", True),
    ],
)
def test_transport_failures(exception, message, backoff):
    failure = describe_failure(exception, None, 5)
    assert message in failure.message and failure.backoff is backoff and "SECRET" not in failure.message


def test_warnings_infos_and_partial():
    body = b'{"status":"success","data":{},"warnings":["remote store down \\u202e"],"infos":["fixed for monotonicity"],"isPartial":true}'
    assert response_warnings(response(body=body)) == [
        "remote store down <U+202E>", "info: fixed for monotonicity", "partial response: some storage nodes did not answer"]
    assert response_warnings(response(body=b'{"status":"success"}')) == []


def vllm_queries():
    (plan,) = plan_schemas(builtin_schemas(), {"vllm:request_success_total", "vllm:e2e_request_latency_seconds_bucket"})
    return plan, {q.concept + (q.field or ""): q for q in instant_queries(plan, window=30, group_by=None)}


def vector(*pairs):
    return [{"metric": labels, "value": [1.0, str(value)]} for labels, value in pairs]


def test_rows_from_answers():
    plan, q = vllm_queries()
    answered = {
        q["requests"]: (vector(({"model_name": "a"}, 10), ({"model_name": "b\x1b[2J"}, 4)), None),
        q["errors"]: (vector(({"model_name": "a", "finished_reason": "error"}, 0.5)), None),
        q["latencylatency_p95"]: (vector(({"model_name": "a"}, 1.5), ({"model_name": "b\x1b[2J"}, "NaN")), None),
    }
    rows, warnings = assemble_rows([plan], answered, {q["latencylatency_p99"]: describe_failure(FAIL, response(422, b"{}"), 5)}, None)
    by_group = {row.group: row for row in rows}
    assert set(by_group) == {"a", "b^[[2J"}
    a, b = by_group["a"], by_group["b^[[2J"]
    assert a.value("request_rate") == 10 and a.value("error_rate") == 0.05 and a.errors_by_type == {"error": 0.5}
    assert b.value("error_rate") == 0.0  # requests counted, no error series
    assert a.value("latency_p95") == 1.5 and b.missing_reason("latency_p95") is Missing.NO_OBSERVATIONS
    assert a.missing_reason("latency_p99") is Missing.QUERY_ERROR
    assert a.provenance["latency_p95"].startswith("histogram_quantile(0.95, sum by (le, model_name)")
    assert a.provenance["error_rate"].startswith('sum by (model_name, finished_reason) (rate(vllm:request_success_total{finished_reason=~"abort|error"}[30s])) / sum by (model_name)')
    assert warnings == ["query rejected (422)"]


def test_alerts_from_prometheus():
    body = {"status": "success", "data": {"alerts": [
        {"labels": {"alertname": "VLLMHighLatency", "severity": "critical", "model_name": "llama\x1b]0;x"},
         "annotations": {"summary": "p95 [/] above 2s \x9b31m"}, "state": "firing",
         "activeAt": "2026-11-23T03:00:00.5Z", "value": "2.5e+00"},
        {"labels": {"alertname": "Watchdog"}, "annotations": {}, "state": "pending", "activeAt": "bogus", "value": "x"},
    ]}}
    first, second = alerts_from(body)
    assert first.rule == "prometheus:VLLMHighLatency" and first.severity is Severity.CRITICAL and first.state == "firing"
    assert first.group == "llama^[]0;x" and first.message == "p95 [/] above 2s <U+009B>31m" and first.value == 2.5
    assert first.since == datetime(2026, 11, 23, 3, 0, 0, 500000, tzinfo=UTC).timestamp()
    assert second.severity is Severity.WARNING and second.value is None and second.message == "Watchdog"
    assert alerts_from(body) == (first, second)  # stable ids
    assert alerts_from({"status": "error"}) == () and alerts_from(None) == ()
