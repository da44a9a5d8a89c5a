"""The schema catalog is data; malformed data is an error that names the key."""

import pytest

from aitop.catalog import CONCEPT_KINDS, CatalogError, NameFilter, builtin_schemas, parse_schema


def test_builtin_schemas_load():
    names = {schema.name for schema in builtin_schemas()}
    assert {"vllm", "llm", "otel_genai"} <= names


def test_every_builtin_concept_has_the_right_kind():
    for schema in builtin_schemas():
        assert schema.detect and schema.group_labels
        # a request counter, or a reason why the system has none (llama.cpp)
        assert "requests" in schema.concepts or "requests" in schema.absent
        for concept, variants in schema.concepts.items():
            assert all(variant.kind in CONCEPT_KINDS[concept] for variant in variants)


def base(**concept):
    return {"name": "x", "group_labels": ["model"], "detect": ["x_total"], "concept": concept}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (base(requests=[{"kind": "gauge", "metric": "x"}]), "concept.requests[0].kind"),
        (base(bogus=[{"kind": "counter", "metric": "x"}]), "concept.bogus: unknown concept"),
        (base(requests=[{"kind": "counter"}]), "exactly one of metric or metric_regex"),
        (base(requests=[{"kind": "counter", "metric": "x", "match": {"a": "("}}]), "match.a: invalid regular"),
        (base(requests=[{"kind": "counter", "metric": "x", "colour": 1}]), "unknown key(s) colour"),
        ({"name": "x", "detect": [], "concept": {}}, "missing key group_labels"),
        # a join combines per key, then per row: equal to combining all series at once for sum/max/min only
        (base(running=[{"kind": "gauge", "metric": "x", "aggregate": "avg", "join": {"on": ["k"], "via": "y"}}]),
         "concept.running[0].join: only counters and sum/max/min gauges can be joined"),
        (base(latency=[{"kind": "histogram", "metric": "x", "join": {"on": ["k"], "via": "y"}}]),
         "concept.latency[0].join: only counters"),
        (base(running=[{"kind": "gauge", "metric": "x", "join": {"on": ["k"]}}]), "concept.running[0].join: expected"),
        (base(running=[{"kind": "gauge", "metric": "x", "join": {"on": [], "via": "y"}}]), "join.on: must not be empty"),
        # an info gauge's reading is a label of its newest series: joined, and highest or lowest across servers
        (base(running=[{"kind": "gauge", "metric": "x", "value_label": "l"}]), "running[0].value_label: a label name"),
        (base(running=[{"kind": "gauge", "metric": "x", "value_label": "l", "join": {"on": ["instance"], "via": "y"}}]),
         "running[0].value_label: a label name, on a joined max or min gauge"),
        (base(running=[{"kind": "gauge", "metric": "x", "aggregate": "max", "value_read": "count"}]),
         "running[0].value_read"),
    ],
)
def test_bad_schema_names_the_key(raw, message):
    with pytest.raises(CatalogError) as caught:
        parse_schema(raw, "custom.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("custom.toml")


def test_selectors_are_anchored_and_absent_label_reads_empty():
    schema = parse_schema(base(errors=[{"kind": "counter", "metric": "x_total", "match": {"error_type": ".+"}}]), "t")
    (variant,) = schema.concepts["errors"]
    assert variant.selects({"error_type": "timeout"})
    assert not variant.selects({})
    schema = parse_schema(base(errors=[{"kind": "counter", "metric": "x_total", "match": {"r": "abort|error"}}]), "t")
    assert not schema.concepts["errors"][0].selects({"r": "aborted"})


def test_name_filter_accepts_with_and_without_total_and_regex_feedback():
    wanted = NameFilter(builtin_schemas())
    assert wanted.wants("vllm:request_success_total") and wanted.wants("vllm:request_success_created")
    assert wanted.wants("llm_feedback_total") and wanted.wants("user_feedback_total")
    assert not wanted.wants("node_cpu_seconds_total")
    assert wanted.wants_family("vllm:request_success")  # OpenMetrics TYPE lines name the bare family


def test_a_joined_variant_needs_its_via_metric_and_the_filter_keeps_it():
    """Without the series that name its rows a joined variant is not there; the page filter keeps those series."""
    from aitop.catalog import choose_all

    join = {"on": ["model_id"], "via": "deploy_requests_total"}
    schema = parse_schema(base(running=[{"kind": "gauge", "metric": "state", "aggregate": "max", "join": join}]), "t")
    assert "running" not in choose_all(schema, {"x_total", "state"})
    (found,) = choose_all(schema, {"x_total", "state", "deploy_requests"})["running"]
    assert found.values == ("state",) and found.counts == ("deploy_requests",)
    assert NameFilter([schema]).wants("deploy_requests_total")


def test_an_info_gauge_reads_a_count_or_a_number_from_a_label():
    join = {"on": ["instance"], "via": "y"}
    raw = {"kind": "gauge", "metric": "x", "aggregate": "max", "join": join, "value_label": "adapters"}
    (count,) = parse_schema(base(running=[raw]), "t").concepts["running"]
    (number,) = parse_schema(base(running=[raw | {"value_label": "most", "value_read": "number"}]), "t").concepts["running"]
    assert count.read_label({"adapters": "a,b,c"}) == 3 and count.read_label({"adapters": ""}) == 0
    assert number.read_label({"most": "4"}) == 4 and number.read_label({}) != number.read_label({})  # NaN
