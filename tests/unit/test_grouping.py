"""One grouping rule (`aitop.accumulator.group_of`), used by scrape mode, Prometheus mode and the SLO reader:
the label the user chose, else the first model label a series has, else its target."""

from __future__ import annotations

import pytest
from helpers import series, window_of

from aitop.accumulator import NONE_GROUP, group_of
from aitop.catalog import builtin_schemas
from aitop.rows import RowBuilder, TargetData
from aitop.sources.prometheus.results import assemble_rows
from aitop.sources.prometheus.promql import instant_queries, plan_schemas

TARGET = "vllm-1:8000"


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


def test_prometheus_mode_reads_row_names_by_the_same_rule():
    """An answer's series are named by `group_of`: a schema without model labels by `instance`, a chosen
    label's absence as `(none)`."""
    (plan,) = plan_schemas(builtin_schemas(), {"vllm:request_success_total"})
    (by_target,) = [q for q in instant_queries(plan, window=30, group_by="instance") if q.concept == "requests"]
    answer = [{"metric": {"instance": TARGET}, "value": [0, "4"]}]
    rows, _ = assemble_rows([plan], {by_target: (answer, None)}, {}, "instance")
    assert [(row.group, row.group_label) for row in rows] == [(TARGET, "instance")]
    (by_engine,) = [q for q in instant_queries(plan, window=30, group_by="engine") if q.concept == "requests"]
    answer = [{"metric": {"engine": "0"}, "value": [0, "4"]}, {"metric": {}, "value": [0, "1"]}]
    rows, _ = assemble_rows([plan], {by_engine: (answer, None)}, {}, "engine")
    assert sorted(row.group for row in rows) == [NONE_GROUP, "0"]
