"""Catalog features beyond one histogram per concept: means, summaries, last-value gauges, summed counters,
per-variant group labels, standing down, old names, users' schemas — in scrape mode (RowBuilder) and as the
PromQL Prometheus mode sends (the integration suite runs that PromQL on a real server)."""

import pytest
from helpers import histogram, series, window_of

from aitop.catalog import CatalogError, builtin_schemas, parse_schema, schemas_from_config, with_custom
from aitop.model import Missing
from aitop.rows import RowBuilder, TargetData
from aitop.sources.prometheus.results import assemble_rows
from aitop.sources.prometheus.promql import group_matcher, instant_queries, plan_schemas
from aitop.sources.prometheus.history import row_expression


def rows_of(*pages, schemas=None, instance="10.0.0.1:9000"):
    """Rows of one target scraped at t=0 and t=10 (pages as (first, second) sample dicts)."""
    builder = RowBuilder(schemas or builtin_schemas())
    builder.add_target(TargetData(instance, window_of(*((10.0 * i, page) for i, page in enumerate(pages))), True))
    return {row.key: row for row in builder.rows()}, builder


# -- users' schemas -------------------------------------------------------------------------------------------

ACME = {
    "name": "acme",
    "title": "ACME gateway",
    "group_labels": ["llm"],
    "detect": ["acme_calls_total"],
    "concept": {
        "requests": [{"kind": "counter", "metric": "acme_calls_total"}],
        "errors": [{"kind": "counter", "metric": "acme_calls_total", "match": {"outcome": "fail.*"},
                    "type_format": "{outcome}/{code}"}],
        "latency": [{"kind": "histogram", "metric": "acme_call_ms", "scale": 0.001}],
        "feedback": [{"kind": "counter", "metric": "acme_votes_total", "type_label": "vote", "group_labels": ["model"]}],
    },
    "absent": {"ttft": "ACME does not stream"},
}


def test_users_schema_from_config_is_read_like_a_catalog_file():
    (acme,) = schemas_from_config([ACME], "config.toml", known=[s.name for s in builtin_schemas()])
    def page(ok, failed, votes_up, votes_down):
        samples = {series("acme_calls_total", llm="m1", outcome="ok"): ok,
                   series("acme_calls_total", llm="m1", outcome="failed", code="502"): failed,
                   series("acme_votes_total", model="m1", vote="up"): votes_up,
                   series("acme_votes_total", model="m1", vote="down"): votes_down}
        samples.update(histogram("acme_call_ms", {"100": ok / 2, "1000": ok, "+Inf": ok + failed}, llm="m1"))
        return samples
    rows, builder = rows_of(page(0, 0, 0, 0), page(90, 10, 3, 1), schemas=with_custom([acme]))
    row = rows[("acme", "m1")]  # `llm` for calls, `model` for votes: one row
    assert builder.detected == {"acme"}
    assert row.value("request_rate") == pytest.approx(10.0)
    assert row.errors_by_type == {"failed/502": pytest.approx(1.0)}
    assert row.value("latency_p50") == pytest.approx(0.1 + 0.9 * (50 - 45) / (90 - 45))  # ms bounds → s
    assert row.value("feedback_negative_ratio") == pytest.approx(0.25)
    assert "ACME does not stream" in row.provenance["ttft_p95"]


@pytest.mark.parametrize(("change", "message"), [
    ({"concept": {"requests": [{"kind": "counter"}]}}, "config.toml: schema[1].concept.requests[0]: give exactly one"),
    ({"concept": {"latency": [{"kind": "mean", "metric": "x"}]}}, "schema[1].concept.latency[0].count: a mean needs count"),
    ({"concept": {"latency": [{"kind": "histogram", "metric": "x", "count": "y"}]}}, "latency[0].count"),
    ({"concept": {"latency": [{"kind": "histogram", "metric": ["x", "y"]}]}}, "latency[0].metric: only counters can be summed"),
    ({"concept": {"running": [{"kind": "histogram", "metric": "x"}]}}, "running[0].kind: running must be one of gauge"),
    ({"concept": {"errors": [{"kind": "counter", "metric": "x", "type_format": "{a!r}"}]}}, "errors[0].type_format"),
    ({"absent": {"bogus": "x"}}, "schema[1].absent.bogus"),
    ({"absent": {"requests": "x"}}, "absent.requests: the schema maps this concept"),
    ({"suppressed_by": ["nope"]}, "suppressed_by names no schema: 'nope'"),
    ({"scoped": "yes"}, "schema[1].scoped: expected true or false"),
    ({"group_labels": []}, "schema[1].group_labels: must not be empty"),
    ({"name": "has space"}, "schema[1].name"),
])
def test_users_schema_errors_name_the_entry_and_key(change, message):
    bad = {**ACME, "name": "acme2", **change}
    with pytest.raises(CatalogError) as caught:
        schemas_from_config([ACME, bad], "config.toml", known=["vllm"])
    assert message in str(caught.value)


def test_users_schema_replaces_a_builtin_of_the_same_name_and_names_are_unique():
    custom = parse_schema({**ACME, "name": "vllm"}, "config.toml")
    combined = with_custom([custom])
    assert [s for s in combined if s.name == "vllm"] == [custom]
    with pytest.raises(CatalogError, match="defined twice"):
        schemas_from_config([ACME, ACME], "config.toml")
    with pytest.raises(CatalogError, match="expected \\[\\[schema\\]\\] tables"):
        schemas_from_config({"name": "x"}, "config.toml")


# -- old and new names, counter spellings -----------------------------------------------------------------------

def test_litellm_before_the_proxy_counters():
    def page(n):
        return {series("litellm_requests_metric_total", model="gpt-4o", api_provider="openai"): 10 * n,
                series("litellm_llm_api_failed_requests_metric_total", model="gpt-4o"): n,
                series("litellm_spend_metric_total", model="gpt-4o"): 0.5 * n}
    rows, _ = rows_of(page(0), page(10))
    row = rows[("litellm", "gpt-4o")]
    assert (row.value("request_rate"), row.value("error_rate")) == (pytest.approx(10.0), pytest.approx(0.1))
    assert row.value("cost_per_hour") == pytest.approx(0.5 * 3600)
    assert row.provenance["request_rate"].startswith("sum(rate(litellm_requests_metric_total[10.0s]))")


def test_vllm_names_before_the_renames():
    def page(n):
        samples = {series("vllm:request_success_total", model_name="m", finished_reason="stop"): n,
                   series("vllm:gpu_cache_usage_perc", model_name="m"): 0.5}
        samples.update(histogram("vllm:time_per_output_token_seconds", {"0.05": 0.8 * n, "0.1": n, "+Inf": n}, model_name="m"))
        return samples
    rows, _ = rows_of(page(0), page(100))
    row = rows[("vllm", "m")]
    assert row.value("kv_cache_usage") == 0.5 and row.value("tpot_p95") == pytest.approx(0.05 + 0.05 * 15 / 20)


def test_counters_are_read_with_or_without_total():
    """TGI prints `tgi_request_count`; prometheus_client's parser hands it over as `tgi_request_count_total`."""
    for name in ("tgi_request_count", "tgi_request_count_total"):
        rows, _ = rows_of({series(name): 0, series("tgi_queue_size"): 1}, {series(name): 50, series("tgi_queue_size"): 1})
        assert rows[("tgi", "10.0.0.1:9000")].value("request_rate") == pytest.approx(5.0)


def test_triton_tensorrt_llm_backend_gauges():
    page = {series("nv_inference_request_success", model="ensemble", version="1"): 1,
            series("nv_trt_llm_request_metrics", model="tensorrt_llm", version="1", request_type="active"): 6,
            series("nv_trt_llm_request_metrics", model="tensorrt_llm", version="1", request_type="max"): 64,
            series("nv_trt_llm_kv_cache_block_metrics", model="tensorrt_llm", version="1", kv_cache_block_type="fraction"): 0.4,
            series("nv_trt_llm_kv_cache_block_metrics", model="tensorrt_llm", version="1", kv_cache_block_type="used"): 900}
    rows, _ = rows_of(page)
    row = rows[("triton", "tensorrt_llm")]
    assert (row.value("running"), row.value("kv_cache_usage")) == (6, 0.4)


def test_a_summary_of_several_series_without_fallback_is_not_shown():
    schema = parse_schema({"name": "s", "group_labels": ["model"], "detect": ["s_latency"], "concept": {
        "latency": [{"kind": "summary", "metric": "s_latency"}]}}, "t")
    page = {series("s_latency", model="m", quantile="0.95", pod=pod): v for pod, v in (("a", 1.0), ("b", 3.0))}
    rows, _ = rows_of(page, page, schemas=[schema])
    row = rows[("s", "m")]
    assert row.value("latency_p95") is None  # never the average 2.0
    assert "summary quantiles cannot be merged" in row.provenance["latency_p95"]


# -- Prometheus mode: the PromQL each feature becomes --------------------------------------------------------

TRITON_SERVER = {
    "nv_inference_request_success", "nv_inference_request_failure", "nv_inference_request_duration_us",
    "nv_inference_request_summary_us", "nv_inference_first_response_histogram_ms_bucket", "vllm:prompt_tokens_total",
    "vllm:e2e_request_latency_seconds_bucket", "vllm:request_success_total", "vllm:num_requests_running",
}


def plans(names):
    return {plan.schema.name: plan for plan in plan_schemas(builtin_schemas(), names)}


def queries(plan, **kwargs):
    return {(q.concept, q.kind, q.field): q.expr for q in instant_queries(plan, window=30, group_by=None, **kwargs)}


def test_prometheus_mode_mean_summary_scale_scope_and_standing_down():
    found = plans(TRITON_SERVER)
    triton = queries(found["triton"])
    assert triton[("latency", "mean", None)] == (
        "sum by (model) (rate(nv_inference_request_duration_us[30s])) / sum by (model) (rate(nv_inference_request_success[30s]))")
    assert triton[("latency", "summary", None)] == 'nv_inference_request_summary_us{quantile=~"0\\\\.5|0\\\\.95|0\\\\.99"}'
    # the vLLM backend's names are read only where Triton's fingerprint is (vLLM reads them too)
    assert triton[("input_tokens", "rate", None)] == (
        'sum by (model) ((rate(vllm:prompt_tokens_total[30s]) and on (instance) group by (instance) '
        '({__name__=~"nv_inference_request_success|nv_inference_request_failure"})))')
    assert ("requests", "rate", None) in triton  # success + failure: one query per name, added when read
    assert sum(1 for q in instant_queries(found["triton"], window=30, group_by=None) if q.concept == "requests") == 2
    # vLLM stands down on Triton's targets
    vllm = queries(found["vllm"])
    assert vllm[("requests", "rate", None)] == (
        'sum by (model_name) ((rate(vllm:request_success_total[30s]) unless on (instance) group by (instance) '
        '({__name__=~"nv_inference_request_success|nv_inference_request_failure"})))')


def test_prometheus_mode_groups_by_the_first_label_a_series_has():
    otel = plans({"gen_ai_client_operation_duration_seconds_bucket", "gen_ai_client_operation_duration_seconds_count"})
    expr = queries(otel["otel_genai"])[("requests", "rate", None)]
    count = "gen_ai_client_operation_duration_seconds_count"
    assert expr.startswith(f'sum by (gen_ai_request_model) ((rate({count}{{gen_ai_request_model!=""}}[30s]) or ')
    assert (f'label_replace(rate({count}{{gen_ai_request_model="",gen_ai_response_model!=""}}[30s]), '
            '"gen_ai_request_model", "$1", "gen_ai_response_model", "(.+)")') in expr
    assert '"gen_ai_request_model", "$1", "instance", "(.+)")' in expr  # no model label at all: the target


def test_prometheus_mode_litellm_rows_line_up_and_a_row_matcher_follows_each_variant():
    """Every concept is grouped by `requested_model`, else `model` (older proxies): a row's matcher selects
    its name under the label each series is named by."""
    litellm = plans({"litellm_proxy_total_requests_metric_total", "litellm_input_tokens_metric_total"})["litellm"]
    matcher = group_matcher(("requested_model",), "gpt-4o")
    q = queries(litellm, matcher=matcher)
    for concept, metric in (("requests", "litellm_proxy_total_requests_metric_total"),
                            ("input_tokens", "litellm_input_tokens_metric_total")):
        expr = q[(concept, "rate", None)]
        assert expr.startswith("sum by (requested_model) (")
        assert f'rate({metric}{{requested_model="gpt-4o",requested_model!=""}}[30s])' in expr
        assert (f'label_replace(rate({metric}{{model="gpt-4o",requested_model="",model!=""}}[30s]), '
                '"requested_model", "$1", "model", "(.+)")') in expr
    # The history sums the same selection: an older proxy's `model`-only series count for the row too.
    history = row_expression(litellm, "request_rate", window=30, matcher=matcher)
    assert history == f"sum({litellm.wrap(q[('requests', 'rate', None)].removeprefix('sum by (requested_model) ('))[:-1]})"
    assert ('label_replace(rate(litellm_proxy_total_requests_metric_total{model="gpt-4o",requested_model="",'
            'model!=""}[30s]), "requested_model", "$1", "model", "(.+)")') in history


def test_prometheus_mode_litellm_breakdown_keeps_an_older_proxys_model_only_series_in_the_row():
    """Split by another label, the row is still `requested_model`, else `model`, else the target."""
    litellm = plans({"litellm_proxy_total_requests_metric_total"})["litellm"]
    matcher = group_matcher(("requested_model",), "gpt-4o")
    (query,) = [q for q in instant_queries(litellm, window=30, group_by="api_key_alias", matcher=matcher)
                if q.concept == "requests"]
    metric = "litellm_proxy_total_requests_metric_total"
    assert query.expr == (
        f'sum by (api_key_alias) ((rate({metric}{{requested_model="gpt-4o"}}[30s])'
        f' or rate({metric}{{model="gpt-4o",requested_model=""}}[30s])'
        f' or rate({metric}{{instance="gpt-4o",requested_model="",model=""}}[30s])))')


def test_prometheus_mode_history_of_a_summary_falls_back_like_the_table():
    bert = group_matcher(("model",), "bert")
    expr = row_expression(plans(TRITON_SERVER)["triton"], "latency_p95", window=30, matcher=bert)
    assert expr.startswith('((max(nv_inference_request_summary_us{model="bert",quantile="0.95"}) and on () (count(')
    assert (' or (sum(rate(nv_inference_request_duration_us{model="bert"}[30s]))'
            ' / sum(rate(nv_inference_request_success{model="bert"}[30s])) * 1e-06)') in expr


def vector(*pairs):
    return [{"metric": labels, "value": [1.0, str(value)]} for labels, value in pairs]


def test_prometheus_mode_reads_summaries_means_and_summed_counters():
    plan = plans(TRITON_SERVER)["triton"]
    by = {}
    for query in instant_queries(plan, window=30, group_by=None):
        by.setdefault((query.concept, query.kind), []).append(query)
    success, failure = by[("requests", "rate")]
    answered = {
        success: (vector(({"model": "a"}, 100), ({"model": "b"}, 40)), None),
        failure: (vector(({"model": "a"}, 1)), None),  # b never failed: its requests must not vanish
        by[("latency", "summary")][0]: (vector(
            ({"model": "a", "version": "1", "quantile": "0.95"}, 21000),
            ({"model": "b", "version": "1", "quantile": "0.95"}, 7000),
            ({"model": "b", "version": "2", "quantile": "0.95"}, 9000)), None),
        by[("latency", "mean")][0]: (vector(({"model": "a"}, 12500), ({"model": "b"}, 6500)), None),
    }
    rows, warnings = assemble_rows([plan], answered, {}, None)
    a, b = ({row.group: row for row in rows}[g] for g in ("a", "b"))
    assert (a.value("request_rate"), b.value("request_rate")) == (101, 40)
    assert a.value("latency_p95") == pytest.approx(0.021) and "not mergeable" in a.provenance["latency_p95"]
    assert b.value("latency_p95") == pytest.approx(0.0065) and "a mean" in b.provenance["latency_p95"]
    assert " + " in a.provenance["request_rate"]  # both summed queries are quoted
    assert b.missing_reason("input_tokens_rate") is Missing.NO_METRIC and not warnings


def test_one_request_per_expression_read_for_every_concept_it_answers():
    """SGLang's aborted counter is a summand of requests and the error counter: sent once, read twice."""
    sglang = plans({"sglang:num_requests_total", "sglang:num_aborted_requests_total"})["sglang"]
    sent = instant_queries(sglang, window=30, group_by=None)
    assert len({q.expr for q in sent}) == len(sent)
    aborted = next(q for q in sent if "num_aborted" in q.expr)
    assert sorted(r.concept for r in aborted.readings()) == ["errors", "requests"]
    finished = next(q for q in sent if "sglang:num_requests_total" in q.expr)
    rows, _ = assemble_rows([sglang], {aborted: (vector(({"model_name": "q"}, 10)), None),
                                       finished: (vector(({"model_name": "q"}, 90)), None)}, {}, None)
    (row,) = rows
    assert (row.value("request_rate"), row.value("error_rate")) == (100, 0.1)
    assert row.errors_by_type == {"abort": 10}
