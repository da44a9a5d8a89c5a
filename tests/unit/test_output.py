"""The JSON contract and the text table."""

import json

from aitop.model import FIELD_NAMES, Missing, Row, Severity, Snapshot, TargetHealth
from aitop.output import to_json, to_table

ROW = Row(
    "vllm", "llama", "model_name",
    values={"request_rate": 12.5, "error_rate": 0.052, "latency_p95": float("nan")},
    missing={"latency_p95": Missing.NO_OBSERVATIONS},
    errors_by_type={"error": 0.65},
    severity={"error_rate": Severity.CRITICAL},
)
SNAPSHOT = Snapshot(
    1_700_000_000.25, 30.0, "scrape", ("http://a/metrics",),
    (TargetHealth("http://a/metrics", "scrape", True, last_success=1_700_000_000.0),
     TargetHealth("http://b/metrics", "scrape", False, "HTTP 503")),
    (ROW,), schemas=("vllm",),
)


def test_json_contract():
    data = json.loads(to_json(SNAPSHOT))
    assert data["taken_at"] == "2023-11-14T22:13:20.250Z"
    assert data["source"] == {"kind": "scrape", "targets": ["http://a/metrics"], "tls_verified": True}
    (row,) = data["rows"]
    assert set(FIELD_NAMES) <= set(row)
    assert row["request_rate"] == 12.5 and row["error_rate"] == 0.052
    assert row["latency_p95"] is None and row["ttft_p95"] is None  # NaN and absent are null, never 0
    assert row["missing"]["latency_p95"] == "no observations in window"
    assert row["missing"]["ttft_p95"] == "no such metric"
    assert row["severity"] == {"error_rate": "critical"}
    assert data["targets"][1] == {"url": "http://b/metrics", "kind": "scrape", "up": False, "error": "HTTP 503", "last_success": None}


def test_table_marks_severity_and_missing_and_down_targets():
    text = to_table(SNAPSHOT)
    header, line = text.splitlines()[:2]
    assert header.split()[:4] == ["SCHEMA", "MODEL", "req/s", "err"]
    assert "‼5.2%" in line and "12.5" in line and "—" in line
    assert "DOWN http://b/metrics: HTTP 503" in text
