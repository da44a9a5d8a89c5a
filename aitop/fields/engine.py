"""The engine fields: why a model is slow, from the engine's own counters and gauges, gateway headroom and
the GPUs; read per refresh, not recorded."""

from __future__ import annotations

from aitop.derivations import Gauge, Goodput, GpuCount, GpuMemoryShare, Quantile, Rate, Ratio
from aitop.field_uses import Column
from aitop.fields.declare import ENGINE, Field


#: The engine fields, in contract order.
ENGINE_FIELDS: tuple[Field, ...] = (
    Field(
        "preemptions_rate", unit="1/s", heading="preempt/s", noun="preemptions rate",
        description="requests preempted (vLLM) or retracted (SGLang) per second",
        derive=Rate("preemptions"),
        section=ENGINE,
        column=Column(25, priority=9, width=8)
    ),
    Field(
        "prefix_cache_hit_ratio", unit="fraction", heading="prefix hit %", noun="prefix cache hit ratio",
        description="prefix-cache hits / queried tokens",
        derive=Ratio("prefix_cache_hits", "prefix_cache_queries", gauge="prefix_cache_hit_ratio"),
        section=ENGINE,
        column=Column(26, priority=9, width=8)
    ),
    Field(
        "external_cache_hit_ratio", unit="fraction", heading="ext hit %", noun="external cache hit ratio",
        description="KV-connector (external) cache hits / queried tokens",
        derive=Ratio("external_cache_hits", "external_cache_queries"),
        section=ENGINE,
    ),
    Field(
        "mm_cache_hit_ratio", unit="fraction", heading="mm hit %", noun="mm cache hit ratio",
        description="multimodal input cache hits / queries",
        derive=Ratio("mm_cache_hits", "mm_cache_queries"),
        section=ENGINE,
    ),
    Field(
        "spec_acceptance_rate", unit="fraction", heading="spec acc %", noun="spec acceptance rate",
        description="speculative decoding: accepted / drafted tokens",
        derive=Ratio("spec_accepted", "spec_drafted", gauge="spec_acceptance_rate"),
        section=ENGINE,
    ),
    Field(
        "spec_acceptance_length", unit="tokens", heading="spec len", noun="spec acceptance length",
        description="speculative decoding: tokens per draft step (1 + accepted / drafts)",
        derive=Ratio("spec_accepted", "spec_drafts", offset=1.0, gauge="spec_acceptance_length"),
        section=ENGINE,
    ),
    Field(
        "length_cut_ratio", unit="fraction", heading="cut %", noun="length cut ratio",
        description="answers cut at the length limit / finished requests",
        derive=Ratio("length_cut", "requests", absent_means_zero=True),
        section=ENGINE,
        column=Column(27, priority=9, width=8)
    ),
    Field(
        "prefill_p95", unit="s", heading="prefill p95", noun="prefill p95",
        description="prefill phase time, 95th percentile",
        derive=Quantile("prefill", 0.95),
        section=ENGINE,
    ),
    Field(
        "decode_p95", unit="s", heading="decode p95", noun="decode p95",
        description="decode phase time, 95th percentile",
        derive=Quantile("decode", 0.95),
        section=ENGINE,
    ),
    Field(
        "prompt_length_p50", unit="tokens", heading="prompt p50", noun="prompt length p50",
        description="prompt length per request, median",
        derive=Quantile("prompt_length", 0.5, kinds=("histogram",)),
        section=ENGINE,
    ),
    Field(
        "output_length_p50", unit="tokens", heading="output p50", noun="output length p50",
        description="generated length per request, median",
        derive=Quantile("output_length", 0.5, kinds=("histogram",)),
        section=ENGINE,
    ),
    Field(
        "stage_p95", unit="s", heading="stage p95", noun="stage p95",
        description="time per request stage, 95th percentile of every stage's observations; split the row by "
                    "`stage` (drill-down `b`) for each stage's",
        derive=Quantile("stage_latency", 0.95, kinds=("histogram",)),
        section=ENGINE,
    ),
    Field(
        "waiting_capacity", unit="requests", heading="wait cap", noun="waiting capacity",
        description="requests waiting for KV-cache capacity",
        derive=Gauge("waiting_capacity"),
        section=ENGINE,
    ),
    Field(
        "waiting_deferred", unit="requests", heading="wait def", noun="waiting deferred",
        description="requests waiting, deferred for another reason",
        derive=Gauge("waiting_deferred"),
        section=ENGINE,
    ),
    Field(
        "lora_running", unit="adapters", heading="LoRA run", noun="LoRA adapters running",
        description="LoRA adapters of the requests running now (the row's server with the most)",
        derive=Gauge("lora_running", aggregate="max"),
        section=ENGINE,
    ),
    Field(
        "lora_waiting", unit="adapters", heading="LoRA wait", noun="LoRA adapters waiting",
        description="LoRA adapters whose requests are waiting (the row's server with the most)",
        derive=Gauge("lora_waiting", aggregate="max"),
        section=ENGINE,
    ),
    Field(
        "lora_slots", unit="adapters", heading="LoRA max", noun="LoRA adapter slots",
        description="LoRA adapters one batch can hold (--max-loras)",
        derive=Gauge("lora_slots", aggregate="max"),
        section=ENGINE,
    ),
    Field(
        "prefill_queue", unit="requests", heading="PD prefill q", noun="prefill queue",
        description="disaggregated serving: requests queued on the prefill side",
        derive=Gauge("prefill_queue"),
        section=ENGINE,
    ),
    Field(
        "decode_queue", unit="requests", heading="PD decode q", noun="decode queue",
        description="disaggregated serving: requests queued on the decode side (prealloc, KV transfer)",
        derive=Gauge("decode_queue"),
        section=ENGINE,
    ),
    Field(
        "transfer_failures_rate", unit="1/s", heading="KV xfer fail/s", noun="transfer failures rate",
        description="disaggregated serving: requests whose KV bootstrap or transfer failed, per second",
        derive=Rate("transfer_failures"),
        section=ENGINE,
    ),
    Field(
        "goodput_ttft", unit="fraction", heading="good TTFT %", noun="goodput ttft",
        description="share of requests whose TTFT met the target",
        derive=Goodput("ttft", target=1.0),
        section=ENGINE,
        column=Column(28, priority=9, width=8)
    ),
    Field(
        "goodput_tpot", unit="fraction", heading="good TPOT %", noun="goodput tpot",
        description="share of output tokens whose latency met the per-token target",
        derive=Goodput("tpot", target=0.05),
        section=ENGINE,
    ),
    Field(
        "fallbacks_rate", unit="req/s", heading="fallback/s", noun="fallbacks rate",
        description="requests a gateway sent to a fallback deployment, per second",
        derive=Rate("fallbacks"),
        section=ENGINE,
    ),
    Field(
        "ratelimit_remaining_requests", unit="requests", heading="RL req left", noun="ratelimit remaining requests",
        description="requests left in the provider's rate-limit window, lowest deployment",
        derive=Gauge("ratelimit_remaining_requests", aggregate="min"),
        section=ENGINE,
    ),
    Field(
        "ratelimit_remaining_tokens", unit="tokens", heading="RL tok left", noun="ratelimit remaining tokens",
        description="tokens left in the provider's rate-limit window, lowest deployment",
        derive=Gauge("ratelimit_remaining_tokens", aggregate="min"),
        section=ENGINE,
    ),
    Field(
        "deployment_state", unit="state", heading="deploy state", noun="deployment state",
        description="gateway deployments behind the row, worst: 0 healthy, 1 partial outage, 2 complete outage",
        derive=Gauge("deployment_state", aggregate="max"),
        section=ENGINE,
    ),
    Field(
        "cooldowns_rate", unit="1/s", heading="cooldown/s", noun="cooldowns rate",
        description="deployments behind the row the gateway took out of rotation (cooled down), per second",
        derive=Rate("cooldowns"),
        section=ENGINE,
    ),
    Field(
        "team_budget_remaining", unit="USD", heading="team $ left", noun="team budget remaining",
        description="budget left, lowest of the teams sending requests to the row",
        derive=Gauge("team_budget_remaining", aggregate="min"),
        section=ENGINE,
    ),
    Field(
        "key_budget_remaining", unit="USD", heading="key $ left", noun="key budget remaining",
        description="budget left, lowest of the API keys sending requests to the row",
        derive=Gauge("key_budget_remaining", aggregate="min"),
        section=ENGINE,
    ),
    Field(
        "gpu_count", unit="GPUs", heading="GPUs", noun="gpu count",
        description="GPUs joined to this row",
        derive=GpuCount(),
        section=ENGINE,
    ),
    Field(
        "gpu_utilization", unit="fraction", heading="GPU %", noun="gpu utilization",
        description="GPU utilisation, mean of the row's GPUs",
        derive=Gauge("gpu_utilization", aggregate="avg"),
        section=ENGINE,
        column=Column(23, priority=7, width=6)
    ),
    Field(
        "gpu_memory_used", unit="MiB", heading="GPU MiB", noun="gpu memory used",
        description="frame-buffer memory used, sum of the row's GPUs",
        derive=Gauge("gpu_memory_used"),
        section=ENGINE,
    ),
    Field(
        "gpu_memory_ratio", unit="fraction", heading="GPU mem %", noun="gpu memory ratio",
        description="frame-buffer used / (used + free), fullest GPU",
        derive=GpuMemoryShare(),
        section=ENGINE,
        column=Column(24, priority=7, width=9)
    ),
    Field(
        "gpu_power", unit="W", heading="GPU W", noun="gpu power",
        description="power draw, sum of the row's GPUs",
        derive=Gauge("gpu_power"),
        section=ENGINE,
    ),
    Field(
        "gpu_temperature", unit="C", heading="GPU C", noun="gpu temperature",
        description="GPU temperature in degrees Celsius, hottest GPU",
        derive=Gauge("gpu_temperature", aggregate="max"),
        section=ENGINE,
    ),
)
