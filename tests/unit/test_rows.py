"""Rows from windows: grouping, aggregation across labels and targets, derived fields, missing reasons."""

import pytest
from helpers import histogram, series, window_of

from aitop.catalog import builtin_schemas
from aitop.model import Missing
from aitop.prommath import histogram_quantile
from aitop.rows import RowBuilder, TargetData


def build(*targets):
    builder = RowBuilder(builtin_schemas())
    for i, (window, up) in enumerate(targets):
        builder.add_target(TargetData(f"10.0.0.{i}:8000", window, up))
    return {row.key: row for row in builder.rows()}, builder.detected


def vllm_page(engine, stop, abort, error, buckets, model="llama"):
    page = {
        series("vllm:request_success_total", model_name=model, engine=engine, finished_reason="stop"): stop,
        series("vllm:request_success_total", model_name=model, engine=engine, finished_reason="abort"): abort,
        series("vllm:request_success_total", model_name=model, engine=engine, finished_reason="error"): error,
    }
    page.update(histogram("vllm:e2e_request_latency_seconds", buckets, model_name=model, engine=engine))
    return page


def test_engines_and_targets_are_summed_before_the_quantile():
    e0 = window_of((0, vllm_page("0", 0, 0, 0, {"1": 0, "2": 0, "+Inf": 0})),
                   (10, vllm_page("0", 90, 5, 5, {"1": 90, "2": 100, "+Inf": 100})))
    e1 = window_of((0, vllm_page("1", 0, 0, 0, {"1": 0, "2": 0, "+Inf": 0})),
                   (10, vllm_page("1", 100, 0, 0, {"1": 10, "2": 60, "+Inf": 100})))
    rows, detected = build((e0, True), (e1, True))
    row = rows[("vllm", "llama")]
    assert detected == {"vllm"}
    assert row.value("request_rate") == pytest.approx(20.0)
    assert row.value("error_rate") == pytest.approx(10 / 200)
    assert row.errors_by_type == {"abort": pytest.approx(0.5), "error": pytest.approx(0.5)}
    merged = [(1.0, 10.0), (2.0, 16.0), (float("inf"), 20.0)]  # rates summed by le across engines
    assert row.value("latency_p95") == pytest.approx(histogram_quantile(0.95, merged))
    assert row.value("latency_p50") == pytest.approx(histogram_quantile(0.5, merged))
    # averaging the two engines' p95 would be wrong: prove the merged value differs from it
    assert row.value("latency_p95") != pytest.approx(
        (histogram_quantile(0.95, [(1, 9), (2, 10), (float("inf"), 10)])
         + histogram_quantile(0.95, [(1, 1), (2, 6), (float("inf"), 10)])) / 2)


def test_no_error_series_means_zero_error_rate():
    before = {series("llm_requests_total", model="g", status="success"): 0}
    after = {series("llm_requests_total", model="g", status="success"): 50}
    rows, _ = build((window_of((0, before), (10, after)), True))
    assert rows[("llm", "g")].value("error_rate") == 0.0


def test_llm_error_types_come_from_status():
    def page(ok, timeout):
        return {series("llm_requests_total", model="g", status="success"): ok,
                series("llm_requests_total", model="g", status="timeout"): timeout}
    rows, _ = build((window_of((0, page(0, 0)), (10, page(90, 10))), True))
    row = rows[("llm", "g")]
    assert row.value("error_rate") == pytest.approx(0.1)
    assert row.errors_by_type == {"timeout": pytest.approx(1.0)}


def test_first_scrape_gives_not_enough_samples_never_zero():
    rows, _ = build((window_of((0, vllm_page("0", 5, 0, 0, {"1": 1, "+Inf": 1}))), True))
    row = rows[("vllm", "llama")]
    for name in ("request_rate", "error_rate", "latency_p95"):
        assert row.value(name) is None
        assert row.missing_reason(name) is Missing.NOT_ENOUGH_SAMPLES
    assert row.missing_reason("ttft_p95") is Missing.NO_METRIC


def test_idle_window_has_no_observations():
    page = vllm_page("0", 5, 0, 0, {"1": 1, "+Inf": 1})
    rows, _ = build((window_of((0, page), (10, page)), True))
    row = rows[("vllm", "llama")]
    assert row.value("request_rate") == 0.0
    assert row.missing_reason("latency_p95") is Missing.NO_OBSERVATIONS
    assert row.missing_reason("error_rate") is Missing.NO_OBSERVATIONS


def test_feedback_cost_and_gauges():
    def page(up, down, requests):
        return {
            series("llm_requests_total", model="g", status="success"): requests,
            series("llm_feedback_total", model="g", rating="thumbs_up"): up,
            series("llm_feedback_total", model="g", rating="thumbs_down"): down,
            series("llm_cost_per_query_usd", model="g"): 0.02,
            series("llm_inflight_requests", model="g"): 4,
        }
    rows, _ = build((window_of((0, page(0, 0, 0)), (10, page(8, 2, 100))), True))
    row = rows[("llm", "g")]
    assert row.value("feedback_negative_ratio") == pytest.approx(0.2)
    assert row.value("cost_per_request") == pytest.approx(0.02)
    assert row.value("cost_per_hour") == pytest.approx(0.02 * 10 * 3600)
    assert row.value("running") == 4


def test_kv_cache_is_max_and_running_is_sum():
    def page(engine, kv, running):
        return {series("vllm:request_success_total", model_name="m", engine=engine, finished_reason="stop"): 1,
                series("vllm:kv_cache_usage_perc", model_name="m", engine=engine): kv,
                series("vllm:num_requests_running", model_name="m", engine=engine): running}
    w = window_of((0, {**page("0", 0.3, 2), **page("1", 0.8, 5)}))
    rows, _ = build((w, True))
    assert rows[("vllm", "m")].value("kv_cache_usage") == 0.8
    assert rows[("vllm", "m")].value("running") == 7


def test_hostile_group_is_sanitised_and_down_target_marks_stale():
    evil = "x\x1b]0;pwned\x07[/]"
    page = {series("llm_requests_total", model=evil, status="success"): 1}
    rows, _ = build((window_of((0, page)), False))
    (key,) = rows
    assert "\x1b" not in key[1] and "\x07" not in key[1]
    assert rows[key].stale


def test_unrelated_metrics_make_no_rows():
    page = {series("node_cpu_seconds_total", cpu="0"): 1, series("http_requests_total", handler="/"): 3}
    rows, detected = build((window_of((0, page), (5, page)), True))
    assert rows == {} and detected == set()


def test_schema_without_group_label_falls_back_to_instance():
    page = {series("llm_requests_total", status="success"): 1}
    rows, _ = build((window_of((0, page)), True))
    assert list(rows) == [("llm", "10.0.0.0:8000")]
    assert rows[("llm", "10.0.0.0:8000")].group_label == "instance"


def two_engines():
    e0 = window_of((0, vllm_page("0", 0, 0, 0, {"1": 0, "+Inf": 0})), (10, vllm_page("0", 90, 5, 5, {"1": 90, "+Inf": 100})))
    e1 = window_of((0, vllm_page("1", 0, 0, 0, {"1": 0, "+Inf": 0})), (10, vllm_page("1", 100, 0, 0, {"1": 10, "+Inf": 100})))
    other = window_of((0, vllm_page("0", 0, 0, 0, {"1": 0, "+Inf": 0}, model="qwen")),
                      (10, vllm_page("0", 10, 0, 0, {"1": 10, "+Inf": 10}, model="qwen")))
    return [TargetData("a:1", e0, True), TargetData("b:1", e1, True), TargetData("c:1", other, True)]


def test_group_by_any_label_and_instance():
    for label, expected in [("engine", {"0", "1"}), ("instance", {"a:1", "b:1", "c:1"}), ("no_such", {"(none)"})]:
        builder = RowBuilder(builtin_schemas(), group_by=label)
        for target in two_engines():
            builder.add_target(target)
        rows = builder.rows()
        assert {row.group for row in rows} == expected
        assert all(row.group_label == label for row in rows)
    assert {"engine", "finished_reason", "instance", "model_name"} <= set(builder.label_names())
    assert "le" not in builder.label_names()


def test_breakdown_of_one_row_by_a_second_label():
    builder = RowBuilder(builtin_schemas(), group_by="engine", within=("vllm", "llama"))
    for target in two_engines():
        builder.add_target(target)
    rows = {row.group: row for row in builder.rows()}
    assert set(rows) == {"0", "1"}  # qwen's engine 0 is not mixed in
    assert rows["0"].value("error_rate") == pytest.approx(0.1)
    assert rows["1"].value("error_rate") == 0.0
    assert rows["0"].value("request_rate") == pytest.approx(10.0)


def test_breakdown_within_a_regrouped_row():
    builder = RowBuilder(builtin_schemas(), group_by="finished_reason", within=("vllm", "1"), within_group_by="engine")
    for target in two_engines():
        builder.add_target(target)
    rows = {row.group: row for row in builder.rows()}
    assert {group: rows[group].value("request_rate") for group in ("stop", "abort", "error")} == {
        "stop": 10.0, "abort": 0.0, "error": 0.0}
    # like PromQL's sum by (finished_reason): series without the label (the latency histogram) form one row
    assert set(rows) == {"stop", "abort", "error", "(none)"} and rows["(none)"].value("latency_p50") is not None


def test_provenance_says_what_was_computed_from_how_much():
    builder = RowBuilder(builtin_schemas())
    for target in two_engines():
        builder.add_target(target)
    row = {r.group: r for r in builder.rows()}["llama"]
    assert row.provenance["latency_p95"].startswith(
        "histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket[10.0s])))")
    assert "4 series from 2 targets" in row.provenance["latency_p95"]
    assert row.provenance["error_rate"].startswith(
        'sum(rate(vllm:request_success_total{finished_reason=~"abort|error"}[10.0s])) / sum(rate(vllm:request_success_total[10.0s]))')
    assert "ttft_p95" not in row.provenance


def test_row_with_is_replace_of_the_fields_it_is_given_alone() -> None:
    """The refresh's fast row copy (analysis, GPU join, why lines) keeps every other field of the row."""
    from dataclasses import fields, replace
    from typing import Any

    from aitop.model import Missing, Row, Severity, row_with

    row = Row("vllm", "m", "model_name", {"request_rate": 1.0}, missing={}, errors_by_type={"abort": 1.0},
              severity={"request_rate": Severity.WARNING}, stale=True, provenance={"a": "b"},
              distributions={"latency": ((1.0, 2.0),)}, data_since=5.0, replicas=(1, 2), warmup=(1.0, 2.0),
              gpus=("GPU-1",))
    changes: dict[str, Any] = {"values": {"request_rate": 2.0}, "missing": {"x": Missing.NO_METRIC}, "provenance": {"c": "d"},
               "severity": {}, "warmup": (3.0, 4.0)}
    for name, value in changes.items():
        copied = row_with(row, **{name: value})
        assert copied == replace(row, **{name: value})
        assert all(getattr(copied, f.name) is getattr(row, f.name) for f in fields(Row) if f.name != name)
    assert row_with(row) == row
