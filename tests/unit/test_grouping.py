"""One grouping rule for both modes (`aitop.accumulator.group_of`): the label the user chose, else the first
model label a series has, else its target. Prometheus mode applies it in its PromQL (a series without the
label gets its `instance`); tests/integration/test_row_names_both_modes.py runs those queries through the
real PromQL engine."""

from __future__ import annotations

import pytest
from helpers import series, window_of

from aitop.accumulator import NONE_GROUP, group_of
from aitop.catalog import builtin_schemas
from aitop.rows import RowBuilder, TargetData
from aitop.sources.prom_results import assemble_rows
from aitop.sources.promql import (
    group_matcher,
    instant_queries,
    places_queries,
    plan_schemas,
    row_expression,
)

TARGET = "vllm-1:8000"
BY_TARGET = '"model_name", "$1", "instance", "(.+)")'


@pytest.mark.parametrize(("labels", "group_by", "expected"), [
    ({"model_name": "llama"}, None, ("model_name", "llama")),
    ({}, None, ("instance", TARGET)),  # no model label: the target
    ({"model": "gpt", "model_name": "llama"}, None, ("model_name", "llama")),  # the schema's first label wins
    ({"model": "gpt"}, None, ("model", "gpt")),
    ({"model_name": "llama"}, "engine", ("engine", NONE_GROUP)),  # a chosen label the series lacks
    ({"engine": "0"}, "engine", ("engine", "0")),
    ({}, "instance", ("instance", TARGET)),
    ({"model_name": "a\x1b[2J"}, None, ("model_name", "a^[[2J")),  # sanitised
])
def test_group_of(labels, group_by, expected):
    assert group_of(labels, ("model_name", "model"), TARGET, group_by) == expected


def _vllm_samples(scale: float) -> dict:
    labelled, bare = {"model_name": "llama", "finished_reason": "stop"}, {"finished_reason": "stop"}
    return {series("vllm:request_success_total", **labelled): 100 * scale,
            series("vllm:request_success_total", **bare): 40 * scale,
            series("vllm:num_requests_running", model_name="llama"): 3.0,
            series("vllm:num_requests_running"): 2.0}


def test_scrape_mode_names_an_unlabelled_series_by_its_target():
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData(TARGET, window_of((0, _vllm_samples(1)), (10, _vllm_samples(2))), True))
    rows = {row.group: row for row in builder.rows()}
    assert set(rows) == {"llama", TARGET} and rows[TARGET].group_label == "instance"
    assert rows[TARGET].value("request_rate") == 4.0 and rows[TARGET].value("running") == 2.0


def test_prometheus_mode_names_an_unlabelled_series_by_its_target_unless_a_label_was_chosen():
    (plan,) = plan_schemas(builtin_schemas(), {"vllm:request_success_total", "vllm:num_requests_running"})
    by_model = instant_queries(plan, window=30, group_by=None)
    assert by_model and all(BY_TARGET in q.expr for q in by_model)
    assert all(BY_TARGET not in q.expr for q in instant_queries(plan, window=30, group_by="engine"))
    assert all('"instance", "(.+)"' not in q.expr for q in instant_queries(plan, window=30, group_by="instance"))
    # the row's history and breakdown select a target-named row by its `instance`
    history = row_expression(plan, "request_rate", window=30, matcher=group_matcher(("model_name",), TARGET))
    assert f'instance="{TARGET}",model_name=""' in history
    (requests,) = [q for q in instant_queries(plan, window=30, group_by="engine",
                                              matcher=group_matcher(("model_name",), TARGET)) if q.concept == "requests"]
    assert f'rate(vllm:request_success_total{{instance="{TARGET}",model_name=""}}[30s])' in requests.expr
    # the answer, labelled as that PromQL labels it, gives scrape mode's rows
    (query,) = [q for q in by_model if q.concept == "requests"]
    answer = [{"metric": {"model_name": "llama"}, "value": [0, "10"]}, {"metric": {"model_name": TARGET}, "value": [0, "4"]}]
    rows, _ = assemble_rows([plan], {query: (answer, None)}, {}, None)
    assert {row.group: row.value("request_rate") for row in rows} == {"llama": 10.0, TARGET: 4.0}


def test_gpu_join_places_name_rows_as_the_table_does():
    (plan, dcgm) = sorted(plan_schemas(builtin_schemas(), {"vllm:num_requests_running", "DCGM_FI_DEV_GPU_UTIL"}),
                          key=lambda p: p.schema.name != "vllm")
    (places, _) = places_queries([plan, dcgm], group_by=None)
    assert BY_TARGET in places.expr
