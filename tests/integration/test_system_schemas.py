"""Every schema fixture page through a real Prometheus: aitop's Prometheus mode gives the hand-computed rows.

The session's Prometheus scrapes each tests/data page (fixture_server.py: one port per page, counters
growing at (fixture value) / 10 per second, exact sample timestamps) besides the known-answer exporter.
One refresh of `PrometheusCollector` must give, for every page, the rows tests/data/expected.py computes
by hand — the same numbers, and the same missing reasons, as scrape mode computes from two scrapes of the
page (the unit tests' path) — and no other rows: no FastAPI rows for vLLM's own HTTP metrics, no vLLM rows
for Triton's vLLM backend, nothing from the node exporter page.
"""

from __future__ import annotations

import statistics

import asyncio
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import expected  # noqa: E402
import pages  # noqa: E402

from aitop.catalog import NameFilter, builtin_schemas  # noqa: E402
from aitop.detect_report import build_report, names_by_instance, names_query, render_text  # noqa: E402
from aitop.model import Missing  # noqa: E402
from aitop.rows import RowBuilder, TargetData  # noqa: E402
from aitop.sources.scrape.exposition import parse  # noqa: E402
from aitop.sources.prometheus.collector import PrometheusCollector  # noqa: E402
from aitop.store import TargetWindow  # noqa: E402

pytestmark = pytest.mark.integration

# Exact timestamps on linear data make a rate exact over any full window: a short one keeps the warm-up short.
WINDOW_S = 5.0
HISTORY_S = 7.0  # before [5s] rates are exact: no partial window, 2 s spare
REL = 1e-6  # exact timestamps on linear data: Prometheus's rate() is exact up to float noise


def _at(fixture_pages, name: str, table: dict) -> dict:
    instance = fixture_pages.instance(name)
    return {(schema, group.replace(expected.INSTANCE, instance)): value for (schema, group), value in table.items()}


def _wait_for_history(known, base: str, fixture_pages) -> None:
    series = f'tgi_request_count{{instance="{fixture_pages.instance("tgi")}"}}'
    deadline = time.monotonic() + 30
    while known.history_seconds(base, series) < HISTORY_S:
        if time.monotonic() > deadline:
            pytest.fail(f"Prometheus holds under {HISTORY_S}s of the fixture pages after 30 s")
        time.sleep(0.25)


def _fully_covered(known, base: str, instance: str, at: float) -> bool:
    """Whether `rate()` over [WINDOW_S] at `at` covers the whole window for the page at `instance`.

    Prometheus extrapolates a rate to an edge of the window only from a sample within 1.1 average scrape
    intervals of it (else half an interval): a scrape a loaded machine delayed or skipped near an edge makes
    every rate of the page low (11 % was seen), however exact the timestamps. All series of a page share
    their timestamps: one series tells."""
    data = known._query(base, f'{{instance="{instance}",__name__!~"up|scrape_.*"}}[{WINDOW_S:g}s]', at)
    series = max(data["result"], key=lambda r: len(r["values"]), default=None)
    if series is None or len(series["values"]) < 2:
        return False
    stamps = [float(t) for t, _ in series["values"]]
    step = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    return stamps[0] - (at - WINDOW_S) < 1.1 * step and at - stamps[-1] < 1.1 * step


@pytest.fixture(scope="module")
def collected(known, prometheus, fixture_pages):
    """One refresh of aitop's Prometheus mode against the session's Prometheus, and the collector.

    The refresh is taken again (a few times at most) while some page's scrapes did not cover the window at
    the instant aitop's queries were evaluated: the comparisons below are exact (REL), for regular scrapes."""
    _wait_for_history(known, prometheus, fixture_pages)
    for _ in range(8):
        outcome = _refresh(prometheus, fixture_pages)
        at = outcome["result"].taken_at + outcome["result"].clock_offset
        if all(_fully_covered(known, prometheus, fixture_pages.instance(name), at) for name in pages.SCHEMA_FIXTURES):
            return outcome
    pytest.fail("Prometheus scraped the fixture pages irregularly at every one of 8 refreshes")


def _refresh(prometheus, fixture_pages) -> dict:
    collector = PrometheusCollector(prometheus, window=WINDOW_S, timeout=10)

    async def refresh():
        result = await collector.collect()
        wanted = ((("litellm", "gpt-4o"), "request_rate"), (("triton", "bert"), "latency_p95"),
                  (("triton", "resnet50"), "latency_p95"), (("llamacpp", fixture_pages.instance("llamacpp")), "tpot_p95"))
        histories = {key: await collector.history(key, [field], 20) for key, field in wanted}
        breakdown = await collector.breakdown(("litellm", "gpt-4o"), "api_key_alias")
        stages = await collector.breakdown(("sglang", "Qwen/Qwen2.5-7B-Instruct"), "stage")
        await collector.aclose()
        return result, histories, breakdown, stages

    result, histories, breakdown, stages = asyncio.run(refresh())
    assert result.targets[0].up, result.targets
    return {"result": result, "rows": {row.key: row for row in result.rows}, "histories": histories,
            "breakdown": {row.group: row for row in breakdown}, "stages": {row.group: row for row in stages}}


def _scrape_mode_rows(fixture_pages, name: str) -> dict:
    """What scrape mode computes from two scrapes of the page 10 s apart (the unit tests' path)."""
    wanted = NameFilter(builtin_schemas())
    text = pages.read(name)
    window = TargetWindow(30.0)
    for i, page in enumerate((text, pages.scaled(text, 2.0))):
        window.add(10.0 * i, 1_754_990_000.0 + 10.0 * i, parse(page, "text/plain", wanted).samples)
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData(fixture_pages.instance(name), window, True))
    return {row.key: row for row in builder.rows()}


def _mismatches(row, want: dict) -> list[str]:
    bad = []
    for field, value in want.items():
        got = row.value(field)
        if isinstance(value, Missing):
            if got is not None or row.missing_reason(field) is not value:
                bad.append(f"{row.key} {field}: got {got!r} ({row.missing_reason(field)}), want missing: {value.value}")
        elif got is None or got != pytest.approx(value, rel=REL, abs=1e-12):
            bad.append(f"{row.key} {field}: got {got!r}, want {value!r}")
    return bad


def test_no_rows_but_the_pages_expected_ones(collected, known, fixture_pages) -> None:
    """Exactly the known exporter's rows and every page's expected rows: nothing spurious."""
    want = set(known.expected_rows())
    for name in pages.SCHEMA_FIXTURES:
        want |= set(_at(fixture_pages, name, expected.EXPECTED[name]))
    want |= set(expected.MIXED_ROWS)
    assert set(collected["rows"]) == want
    assert not collected["result"].warnings, collected["result"].warnings


@pytest.mark.parametrize("name", pages.SCHEMA_FIXTURES)
def test_prometheus_mode_equals_hand_computed_and_scrape_mode(collected, fixture_pages, name) -> None:
    rows = collected["rows"]
    want = _at(fixture_pages, name, expected.EXPECTED[name])
    bad = [line for key, fields in want.items() for line in _mismatches(rows[key], fields)]
    assert not bad, f"{name}: Prometheus mode vs hand-computed:\n  " + "\n  ".join(bad)
    types = _at(fixture_pages, name, expected.ERRORS_BY_TYPE.get(name, {}))
    for key in want:
        assert rows[key].errors_by_type == pytest.approx(types.get(key, {}), rel=REL), key
    scrape = _scrape_mode_rows(fixture_pages, name)
    assert set(scrape) == set(want)
    for key, row in scrape.items():  # same numbers, and the same reasons for the missing ones
        same = {field: row.value(field) if row.value(field) is not None else row.missing_reason(field)
                for field in row.values}
        assert not _mismatches(rows[key], same), (key, _mismatches(rows[key], same))


def test_mixed_page_in_prometheus_mode(collected) -> None:
    bad = [line for key, fields in expected.MIXED_ROWS.items() for line in _mismatches(collected["rows"][key], fields)]
    assert not bad, "\n".join(bad)


def test_provenance_is_the_promql_with_what_kind_of_number_it_is(collected) -> None:
    rows = collected["rows"]
    bert, resnet = rows[("triton", "bert")], rows[("triton", "resnet50")]
    assert "a mean (Δsum/Δcount), not a percentile" in bert.provenance["latency_p95"]
    assert bert.provenance["latency_p95"].startswith(f"sum by (model) (rate(nv_inference_request_duration_us[{WINDOW_S:g}s]))")
    assert "not mergeable" in resnet.provenance["latency_p95"]
    litellm = rows[("litellm", "gpt-4o")]
    assert litellm.group_label == "requested_model"  # every concept: requested_model, else model
    assert litellm.provenance["request_rate"].startswith(
        f'sum by (requested_model) ((rate(litellm_proxy_total_requests_metric_total{{requested_model!=""}}[{WINDOW_S:g}s])')
    vllm = rows[("vllm", "meta-llama/Llama-3.3-70B-Instruct")]  # a ratio: the two rates the server answered
    hits = vllm.provenance["prefix_cache_hit_ratio"]
    assert "rate(vllm:prefix_cache_hits_total[5s])" in hits and " / " in hits
    assert hits.index("prefix_cache_hits_total") < hits.index("prefix_cache_queries_total")
    assert vllm.provenance["goodput_ttft"] == (
        'sum(rate(vllm:time_to_first_token_seconds_bucket{le="1"}[5s])) / sum(rate(vllm:time_to_first_token_seconds'
        '_count[5s])) — bucket bound le=1 used for the target 1s')
    assert 'nv_inference_first_response_histogram_ms_bucket{le="500"}' in bert.provenance["goodput_ttft"]  # ms
    assert "target 1s lies between bucket bounds: rounded down to le=500 (0.5s)" in bert.provenance["goodput_ttft"]
    assert "TGI exposes no time-to-first-token metric" in next(
        row for key, row in rows.items() if key[0] == "tgi").provenance["ttft_p95"]


def test_history_and_breakdown_use_each_variants_group_label(collected, fixture_pages) -> None:
    """A row's history and breakdown select it by the label each query groups by (LiteLLM's request counter
    names the model `requested_model`), and a mean or a one-series summary has a history too."""
    def last(key, field):
        points = [v for _, v in collected["histories"][key][field] if v is not None]
        assert points, (key, field)
        # the newest point ends at "now", where a scrape delayed by load skews the rate: read the recent median
        return statistics.median(points[-5:])

    assert last(("litellm", "gpt-4o"), "request_rate") == pytest.approx(300.0, rel=1e-3)
    assert last(("triton", "bert"), "latency_p95") == pytest.approx(26_000_000 / 4000 * 1e-6, rel=1e-3)
    assert last(("triton", "resnet50"), "latency_p95") == pytest.approx(21000e-6, rel=1e-6)
    assert last(("llamacpp", fixture_pages.instance("llamacpp")), "tpot_p95") == pytest.approx(0.025, rel=1e-3)
    split = collected["breakdown"]
    assert set(split) == {"prod", "batch"}
    assert split["prod"].value("request_rate") == pytest.approx(200.0, rel=REL)
    assert split["batch"].value("request_rate") == pytest.approx(100.0, rel=REL)
    assert split["prod"].value("error_rate") == pytest.approx(60 / 2000, rel=REL)


def test_sglang_stage_breakdown_gives_each_stages_p95(collected, fixture_pages) -> None:
    """SGLang's per-stage histogram split by `stage` (the drill-down's `b`): each stage's p95, as scrape mode
    splits the same page and as computed by hand."""
    builder = RowBuilder(builtin_schemas(), group_by="stage", within=("sglang", "Qwen/Qwen2.5-7B-Instruct"))
    wanted = NameFilter(builtin_schemas())
    text, window = pages.read("sglang"), TargetWindow(30.0)
    for i, page in enumerate((text, pages.scaled(text, 2.0))):
        window.add(10.0 * i, 1_754_990_000.0 + 10.0 * i, parse(page, "text/plain", wanted).samples)
    builder.add_target(TargetData(fixture_pages.instance("sglang"), window, True))
    scraped = {row.group: row for row in builder.rows()}
    for stage, p95 in expected.SGLANG_STAGE_P95.items():
        assert collected["stages"][stage].value("stage_p95") == pytest.approx(p95, rel=REL), stage
        assert scraped[stage].value("stage_p95") == pytest.approx(p95, rel=1e-9), stage


def test_detect_report_from_a_prometheus_server_per_instance(collected, known, prometheus, exporter, fixture_pages) -> None:
    """`aitop detect` on a server: the catalog's names per instance, so standing down works per target."""
    answer = known.HTTP.post(f"{prometheus}/api/v1/query", data={"query": names_query(builtin_schemas())}, timeout=10)
    names = names_by_instance(answer.json()["data"]["result"])
    report = build_report(builtin_schemas(), names, collected["result"])
    found = {schema.name: schema for schema in report.schemas}
    assert set(found) == {schema.name for schema in builtin_schemas()}
    assert found["fastapi"].targets == (fixture_pages.instance("fastapi"),)  # not vLLM's own HTTP layer
    assert set(found["vllm"].targets) == {exporter.target, fixture_pages.instance("vllm"),
                                          fixture_pages.instance(pages.MIXED)}  # not Triton's vLLM backend
    assert "vllm — vLLM" in render_text(report)
