"""Fakes for the TUI tests: a scripted collector, a frozen clock, rows built as a real collector builds them.

(A module with its own name, not conftest, so test modules can import it next to other test packages.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from collections.abc import Mapping

from aitop.analysis.thresholds import Threshold
from aitop.model import FIELD_NAMES, Alert, Missing, Row, Severity, TargetHealth
from aitop.sanitize import clean
from aitop.sources.base import Collected, CollectorBase, Points

T0 = 1_700_000_000.0
#: Fixed here rather than taken from the defaults, so the expected severities do not move with them.
THRESHOLDS = (
    Threshold("error_rate", warning=0.01, critical=0.05),
    Threshold("latency_p95", warning=1.0, critical=2.0),
    Threshold("latency_p99", warning=2.0, critical=5.0),
    Threshold("ttft_p95", warning=1.0, critical=3.0),
    Threshold("cost_per_hour", warning=5.0),
    Threshold("feedback_negative_ratio", warning=0.10, critical=0.25),
)
TARGETS = ("http://10.0.0.5:8000/metrics", "http://10.0.0.6:8000/metrics", "http://10.0.0.7:8000/metrics")


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = T0 + 2) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeCollector(CollectorBase):
    """A `Collector` that returns scripted `Collected` values in order (an exception instance is raised).

    The last entry repeats, so an extra poll never runs off the end of the script.
    """

    kind = "scrape"

    def __init__(self, script: Sequence[Collected | BaseException], *, targets: Sequence[str] = TARGETS,
                 window_seconds: float = 30.0) -> None:  # fmt: skip
        self.script = list(script)
        self.targets = tuple(targets)
        self.window_seconds = window_seconds
        self.group_by: str | None = None
        self.calls = 0
        self.closed = False
        self.breakdowns: dict[tuple[tuple[str, str], str], tuple[Row, ...]] = {}
        self.remote_history: dict[str, Points] | None = None

    async def collect(self) -> Collected:
        item = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(item, BaseException):
            raise item
        return item

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        return self.breakdowns.get((key, label), ())

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> dict[str, Points] | None:
        return self.remote_history

    async def aclose(self) -> None:
        self.closed = True


def make_row(group: str, *, schema: str = "vllm", stale: bool = False, group_label: str = "model_name",
             errors_by_type: Mapping[str, float] | None = None, provenance: Mapping[str, str] | None = None,
             missing: Mapping[str, Missing] | None = None, **values: float | None) -> Row:  # fmt: skip
    """A row as a real collector builds it: label values pass `clean()` on their way into the model."""
    unknown = set(values) - set(FIELD_NAMES)
    assert not unknown, f"not row fields: {unknown}"
    return Row(
        schema=clean(schema),
        group=clean(group),
        group_label=group_label,
        values={name: values.get(name) for name in FIELD_NAMES},
        stale=stale,
        errors_by_type=dict(errors_by_type or {}),
        provenance=dict(provenance or {}),
        missing=dict(missing or {}),
    )


def alert(group: str, field: str = "error_rate", *, severity: Severity = Severity.CRITICAL, state: str = "firing",
          value: float | None = 0.071, threshold: float | None = 0.05, since: float = T0 - 192, schema: str = "vllm",
          rule: str = "error_rate_high", message: str = "", id: str | None = None) -> Alert:  # fmt: skip
    """An alert as the alert engine (or Prometheus, with a "prometheus:" rule) reports it."""
    return Alert(id=id or f"{rule}/{schema}/{group}", rule=rule, severity=severity, state=state, schema=schema,
                 group=group, field=field, value=value, threshold=threshold, since=since, message=message)  # fmt: skip


def fleet_alerts() -> list[Alert]:
    """Alerts over `fleet()`: two firing, one pending, one resolved, one from Prometheus."""
    return [
        alert("qwen2.5-7b", "error_rate", severity=Severity.WARNING, value=0.015, threshold=0.01, since=T0 - 40,
              rule="error_rate_warn"),
        alert("mixtral-8x7b", "error_rate", message="errors 7.1% over 5m (threshold 5%)"),
        alert("mixtral-8x7b", "latency_p95", value=2.7, threshold=2.0, since=T0 - 30, state="pending",
              rule="latency_p95_high"),
        alert("llama-3.1-8b", "cost_per_hour", severity=Severity.WARNING, value=3.1, threshold=3.0,
              state="resolved", rule="spend_high", since=T0 - 900),
        alert("mixtral-8x7b", "", rule="prometheus:VLLMQueueBacklog", value=None, threshold=None, since=T0 - 3700,
              message="queue backlog above 50 for 10m", id="prom-1"),
    ]  # fmt: skip


def up(url: str) -> TargetHealth:
    return TargetHealth(url=url, kind="scrape", up=True, last_success=T0)


def down(url: str, error: str = "connection refused") -> TargetHealth:
    return TargetHealth(url=url, kind="scrape", up=False, error=clean(error))


def collected(
    rows: Sequence[Row],
    *,
    taken_at: float = T0,
    targets: Sequence[TargetHealth] | None = None,
    schemas: Sequence[str] = ("vllm", "tgi"),
    alerts: Sequence[Alert] = (),
    labels: Sequence[str] = ("engine", "instance", "model_name"),
    backend: str | None = None,
    warnings: Sequence[str] = (),
    tls_verified: bool = True,
) -> Collected:
    return Collected(
        taken_at=taken_at,
        window_seconds=30.0,
        rows=tuple(rows),
        targets=tuple(targets) if targets is not None else tuple(up(url) for url in TARGETS),
        schemas=tuple(schemas),
        alerts=tuple(alerts),
        labels=tuple(labels),
        backend=backend,
        warnings=tuple(warnings),
        tls_verified=tls_verified,
    )


def history_points(start: float, end: float, step: float, shape) -> tuple[tuple[float, float | None], ...]:
    """(t, shape(i)) from `start` to `end` every `step` seconds: fixed, deterministic chart data."""
    count = int((end - start) // step) + 1
    return tuple((start + i * step, shape(i)) for i in range(count))


def remote_history(end: float = T0 + 2, span: float = 900.0) -> dict[str, tuple[tuple[float, float | None], ...]]:
    """A Prometheus-like history for every chart field over `span` seconds before `end`."""
    start = end - span
    wave = lambda base, amp: (lambda i: base + amp * ((i % 20) - 10) ** 2 / 100)  # noqa: E731
    return {
        "request_rate": history_points(start, end, 15, wave(40, 8)),
        "error_rate": history_points(start, end, 15, lambda i: 0.002 if i < 40 else 0.07),
        "latency_p50": history_points(start, end, 15, wave(0.2, 0.05)),
        "latency_p95": history_points(start, end, 15, wave(0.85, 0.3)),
        "latency_p99": history_points(start, end, 15, lambda i: None if 20 <= i < 25 else 1.6 + (i % 7) / 10),
        "ttft_p50": history_points(start, end, 15, wave(0.08, 0.02)),
        "ttft_p95": history_points(start, end, 15, wave(0.12, 0.05)),
        "ttft_p99": history_points(start, end, 15, wave(0.2, 0.05)),
        "tpot_p95": history_points(start, end, 15, wave(0.03, 0.01)),
        "input_tokens_rate": history_points(start, end, 15, wave(5400, 800)),
        "output_tokens_rate": history_points(start, end, 15, wave(1900, 300)),
        "cost_per_hour": history_points(start, end, 15, wave(3.1, 0.5)),
    }


def fleet() -> list[Row]:
    """A small deterministic fleet with one critical, one warning and some missing values."""
    return [
        make_row("llama-3.1-8b", request_rate=42.3, error_rate=0.002, latency_p50=0.21, latency_p95=0.88,
                 latency_p99=1.6, ttft_p95=0.12, input_tokens_rate=5400, output_tokens_rate=1900,
                 cost_per_hour=3.1, feedback_negative_ratio=0.04),
        make_row("mixtral-8x7b", request_rate=12.5, error_rate=0.071, latency_p50=0.9, latency_p95=2.7,
                 latency_p99=6.1, ttft_p95=1.4, input_tokens_rate=2100, output_tokens_rate=880,
                 cost_per_hour=5.5, feedback_negative_ratio=0.12,
                 errors_by_type={"timeout": 0.61, "rate_limited": 0.28, "server_error": 0.0}),
        make_row("qwen2.5-7b", schema="tgi", request_rate=8.1, error_rate=0.015, latency_p50=0.33,
                 latency_p95=0.95, latency_p99=1.2, ttft_p95=0.2, input_tokens_rate=960,
                 output_tokens_rate=410, cost_per_hour=0.9),
        make_row("bge-large-en", schema="tgi", request_rate=0.5, error_rate=0.0, latency_p50=0.012,
                 latency_p95=0.03, latency_p99=0.05),
    ]  # fmt: skip


async def settle(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Pause until `condition()` holds or `timeout` passes; returns it. One idle wait is not always enough on
    a loaded machine: the pilot judges idleness by CPU time, and a starved process looks idle."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.02)
    return condition()
