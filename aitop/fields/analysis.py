"""The analysis fields: added to a row by `aitop.analysis` (spend per day, peaks, tokens per request, drift)."""

from __future__ import annotations

from aitop.derivations import Analysed, Drift
from aitop.field_uses import Column
from aitop.fields.declare import ANALYSIS, Field
from aitop.fields.traffic import COST_CAUSES, LATENCY_CAUSES, SPEND_RUNBOOK


def _drift(concept: str, noun: str, related: tuple[str, ...] = ()) -> Field:
    """The drift of a histogram concept: KS distance between this window's distribution and its baseline."""
    return Field(
        f"{concept}_drift", unit="KS", heading=f"{concept} drift", noun=f"{noun} drift",
        description=f"KS distance between this window's {concept} distribution and its baseline (0 same … 1 disjoint)",
        derive=Drift(concept),
        section=ANALYSIS,
        column=Column(None, priority=9, width=8), related=related,
    )


#: The analysis fields, in contract order.
ANALYSIS_FIELDS: tuple[Field, ...] = (
    Field(
        "cost_per_day", unit="USD/d", heading="$/day", noun="projected spend",
        description="projected spend per day at the current hourly rate",
        derive=Analysed(),
        section=ANALYSIS,
        column=Column(15, priority=7, width=9, sort="D"), related=COST_CAUSES,
        runbook=SPEND_RUNBOOK + "; check prompt sizes; cap or rate-limit the caller",
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
    _drift("latency", "latency", LATENCY_CAUSES),
    _drift("ttft", "TTFT"),
    _drift("output_length", "output-length"),
)
