"""Error ratios per window → burn rates, the page/ticket verdict, budget remaining and time to exhaustion.

Pure. A window whose ratio is unknown (no traffic, or history shorter than the window) is None, never 0:
a pair with an unknown window is not judged, and the verdict says how many pairs could not be.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from aitop.slo.spec import PAIRS, SLO, BurnPair, window_name

TIERS = ("page", "ticket")


@dataclass(frozen=True, slots=True)
class PairState:
    """One window pair: its burn rates (None: unknown) and whether both exceed the factor."""

    pair: BurnPair
    long_burn: float | None
    short_burn: float | None

    @property
    def known(self) -> bool:
        return self.long_burn is not None and self.short_burn is not None

    @property
    def breached(self) -> bool:
        return self.known and self.long_burn > self.pair.factor and self.short_burn > self.pair.factor  # type: ignore[operator]

    @property
    def label(self) -> str:
        return f"{window_name(self.pair.long)}/{window_name(self.pair.short)}"


@dataclass(frozen=True, slots=True)
class SloStatus:
    """One SLO on one row (schema, model)."""

    slo: SLO
    schema: str
    group: str
    burns: Mapping[float, float | None]  # window seconds -> burn rate
    pairs: tuple[PairState, ...]
    budget_remaining: float | None  # fraction of the period's budget left (negative: overspent)
    exhaustion_seconds: float | None  # at the 1 h burn rate; None: unknown or not burning
    source: str = "aitop"  # aitop | sloth | pyrra

    @property
    def tier(self) -> str | None:
        """`page` or `ticket` when a pair of that tier breaches (page wins), else None."""
        for tier in TIERS:
            if any(p.breached and p.pair.tier == tier for p in self.pairs):
                return tier
        return None

    @property
    def unknown_pairs(self) -> int:
        return sum(1 for p in self.pairs if not p.known)

    def describe(self) -> str:
        """One line: what breaches, the burn rates, the budget."""
        slo = self.slo
        target = f"{slo.objective * 100:g}% {slo.kind}"
        breached = [p for p in self.pairs if p.breached]
        if breached:
            p = breached[0]
            head = (f"SLO {slo.name} ({target}) burning its error budget {p.long_burn:.1f}× "
                    f"over {window_name(p.pair.long)} and {p.short_burn:.1f}× over {window_name(p.pair.short)} "
                    f"(> {p.pair.factor:g}: {p.pair.tier})")
        else:
            head = f"SLO {slo.name} ({target}) within its burn-rate limits"
        if self.budget_remaining is not None:
            head += f"; budget left {self.budget_remaining * 100:.0f}%"
        if self.exhaustion_seconds is not None:
            head += f", exhausted in {_duration(self.exhaustion_seconds)} at the 1h rate"
        if self.unknown_pairs:
            head += f"; {self.unknown_pairs} of {len(self.pairs)} window pairs unknown (not enough history)"
        return head


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def burn_rate(ratio: float | None, slo: SLO) -> float | None:
    """How many times faster than sustainable the budget is spent (1: exactly used up at the period's end)."""
    if ratio is None or not math.isfinite(ratio):
        return None
    return max(0.0, ratio) / slo.budget


def status(slo: SLO, schema: str, group: str, ratios: Mapping[float, float | None],
           period_ratio: float | None = None, source: str = "aitop") -> SloStatus:
    """Judge one row by `slo` from its bad-event ratio per window (and over the whole period, if known)."""
    burns = {window: burn_rate(ratio, slo) for window, ratio in ratios.items()}
    pairs = tuple(PairState(pair, burns.get(pair.long), burns.get(pair.short)) for pair in PAIRS)
    remaining = None
    if period_ratio is not None and math.isfinite(period_ratio):
        remaining = 1.0 - max(0.0, period_ratio) / slo.budget
    exhaustion = None
    hourly = burns.get(3600.0)
    if remaining is not None and hourly:
        # Budget is spent at `hourly` periods per period: what is left lasts remaining × period / hourly.
        exhaustion = max(0.0, remaining) * slo.period / hourly
    return SloStatus(slo, schema, group, burns, pairs, remaining, exhaustion, source)
