"""Fakes for the TUI tests: a scripted collector, a frozen clock, rows built as a real collector builds them.

(A module with its own name, not conftest, so test modules can import it next to other test packages.)
"""

from __future__ import annotations

from collections.abc import Sequence

from aitop.analysis.thresholds import Threshold
from aitop.model import FIELD_NAMES, Row, TargetHealth
from aitop.sanitize import clean
from aitop.sources.base import Collected, Points

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


class FakeCollector:
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


def make_row(group: str, *, schema: str = "vllm", stale: bool = False, **values: float | None) -> Row:
    """A row as a real collector builds it: label values pass `clean()` on their way into the model."""
    unknown = set(values) - set(FIELD_NAMES)
    assert not unknown, f"not row fields: {unknown}"
    return Row(
        schema=clean(schema),
        group=clean(group),
        group_label="model_name",
        values={name: values.get(name) for name in FIELD_NAMES},
        stale=stale,
    )


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
) -> Collected:
    return Collected(
        taken_at=taken_at,
        window_seconds=30.0,
        rows=tuple(rows),
        targets=tuple(targets) if targets is not None else tuple(up(url) for url in TARGETS),
        schemas=tuple(schemas),
    )


def fleet() -> list[Row]:
    """A small deterministic fleet with one critical, one warning and some missing values."""
    return [
        make_row("llama-3.1-8b", request_rate=42.3, error_rate=0.002, latency_p50=0.21, latency_p95=0.88,
                 latency_p99=1.6, ttft_p95=0.12, input_tokens_rate=5400, output_tokens_rate=1900,
                 cost_per_hour=3.1, feedback_negative_ratio=0.04),
        make_row("mixtral-8x7b", request_rate=12.5, error_rate=0.071, latency_p50=0.9, latency_p95=2.7,
                 latency_p99=6.1, ttft_p95=1.4, input_tokens_rate=2100, output_tokens_rate=880,
                 cost_per_hour=5.5, feedback_negative_ratio=0.12),
        make_row("qwen2.5-7b", schema="tgi", request_rate=8.1, error_rate=0.015, latency_p50=0.33,
                 latency_p95=0.95, latency_p99=1.2, ttft_p95=0.2, input_tokens_rate=960,
                 output_tokens_rate=410, cost_per_hour=0.9),
        make_row("bge-large-en", schema="tgi", request_rate=0.5, error_rate=0.0, latency_p50=0.012,
                 latency_p95=0.03, latency_p99=0.05),
    ]  # fmt: skip
