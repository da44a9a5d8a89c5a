"""Alert messages with context: value vs limit, where, the top error type or the field that moved, how long.

e.g. "error rate 5.2% (threshold 1.0%) on llama-3.1-8b, top error: timeout (62%), firing for 3m".
Group names and error types were sanitised where they entered the model; rule names are validated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

from aitop.analysis.baseline import BaselineView
from aitop.analysis.rules import OPS, Rule, Verdict
from aitop.fields import FIELD_BY_NAME, FIELDS
from aitop.format import format_value
from aitop.model import Row

#: For a rule on the key, the fields whose move against their own baseline best explains it (`Field.related`).
RELATED: Mapping[str, tuple[str, ...]] = MappingProxyType({f.name: f.related for f in FIELDS if f.related})
#: A field counts as "moved" from ×1.5 (or ÷1.5) of its baseline.
MOVED_RATIO = 1.5


def noun(field: str) -> str:
    """The field's name in sentences ("p95 latency"): table headings are too terse, descriptions too long."""
    known = FIELD_BY_NAME.get(field)
    return known.noun if known is not None else field.replace("_", " ")


def show(field: str, value: float | None) -> str:
    """`value` of `field` in its display unit ("5.2%", "2.10s", "$13,340/day", "0.077"); "?" when unknown."""
    if value is None or math.isnan(value):
        return "?"
    return format_value(field, value)


def duration_text(seconds: float) -> str:
    """45s, 3m, 3m12s, 2h05m, 3d04h."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes}m{rest:02d}s" if rest else f"{minutes}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def comparison(rule: Rule, verdict: Verdict) -> str:
    """The value against its limit: "5.2% (threshold 1.0%)", "4.20s (3× baseline 1.10s = 3.30s)"."""
    field = rule.field
    value, limit = show(field, verdict.value), show(field, verdict.limit)
    reference = verdict.reference
    if rule.threshold is not None or reference is None:
        return f"{value} (threshold {limit})"
    base = show(field, reference.mean)
    if rule.baseline is not None:
        plain = verdict.limit is not None and math.isclose(verdict.limit, rule.baseline * reference.mean)
        widened = "" if plain else f", widened to {limit} by its noise"
        if OPS[rule.op].upward is False:
            return f"{value} (below {rule.baseline:.0%} of baseline {base}{widened})"
        if plain:
            return f"{value} ({rule.baseline:g}× baseline {base} = {limit})"
        return f"{value} ({rule.baseline:g}× baseline {base}{widened})"
    return f"{value} (baseline {base} ± {show(field, reference.std)}, {OPS[rule.op].words} {rule.sigma:g}σ)"


def top_error(row: Row) -> str | None:
    """"top error: timeout (62%)" from the row's failures by type, or None."""
    total = sum(rate for rate in row.errors_by_type.values() if rate and math.isfinite(rate))
    if not total > 0:
        return None
    kind, rate = max(row.errors_by_type.items(), key=lambda item: item[1] if math.isfinite(item[1]) else -1)
    return f"top error: {kind} ({rate / total:.0%})"


def moved_field(row: Row, fields: tuple[str, ...], baseline_of: Callable[[str], BaselineView | None]) -> str | None:
    """"moved most: p95 queue time ×16 vs baseline" — the related field furthest from its baseline."""
    best: tuple[float, str, float] | None = None
    for name in fields:
        value, baseline = row.value(name), baseline_of(name)
        if value is None or not math.isfinite(value) or baseline is None or not baseline.ready:
            continue
        if baseline.mean <= 0 or value <= 0:
            continue
        ratio = value / baseline.mean
        if not 0 < ratio < math.inf:  # a baseline of values near the float limit overflows (1e308: mean inf)
            continue
        distance = abs(math.log(ratio))
        if distance >= math.log(MOVED_RATIO) and (best is None or distance > best[0]):
            best = (distance, name, ratio)
    if best is None:
        return None
    _, name, ratio = best
    factor = f"×{ratio:.1f}" if ratio >= 1 else f"÷{1 / ratio:.1f}"
    return f"moved most: {noun(name)} {factor} vs baseline"


def context(rule: Rule, row: Row, baseline_of: Callable[[str], BaselineView | None]) -> str | None:
    """What explains the alert: the top error type for error rules, else the related field that moved."""
    if rule.field == "error_rate":
        return top_error(row)
    return moved_field(row, RELATED.get(rule.field, ()), baseline_of)


def message(rule: Rule, group: str, verdict: Verdict, extra: str | None, state: str | None = None,
            duration: float | None = None) -> str:  # fmt: skip
    """One line: what, where, why, for how long (no duration in a one-shot check)."""
    parts = [f"{noun(rule.field)} {comparison(rule, verdict)} on {group}"]
    if extra:
        parts.append(extra)
    if state is not None and duration is not None:
        if state == "pending":
            parts.append(f"pending for {duration_text(duration)} (fires after {duration_text(rule.for_)})")
        elif state == "resolved":
            parts.append(f"resolved {duration_text(duration)} ago")
        else:
            parts.append(f"{state} for {duration_text(duration)}")
    return ", ".join(parts)


def resolution(rule: Rule, verdict: Verdict, clearing: float | None) -> str:
    """What a firing alert needs to resolve: "clears after 30s below 2.00s", or how far it has got
    ("clearing: 12s of 30s below 2.00s") once the condition is false."""
    upward = OPS[rule.op].upward
    side = "below" if upward else "above" if upward is False else "inside"
    wait = duration_text(rule.resolve_after)
    limit = show(rule.field, verdict.limit)
    if clearing is None:
        return f"clears after {wait} {side} {limit}"
    return f"clearing: {duration_text(clearing)} of {wait} {side} {limit}"
