"""`aitop detect`: which schemas, which concept from which metric, and why each empty field is empty."""

import json

from fixture_rows import INSTANCE, build, window_of

from aitop.catalog import builtin_schemas
from aitop.detect_report import FOUND, MISSING, NOT_EXPOSED, build_report, render_text, report_to_dict
from aitop.model import TargetHealth
from aitop.sources.base import Collected

URL = f"http://{INSTANCE}/metrics"


def report_of(name: str):
    names = {URL: {key[0] for key in window_of(name).latest.values}}
    builder = build(name)
    collected = Collected(taken_at=0.0, window_seconds=10.0, rows=tuple(builder.rows()),
                          targets=(TargetHealth(URL, "scrape", True),), schemas=tuple(sorted(builder.detected)))
    return build_report(builtin_schemas(), names, collected)


def test_gateway_and_backend_are_both_reported_and_the_http_layer_stands_down():
    report = report_of("mixed_litellm_vllm_node")
    assert [s.name for s in report.schemas] == ["litellm", "vllm"]
    assert report.suppressed == (("fastapi", "vllm"),)
    litellm = {c.concept: c for c in report.schemas[0].concepts}
    assert (litellm["requests"].status, litellm["requests"].metrics, litellm["requests"].group_labels) == (
        FOUND, ("litellm_proxy_total_requests_metric_total",), ())  # the schema's labels: requested_model, model
    assert report.schemas[0].group_labels == ("requested_model", "model")
    assert litellm["ttft"].status == MISSING and "litellm_llm_api_time_to_first_token_metric" in litellm["ttft"].note
    assert litellm["running"].status == NOT_EXPOSED and "no model label" in litellm["running"].note
    text = render_text(report)
    assert "fastapi: not shown — its metrics on these targets belong to vllm" in text
    assert "ttft_p50, ttft_p95, ttft_p99: no such metric — looked for litellm_llm_api_time_to_first_token_metric" in text


def test_why_a_column_is_empty_for_each_kind_of_reason():
    tgi = report_of("tgi")
    (row,) = tgi.schemas[0].rows
    missing = dict(row.missing)
    assert missing["ttft_p95"] == "not exposed: HF TGI: TGI exposes no time-to-first-token metric"
    triton = {r.group: dict(r.missing) for r in report_of("triton").schemas[0].rows}
    assert "the target has vllm:prompt_tokens_total, but no series of it for this row" in triton["resnet50"]["input_tokens_rate"]
    latency = {c.concept: c for c in report_of("triton").schemas[0].concepts}["latency"]
    assert latency.kind == "summary" and "when several series hold a row: mean of" in latency.note
    llama = {c.concept: c for c in report_of("llamacpp").schemas[0].concepts}
    assert (llama["tpot"].kind, llama["tpot"].counts) == ("mean", ("llamacpp:tokens_predicted_total",))
    assert "not a percentile" in llama["tpot"].note and llama["requests"].status == NOT_EXPOSED


def test_unrelated_exporter_and_json():
    report = report_of("node_exporter")
    assert report.schemas == () and "no known schema" in render_text(report)
    data = report_to_dict(report_of("litellm"))
    json.dumps(data)  # JSON-ready
    assert data["schemas"][0]["concepts"]["cost"]["metrics"] == ["litellm_spend_metric_total"]
    assert data["schemas"][0]["rows"][0]["group"] in ("gpt-4o", "claude-3-5-sonnet")


def test_hostile_names_are_cleaned():
    names = {URL + "\x1b[2J": {"vllm:num_requests_running\x1b]0;x\x07", "vllm:request_success_total"}}
    report = build_report(builtin_schemas(), names)
    text = render_text(report)
    assert "\x1b" not in text and "\x07" not in text
