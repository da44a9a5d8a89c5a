"""Every row field, declared once: its unit, heading, noun, description, how it is derived, and its section.

This table is the one place a field is named. The JSON contract's order is this table's order (traffic, then
engine, then analysis); the formatter reads units from it, messages read nouns, the sources read derivations
(`aitop.derivations`), the UI reads headings. Adding a field = a catalog entry for the metric (where it comes
from, `aitop/catalog/*.toml`) plus one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from aitop.derivations import (
    Analysed,
    Cost,
    Derivation,
    Drift,
    ErrorShare,
    Gauge,
    Goodput,
    GpuCount,
    GpuMemoryShare,
    Quantile,
    Rate,
    Ratio,
    Votes,
)
from aitop.field_uses import FLEET, SPLIT, TABLE, TREND, Column, Series, Shown

#: Sections, in contract order. Traffic fields are recorded in the history (charts, trends); engine fields
#: are read per refresh only; analysis fields are added by `aitop.analysis` after the source built the row.
TRAFFIC = "traffic"
ENGINE = "engine"
ANALYSIS = "analysis"


@dataclass(frozen=True, slots=True)
class Field:
    """One numeric row field.

    Attributes:
        name: the JSON name and the key in `Row.values`.
        unit: the fixed unit of the value (the formatter picks its display from it).
        heading: the table heading (terse).
        noun: the name in sentences ("p95 latency 4.2s").
        description: one line for help, explain and docs.
        derive: the formula (`aitop.derivations`).
        section: TRAFFIC, ENGINE or ANALYSIS.
        column, shown, chart: its overview column, where else it is shown, its drill-down chart line
            (`aitop.field_uses`); None / NONE: not there.
        related: the fields whose move from their baselines best explains its move ("moved most: …").
        runbook: what to do when a built-in rule on it fires.
    """

    name: str
    unit: str
    heading: str
    noun: str
    description: str
    derive: Derivation
    section: str
    column: Column | None = None
    shown: Shown = Shown.NONE
    chart: Series | None = None
    related: tuple[str, ...] = ()
    runbook: str = ""


#: What best explains a move of latency, of TTFT, of spend (`Field.related`).
_LATENCY_CAUSES = (
    "queue_p95", "ttft_p95", "tpot_p95", "output_tokens_rate", "request_rate", "waiting", "kv_cache_usage",
)
_TTFT_CAUSES = ("queue_p95", "request_rate", "waiting", "kv_cache_usage", "input_tokens_rate")
_COST_CAUSES = ("cost_per_request", "output_tokens_rate", "input_tokens_rate", "request_rate")
_SPEND_RUNBOOK = "find the model and caller driving spend (drill-down by label); check for retries or loops"


def _drift(concept: str, noun: str, related: tuple[str, ...] = ()) -> Field:
    """The drift of a histogram concept: KS distance between this window's distribution and its baseline."""
    return Field(
        f"{concept}_drift", unit="KS", heading=f"{concept} drift", noun=f"{noun} drift",
        description=f"KS distance between this window's {concept} distribution and its baseline (0 same … 1 disjoint)",
        derive=Drift(concept),
        section=ANALYSIS,
        column=Column(None, priority=9, width=8), related=related,
    )


#: Every field, in contract order.
FIELDS: tuple[Field, ...] = (
    # traffic
    Field(
        "request_rate", unit="req/s", heading="req/s", noun="request rate",
        description="finished requests per second",
        derive=Rate("requests"),
        section=TRAFFIC,
        column=Column(2, priority=0, width=6, sort="R"), shown=TABLE | TREND | SPLIT, chart=Series("traffic"),
        related=("error_rate", "latency_p95"),
        runbook="check the clients and the load balancer in front; check the service is up and "
                "receiving traffic; check recent network or DNS changes",
    ),
    Field(
        "error_rate", unit="fraction", heading="err %", noun="error rate",
        description="failed requests / all requests",
        derive=ErrorShare("errors", "requests"),
        section=TRAFFIC,
        column=Column(3, priority=0, width=7, sort="E"), shown=TABLE | SPLIT, chart=Series("traffic", right=True),
        runbook="check the provider's API status page; review recent deploys and config changes; read the "
                "error types (drill-down); roll back the last change if errors began with it",
    ),
    Field(
        "latency_p50", unit="s", heading="p50", noun="p50 latency",
        description="end-to-end latency, 50th percentile",
        derive=Quantile("latency", 0.5),
        section=TRAFFIC,
        column=Column(4, priority=4, width=7), shown=TABLE | SPLIT, chart=Series("latency"),
        related=_LATENCY_CAUSES,
    ),
    Field(
        "latency_p95", unit="s", heading="p95", noun="p95 latency",
        description="end-to-end latency, 95th percentile",
        derive=Quantile("latency", 0.95),
        section=TRAFFIC,
        column=Column(5, priority=0, width=8, sort="P"), shown=TABLE | TREND | SPLIT | FLEET, chart=Series("latency"),
        related=_LATENCY_CAUSES,
        runbook="check queue depth and KV-cache use (saturation); compare input token sizes with normal; "
                "check the provider's status; scale out or shed load; roll back a recent change",
    ),
    Field(
        "latency_p99", unit="s", heading="p99", noun="p99 latency",
        description="end-to-end latency, 99th percentile",
        derive=Quantile("latency", 0.99),
        section=TRAFFIC,
        column=Column(6, priority=1, width=8, sort="L"), shown=TABLE | SPLIT, chart=Series("latency"),
        related=_LATENCY_CAUSES,
    ),
    Field(
        "ttft_p50", unit="s", heading="TTFT p50", noun="p50 TTFT",
        description="time to first token, 50th percentile",
        derive=Quantile("ttft", 0.5),
        section=TRAFFIC,
        chart=Series("ttft"), related=_TTFT_CAUSES,
    ),
    Field(
        "ttft_p95", unit="s", heading="TTFT p95", noun="p95 TTFT",
        description="time to first token, 95th percentile",
        derive=Quantile("ttft", 0.95),
        section=TRAFFIC,
        column=Column(8, priority=2, width=9, sort="F"), shown=TABLE | SPLIT, chart=Series("ttft"),
        related=_TTFT_CAUSES,
    ),
    Field(
        "ttft_p99", unit="s", heading="TTFT p99", noun="p99 TTFT",
        description="time to first token, 99th percentile",
        derive=Quantile("ttft", 0.99),
        section=TRAFFIC,
        chart=Series("ttft"), related=_TTFT_CAUSES,
    ),
    Field(
        "tpot_p95", unit="s", heading="TPOT p95", noun="p95 time per token",
        description="time per output token, 95th percentile",
        derive=Quantile("tpot", 0.95),
        section=TRAFFIC,
        column=Column(9, priority=5, width=9), chart=Series("ttft"),
    ),
    Field(
        "queue_p95", unit="s", heading="queue p95", noun="p95 queue time",
        description="queue time, 95th percentile",
        derive=Quantile("queue", 0.95),
        section=TRAFFIC,
    ),
    Field(
        "input_tokens_rate", unit="tokens/s", heading="in tok/s", noun="input tokens",
        description="prompt tokens per second",
        derive=Rate("input_tokens"),
        section=TRAFFIC,
        column=Column(10, priority=4, width=9), shown=TABLE, chart=Series("tokens", "in"),
    ),
    Field(
        "output_tokens_rate", unit="tokens/s", heading="out tok/s", noun="output tokens",
        description="generated tokens per second",
        derive=Rate("output_tokens"),
        section=TRAFFIC,
        column=Column(11, priority=2, width=10, sort="T"), shown=TABLE | SPLIT, chart=Series("tokens", "out"),
    ),
    Field(
        "cost_per_hour", unit="USD/h", heading="$/h", noun="hourly cost",
        description="spend per hour at the current rate",
        derive=Cost(per="hour"),
        section=TRAFFIC,
        column=Column(12, priority=1, width=7, sort="C"), shown=TABLE | SPLIT, chart=Series("cost"),
        related=_COST_CAUSES, runbook=_SPEND_RUNBOOK,
    ),
    Field(
        "cost_per_request", unit="USD", heading="$/req", noun="cost per request",
        description="spend per request",
        derive=Cost(per="request"),
        section=TRAFFIC,
        column=Column(13, priority=5, width=9), related=("output_tokens_rate", "input_tokens_rate"),
    ),
    Field(
        "feedback_negative_ratio", unit="fraction", heading="👎 %", noun="negative feedback",
        description="negative votes / all votes",
        derive=Votes("feedback"),
        section=TRAFFIC,
        column=Column(14, priority=2, width=7, sort="U"), shown=TABLE,
        related=("latency_p95", "error_rate", "output_tokens_rate", "ttft_p95"),
        runbook="read recent negative feedback; compare with the last prompt or model change; "
                "roll back if the change explains it",
    ),
    Field(
        "running", unit="requests", heading="run", noun="running requests",
        description="requests running now",
        derive=Gauge("running"),
        section=TRAFFIC,
        column=Column(20, priority=6, width=5)
    ),
    Field(
        "waiting", unit="requests", heading="wait", noun="waiting requests",
        description="requests waiting now",
        derive=Gauge("waiting"),
        section=TRAFFIC,
        column=Column(21, priority=6, width=5)
    ),
    Field(
        "kv_cache_usage", unit="fraction", heading="KV %", noun="KV-cache usage",
        description="KV-cache usage, highest replica",
        derive=Gauge("kv_cache", aggregate="max"),
        section=TRAFFIC,
        column=Column(22, priority=6, width=6)
    ),
    # engine
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
    # analysis
    Field(
        "cost_per_day", unit="USD/d", heading="$/day", noun="projected spend",
        description="projected spend per day at the current hourly rate",
        derive=Analysed(),
        section=ANALYSIS,
        column=Column(15, priority=7, width=9, sort="D"), related=_COST_CAUSES,
        runbook=_SPEND_RUNBOOK + "; check prompt sizes; cap or rate-limit the caller",
    ),
    Field(
        "request_rate_peak", unit="req/s", heading="peak r/s", noun="request rate peak",
        description="highest request rate of the refreshes within the window",
        derive=Analysed(),
        section=ANALYSIS,
        column=Column(16, priority=7, width=8)
    ),
    Field(
        "request_rate_session_peak", unit="req/s", heading="max r/s", noun="request rate session peak",
        description="highest request rate since aitop started",
        derive=Analysed(),
        section=ANALYSIS,
        column=Column(17, priority=8, width=8)
    ),
    Field(
        "input_tokens_per_request", unit="tokens", heading="in tok/req", noun="input tokens per request",
        description="prompt tokens per request",
        derive=Analysed(),
        section=ANALYSIS,
        column=Column(18, priority=8, width=8)
    ),
    Field(
        "output_tokens_per_request", unit="tokens", heading="out tok/req", noun="output tokens per request",
        description="generated tokens per request",
        derive=Analysed(),
        section=ANALYSIS,
        column=Column(19, priority=7, width=8)
    ),
    _drift("latency", "latency", _LATENCY_CAUSES),
    _drift("ttft", "TTFT"),
    _drift("output_length", "output-length"),
)
FIELD_BY_NAME: Mapping[str, Field] = MappingProxyType({field.name: field for field in FIELDS})
