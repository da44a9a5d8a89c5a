"""`aitop check --slo`: SLO verdicts as check findings (page → CRITICAL, ticket → WARNING, no pair
judgeable → UNKNOWN), merged with the rules' findings under the same worst-first precedence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aitop.check import CRITICAL, OK, UNKNOWN, WARNING, CheckResult, Finding, _PRECEDENCE, _summary, _worst
from aitop.slo.burn import SloStatus

_BY_TIER = {"page": CRITICAL, "ticket": WARNING}


def _rule(st: SloStatus) -> str:
    return f"slo:{st.slo.name}" if st.source == "aitop" else f"{st.source}:{st.slo.name}"


def slo_findings(statuses: Sequence[SloStatus]) -> list[Finding]:
    """One finding per SLO and row that breaches, or that no window pair could judge."""
    findings = []
    for st in statuses:
        tier = st.tier
        if tier is not None:
            worst = next(p for p in st.pairs if p.breached and p.pair.tier == tier)
            findings.append(Finding(_BY_TIER[tier], _rule(st), st.schema, st.group, "burn_rate",
                                    worst.long_burn, worst.pair.factor, st.describe()))
        elif st.unknown_pairs == len(st.pairs):
            findings.append(Finding(UNKNOWN, _rule(st), st.schema, st.group, "burn_rate", None, None,
                                    st.describe()))
    return findings


def with_slos(result: CheckResult, statuses: Sequence[SloStatus], error: str | None = None,
              configured: int = 1) -> CheckResult:
    """`result` with the SLO findings added (or UNKNOWN: `error`, or no row matched any SLO)."""
    if result.snapshot is None:
        return result  # nothing could be read: the result already says UNKNOWN
    extra = slo_findings(statuses)
    if error is not None:
        extra.append(Finding(UNKNOWN, "slo", "", "", "", None, None, f"SLOs not judged: {error}"))
    elif not configured and not statuses:
        extra.append(Finding(UNKNOWN, "slo", "", "", "", None, None,
                             "no [[slo]] in the config and no Sloth or Pyrra rules on the server: nothing to judge"))
    elif not statuses:
        extra.append(Finding(UNKNOWN, "slo", "", "", "", None, None, "no row matches any configured SLO"))
    findings = [*result.findings, *extra]
    order = {status: rank for rank, status in enumerate(_PRECEDENCE)}
    findings.sort(key=lambda f: (order[f.status], f.schema, f.group, f.rule))
    status = _worst(f.status for f in findings) if findings else OK
    return replace(result, status=status, summary=_summary(status, findings, result.snapshot),
                   findings=tuple(findings))
