"""Fixed thresholds per field, as data: the first line of defence before baselines have warmed up.

The alert rules (`aitop.analysis.rules`) supersede these; `as_rules` turns thresholds into cell-only rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from aitop.analysis.rules import Rule
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


#: Defaults from practice (README, Alerts) that are plain thresholds: p95 > 2 s critical, errors > 1 % warning
#: and > 5 % critical, negative feedback > 10 %. Rules relative to a baseline (spend, latency multiples)
#: need the baseline engine and are not expressed here.
DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("error_rate", warning=0.01, critical=0.05),
    Threshold("latency_p95", critical=2.0),
    Threshold("feedback_negative_ratio", warning=0.10),
)


def judge_row(row: Row, thresholds: Iterable[Threshold]) -> Row:
    """`row` with its `severity` mapping filled in for every field that has a threshold."""
    severity: Mapping[str, Severity] = {t.field: t.judge(row.value(t.field)) for t in thresholds}
    return replace(row, severity=severity)


def as_rules(thresholds: Iterable[Threshold]) -> tuple[Rule, ...]:
    """Fixed thresholds as cell-only rules (`alert=False`): they colour cells and raise no alerts, which
    is what a `Monitor(thresholds=…)` has always done."""
    rules = []
    for threshold in thresholds:
        for severity, limit in ((Severity.WARNING, threshold.warning), (Severity.CRITICAL, threshold.critical)):
            if limit is not None:
                rules.append(Rule(f"{threshold.field}_{severity.label}", threshold.field, ">", severity,
                                  threshold=limit, alert=False))  # fmt: skip
    return tuple(rules)
