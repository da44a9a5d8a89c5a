"""The fleet at a glance, like the first lines of top: totals over every row and one verdict naming the
worst problem. No Textual here (tested without an app); the TUI's header draws a `FleetSummary`.

Totals add what adds up (request, token and spend rates) and weigh what does not: the error share is
errors over requests of the whole fleet, and the latency (the field marked `Shown.FLEET`, the p95) is read
from the rows' latency histograms merged bucket by bucket (`sum by (le)`), which is the fleet's true p95,
not an average of percentiles. Without buckets (a server that only exports quantiles) the worst row's p95
stands in, and says so.
"""

from __future__ import annotations

from math import isfinite
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeGuard

from aitop.derivations import Quantile
from aitop.field_uses import FLEET
from aitop.fields import FIELDS, Field
from aitop.format import format_value
from aitop.model import Row, Severity, Snapshot
from aitop.prommath import Histogram, merge_buckets
from aitop.sanitize import clean
from aitop.ui.alert_text import comparison, ordered
from aitop.ui.cells import CRITICAL_MARK, WARNING_MARK

OK_MARK = "✓"


def _fleet_latency() -> tuple[Field, Quantile]:
    """The field the header's latency shows, and the quantile of which histogram it is."""
    field = next(field for field in FIELDS if FLEET in field.shown)
    if not isinstance(field.derive, Quantile):
        raise TypeError(f"the fleet latency {field.name} is not a quantile")
    return field, field.derive


LATENCY, _QUANTILE = _fleet_latency()


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """Totals over a snapshot's rows. Every number is None when no row knows it (never a made-up 0)."""

    models: int
    request_rate: float | None
    error_rate: float | None
    latency: float | None  # the `LATENCY` field's quantile over the fleet
    #: True when `latency` comes from merged buckets; False: the worst row's value (an upper bound).
    latency_merged: bool
    tokens_rate: float | None
    cost_per_hour: float | None
    cost_per_day: float | None
    #: The daily spend per model (row) the enabled budget rule allows (its threshold), when there is one.
    budget: float | None
    #: Rows whose projected daily spend is over `budget`.
    over_budget: int
    firing: int
    pending: int
    #: Rows with a field at warning or worse.
    in_trouble: int
    verdict: str
    verdict_severity: Severity
    #: What a row is, in the totals' phrases: "models", or "<label> groups" while regrouped (`g`).
    rows_noun: str = "models"


def _known(value: float | None) -> TypeGuard[float]:
    return value is not None and isfinite(value)


# The loops below run over every row on every refresh (2,000 rows: ~20,000 values): each reads the values
# straight from the row's mapping and tests them inline, which is what `Row.value` and `_known` do.

def _total(rows: Iterable[Row], *names: str) -> float | None:
    values = [value for row in rows for name in names
              if (value := row.values.get(name)) is not None and isfinite(value)]  # fmt: skip
    return sum(values) if values else None


def _error_rate(rows: Iterable[Row]) -> float | None:
    known = [(errors, requests) for row in rows
             if (errors := (values := row.values).get("error_rate")) is not None and isfinite(errors)
             and (requests := values.get("request_rate")) is not None and isfinite(requests)]  # fmt: skip
    requests = sum(requests for _, requests in known)
    if not known or requests <= 0:
        return None
    return sum(errors * requests for errors, requests in known) / requests


def _on_bounds(buckets: tuple[tuple[float, float], ...], bounds: list[float]) -> list[tuple[float, float]]:
    """One histogram's cumulative counts at every bound of `bounds`: at a bound it lacks, what it counted at
    its own next bound down (a step, never an invented interpolation). Rows of different schemas have
    different bucket layouts; summed by `le` as they are, a bound only some of them have would read as
    a drop in the cumulative count and throw the quantile off by orders of magnitude."""
    own = sorted(buckets)
    result, index, count = [], 0, 0.0
    for bound in bounds:
        while index < len(own) and own[index][0] <= bound:
            count = own[index][1]
            index += 1
        result.append((bound, count))
    return result


def _latency(rows: list[Row]) -> tuple[float | None, bool]:
    concept = _QUANTILE.concept
    buckets = [row.distributions[concept] for row in rows if row.distributions.get(concept)]
    if buckets:
        bounds = sorted({bound for histogram in buckets for bound, _ in histogram})
        value = Histogram(merge_buckets(_on_bounds(h, bounds) for h in buckets).items()).quantile(_QUANTILE.q)
        if _known(value):
            return value, True
    name = LATENCY.name
    worst = [latency for row in rows if (latency := row.values.get(name)) is not None and isfinite(latency)]
    return (max(worst), False) if worst else (None, False)


def _over(rows: Iterable[Row], budget: float | None) -> list[Row]:
    if budget is None:
        return []
    over = [(spend, row) for row in rows
            if (spend := row.values.get("cost_per_day")) is not None and isfinite(spend) and spend > budget]
    return [row for _, row in sorted(over, key=lambda pair: -pair[0])]


def _verdict(snapshot: Snapshot, budget: float | None, over: list[Row],
             troubled: list[tuple[Severity, Row]]) -> tuple[str, Severity]:  # fmt: skip
    """One line naming the worst problem, or saying there is none. `over` is `_over(rows, budget)` and
    `troubled` the rows at warning or worse with their worst severity (both worked out once a refresh)."""
    if snapshot.stale:
        why = clean(snapshot.error or "the last poll failed", 120)
        return f"{CRITICAL_MARK} data is stale: {why}", Severity.CRITICAL
    down = [target for target in snapshot.targets if not target.up]
    if down and snapshot.targets:
        return (f"{CRITICAL_MARK} {len(down)} of {len(snapshot.targets)} targets down: "
                f"{clean(down[0].error or 'no answer', 80)}", Severity.CRITICAL)  # fmt: skip
    active = [alert for alert in ordered(snapshot.alerts) if alert.state in ("firing", "pending")]
    if active:
        worst = active[0]
        mark = CRITICAL_MARK if worst.severity >= Severity.CRITICAL else WARNING_MARK
        more = f" (+{len(active) - 1} more)" if len(active) > 1 else ""
        where = clean(worst.group, 60) or "(whole source)"
        what = comparison(worst) or clean(worst.message, 120) or clean(worst.rule, 60)
        return f"{mark} {worst.state} on {where}: {what}{more}", max(worst.severity, Severity.WARNING)
    if over:
        return (f"{WARNING_MARK} {len(over)} over the {format_value('cost_per_day', budget)} budget: "
                f"{clean(over[0].group, 60)} at {format_value('cost_per_day', over[0].value('cost_per_day'))}",
                Severity.WARNING)  # fmt: skip
    marked = sorted(troubled, key=lambda pair: (-int(pair[0]), pair[1].group))
    if marked:  # over a threshold, not (yet) alerting: its `for` has not passed, or the rule only colours
        mark = CRITICAL_MARK if marked[0][0] >= Severity.CRITICAL else WARNING_MARK
        return (f"{mark} {len(marked)} of {len(snapshot.rows)} rows over a threshold, no alert yet; worst: "
                f"{clean(marked[0][1].group, 60)}", Severity.WARNING)  # fmt: skip
    if not snapshot.rows:
        return "no models seen yet", Severity.OK
    return f"{OK_MARK} all {len(snapshot.rows)} rows within their thresholds", Severity.OK


def summarize(snapshot: Snapshot, budget: float | None = None) -> FleetSummary:
    """The fleet's totals and verdict for `snapshot`; `budget` is the allowed spend per day, if any."""
    rows = list(snapshot.rows)
    latency, merged = _latency(rows)
    per_hour = _total(rows, "cost_per_hour")
    per_day = per_hour * 24 if per_hour is not None else None
    firing = sum(1 for alert in snapshot.alerts if alert.state == "firing")
    pending = sum(1 for alert in snapshot.alerts if alert.state == "pending")
    # (`Row.worst` inline: asked of every row)
    troubled = [(worst, row) for row in rows
                if (worst := max(row.severity.values(), default=Severity.OK)) >= Severity.WARNING]  # fmt: skip
    over = _over(rows, budget)
    verdict, severity = _verdict(snapshot, budget, over, troubled)
    return FleetSummary(
        models=len(rows),
        request_rate=_total(rows, "request_rate"),
        error_rate=_error_rate(rows),
        latency=latency,
        latency_merged=merged,
        tokens_rate=_total(rows, "input_tokens_rate", "output_tokens_rate"),
        cost_per_hour=per_hour,
        cost_per_day=per_day,
        budget=budget,
        over_budget=len(over),
        firing=firing,
        pending=pending,
        in_trouble=len(troubled),
        verdict=verdict,
        verdict_severity=severity,
        rows_noun="models" if snapshot.group_by is None else f"{clean(snapshot.group_by, 30)} groups",
    )


def summary_parts(summary: FleetSummary) -> list[tuple[str, Severity]]:
    """The totals as short phrases, most important first (a narrow header keeps a prefix of them)."""
    def shown(field: str, value: float | None) -> str:
        return format_value(field, value)

    heading = LATENCY.heading if summary.latency_merged else f"worst {LATENCY.heading}"
    parts: list[tuple[str, Severity]] = [
        (f"{shown('request_rate', summary.request_rate)} req/s", Severity.OK),
        (f"err {shown('error_rate', summary.error_rate)}", Severity.OK),
        (f"{heading} {shown(LATENCY.name, summary.latency)}", Severity.OK),
    ]
    if summary.firing or summary.pending:
        level = Severity.CRITICAL if summary.firing else Severity.WARNING
        parts.append((f"{summary.firing} firing, {summary.pending} pending, {summary.in_trouble}/{summary.models} "
                      f"{summary.rows_noun} in trouble", level))  # fmt: skip
    else:
        if summary.in_trouble:
            parts.append((f"{summary.in_trouble}/{summary.models} {summary.rows_noun} over a threshold",
                          Severity.WARNING))
        else:
            parts.append((f"{summary.models} {summary.rows_noun} ok" if summary.models else f"no {summary.rows_noun}",
                          Severity.OK))
    spend = f"{shown('cost_per_hour', summary.cost_per_hour)}/h = {shown('cost_per_day', summary.cost_per_day)}"
    parts.append((spend, Severity.OK))
    if summary.budget is not None:
        level = Severity.WARNING if summary.over_budget else Severity.OK
        count = str(summary.over_budget) if summary.over_budget else "none"
        parts.append((f"{count} over the {shown('cost_per_day', summary.budget)} budget", level))
    parts.append((f"{shown('output_tokens_rate', summary.tokens_rate)} tok/s", Severity.OK))
    return parts
