"""PromQL planning from the catalog: one query per concept per schema, whatever the number of rows."""

import pytest

from aitop.catalog import builtin_schemas
from aitop.sources.prometheus.promql import duration, group_matcher, instant_queries, plan_schemas
from aitop.sources.prometheus.history import history_step, row_expression

VLLM_NAMES = {
    "vllm:request_success_total", "vllm:e2e_request_latency_seconds_bucket", "vllm:time_to_first_token_seconds_bucket",
    "vllm:prompt_tokens_total", "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "node_cpu_seconds_total",
}


def vllm_plan(names=VLLM_NAMES):
    (plan,) = plan_schemas(builtin_schemas(), names)
    return plan


def test_only_schemas_the_server_holds_are_planned():
    assert [p.schema.name for p in plan_schemas(builtin_schemas(), VLLM_NAMES)] == ["vllm"]
    assert plan_schemas(builtin_schemas(), {"node_cpu_seconds_total"}) == []


def test_escaped_colon_names_of_prometheus_2_are_resolved():
    escaped = {name.replace(":", "_") for name in VLLM_NAMES}
    plan = vllm_plan(escaped)
    assert plan.variants["requests"][1] == "vllm_request_success_total"
    assert plan.variants["latency"][1] == "vllm_e2e_request_latency_seconds"


def test_query_texts():
    queries = {(q.concept, q.field): q.expr for q in instant_queries(vllm_plan(), window=30, group_by=None)}
    assert queries[("requests", None)] == "sum by (model_name) (rate(vllm:request_success_total[30s]))"
    assert queries[("errors", None)] == (
        'sum by (model_name, finished_reason) (rate(vllm:request_success_total{finished_reason=~"abort|error"}[30s]))')
    assert queries[("latency", "latency_p95")] == (
        "histogram_quantile(0.95, sum by (le, model_name) (rate(vllm:e2e_request_latency_seconds_bucket[30s])))")
    assert queries[("kv_cache", None)] == "max by (model_name) (vllm:kv_cache_usage_perc)"
    assert queries[("running", None)] == "sum by (model_name) (vllm:num_requests_running)"


def test_query_count_depends_on_schema_not_on_rows():
    # 1 requests + 1 errors + 3 latency + 3 ttft + 1 input tokens + running + kv cache, + the TTFT buckets by
    # `le` (goodput) + the latency's +Inf rate (whether its empty quantiles mean "only a +Inf bucket") + the
    # answers cut at the length limit (a selection of the request counter)
    assert len(instant_queries(vllm_plan(), window=30, group_by=None)) == 14


def test_group_by_and_row_matcher():
    queries = instant_queries(vllm_plan(), window=60, group_by="engine", matcher='model_name="llama"')
    requests = next(q for q in queries if q.concept == "requests")
    assert requests.expr == 'sum by (engine) (rate(vllm:request_success_total{model_name="llama"}[1m]))'.replace("1m", "60s")
    assert all('model_name="llama"' in q.expr for q in queries)


def test_hostile_group_value_is_escaped_in_matchers():
    assert group_matcher(("model",), 'a"b\\c') == 'model="a\\"b\\\\c"'
    assert group_matcher(("model",), "(none)") == 'model=""'


def test_row_expressions_for_history():
    plan = vllm_plan()
    assert row_expression(plan, "error_rate", window=30, matcher='model_name="m"') == (
        '(sum(rate(vllm:request_success_total{finished_reason=~"abort|error",model_name="m"}[30s])) or vector(0))'
        ' / sum(rate(vllm:request_success_total{model_name="m"}[30s]))')
    assert row_expression(plan, "latency_p99", window=30, matcher='model_name="m"').startswith("histogram_quantile(0.99")
    assert row_expression(plan, "tpot_p95", window=30, matcher="") is None


@pytest.mark.parametrize(("seconds", "text"), [(30, "30s"), (1.5, "1500ms"), (0.25, "250ms"), (3600, "3600s")])
def test_duration(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize("seconds", [300, 3600, 86400, 86400 * 400])
def test_history_step_respects_the_11000_point_limit(seconds):
    step = history_step(seconds)
    assert seconds / step <= 11_000 and step >= 1


def test_a_per_query_cost_gauge_is_averaged_over_the_window_other_gauges_are_not():
    names = {"llm_requests_total", "llm_request_latency_seconds_bucket", "llm_cost_per_query_usd"}
    (plan,) = plan_schemas(builtin_schemas(), names)
    queries = {q.concept: q.expr for q in instant_queries(plan, window=30, group_by=None)}
    assert 'avg_over_time(llm_cost_per_query_usd{model!=""}[30s])' in queries["cost_per_query"]
    vllm = {q.concept: q.expr for q in instant_queries(vllm_plan(), window=30, group_by=None)}
    assert "avg_over_time" not in vllm["kv_cache"]  # a gauge is read as it is now


def _answers(plan, by_kind):
    """Every query of `plan` answered: `by_kind[(concept, kind)]` is {model: value} (NaN allowed)."""
    answered = {}
    for query in instant_queries(plan, window=30, group_by=None):
        values = by_kind.get((query.concept, query.kind), {})
        answered[query] = ([{"metric": {"model_name": model, **({"le": "+Inf"} if query.kind == "buckets" else {})},
                             "value": [1.0, str(value)]} for model, value in values.items()], None)
    return answered


def test_prometheus_mode_names_an_inf_only_histogram_like_scrape_mode():
    """A NaN quantile with observations is "only a +Inf bucket"; without observations, "no observations"."""
    from aitop.model import Missing
    from aitop.sources.prometheus.results import assemble_rows

    plan = vllm_plan()
    nan = float("nan")
    answered = _answers(plan, {
        ("requests", "rate"): {"otel": 2.0, "idle": 0.0},
        ("latency", "quantile"): {"otel": nan, "idle": nan},
        ("latency", "unbounded"): {"otel": 2.0, "idle": 0.0},
        ("ttft", "quantile"): {"otel": nan, "idle": nan},
        ("ttft", "buckets"): {"otel": 1.5, "idle": 0.0},  # only the +Inf bound answered (goodput's query)
    })
    rows = {row.group: row for row in assemble_rows([plan], answered, {}, None)[0]}
    otel, idle = rows["otel"], rows["idle"]
    for name in ("latency_p50", "latency_p95", "ttft_p95"):
        assert otel.values[name] is None and otel.missing[name] is Missing.NO_BUCKETS
        assert idle.missing[name] is Missing.NO_OBSERVATIONS
    assert otel.missing["latency_p95"].value == "histogram has only a +Inf bucket"
    assert otel.provenance["latency_p95"].endswith(
        "— the histogram has only a +Inf bucket: 2 observations/s in the window, none placed in a bounded bucket")
    assert "ttft_p95" in otel.provenance and "1.5 observations/s" in otel.provenance["ttft_p95"]


def test_the_inf_rate_query_is_one_per_histogram_concept_and_never_empties_a_field():
    from aitop.sources.prometheus.results import fields_of

    (query,) = [q for q in instant_queries(vllm_plan(), window=30, group_by=None) if q.kind == "unbounded"]
    assert query.expr == 'sum by (model_name) (rate(vllm:e2e_request_latency_seconds_bucket{le="+Inf"}[30s]))'
    assert fields_of(query) == ()  # its failure (a query limit) leaves the quantiles to their own queries
