"""Alert rules as data: field, comparison, a limit (absolute, a multiple of the baseline, or deviations from
it), `for`, severity and a row filter. The built-in rules are data (`aitop/defaults.toml`, read by
`aitop.analysis.configure`).

A rule judges one row at one instant (`evaluate`); the alert engine turns those instants into pending →
firing → resolved with `for` and `keep_firing_for`, as Prometheus does. A rule relative to a baseline says
nothing until the baseline has warmed up; a value that is unknown (None, NaN, ±Inf) is never judged (never
as 0).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import MappingProxyType
from typing import NamedTuple

from aitop.analysis.baseline import RELATIVE_FLOOR, BaselineView
from aitop.format import format_value
from aitop.model import Row, Severity


@dataclass(frozen=True, slots=True)
class Op:
    """A comparison: `upward` True breaches above the limit, False below, None either side (sigma band)."""

    symbol: str
    test: Callable[[float, float], bool]
    upward: bool | None
    words: str


OPS: Mapping[str, Op] = MappingProxyType({
    ">": Op(">", operator.gt, True, "above"),
    ">=": Op(">=", operator.ge, True, "at or above"),
    "<": Op("<", operator.lt, False, "below"),
    "<=": Op("<=", operator.le, False, "at or below"),
    "<>": Op("<>", operator.ne, None, "outside"),  # only with `sigma`: a move either way is the anomaly
})
#: How a rule's limit is set: exactly one of these rule attributes is given.
LIMIT_KINDS = ("threshold", "baseline", "sigma")


@dataclass(frozen=True, slots=True)
class RowFilter:
    """Which rows a rule applies to: anchored regexes on schema and group, and on a grouping label.

    `labels = {model_name = "llama-.*"}` matches rows grouped by `model_name` whose group matches (a row
    carries the one label it is grouped by); rows grouped by another label do not match.
    """

    schema: re.Pattern[str] | None = None
    group: re.Pattern[str] | None = None
    labels: tuple[tuple[str, re.Pattern[str]], ...] = ()

    def matches(self, row: Row) -> bool:
        if self.schema is None and self.group is None and not self.labels:
            return True  # the common case: every row
        if self.schema is not None and not self.schema.fullmatch(row.schema):
            return False
        if self.group is not None and not self.group.fullmatch(row.group):
            return False
        return all(row.group_label == label and pattern.fullmatch(row.group) for label, pattern in self.labels)


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule. Exactly one of `threshold` (absolute), `baseline` (a multiple of the baseline mean)
    or `sigma` (baseline mean ± that many standard deviations) sets the limit."""

    name: str
    field: str
    op: str
    severity: Severity
    threshold: float | None = None
    baseline: float | None = None
    sigma: float | None = None
    for_: float = 0.0  # the condition must hold this long before the alert fires
    #: A firing alert resolves once the condition has been false this long (None: same as `for_`). This is
    #: the only thing that holds a firing alert: no value margin does, so a value that settles just inside
    #: the limit resolves on time instead of firing for as long as anyone watches.
    keep_firing_for: float | None = None
    #: A `baseline` multiple never sits inside the series' own noise: the limit is at least this many
    #: standard deviations from the baseline mean (0 turns this off). "20 % above normal" means nothing
    #: for a series that swings ±40 % from one reading to the next.
    min_sigma: float = 3.0
    min_baseline: float = 0.0  # baseline rules are silent while the baseline mean is below this
    min_request_rate: float = 0.0  # rows with less traffic (req/s) are not judged by this rule
    # (`dataclass_field`: within this class body `field` is the rule's field name)
    filter: RowFilter = dataclass_field(default_factory=RowFilter)
    alert: bool = True  # False: only colours the cell, raises no alert
    enabled: bool = True
    description: str = ""
    runbook: str = ""  # what to do when it fires: steps, or a URL

    @property
    def kind(self) -> str:
        return next(kind for kind in LIMIT_KINDS if getattr(self, kind) is not None)

    @property
    def relative(self) -> bool:
        """Whether the rule needs a warm baseline."""
        return self.threshold is None

    @property
    def resolve_after(self) -> float:
        """Seconds the condition must stay false before a firing alert resolves."""
        return self.for_ if self.keep_firing_for is None else self.keep_firing_for

    def condition(self) -> str:
        """The rule in words: `> 0.05`, `> 3× baseline`, `<> 4σ`."""
        if self.threshold is not None:
            return f"{self.op} {format_value(self.field, self.threshold)}"
        if self.baseline is not None:
            return f"{self.op} {self.baseline:g}× baseline"
        return f"{self.op} {self.sigma:g}σ from baseline"


class Verdict(NamedTuple):
    """One rule on one row at one instant. (A named tuple: several are made per row each refresh, and one
    costs a third of a frozen dataclass.)"""

    known: bool  # False: value unknown, baseline not ready, or too little traffic — hold state
    breached: bool = False
    value: float | None = None
    limit: float | None = None  # the limit on the side the value is on
    reference: BaselineView | None = None  # the baseline the limit came from, for the message


UNKNOWN = Verdict(known=False)


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def limits(rule: Rule, baseline: BaselineView | None) -> tuple[float | None, float | None, float] | None:
    """(lower limit, upper limit, the baseline mean a sigma band is centred on); None when unknowable."""
    op = OPS[rule.op]
    if rule.threshold is not None:
        low_high = (rule.threshold, None) if op.upward is False else (None, rule.threshold)
        return (*low_high, 0.0)
    if baseline is None or not baseline.ready or baseline.mean < rule.min_baseline:
        return None
    if rule.baseline is not None:
        limit = rule.baseline * baseline.mean
        noise = rule.min_sigma * baseline.std
        if op.upward is False:
            return min(limit, baseline.mean - noise), None, 0.0
        return None, max(limit, baseline.mean + noise), 0.0
    assert rule.sigma is not None
    spread = max(baseline.std, abs(baseline.mean) * RELATIVE_FLOOR, 1e-12) * rule.sigma
    low, high = baseline.mean - spread, baseline.mean + spread
    if op.upward is None:
        return low, high, baseline.mean
    return (low, None, baseline.mean) if op.upward is False else (None, high, baseline.mean)


def evaluate(rule: Rule, row: Row, baseline: BaselineView | None = None) -> Verdict:
    """Judge `row` by `rule` now. `baseline` is the row's baseline for the rule's field (or None)."""
    value = row.values.get(rule.field)
    if value is None or not math.isfinite(value):
        return UNKNOWN
    if rule.min_request_rate > 0:
        traffic = row.value("request_rate")
        if not _usable(traffic) or traffic < rule.min_request_rate:  # type: ignore[operator]
            return UNKNOWN
    bounds = limits(rule, baseline)
    if bounds is None:
        return UNKNOWN
    low, high, reference = bounds
    op = OPS[rule.op]
    reference_view = baseline if rule.relative else None
    breached_high = high is not None and (op.test(value, high) if op.upward else value > high)
    breached_low = low is not None and (op.test(value, low) if op.upward is False else value < low)
    if breached_high or breached_low:
        return Verdict(True, True, value, high if breached_high else low, reference_view)
    nearest: float | None
    if high is not None and low is not None:  # a band: the side the value is nearer to
        nearest = high if high - value <= value - low else low
    else:
        nearest = high if high is not None else low
    return Verdict(True, False, value, nearest, reference_view)


def threshold_test(rule: Rule) -> tuple[Callable[[float, float], bool], float, Callable[[float], Verdict]] | None:
    """For a rule with an absolute threshold and no traffic floor: (test, limit, judge). `judge` is `evaluate`
    given the row's (not None) value, the same verdict without looking up the value, the limits and the
    comparison again for every row; a finite value breaches exactly when `test(value, limit)`, so a caller
    that only needs to know whether a value breaches makes no verdict for the values within it. None for
    any other rule."""
    if rule.threshold is None or rule.min_request_rate > 0:
        return None
    op = OPS[rule.op]
    # `evaluate`'s comparison on the limit's side: the rule's own, or `>` for a band operator.
    test = operator.gt if op.upward is None else op.test
    limit, isfinite = rule.threshold, math.isfinite
    new = tuple.__new__  # (the named tuple made directly: half the cost of its generated __new__, per row)

    def judge(value: float) -> Verdict:
        if not isfinite(value):
            return UNKNOWN
        return new(Verdict, (True, test(value, limit), value, limit, None))

    return test, limit, judge


def instant_severity(rules: tuple[Rule, ...], row: Row,
                     baselines: Mapping[str, BaselineView | None]) -> dict[str, Severity]:  # fmt: skip
    """Cell severities of `row`: the worst rule its value breaches now, per field; OK for every field an
    applicable rule watches, so the cell reads as judged."""
    verdicts = [(rule, evaluate(rule, row, baselines.get(rule.field)))
                for rule in rules if rule.enabled and rule.filter.matches(row)]  # fmt: skip
    return severity_of(verdicts)


def severity_of(verdicts: Iterable[tuple[Rule, Verdict]]) -> dict[str, Severity]:
    """Per field, the worst severity among the rules the value breaches now; OK when none is.

    The mark follows the value, not the alert: an alert still firing through `keep_firing_for` over a value
    back inside its limit leaves the cell unmarked (the sidebar says what resolution needs).
    """
    severity: dict[str, Severity] = {}
    ok = Severity.OK  # (read once: an enum member read through its class costs ~70 ns, per rule and row here)
    for rule, verdict in verdicts:
        level = severity.get(rule.field, ok)
        if verdict.breached:
            level = max(level, rule.severity)
        severity[rule.field] = level
    return severity
