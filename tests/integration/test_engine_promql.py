"""Engine internals, goodput and GPUs: scrape mode's numbers equal PromQL written by hand (0.1 %).

The session's Prometheus scrapes every fixture page (fixture_server.py: counters growing at (fixture value)
/ 10 per second, exact timestamps). For each new field, the PromQL an engineer would write — a ratio of two
rates, `histogram_quantile`, `rate(…_bucket{le="1"}) / rate(…_count)` for goodput, the gauges — is asked of
that server and compared with what scrape mode computes from two scrapes of the same page (the unit
tests' path) and with the hand-computed value of tests/data/expected.py.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import expected  # noqa: E402
import pages  # noqa: E402

from aitop.catalog import NameFilter, builtin_schemas  # noqa: E402
from aitop.rows import RowBuilder, TargetData  # noqa: E402
from aitop.sources.scrape.exposition import parse  # noqa: E402
from aitop.store import TargetWindow  # noqa: E402

pytestmark = pytest.mark.integration

W = "5s"
HISTORY_S = 7.0
REL = 1e-3
VLLM = "meta-llama/Llama-3.3-70B-Instruct"
SGLANG = "Qwen/Qwen2.5-7B-Instruct"


def sel(metric: str, *matchers: str) -> str:
    return metric + "{" + ",".join(matchers) + "}"


def rate(selector: str) -> str:
    return f"sum(rate({selector}[{W}]))"


def quantile(q: float, histogram: str, i: str) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({histogram}_bucket{{{i}}}[{W}])))"


def goodput(histogram: str, le: str, i: str) -> str:
    return f'{rate(f"{histogram}_bucket{{le=~{le!r},{i}}}")} / {rate(f"{histogram}_count{{{i}}}")}'.replace("'", '"')


def checks(i: dict[str, str]) -> list[tuple[str, tuple[str, str], str, str]]:
    """(fixture, row key, field, PromQL) for every new field of every fixture page that has it."""
    v, s, g, lt, lc, t = (i[name] for name in ("vllm", "sglang", "dcgm", "litellm", "llamacpp", "tgi"))
    vllm, sglang = ("vllm", VLLM), ("sglang", SGLANG)
    out = [
        ("vllm", vllm, "preemptions_rate", rate(f"vllm:num_preemptions_total{{{v}}}")),
        ("vllm", vllm, "prefix_cache_hit_ratio",
         f"{rate(f'vllm:prefix_cache_hits_total{{{v}}}')} / {rate(f'vllm:prefix_cache_queries_total{{{v}}}')}"),
        ("vllm", vllm, "external_cache_hit_ratio", rate(sel("vllm:external_prefix_cache_hits_total", v)) + " / "
         + rate(sel("vllm:external_prefix_cache_queries_total", v))),
        ("vllm", vllm, "mm_cache_hit_ratio",
         rate(sel("vllm:mm_cache_hits_total", v)) + " / " + rate(sel("vllm:mm_cache_queries_total", v))),
        ("vllm", vllm, "spec_acceptance_rate", f"{rate(f'vllm:spec_decode_num_accepted_tokens_total{{{v}}}')} / "
                                               f"{rate(f'vllm:spec_decode_num_draft_tokens_total{{{v}}}')}"),
        ("vllm", vllm, "spec_acceptance_length", f"1 + {rate(f'vllm:spec_decode_num_accepted_tokens_total{{{v}}}')} / "
                                                 f"{rate(f'vllm:spec_decode_num_drafts_total{{{v}}}')}"),
        ("vllm", vllm, "length_cut_ratio", rate(sel("vllm:request_success_total", 'finished_reason="length"', v))
         + " / " + rate(sel("vllm:request_success_total", v))),
        ("vllm", vllm, "prefill_p95", quantile(0.95, "vllm:request_prefill_time_seconds", v)),
        ("vllm", vllm, "decode_p95", quantile(0.95, "vllm:request_decode_time_seconds", v)),
        ("vllm", vllm, "prompt_length_p50", quantile(0.5, "vllm:request_prompt_tokens", v)),
        ("vllm", vllm, "output_length_p50", quantile(0.5, "vllm:request_generation_tokens", v)),
        ("vllm", vllm, "waiting_capacity", f'sum(vllm:num_requests_waiting_by_reason{{reason="capacity",{v}}})'),
        ("vllm", vllm, "waiting_deferred", f'sum(vllm:num_requests_waiting_by_reason{{reason="deferred",{v}}})'),
        ("vllm", vllm, "goodput_ttft", goodput("vllm:time_to_first_token_seconds", "1|1.0", v)),
        ("vllm", vllm, "goodput_tpot", goodput("vllm:inter_token_latency_seconds", "0.05", v)),
        ("sglang", sglang, "preemptions_rate", rate(f"sglang:num_retracted_requests_total{{{s}}}")),
        ("sglang", sglang, "prefix_cache_hit_ratio", f"avg(sglang:cache_hit_rate{{{s}}})"),
        ("sglang", sglang, "spec_acceptance_rate", f"avg(sglang:spec_accept_rate{{{s}}})"),
        ("sglang", sglang, "spec_acceptance_length", f"avg(sglang:spec_accept_length{{{s}}})"),
        ("sglang", sglang, "prefill_queue",
         f"sum(sglang:num_prefill_prealloc_queue_reqs{{{s}}}) + sum(sglang:num_prefill_inflight_queue_reqs{{{s}}})"),
        ("sglang", sglang, "decode_queue",
         f"sum(sglang:num_decode_prealloc_queue_reqs{{{s}}}) + sum(sglang:num_decode_transfer_queue_reqs{{{s}}})"),
        ("sglang", sglang, "transfer_failures_rate", rate(sel("sglang:num_bootstrap_failed_reqs_total", s)) + " + "
         + rate(sel("sglang:num_transfer_failed_reqs_total", s))),
        ("sglang", sglang, "stage_p95", quantile(0.95, "sglang:per_stage_req_latency_seconds", s)),
        ("sglang", sglang, "goodput_ttft", goodput("sglang:time_to_first_token_seconds", "1|1.0", s)),
        ("sglang", sglang, "goodput_tpot", goodput("sglang:inter_token_latency_seconds", "0.04", s)),  # rounded down
        ("tgi", ("tgi", i["tgi_instance"]), "prompt_length_p50", quantile(0.5, "tgi_request_input_length", t)),
        ("tgi", ("tgi", i["tgi_instance"]), "output_length_p50", quantile(0.5, "tgi_request_generated_tokens", t)),
        ("llamacpp", ("llamacpp", i["llamacpp_instance"]), "spec_acceptance_rate",
         f"{rate(f'llamacpp:spec_decode_num_accepted_tokens_total{{{lc}}}')} / "
         f"{rate(f'llamacpp:spec_decode_num_draft_tokens_total{{{lc}}}')}"),
        ("litellm", ("litellm", "gpt-4o"), "fallbacks_rate",
         rate(sel("litellm_deployment_successful_fallbacks_total", 'requested_model="gpt-4o"', lt)) + " + "
         + rate(sel("litellm_deployment_failed_fallbacks_total", 'requested_model="gpt-4o"', lt))),
        ("litellm", ("litellm", "gpt-4o"), "ratelimit_remaining_tokens",
         f'min(litellm_remaining_tokens_metric{{model_group="gpt-4o",{lt}}})'),
        # deployment and caller series carry no model: those of the deployments (callers) the model's requests went to
        ("litellm", ("litellm", "gpt-4o"), "deployment_state",
         f"max(litellm_deployment_state{{{lt}}} and on (litellm_model_name, model_id, api_base) "
         f'litellm_deployment_total_requests_total{{requested_model="gpt-4o",{lt}}})'),
        ("litellm", ("litellm", "claude-3-5-sonnet"), "deployment_state",
         f"max(litellm_deployment_state{{{lt}}} and on (litellm_model_name, model_id, api_base) "
         f'litellm_deployment_total_requests_total{{requested_model="claude-3-5-sonnet",{lt}}})'),
        ("litellm", ("litellm", "gpt-4o"), "cooldowns_rate",
         f"sum(rate(litellm_deployment_cooled_down_total{{{lt}}}[{W}]) and on (litellm_model_name, model_id, api_base) "
         f'litellm_deployment_total_requests_total{{requested_model="gpt-4o",{lt}}})'),
        ("litellm", ("litellm", "gpt-4o"), "team_budget_remaining",
         f"min(litellm_remaining_team_budget_metric{{{lt}}} and on (team) "
         f'litellm_proxy_total_requests_metric_total{{requested_model="gpt-4o",{lt}}})'),
        ("litellm", ("litellm", "claude-3-5-sonnet"), "key_budget_remaining",
         f"min(litellm_remaining_api_key_budget_metric{{{lt}}} and on (hashed_api_key) "
         f'litellm_proxy_total_requests_metric_total{{requested_model="claude-3-5-sonnet",{lt}}})'),
    ]
    tr = i["triton"]
    for uuid in ("GPU-4b2f9c1e-aa55", "GPU-4b2f9c1e-bb66"):  # Triton's own GPU gauges: bytes -> MiB
        gpu = f'gpu_uuid="{uuid}",{tr}'
        out += [
            ("triton", ("triton_gpu", uuid), "gpu_utilization", f"avg(nv_gpu_utilization{{{gpu}}})"),
            ("triton", ("triton_gpu", uuid), "gpu_memory_used", f"sum(nv_gpu_memory_used_bytes{{{gpu}}}) / 1048576"),
            ("triton", ("triton_gpu", uuid), "gpu_memory_ratio",
             f"sum(nv_gpu_memory_used_bytes{{{gpu}}}) / sum(nv_gpu_memory_total_bytes{{{gpu}}})"),
            ("triton", ("triton_gpu", uuid), "gpu_power", f"sum(nv_gpu_power_usage{{{gpu}}})"),
        ]
    for model in ("resnet50", "llama3"):  # every Triton row of the server gets the server's GPUs
        out += [
            ("triton", ("triton", model), "gpu_count", f"count(nv_gpu_utilization{{{tr}}})"),
            ("triton", ("triton", model), "gpu_utilization", f"avg(nv_gpu_utilization{{{tr}}})"),
            ("triton", ("triton", model), "gpu_memory_used", f"sum(nv_gpu_memory_used_bytes{{{tr}}}) / 1048576"),
            ("triton", ("triton", model), "gpu_memory_ratio",
             f"max(nv_gpu_memory_used_bytes{{{tr}}} / nv_gpu_memory_total_bytes{{{tr}}})"),
            ("triton", ("triton", model), "gpu_power", f"sum(nv_gpu_power_usage{{{tr}}})"),
        ]
    for n in (1, 2, 3):
        uuid = expected.GPU_UUID.format(n)
        gpu = f'UUID="{uuid}",{g}'
        out += [
            ("dcgm", ("dcgm", uuid), "gpu_utilization", f"avg(DCGM_FI_DEV_GPU_UTIL{{{gpu}}}) / 100"),
            ("dcgm", ("dcgm", uuid), "gpu_memory_ratio",
             f"sum(DCGM_FI_DEV_FB_USED{{{gpu}}}) / (sum(DCGM_FI_DEV_FB_USED{{{gpu}}}) + sum(DCGM_FI_DEV_FB_FREE{{{gpu}}}))"),
            ("dcgm", ("dcgm", uuid), "gpu_power", f"sum(DCGM_FI_DEV_POWER_USAGE{{{gpu}}})"),
            ("dcgm", ("dcgm", uuid), "gpu_temperature", f"max(DCGM_FI_DEV_GPU_TEMP{{{gpu}}})"),
        ]
    return out


def scrape_rows(instance: str, name: str) -> dict:
    text = pages.read(name)
    window = TargetWindow(30.0)
    for n, page in enumerate((text, pages.scaled(text, 2.0))):
        window.add(10.0 * n, 1_754_990_000.0 + 10.0 * n, parse(page, "text/plain", NameFilter(builtin_schemas())).samples)
    builder = RowBuilder(builtin_schemas())
    builder.add_target(TargetData(instance, window, True))
    return {row.key: row for row in builder.rows()}


def test_new_fields_equal_hand_written_promql_and_hand_computed_values(known, prometheus, fixture_pages) -> None:
    names = ("vllm", "sglang", "dcgm", "litellm", "llamacpp", "tgi", "triton")
    matchers = {name: f'instance="{fixture_pages.instance(name)}"' for name in names}
    matchers |= {"tgi_instance": fixture_pages.instance("tgi"), "llamacpp_instance": fixture_pages.instance("llamacpp")}
    series = f'vllm:num_preemptions_total{{{matchers["vllm"]}}}'
    deadline = time.monotonic() + 30
    while known.history_seconds(prometheus, series) < HISTORY_S:
        assert time.monotonic() < deadline, f"Prometheus holds under {HISTORY_S}s of the fixture pages after 30 s"
        time.sleep(0.25)
    rows = {name: scrape_rows(fixture_pages.instance(name), name) for name in names}
    bad, at = [], time.time()
    for name, key, field, query in checks(matchers):
        answer = known.promql(prometheus, query, at)
        assert len(answer) == 1, (field, query, answer)
        promql = next(iter(answer.values()))
        mine = rows[name][key].value(field)
        hand = expected.EXPECTED[name][(key[0], key[1].replace(fixture_pages.instance(name), expected.INSTANCE))][field]
        if mine is None or promql != pytest.approx(mine, rel=REL) or mine != pytest.approx(hand, rel=1e-9):
            bad.append(f"{key} {field}: PromQL {promql!r}, scrape mode {mine!r}, by hand {hand!r}\n    {query}")
    assert not bad, "\n".join(bad)


def test_lora_adapters_are_the_newest_series_labels_as_promql_picks_it(known, prometheus, fixture_pages) -> None:
    """vLLM's LoRA gauge holds every label set it ever had, valued by its update time: PromQL's `topk(1, …)`
    picks the newest, whose adapter lists (counted here by hand from the answer's labels) are the vLLM row's."""
    instance = fixture_pages.instance("vllm")
    deadline = time.monotonic() + 30
    while not known.promql(prometheus, f'vllm:lora_requests_info{{instance="{instance}"}}'):
        assert time.monotonic() < deadline, "Prometheus holds no vllm:lora_requests_info after 30 s"
        time.sleep(0.25)
    answer = known._query(prometheus, f'topk(1, vllm:lora_requests_info{{instance="{instance}"}})')["result"]
    (newest,) = [series["metric"] for series in answer]

    def items(label: str) -> float:
        return float(len([item for item in newest[label].split(",") if item]))

    promql = {"lora_running": items("running_lora_adapters"), "lora_waiting": items("waiting_lora_adapters"),
              "lora_slots": float(newest["max_lora"])}
    row = scrape_rows(instance, "vllm")[("vllm", VLLM)]
    hand = expected.EXPECTED["vllm"][("vllm", VLLM)]
    for field, value in promql.items():
        assert row.value(field) == value == hand[field], field
