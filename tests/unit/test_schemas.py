"""Every built-in schema against a fixture page written from each server's documented metric names, in scrape mode.

Each fixture (tests/data/<schema>.prom) is parsed as aitop parses a scrape, a second scrape is the same
page with counters doubled, 10 s later; the rows must equal the hand-computed ones in tests/data/expected.py
field by field (or be missing for the reason given there).
"""

from __future__ import annotations

import pytest
from fixture_rows import INSTANCE, build

import expected  # tests/data, put on the path by fixture_rows
import pages
from aitop.catalog import builtin_schemas
from aitop.model import Missing


def at_instance(table: dict) -> dict:
    """Expectations keyed by (schema, group), with the target's host:port for the `INSTANCE` placeholder."""
    return {(schema, group.replace(expected.INSTANCE, INSTANCE)): value for (schema, group), value in table.items()}


def expected_rows(name: str) -> dict:
    return at_instance(expected.EXPECTED[name])


def assert_row(row, want: dict) -> None:
    bad = []
    for field, value in want.items():
        got = row.value(field)
        if isinstance(value, Missing):
            if got is not None or row.missing_reason(field) is not value:
                bad.append(f"{field}: got {got!r} ({row.missing_reason(field)}), want missing: {value.value}")
        elif got is None or got != pytest.approx(value, rel=1e-9, abs=1e-12):
            bad.append(f"{field}: got {got!r}, want {value!r}")
    assert not bad, f"{row.key}:\n  " + "\n  ".join(bad)


def test_every_schema_has_a_fixture_and_expectations() -> None:
    assert {schema.name for schema in builtin_schemas()} == set(pages.SCHEMA_FIXTURES) == set(expected.EXPECTED)


@pytest.mark.parametrize("name", pages.SCHEMA_FIXTURES)
def test_fixture_rows_equal_hand_computed(name: str) -> None:
    builder = build(name)
    detected, suppressed = expected.DETECTED[name]
    assert builder.detected == detected
    assert builder.suppressed == suppressed
    rows = {row.key: row for row in builder.rows()}
    want = expected_rows(name)
    assert set(rows) == set(want), f"groups {sorted(rows)} != {sorted(want)}"
    for key, fields in want.items():
        assert_row(rows[key], fields)
        types = at_instance(expected.ERRORS_BY_TYPE[name]).get(key, {}) if name in expected.ERRORS_BY_TYPE else {}
        assert rows[key].errors_by_type == pytest.approx(types), key


@pytest.mark.parametrize("name", pages.SCHEMA_FIXTURES)
def test_fixture_group_label_and_first_scrape(name: str) -> None:
    """One scrape: rows exist already, rates are 'not enough samples' (never 0), gauges are read."""
    rows = {row.key: row for row in build(name, scrapes=1).rows()}
    assert set(rows) == set(expected_rows(name))
    by_name = {s.name: s for s in builtin_schemas()}
    assert {row.schema for row in rows.values()} == expected.DETECTED[name][0]
    for row in rows.values():
        schema = by_name[row.schema]  # (the Triton page also holds its GPU rows)
        assert row.group_label in (*schema.group_labels, "instance")
        if schema.concepts.get("requests"):
            assert row.value("request_rate") is None
            assert row.missing_reason("request_rate") is Missing.NOT_ENOUGH_SAMPLES


def test_mixed_gateway_backend_and_node_exporter_give_exactly_their_rows() -> None:
    builder = build(pages.MIXED)
    assert (builder.detected, builder.suppressed) == expected.MIXED_DETECTED
    rows = {row.key: row for row in builder.rows()}
    assert set(rows) == set(expected.MIXED_ROWS)
    for key, fields in expected.MIXED_ROWS.items():
        assert_row(rows[key], fields)


def test_unrelated_exporter_gives_no_rows_and_no_schema() -> None:
    builder = build(pages.NODE)
    assert builder.rows() == [] and builder.detected == set() and builder.suppressed == {}


def test_fixtures_are_realistic_pages() -> None:
    """HELP/TYPE on every family; `_created` exactly where the client library prints it."""
    created = {"vllm", "sglang", "litellm", "trtllm", "bentoml", "kserve", "fastapi", "flask", "llm", pages.MIXED}
    for name in pages.ALL:
        text = pages.read(name)
        assert "# HELP " in text and "# TYPE " in text, name
        if name in created:
            assert "_created{" in text or "_created " in text, name
        else:  # Rust, C++, hand-written, aioprometheus, OTel and Ray exporters; LMDeploy disables them
            assert "_created" not in text, name
    assert "tgi_request_count 1200\n" in pages.read("tgi")  # no _total (metrics-exporter-prometheus)
    assert "nv_inference_request_success{" in pages.read("triton")  # no _total (prometheus-cpp)


def test_summary_quantiles_are_read_only_from_one_series() -> None:
    rows = {row.key: row for row in build("triton").rows()}
    single, merged = rows[("triton", "resnet50")], rows[("triton", "bert")]
    assert "summary" in single.provenance["latency_p95"] and "not mergeable" in single.provenance["latency_p95"]
    assert "a mean (Δsum/Δcount), not a percentile" in merged.provenance["latency_p95"]
    # never an average of the two versions' p95 (10100 µs and 7600 µs)
    assert merged.value("latency_p95") != pytest.approx((10100 + 7600) / 2 * 1e-6)


def test_reasons_for_what_a_system_does_not_expose() -> None:
    tgi = build("tgi").rows()[0]
    assert tgi.missing_reason("ttft_p95") is Missing.NO_METRIC
    assert "TGI exposes no time-to-first-token metric" in tgi.provenance["ttft_p95"]
    llama = build("llamacpp").rows()[0]
    assert "not requests" in llama.provenance["request_rate"]
    assert llama.provenance["tpot_p95"].startswith("sum(rate(llamacpp:tokens_predicted_seconds_total")
    assert "not a percentile" in llama.provenance["tpot_p95"]
    xinference = {row.group: row for row in build("xinference").rows()}["qwen2.5-instruct"]
    assert "the last observed value (a gauge), not a percentile" in xinference.provenance["ttft_p50"]


def test_rows_of_one_model_under_two_labels_line_up() -> None:
    """LiteLLM counts requests by `requested_model`, tokens by `model` and `requested_model`: one row per
    requested model, every concept grouped alike."""
    rows = build("litellm").rows()
    assert {row.group_label for row in rows} == {"requested_model"}
    assert all(row.value("request_rate") and row.value("output_tokens_rate") for row in rows)


def test_ray_2_32_colon_names_give_the_same_rows() -> None:
    """Ray 2.32 keeps vLLM's colon (`ray_vllm:num_requests_running`); later Ray writes `ray_vllm_…`."""
    from fixture_rows import TEXT, WANTED

    from aitop.rows import RowBuilder, TargetData
    from aitop.sources.scrape.exposition import parse
    from aitop.store import TargetWindow

    def rows(text: str) -> dict:
        window = TargetWindow(30.0)
        for i, page in enumerate((text, pages.scaled(text, 2.0))):
            window.add(10.0 * i, 1_754_990_000.0 + 10.0 * i, parse(page, TEXT, WANTED).samples)
        builder = RowBuilder(builtin_schemas())
        builder.add_target(TargetData(INSTANCE, window, True))
        return {row.key: row.values for row in builder.rows()}

    underscore = pages.read("ray_vllm")
    colon = underscore.replace("ray_vllm_", "ray_vllm:")
    assert "ray_vllm:request_success_total{" in colon
    expected_rows = rows(underscore)
    assert expected_rows and rows(colon) == expected_rows


def test_sglang_before_2025_counts_requests_from_the_e2e_histogram() -> None:
    """No `sglang:num_requests_total` (nor the aborted counter) on older SGLang: its e2e histogram's
    `_count` counts every finished request."""
    from fixture_rows import TEXT, WANTED

    from aitop.rows import RowBuilder, TargetData
    from aitop.sources.scrape.exposition import parse
    from aitop.store import TargetWindow

    old = "\n".join(line for line in pages.read("sglang").splitlines()
                    if "num_requests_" not in line and "num_aborted_requests" not in line) + "\n"
    count = next(float(line.rsplit(" ", 1)[1]) for line in old.splitlines()
                 if line.startswith("sglang:e2e_request_latency_seconds_count"))
    window = TargetWindow(30.0)
    for i, page in enumerate((old, pages.scaled(old, 2.0))):
        window.add(10.0 * i, 1_754_990_000.0 + 10.0 * i, parse(page, TEXT, WANTED).samples)
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData(INSTANCE, window, True))
    (row,) = builder.rows()
    assert row.value("request_rate") == pytest.approx(count / 10)
    assert row.value("latency_p95") is not None


def test_a_histogram_with_only_a_inf_bucket_says_so_not_no_observations() -> None:
    """An OTel SDK exporting a histogram without explicit bounds: observations counted, no percentile."""
    from fixture_rows import TEXT, WANTED

    from aitop.rows import RowBuilder, TargetData
    from aitop.sources.scrape.exposition import parse
    from aitop.store import TargetWindow

    page = ("# TYPE llm_requests counter\nllm_requests_total{model=\"m\",status=\"success\"} 100\n"
            "# TYPE llm_request_latency_seconds histogram\n"
            "llm_request_latency_seconds_bucket{model=\"m\",le=\"+Inf\"} 100\n"
            "llm_request_latency_seconds_count{model=\"m\"} 100\nllm_request_latency_seconds_sum{model=\"m\"} 150\n")
    window = TargetWindow(30.0)
    for i, text in enumerate((page, pages.scaled(page, 2.0))):
        window.add(10.0 * i, 1_754_990_000.0 + 10.0 * i, parse(text, TEXT, WANTED).samples)
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData(INSTANCE, window, True))
    (row,) = builder.rows()
    assert row.value("latency_p95") is None
    assert row.missing_reason("latency_p95") is Missing.NO_BUCKETS
    assert "only a +Inf bucket: 10 observations/s in the window" in row.provenance["latency_p95"]


def test_litellm_request_and_its_latency_are_one_row_when_routed_to_another_model() -> None:
    """LiteLLM 1.95 as deployed: the client asks for `mock-basic`, routed to `gpt-4o`. The request counter
    has only `requested_model`; the latency histogram has both. One row, not two half-empty ones."""
    from fixture_rows import TEXT, WANTED

    from aitop.rows import RowBuilder, TargetData
    from aitop.sources.scrape.exposition import parse
    from aitop.store import TargetWindow

    both = 'model="gpt-4o",requested_model="mock-basic"'
    page = ("# TYPE litellm_proxy_total_requests_metric_total counter\n"
            'litellm_proxy_total_requests_metric_total{requested_model="mock-basic",status_code="200"} 100\n'
            "# TYPE litellm_request_total_latency_metric histogram\n"
            f'litellm_request_total_latency_metric_bucket{{{both},le="1.0"}} 50\n'
            f'litellm_request_total_latency_metric_bucket{{{both},le="+Inf"}} 100\n'
            f"litellm_request_total_latency_metric_count{{{both}}} 100\n"
            f"litellm_request_total_latency_metric_sum{{{both}}} 80\n")
    window = TargetWindow(30.0)
    for i, text in enumerate((page, pages.scaled(page, 2.0))):
        window.add(10.0 * i, 1_754_990_000.0 + 10.0 * i, parse(text, TEXT, WANTED).samples)
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData(INSTANCE, window, True))
    (row,) = builder.rows()
    assert (row.group, row.group_label) == ("mock-basic", "requested_model")
    assert row.value("request_rate") == pytest.approx(10)
    assert row.value("latency_p50") == pytest.approx(1.0)
