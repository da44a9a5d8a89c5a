"""Fixed thresholds per field, as data: the first line of defence before baselines have warmed up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from aitop.model import Row, Severity


@dataclass(frozen=True, slots=True)
class Threshold:
    """A field is WARNING above `warning` and CRITICAL above `critical` (either may be None)."""

    field: str
    warning: float | None = None
    critical: float | None = None

    def judge(self, value: float | None) -> Severity:
        if value is None or value != value:  # unknown or NaN is not a breach
            return Severity.OK
        if self.critical is not None and value > self.critical:
            return Severity.CRITICAL
        if self.warning is not None and value > self.warning:
            return Severity.WARNING
        return Severity.OK


#: Defaults from practice (issue 5 §2): p95 > 2 s critical, errors > 1 % / 5 %, 👎 > 10 %, spend > $100/day.
DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("error_rate", warning=0.01, critical=0.05),
    Threshold("latency_p95", warning=1.0, critical=2.0),
    Threshold("latency_p99", warning=2.0, critical=5.0),
    Threshold("ttft_p95", warning=1.0, critical=3.0),
    Threshold("feedback_negative_ratio", warning=0.10, critical=0.25),
    Threshold("cost_per_hour", warning=100 / 24),
    Threshold("kv_cache_usage", warning=0.90, critical=0.98),
)


def judge_row(row: Row, thresholds: Iterable[Threshold]) -> Row:
    """`row` with its `severity` mapping filled in for every field that has a threshold."""
    severity: Mapping[str, Severity] = {t.field: t.judge(row.value(t.field)) for t in thresholds}
    return replace(row, severity=severity)
