"""Hand-computed rows of every fixture page, for two scrapes 10 s apart with counters doubled (pages.py).

Every counter then grows by its fixture value in 10 s, so a rate is (fixture value) / 10. A quantile is
Prometheus's linear interpolation inside the bucket holding rank = q × total, worked out below from the
fixture's cumulative bucket counts (summed across series by `le` first) as

    lower + (upper - lower) * (rank - count below) / (count in bucket)

Fields a row cannot have are given as the `Missing` reason instead of a number. `INSTANCE` stands for the
target's host:port (TGI and llama.cpp have no model label).
"""

from __future__ import annotations

from aitop.model import FIELD_NAMES, Missing

INSTANCE = "{instance}"
NO_METRIC = Missing.NO_METRIC


def row(**fields: float | Missing) -> dict[str, float | Missing]:
    """Every field of the contract: those given, the rest "no such metric"."""
    unknown = set(fields) - set(FIELD_NAMES)
    assert not unknown, unknown
    return {name: fields.get(name, NO_METRIC) for name in FIELD_NAMES}


def q(lower: float, upper: float, rank: float, below: float, at_upper: float) -> float:
    """Linear interpolation inside the bucket (lower, upper] holding `rank`."""
    return lower + (upper - lower) * (rank - below) / (at_upper - below)


# -- vLLM: one model on engines 0 and 1, buckets summed across engines -----------------------------------
# e2e cumulative (e0 + e1): 1:500+240=740 1.5:650+300=950 10:950+560=1510 15:970+580=1550 30:990+592=1582
# 40:995+597=1592; total 1600.  ttft: 0.08:450+180=630 0.1:600+270=870 0.5:950+540=1490 0.75:980+570=1550
# 1:990+585=1575 2.5:1000+597=1597.  itl (16000): 0.075:9000+5000=14000 0.1:9600+5700=15300.
# queue: 0.5:950+560=1510 0.8:980+590=1570.
VLLM_ROW = row(
    # goodput: observations at or under the bucket bound at or below the target (1 s TTFT, 50 ms per token)
    goodput_ttft=1575 / 1600, goodput_tpot=(7000 + 3000) / 16000,
    # engine internals: hits / queried tokens, accepted / drafted tokens, 1 + accepted / drafts, length / finished
    preemptions_rate=(3 + 3) / 10,
    transfer_failures_rate=(2 + 1) / 10,  # NIXL KV-cache transfers that failed
    prefix_cache_hit_ratio=(120000 + 72000) / (480000 + 288000),
    external_cache_hit_ratio=(50000 + 10000) / (200000 + 100000),
    mm_cache_hit_ratio=(300 + 50) / (400 + 100),
    spec_acceptance_rate=(6300 + 1500) / (9000 + 3000),
    spec_acceptance_length=1 + (6300 + 1500) / (3000 + 1000),
    length_cut_ratio=(200 + 80) / 1600,
    # prefill cumulative (e0 + e1): 0.8:900+540=1440 1:950+570=1520; decode: 2.5:900+520=1420 5:980+580=1560
    prefill_p95=q(0.8, 1.0, 1520, 1440, 1520),
    decode_p95=q(2.5, 5.0, 1520, 1420, 1560),
    prompt_length_p50=q(5000, 10000, 800, 0, 1600),  # every prompt in (5000, 10000]
    output_length_p50=q(1000, 2000, 800, 0, 1600),
    waiting_capacity=2 + 0, waiting_deferred=1 + 0,
    # LoRA: the newest of the three label sets (value 1754989990, its update time) lists 3 running, 1 waiting
    lora_running=3, lora_waiting=1, lora_slots=4,
    request_rate=(1000 + 600) / 10,
    error_rate=(60 + 40 + 30 + 10) / 1600,
    latency_p50=q(1, 1.5, 0.5 * 1600, 740, 950),
    latency_p95=q(10, 15, 0.95 * 1600, 1510, 1550),
    latency_p99=q(30, 40, 0.99 * 1600, 1582, 1592),
    ttft_p50=q(0.08, 0.1, 800, 630, 870),
    ttft_p95=q(0.5, 0.75, 1520, 1490, 1550),
    ttft_p99=q(1, 2.5, 1584, 1575, 1597),
    tpot_p95=q(0.075, 0.1, 0.95 * 16000, 14000, 15300),  # not the deprecated time_per_output_token (all ≤ 0.5)
    queue_p95=q(0.5, 0.8, 1520, 1510, 1570),
    input_tokens_rate=(400000 + 240000) / 10,
    output_tokens_rate=(150000 + 90000) / 10,
    running=12 + 7,
    waiting=3 + 0,
    kv_cache_usage=max(0.42, 0.67),
)

# -- TGI: no model label, counters without _total, tokens from histogram _sum ------------------------------
TGI_ROW = row(
    # input length cumulative 600:500 640:900 of 1200; generated 205:300 246:800 of 1140
    prompt_length_p50=q(600, 640, 600, 500, 900), output_length_p50=q(205, 246, 570, 300, 800),
    goodput_tpot=900 / 1140,  # 50 ms lies between 43.8 and 65.7 ms: le=0.0438
    request_rate=1200 / 10,
    error_rate=(36 + 18 + 6) / 1200,
    latency_p50=q(0.748, 1.12, 570, 450, 700),
    latency_p95=q(3.79, 5.68, 1083, 1080, 1110),
    latency_p99=q(5.68, 8.52, 1128.6, 1110, 1130),
    ttft_p50=NO_METRIC, ttft_p95=NO_METRIC, ttft_p99=NO_METRIC,  # TGI has no TTFT metric
    tpot_p95=q(0.0657, 0.0985, 1083, 1080, 1130),
    queue_p95=q(0.013, 0.0195, 1083, 1080, 1110),
    input_tokens_rate=720000 / 10,
    output_tokens_rate=273600 / 10,
    running=14,
    waiting=5,
)

SGLANG_ROW = row(
    # goodput: observations at or under the bucket bound at or below the target (1 s TTFT, 50 ms per token)
    goodput_ttft=890 / 900, goodput_tpot=49000 / 50000,  # TPOT: 50 ms lies between 0.04 and 0.06: le=0.04
    preemptions_rate=25 / 10,  # retracted requests
    prefix_cache_hit_ratio=0.4, spec_acceptance_rate=0.55, spec_acceptance_length=3.2,  # the engine's gauges
    prefill_queue=3 + 2, decode_queue=4 + 1,  # prealloc + inflight; prealloc + transfer
    transfer_failures_rate=(4 + 6) / 10,  # bootstrap + transfer failures
    # per-stage latency, prefill_forward + decode_loop merged by le: 0.5:990+400=1390 1:1000+990=1990; 2000
    stage_p95=q(0.5, 1.0, 1900, 1390, 1990),
    request_rate=(900 + 100) / 10,  # finished + aborted
    error_rate=100 / 1000,
    latency_p50=q(1, 2, 450, 440, 720),
    latency_p95=q(4, 6, 855, 840, 880),
    latency_p99=q(6, 8, 891, 880, 893),
    ttft_p50=q(0.1, 0.2, 450, 300, 600),
    ttft_p95=q(0.6, 0.8, 855, 850, 880),
    ttft_p99=q(1, 2, 891, 890, 898),
    tpot_p95=q(0.03, 0.035, 47500, 46500, 48000),
    queue_p95=q(0.5, 1, 855, 850, 870),
    input_tokens_rate=1500000 / 10,
    output_tokens_rate=420000 / 10,
    running=23,
    waiting=4,
    kv_cache_usage=0.58,
)

#: The SGLang row split by `stage`: prefill_forward 0.1:700 0.25:950 (of 1000); decode_loop 0.5:400 1:990
SGLANG_STAGE_P95 = {"prefill_forward": q(0.1, 0.25, 950, 700, 950), "decode_loop": q(0.5, 1.0, 950, 400, 990)}

# -- Triton's own GPU gauges: one row per GPU (bytes -> MiB, utilisation already 0..1), joined to the Triton
# rows of the same target: 2 GPUs, mean utilisation, summed memory and power, the fullest GPU's share -------
MIB = 2 ** 20


def _triton_gpu(util: float, used: float, total: float, power: float) -> dict[str, float | Missing]:
    return row(gpu_count=1, gpu_utilization=util, gpu_memory_used=used / MIB, gpu_memory_ratio=used / total,
               gpu_power=power)


TRITON_GPU_ROWS = {
    ("triton_gpu", "GPU-4b2f9c1e-aa55"): _triton_gpu(0.71, 61000000000, 85899345920, 412.5),
    ("triton_gpu", "GPU-4b2f9c1e-bb66"): _triton_gpu(0.33, 20971520000, 85899345920, 180.25),
}
TRITON_SERVER_GPUS = dict(
    gpu_count=2, gpu_utilization=(0.71 + 0.33) / 2, gpu_memory_used=(61000000000 + 20971520000) / MIB,
    gpu_memory_ratio=max(61000000000, 20971520000) / 85899345920, gpu_power=412.5 + 180.25,
)

# -- Triton: µs counters -> means, ms TTFT histogram, summaries only for one series ------------------------
TRITON_ROWS = {
    # one version: the summary's own quantiles (µs); TTFT 100:3900 500:4000 (ms)
    ("triton", "resnet50"): row(
        **TRITON_SERVER_GPUS,
        goodput_ttft=4000 / 4000,  # 1 s lies between 500 ms and 1.5 s: le=500 (ms)
        request_rate=(4000 + 30 + 10) / 10,
        error_rate=40 / 4040,
        latency_p50=11000e-6, latency_p95=21000e-6, latency_p99=30000e-6,
        ttft_p50=q(0, 100, 2000, 0, 3900) / 1000,
        ttft_p95=q(0, 100, 3800, 0, 3900) / 1000,
        ttft_p99=q(100, 500, 3960, 3900, 4000) / 1000,
        queue_p95=900e-6,
        waiting=2,
    ),
    # versions 1 and 2: two summaries cannot be merged, so the mean Δduration_us / Δsuccess fills the fields.
    # TTFT v1 + v2: 100:950+2700=3650 500:1000+2950=3950 2000:1000+3000=4000
    ("triton", "bert"): row(
        **TRITON_SERVER_GPUS,
        goodput_ttft=3950 / 4000,
        request_rate=(1000 + 3000 + 20) / 10,
        error_rate=20 / 4020,
        latency_p50=(8_000_000 + 18_000_000) / (1000 + 3000) * 1e-6,
        latency_p95=(8_000_000 + 18_000_000) / (1000 + 3000) * 1e-6,
        latency_p99=(8_000_000 + 18_000_000) / (1000 + 3000) * 1e-6,
        ttft_p50=q(0, 100, 2000, 0, 3650) / 1000,
        ttft_p95=q(100, 500, 3800, 3650, 3950) / 1000,
        ttft_p99=q(500, 2000, 3960, 3950, 4000) / 1000,
        queue_p95=(100_000 + 900_000) / 4000 * 1e-6,
        waiting=0 + 3,
    ),
    # the vLLM backend's vllm:*{model,version} fill tokens, TPOT, running and KV in Triton's own row
    ("triton", "llama3"): row(
        **TRITON_SERVER_GPUS,
        goodput_ttft=400 / 500, goodput_tpot=100000 / 150000,
        request_rate=(500 + 10) / 10,
        error_rate=10 / 510,
        latency_p50=2.0, latency_p95=5.5, latency_p99=8.0,
        ttft_p50=q(100, 500, 250, 100, 400) / 1000,
        ttft_p95=q(500, 2000, 475, 400, 500) / 1000,
        ttft_p99=q(500, 2000, 495, 400, 500) / 1000,
        tpot_p95=q(0.075, 0.1, 142500, 135000, 145000),
        queue_p95=0.15,
        input_tokens_rate=200000 / 10,
        output_tokens_rate=150000 / 10,
        running=6,
        waiting=1,
        kv_cache_usage=0.35,
    ),
}

# -- LiteLLM: requests/failures by requested_model, the rest by model; spend in USD --------------------------
# gpt-4o latency (prod + batch): 1:600+100=700 2:1400+500=1900 5:1850+900=2750 10:1920+980=2900 30:2940
# gpt-4o queue: 0.005:1600+900=2500 0.01:1850+950=2800
LITELLM_ROWS = {
    ("litellm", "gpt-4o"): row(
        goodput_ttft=940 / 1000,
        fallbacks_rate=(30 + 5) / 10,  # successful + failed hand-overs to the fallback group
        ratelimit_remaining_requests=9990, ratelimit_remaining_tokens=min(1.9e6, 450000),  # lowest deployment
        # joined through the deployment request counter (d1 healthy, d3 partial outage; d3 cooled down 4 + 2
        # times) and through the proxy request counter (teams search and analytics, keys prod and batch)
        deployment_state=max(0, 1), cooldowns_rate=(4 + 2) / 10,
        team_budget_remaining=min(842.5, 120.0), key_budget_remaining=min(55.25, 300.0),
        request_rate=(1940 + 40 + 20 + 1000) / 10,
        error_rate=(40 + 20) / 3000,
        latency_p50=q(1, 2, 1470, 700, 1900),
        latency_p95=q(5, 10, 2793, 2750, 2900),
        latency_p99=q(10, 30, 2910.6, 2900, 2940),
        ttft_p50=q(0.25, 0.5, 500, 400, 800),
        ttft_p95=q(1, 2, 950, 940, 985),
        ttft_p99=q(2, 5, 990, 985, 1000),
        tpot_p95=NO_METRIC,
        queue_p95=q(0.005, 0.01, 2793, 2500, 2800),
        input_tokens_rate=(1000000 + 500000) / 10,
        output_tokens_rate=(300000 + 150000) / 10,
        cost_per_hour=(5.0 + 2.5) / 10 * 3600,
        cost_per_request=(7.5 / 10) / 300,
    ),
    ("litellm", "claude-3-5-sonnet"): row(
        deployment_state=0,  # d2; no cooldown series: not counted
        team_budget_remaining=842.5, key_budget_remaining=55.25,  # team search, key prod alone
        request_rate=(990 + 10) / 10,
        error_rate=10 / 1000,
        latency_p50=q(1, 2, 495, 200, 600),
        latency_p95=q(5, 10, 940.5, 900, 960),
        latency_p99=q(10, 30, 980.1, 960, 985),
        queue_p95=q(0.005, 0.01, 940.5, 900, 980),  # no TTFT series for this model (not streamed)
        input_tokens_rate=800000 / 10,
        output_tokens_rate=200000 / 10,
        cost_per_hour=4.2 / 10 * 3600,
        cost_per_request=(4.2 / 10) / 100,
    ),
}

# -- OpenTelemetry GenAI: requests = duration _count, errors = _count{error_type!=""} ------------------------
# gpt-4o-mini duration (ok + RateLimitError + APITimeoutError): 0.32:300 0.64:650+30=680 1.28:850+30=880
# 2.56:930+30=960 20.48:950+30=980 40.96:1000
OTEL_ROWS = {
    ("otel_genai", "gpt-4o-mini"): row(
        goodput_ttft=590 / 600, goodput_tpot=18800 / 20000,  # OTel bounds: le=0.64 and le=0.04
        request_rate=(950 + 30 + 20) / 10,
        error_rate=(30 + 20) / 1000,
        latency_p50=q(0.32, 0.64, 500, 330, 680),
        latency_p95=q(1.28, 2.56, 950, 880, 960),
        latency_p99=q(20.48, 40.96, 990, 980, 1000),
        ttft_p50=q(0.16, 0.32, 300, 280, 540),
        ttft_p95=q(0.32, 0.64, 570, 540, 590),
        ttft_p99=q(0.64, 1.28, 594, 590, 600),
        tpot_p95=q(0.04, 0.08, 19000, 18800, 19800),
        input_tokens_rate=600000 / 10,
        output_tokens_rate=150000 / 10,
    ),
    ("otel_genai", "llama-3.1-70b"): row(
        request_rate=400 / 10,
        error_rate=0.0,  # no failed-operation series: none failed
        latency_p50=q(1.28, 2.56, 200, 100, 300),
        latency_p95=q(5.12, 10.24, 380, 370, 400),
        latency_p99=q(5.12, 10.24, 396, 370, 400),
        input_tokens_rate=300000 / 10,
        output_tokens_rate=90000 / 10,
    ),
}

TRTLLM_ROW = row(
    goodput_ttft=900 / 900, goodput_tpot=800 / 900,
    request_rate=(760 + 140 + 60 + 40) / 10,  # successes + errors
    error_rate=(60 + 40) / 1000,
    latency_p50=q(2, 2.5, 450, 420, 560),
    latency_p95=q(5, 10, 855, 820, 885),
    latency_p99=q(10, 15, 891, 885, 897),
    ttft_p50=q(0.1, 0.25, 450, 400, 800),
    ttft_p95=q(0.25, 0.5, 855, 800, 880),
    ttft_p99=q(0.5, 0.75, 891, 880, 895),
    tpot_p95=q(0.05, 0.075, 855, 800, 880),
    queue_p95=q(0.3, 0.5, 855, 810, 870),
    input_tokens_rate=2000000 / 10,
    output_tokens_rate=500000 / 10,
    running=32,
    waiting=8,
    kv_cache_usage=0.81,
)

# -- llama.cpp: no labels, no request counter; TPOT is Δseconds / Δtokens -----------------------------------
LLAMACPP_ROW = row(
    spec_acceptance_rate=2000 / 8000, spec_acceptance_length=1 + 2000 / 2000,
    tpot_p95=500 / 20000,
    input_tokens_rate=50000 / 10,
    output_tokens_rate=20000 / 10,
    running=2,
    waiting=1,
    kv_cache_usage=0.25,
)

# -- NVIDIA NIM: vLLM's names without the prefix; requests = success + failure --------------------------------
NIM_ROW = row(
    goodput_ttft=995 / 1000, goodput_tpot=78000 / 80000,
    request_rate=(980 + 20) / 10,
    error_rate=20 / 1000,
    latency_p50=q(1, 2, 500, 400, 800),
    latency_p95=q(2, 5, 950, 800, 960),
    latency_p99=q(5, 10, 990, 960, 995),
    ttft_p50=q(0.1, 0.25, 500, 300, 700),
    ttft_p95=q(0.5, 1, 950, 940, 995),
    ttft_p99=q(0.5, 1, 990, 940, 995),
    tpot_p95=q(0.025, 0.05, 0.95 * 80000, 60000, 78000),
    input_tokens_rate=500000 / 10,
    output_tokens_rate=80000 / 10,
    running=12,
    waiting=3,
    kv_cache_usage=0.37,
)

LMDEPLOY_ROW = row(
    goodput_ttft=995 / 1000, goodput_tpot=1000 / 1000,
    request_rate=(850 + 100 + 30 + 20) / 10,
    error_rate=(30 + 20) / 1000,  # CANCEL and INTERNAL_ENGINE_ERROR: not FINISH / SUCCESS
    latency_p50=q(1, 1.5, 500, 300, 550),
    latency_p95=q(5, 10, 950, 940, 985),
    latency_p99=q(10, 15, 990, 985, 1000),
    ttft_p50=q(0.1, 0.25, 500, 480, 850),
    ttft_p95=q(0.25, 0.5, 950, 850, 960),
    ttft_p99=q(0.75, 1, 990, 985, 995),
    tpot_p95=q(0.03, 0.04, 950, 930, 980),  # time_per_output_token, not the newer iter_token_latency
    queue_p95=q(0.3, 0.5, 950, 940, 990),
    input_tokens_rate=900000 / 10,
    output_tokens_rate=300000 / 10,
    running=16,
    waiting=2,
    kv_cache_usage=0.44,
)

XINFERENCE_ROWS = {
    ("xinference", "qwen2.5-instruct"): row(
        request_rate=600 / 10,
        error_rate=12 / 600,
        latency_p50=q(2.5, 5, 300, 280, 500),
        latency_p95=q(5, 10, 570, 500, 580),
        latency_p99=q(10, 30, 594, 580, 600),
        ttft_p50=350 / 1000, ttft_p95=350 / 1000, ttft_p99=350 / 1000,  # a ms gauge: the last value
        input_tokens_rate=240000 / 10,
        output_tokens_rate=90000 / 10,
        running=3,
    ),
    ("xinference", "bge-m3"): row(
        request_rate=2000 / 10,
        error_rate=0.0,
        latency_p50=q(0.01, 0.025, 1000, 200, 1200),
        latency_p95=q(0.05, 0.1, 1900, 1800, 1950),
        latency_p99=q(0.1, 0.25, 1980, 1950, 2000),
        running=1,
    ),
}

# -- vLLM under Ray: two replicas summed --------------------------------------------------------------------
# e2e r1 + r2: 1.5:260+230=490 2:350+340=690 5:480+465=945 10:500+495=995.  ttft: 0.1:250+220=470
# 0.25:420+400=820 0.5:480+465=945 0.75:495+490=985 1:500+498=998.  tpot: 0.075:460+440=900 0.1:490+485=975
# queue: 0.3:480+460=940 0.5:495+490=985
RAY_VLLM_ROW = row(
    goodput_ttft=998 / 1000, goodput_tpot=650 / 1000,
    request_rate=(500 + 500) / 10,
    error_rate=(30 + 20 + 10 + 0) / 1000,
    latency_p50=q(1.5, 2, 500, 490, 690),
    latency_p95=q(5, 10, 950, 945, 995),
    latency_p99=q(5, 10, 990, 945, 995),
    ttft_p50=q(0.1, 0.25, 500, 470, 820),
    ttft_p95=q(0.5, 0.75, 950, 945, 985),
    ttft_p99=q(0.75, 1, 990, 985, 998),
    tpot_p95=q(0.075, 0.1, 950, 900, 975),
    queue_p95=q(0.3, 0.5, 950, 940, 985),
    input_tokens_rate=(300000 + 260000) / 10,
    output_tokens_rate=(100000 + 80000) / 10,
    running=5 + 7,
    waiting=1 + 0,
    kv_cache_usage=max(0.3, 0.55),
)

# -- Ray Serve: per application; /-/ routes are health checks; latency in ms --------------------------------
RAY_SERVE_ROWS = {
    ("ray_serve", "llm_app"): row(
        request_rate=(800 + 20) / 10,
        error_rate=20 / 820,
        latency_p50=q(1000, 2000, 410, 200, 600) / 1000,
        latency_p95=q(5000, 10000, 779, 760, 815) / 1000,
        latency_p99=q(5000, 10000, 811.8, 760, 815) / 1000,
        running=4 + 3,
        waiting=2,
    ),
    ("ray_serve", "classifier"): row(
        request_rate=(1000 + 50) / 10,
        error_rate=50 / 1050,
        latency_p50=q(10, 20, 525, 500, 900) / 1000,
        latency_p95=q(20, 50, 997.5, 900, 1020) / 1000,
        latency_p99=q(50, 100, 1039.5, 1020, 1050) / 1000,
        running=1,
        waiting=0,
    ),
}

# -- BentoML: per endpoint; 5xx are errors (4xx are the client's) -------------------------------------------
# /summarize, the 200, 400 and 500 series summed: 1:270+20+30=320 2.5:650+20+30=700 5:850+20+30=900
# 7.5:880+50=930 10:900+50=950
BENTOML_ROWS = {
    ("bentoml", "/summarize"): row(
        request_rate=(900 + 20 + 30) / 10,
        error_rate=30 / 950,
        latency_p50=q(1, 2.5, 475, 320, 700),
        latency_p95=q(5, 7.5, 902.5, 900, 930),
        latency_p99=q(7.5, 10, 940.5, 930, 950),
        running=4,
    ),
    ("bentoml", "/embed"): row(
        request_rate=3000 / 10,
        error_rate=0.0,
        latency_p50=q(0.01, 0.025, 1500, 1400, 2700),
        latency_p95=q(0.025, 0.05, 2850, 2700, 2950),
        latency_p99=q(0.05, 0.075, 2970, 2950, 3000),
        running=0,
    ),
}

KSERVE_ROWS = {
    ("kserve", "sklearn-iris"): row(
        request_rate=5000 / 10,
        latency_p50=q(0, 0.005, 2500, 0, 4000),
        latency_p95=q(0.005, 0.01, 4750, 4000, 4800),
        latency_p99=q(0.025, 0.05, 4950, 4940, 5000),
    ),
    ("kserve", "bert-sentiment"): row(
        request_rate=800 / 10,
        latency_p50=q(0.05, 0.075, 400, 380, 650),
        latency_p95=q(0.1, 0.25, 760, 750, 800),
        latency_p99=q(0.1, 0.25, 792, 750, 800),
    ),
}

# -- FastAPI instrumentator: per handler, /metrics excluded; the labelled histogram has 0.1/0.5/1 only, so
# a quantile in +Inf reads as the highest finite bound, 1 s.
FASTAPI_ROWS = {
    ("fastapi", "/predict"): row(
        request_rate=(1800 + 150 + 50) / 10,
        error_rate=50 / 2000,
        latency_p50=q(0.1, 0.5, 1000, 400, 1500),
        latency_p95=1.0,
        latency_p99=1.0,
        running=3,
    ),
    ("fastapi", "/items/{item_id}"): row(
        request_rate=(600 + 30) / 10,
        error_rate=0.0,
        latency_p50=q(0, 0.1, 315, 0, 600),
        latency_p95=q(0, 0.1, 598.5, 0, 600),
        latency_p99=q(0.1, 0.5, 623.7, 600, 630),
        running=0,
    ),
}

# -- Flask exporter: per path from the histogram's _count (the request counter has no path) ----------------
# /api/generate (200 + 500): 0.01:0+50=50 0.5:150+50=200 0.75:250+50=300 1:330+50=380 2.5:430+50=480 5:500
FLASK_ROWS = {
    ("flask", "/api/generate"): row(
        request_rate=(450 + 50) / 10,
        error_rate=50 / 500,
        latency_p50=q(0.5, 0.75, 250, 200, 300),
        latency_p95=q(1, 2.5, 475, 380, 480),
        latency_p99=q(2.5, 5, 495, 480, 500),
    ),
    ("flask", "/"): row(
        request_rate=1200 / 10,
        error_rate=0.0,
        latency_p50=q(0.005, 0.01, 600, 580, 1000),
        latency_p95=q(0.01, 0.025, 1140, 1000, 1180),
        latency_p99=q(0.025, 0.05, 1188, 1180, 1200),
    ),
}

# -- the hand-rolled tutorial schema: status label, cost counter, thumbs feedback ----------------------------
LLM_ROW = row(
    request_rate=(950 + 30 + 20) / 10,
    error_rate=(30 + 20) / 1000,
    latency_p50=q(1, 2, 500, 480, 800),
    latency_p95=q(4, 8, 950, 940, 985),
    latency_p99=q(8, 16, 990, 985, 1000),
    input_tokens_rate=500000 / 10,
    output_tokens_rate=120000 / 10,
    cost_per_hour=6.0 / 10 * 3600,
    cost_per_request=(6.0 / 10) / 100,
    feedback_negative_ratio=20 / (80 + 20),
    running=5,
)

#: fixture -> {(schema, group): row}
# -- NVIDIA DCGM exporter: one row per GPU, by UUID; utilisation in percent, memory in MiB ----------------------
def _gpu(util: float, used: float, free: float, power: float, temperature: float) -> dict[str, float | Missing]:
    return row(gpu_count=1, gpu_utilization=util / 100, gpu_memory_used=used, gpu_memory_ratio=used / (used + free),
               gpu_power=power, gpu_temperature=temperature)


GPU_UUID = "GPU-3f6a1c2e-0001-4c1e-9a51-00000000000{}"
DCGM_ROWS = {
    ("dcgm", GPU_UUID.format(1)): _gpu(87, 30000, 10960, 285.5, 71),
    ("dcgm", GPU_UUID.format(2)): _gpu(61, 28000, 12960, 240.25, 66),
    ("dcgm", GPU_UUID.format(3)): _gpu(0, 0, 40960, 55.0, 38),
}

EXPECTED: dict[str, dict[tuple[str, str], dict[str, float | Missing]]] = {
    "dcgm": DCGM_ROWS,
    "vllm": {("vllm", "meta-llama/Llama-3.3-70B-Instruct"): VLLM_ROW},
    "tgi": {("tgi", INSTANCE): TGI_ROW},
    "sglang": {("sglang", "Qwen/Qwen2.5-7B-Instruct"): SGLANG_ROW},
    "triton": {**TRITON_ROWS, **TRITON_GPU_ROWS},
    "triton_gpu": {
        ("triton_gpu", "GPU-7c1d0e2f-0001"): _triton_gpu(0.5, 12884901888, 25769803776, 150),
        ("triton_gpu", "GPU-7c1d0e2f-0002"): _triton_gpu(0.0, 0, 25769803776, 30.5),
    },
    "litellm": LITELLM_ROWS,
    "otel_genai": OTEL_ROWS,
    "trtllm": {("trtllm", "nvidia/Llama-3.3-70B-Instruct-FP8"): TRTLLM_ROW},
    "llamacpp": {("llamacpp", INSTANCE): LLAMACPP_ROW},
    "lmdeploy": {("lmdeploy", "internlm/internlm2_5-7b-chat"): LMDEPLOY_ROW},
    "nim": {("nim", "meta/llama-3.1-8b-instruct"): NIM_ROW},
    "xinference": XINFERENCE_ROWS,
    "ray_vllm": {("ray_vllm", "qwen-7b"): RAY_VLLM_ROW},
    "ray_serve": RAY_SERVE_ROWS,
    "bentoml": BENTOML_ROWS,
    "kserve": KSERVE_ROWS,
    "fastapi": FASTAPI_ROWS,
    "flask": FLASK_ROWS,
    "llm": {("llm", "gpt-4.1"): LLM_ROW},
}

#: fixture -> (schemas detected, {schema suppressed: by})
DETECTED: dict[str, tuple[set[str], dict[str, str]]] = {
    "dcgm": ({"dcgm"}, {}),
    **{name: ({name}, {}) for name in EXPECTED},
    "vllm": ({"vllm"}, {"fastapi": "vllm"}),  # vLLM mounts the FastAPI instrumentator
    # the vLLM backend's vllm:* names belong to Triton's rows; its GPU gauges are GPU rows of their own
    "triton": ({"triton", "triton_gpu"}, {"vllm": "triton"}),
}

#: fixture -> {(schema, group): {error type: per second}} (zero-rate types of Triton's reason label included)
ERRORS_BY_TYPE = {
    "vllm": {("vllm", "meta-llama/Llama-3.3-70B-Instruct"): {"abort": 9.0, "error": 5.0}},
    "tgi": {("tgi", INSTANCE): {"validation": 3.6, "overloaded": 1.8, "generation": 0.6}},
    "sglang": {("sglang", "Qwen/Qwen2.5-7B-Instruct"): {"abort": 10.0}},
    "triton": {("triton", "resnet50"): {"REJECTED": 3.0, "BACKEND": 1.0, "CANCELED": 0.0, "OTHER": 0.0},
               ("triton", "bert"): {"OTHER": 2.0, "REJECTED": 0.0, "CANCELED": 0.0, "BACKEND": 0.0},
               ("triton", "llama3"): {"CANCELED": 1.0, "REJECTED": 0.0, "BACKEND": 0.0, "OTHER": 0.0}},
    "litellm": {("litellm", "gpt-4o"): {"429 RateLimitError": 4.0, "500 InternalServerError": 2.0},
                ("litellm", "claude-3-5-sonnet"): {"408 Timeout": 1.0}},
    "otel_genai": {("otel_genai", "gpt-4o-mini"): {"RateLimitError": 3.0, "APITimeoutError": 2.0},
                   ("otel_genai", "llama-3.1-70b"): {}},
    "trtllm": {("trtllm", "nvidia/Llama-3.3-70B-Instruct-FP8"): {"500": 6.0, "503": 4.0}},
    "nim": {("nim", "meta/llama-3.1-8b-instruct"): {"error": 2.0}},  # request_failure_total has no type label
    "lmdeploy": {("lmdeploy", "internlm/internlm2_5-7b-chat"): {"ResponseType.CANCEL": 3.0,
                                                                 "ResponseType.INTERNAL_ENGINE_ERROR": 2.0}},
    "xinference": {("xinference", "qwen2.5-instruct"): {"error": 1.2}, ("xinference", "bge-m3"): {}},
    "ray_vllm": {("ray_vllm", "qwen-7b"): {"abort": 4.0, "error": 2.0}},
    "ray_serve": {("ray_serve", "llm_app"): {"500": 2.0}, ("ray_serve", "classifier"): {"400": 5.0}},
    "bentoml": {("bentoml", "/summarize"): {"500": 3.0}, ("bentoml", "/embed"): {}},
    "fastapi": {("fastapi", "/predict"): {"5xx": 5.0}, ("fastapi", "/items/{item_id}"): {}},
    "flask": {("flask", "/api/generate"): {"500": 5.0}, ("flask", "/"): {}},
    "llm": {("llm", "gpt-4.1"): {"error": 3.0, "timeout": 2.0}},
}

#: The mixed LiteLLM + vLLM + node-exporter page: exactly these rows, a few fields each.
MIXED_ROWS = {
    ("litellm", "llama-3.1-8b"): {"request_rate": (490 + 10) / 10, "error_rate": 10 / 500,
                                  "output_tokens_rate": 98000 / 10, "cost_per_hour": 0.0},
    ("litellm", "gpt-4.1-mini"): {"request_rate": 300 / 10, "error_rate": 0.0, "cost_per_hour": 1.2 / 10 * 3600},
    ("vllm", "meta-llama/Llama-3.1-8B-Instruct"): {"request_rate": (420 + 60 + 6 + 4) / 10,
                                                    "error_rate": (6 + 4) / 490, "running": 6, "kv_cache_usage": 0.31,
                                                    "length_cut_ratio": 60 / 490, "goodput_ttft": 490 / 490},
}
MIXED_DETECTED = ({"litellm", "vllm"}, {"fastapi": "vllm"})
