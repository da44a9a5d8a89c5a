"""`aitop check`: judge one snapshot by the rules and report like a Nagios plugin.

Pure: it takes the snapshot a monitor produced (rows already priced and given their daily spend) and the
rules, and returns a status, an exit code and the report text — no I/O, so it is tested without a network.

A one-shot check judges the current window only: `for` durations belong to the live TUI, and rules relative
to a baseline cannot be judged without history, so they are skipped (the report says how many). Firing
alerts from a Prometheus backend (rule `prometheus:…`) count as well. Statuses combine worst-first:
CRITICAL beats UNKNOWN (a dead target does not hide a known critical), UNKNOWN beats WARNING (what could
not be seen may be worse), WARNING beats OK.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from aitop.analysis.cost import with_daily_spend
from aitop.analysis.messages import context, message
from aitop.analysis.rules import Rule, evaluate
from aitop.model import Severity, Snapshot
from aitop.output import rfc3339
from aitop.sanitize import clean
from aitop.secret import mask, mask_data

OK, WARNING, CRITICAL, UNKNOWN = "OK", "WARNING", "CRITICAL", "UNKNOWN"
EXIT_CODES = {OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3}
#: Worst first, for combining statuses.
_PRECEDENCE = (CRITICAL, UNKNOWN, WARNING, OK)
_BY_SEVERITY = {Severity.CRITICAL: CRITICAL, Severity.WARNING: WARNING}


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the report: a breached rule on a row, a backend alert, or why something is unknown."""

    status: str
    rule: str
    schema: str
    group: str
    field: str
    value: float | None
    threshold: float | None
    message: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: str
    summary: str
    findings: tuple[Finding, ...]
    snapshot: Snapshot | None = None
    skipped_rules: int = 0  # baseline-relative rules a one-shot check cannot judge

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def _worst(statuses: Iterable[str]) -> str:
    present = set(statuses)
    return next((status for status in _PRECEDENCE if status in present), OK)


def unknown(reason: str) -> CheckResult:
    """The result when there is nothing to judge (e.g. the target cannot be reached or identified)."""
    text = clean(reason, 300)
    return CheckResult(UNKNOWN, f"AITOP UNKNOWN: {text}", (Finding(UNKNOWN, "", "", "", "", None, None, text),))


def _rule_findings(snapshot: Snapshot, rules: Iterable[Rule]) -> tuple[list[Finding], int]:
    findings: dict[tuple[str, str, str], Finding] = {}
    absolute = [rule for rule in rules if rule.enabled and rule.alert and not rule.relative]
    skipped = sum(1 for rule in rules if rule.enabled and rule.alert and rule.relative)
    # Most severe first, so a critical and a warning rule on the same field report once, as critical.
    for rule in sorted(absolute, key=lambda r: -int(r.severity)):
        for row in snapshot.rows:
            if "cost_per_day" not in row.values:
                row = with_daily_spend(row)  # a snapshot built without the analysis
            if not rule.filter.matches(row):
                continue
            verdict = evaluate(rule, row)
            where = (row.schema, row.group, rule.field)
            if not verdict.breached or where in findings:
                continue
            text = message(rule, row.group, verdict, context(rule, row, lambda _: None))
            findings[where] = Finding(_BY_SEVERITY[rule.severity], rule.name, row.schema, row.group, rule.field,
                                      verdict.value, verdict.limit, text)  # fmt: skip
    return list(findings.values()), skipped


#: Fields computed from others: a rule on the left needs the query of any field on the right.
_NEEDS = {"error_rate": ("error_rate", "request_rate"), "cost_per_day": ("cost_per_hour",)}


def _failed_queries(snapshot: Snapshot, rules: Iterable[Rule]) -> list[str]:
    """The errors of the failed queries the rules need (every failed one when nothing could be read): a
    rule that cannot see its field must not read as OK."""
    needed = {name for rule in rules if rule.enabled and rule.alert and not rule.relative
              for name in _NEEDS.get(rule.field, (rule.field,))}
    return list(dict.fromkeys(error for _, error, fields in snapshot.failed_queries
                              if not snapshot.rows or needed & set(fields)))


def evaluate_snapshot(snapshot: Snapshot, rules: Iterable[Rule]) -> CheckResult:
    """Judge `snapshot`'s current window by `rules` (and the backend's firing alerts)."""
    rules = tuple(rules)
    targets = snapshot.targets
    down = [target for target in targets if not target.up]
    if not targets or len(down) == len(targets):
        if down:
            return unknown("cannot reach " + "; ".join(f"{t.url}: {t.error or 'down'}" for t in down))
        return unknown(f"no data: {snapshot.error or 'no target answered'}")
    findings, skipped = _rule_findings(snapshot, rules)
    for alert in snapshot.alerts:
        if alert.rule.startswith("prometheus:") and alert.state == "firing" and alert.severity > Severity.OK:
            findings.append(Finding(_BY_SEVERITY[alert.severity], alert.rule, alert.schema, alert.group, alert.field,
                                    alert.value, alert.threshold, clean(alert.message, 300)))  # fmt: skip
    for target in down:
        findings.append(Finding(UNKNOWN, "", "", "", "", None, None, f"{target.url}: {target.error or 'down'}"))
    failed = _failed_queries(snapshot, rules)
    findings += [Finding(UNKNOWN, "", "", "", "", None, None, f"query failed: {error}") for error in failed]
    if not snapshot.rows and not failed:
        why = "; ".join(snapshot.warnings) if snapshot.warnings else "no known AI-serving metrics found"
        findings.append(Finding(UNKNOWN, "", "", "", "", None, None, clean(why, 600)))
    order = {status: rank for rank, status in enumerate(_PRECEDENCE)}
    findings.sort(key=lambda f: (order[f.status], f.schema, f.group, f.rule))
    status = _worst(f.status for f in findings)
    return CheckResult(status, _summary(status, findings, snapshot), tuple(findings), snapshot, skipped)


def _summary(status: str, findings: list[Finding], snapshot: Snapshot) -> str:
    counts = {level: sum(1 for f in findings if f.status == level) for level in (CRITICAL, WARNING, UNKNOWN)}
    up = snapshot.targets_up
    scope = (f"{len(snapshot.rows)} rows, {up}/{len(snapshot.targets)} targets up, "
             f"window {snapshot.window_seconds:.1f}s")  # fmt: skip
    if status == OK:
        head = "no rule breached"
    else:
        first = findings[0]
        lead = f"{first.schema}/{first.group}: {first.message}" if first.group else first.message
        parts = [f"{counts[level]} {level.lower()}{'s' if counts[level] > 1 and level == WARNING else ''}"
                 for level in (CRITICAL, WARNING, UNKNOWN) if counts[level]]  # fmt: skip
        head = f"{', '.join(parts)} — {lead}"
    perf = f"critical={counts[CRITICAL]} warning={counts[WARNING]} rows={len(snapshot.rows)} targets_up={up}"
    return f"AITOP {status}: {head} ({scope}) | {perf}"


def render_text(result: CheckResult) -> str:
    """One summary line, then one line per finding."""
    lines = [result.summary]
    for finding in result.findings:
        if result.status == UNKNOWN and len(result.findings) == 1 and not finding.group:
            break  # the summary already says it
        where = f" {finding.schema}/{finding.group}" if finding.group else ""
        rule = f" [{finding.rule}]" if finding.rule else ""
        lines.append(f"{finding.status}{where}{rule}: {finding.message}")
    return mask("\n".join(lines) + "\n")


def _finite(value: float | None) -> float | None:
    # JSON has no NaN or Infinity (a backend alert's value may be either): unknown is null.
    return value if value is not None and math.isfinite(value) else None


def render_json(result: CheckResult) -> str:
    """The result as JSON: status, exit code, summary, alerts (the snapshot contract's shape), targets."""
    snapshot = result.snapshot
    data = {
        "status": result.status,
        "exit_code": result.exit_code,
        "summary": result.summary,
        "taken_at": rfc3339(snapshot.taken_at) if snapshot else None,
        "window_seconds": round(snapshot.window_seconds, 3) if snapshot else None,
        "skipped_rules": result.skipped_rules,
        "alerts": [
            {"status": f.status, "rule": f.rule or None, "schema": f.schema or None, "group": f.group or None,
             "field": f.field or None, "value": _finite(f.value), "threshold": _finite(f.threshold),
             "message": f.message}
            for f in result.findings
        ],  # fmt: skip
        "targets": [
            {"url": t.url, "up": t.up, "error": t.error} for t in (snapshot.targets if snapshot else ())
        ],
    }
    return json.dumps(mask_data(data), indent=2, ensure_ascii=False, allow_nan=False)
