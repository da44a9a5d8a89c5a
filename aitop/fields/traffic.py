"""The traffic fields: what every AI server's requests, latencies, tokens, spend and votes give, recorded in
the history (charts, trends)."""

from __future__ import annotations

from aitop.derivations import Cost, ErrorShare, Gauge, Quantile, Rate, Votes
from aitop.field_uses import FLEET, SPLIT, TABLE, TREND, Column, Series
from aitop.fields.declare import TRAFFIC, Field


#: What best explains a move of latency, of TTFT, of spend (`Field.related`).
LATENCY_CAUSES = (
    "queue_p95", "ttft_p95", "tpot_p95", "output_tokens_rate", "request_rate", "waiting", "kv_cache_usage",
)
TTFT_CAUSES = ("queue_p95", "request_rate", "waiting", "kv_cache_usage", "input_tokens_rate")
COST_CAUSES = ("cost_per_request", "output_tokens_rate", "input_tokens_rate", "request_rate")
SPEND_RUNBOOK = "find the model and caller driving spend (drill-down by label); check for retries or loops"


#: The traffic fields, in contract order.
TRAFFIC_FIELDS: tuple[Field, ...] = (
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
        related=LATENCY_CAUSES,
    ),
    Field(
        "latency_p95", unit="s", heading="p95", noun="p95 latency",
        description="end-to-end latency, 95th percentile",
        derive=Quantile("latency", 0.95),
        section=TRAFFIC,
        column=Column(5, priority=0, width=8, sort="P"), shown=TABLE | TREND | SPLIT | FLEET, chart=Series("latency"),
        related=LATENCY_CAUSES,
        runbook="check queue depth and KV-cache use (saturation); compare input token sizes with normal; "
                "check the provider's status; scale out or shed load; roll back a recent change",
    ),
    Field(
        "latency_p99", unit="s", heading="p99", noun="p99 latency",
        description="end-to-end latency, 99th percentile",
        derive=Quantile("latency", 0.99),
        section=TRAFFIC,
        column=Column(6, priority=1, width=8, sort="L"), shown=TABLE | SPLIT, chart=Series("latency"),
        related=LATENCY_CAUSES,
    ),
    Field(
        "ttft_p50", unit="s", heading="TTFT p50", noun="p50 TTFT",
        description="time to first token, 50th percentile",
        derive=Quantile("ttft", 0.5),
        section=TRAFFIC,
        chart=Series("ttft"), related=TTFT_CAUSES,
    ),
    Field(
        "ttft_p95", unit="s", heading="TTFT p95", noun="p95 TTFT",
        description="time to first token, 95th percentile",
        derive=Quantile("ttft", 0.95),
        section=TRAFFIC,
        column=Column(8, priority=2, width=9, sort="F"), shown=TABLE | SPLIT, chart=Series("ttft"),
        related=TTFT_CAUSES,
    ),
    Field(
        "ttft_p99", unit="s", heading="TTFT p99", noun="p99 TTFT",
        description="time to first token, 99th percentile",
        derive=Quantile("ttft", 0.99),
        section=TRAFFIC,
        chart=Series("ttft"), related=TTFT_CAUSES,
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
        related=COST_CAUSES, runbook=SPEND_RUNBOOK,
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
)
