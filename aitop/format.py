"""Human display of field values: the one formatter for every number a person reads — table cells, the
sidebar, alert messages, `aitop check`, explain. Units and significant digits come from the field's
declaration (`aitop.fields`); no number is ever shown in exponent notation.

The display rules (`—` never 0, staleness, severity never colour alone): docs/architecture.md.
"""

from __future__ import annotations

import math

from aitop.fields import FIELD_BY_NAME

#: What a cell shows when its value is unknown; the reason is available next to it.
MISSING_MARK = "—"


def _rate(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _seconds(value: float) -> str:
    if value < 0.01:
        return f"{value * 1000:.1f}ms"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    if value < 60:
        return f"{value:.2f}s"
    return f"{value / 60:.1f}m"


def _percent(value: float) -> str:
    pct = value * 100
    if pct != 0 and abs(pct) < 0.1:
        return f"{pct:.2f}%"
    return f"{pct:.1f}%"


def _usd(value: float) -> str:
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 0.01 or value == 0:
        return f"${value:.2f}"
    return f"${value:.5f}"


def _usd_per_day(value: float) -> str:
    return f"${value:,.0f}/day" if value >= 100 else f"${value:.2f}/day"


def _distance(value: float) -> str:
    """A KS distance (0 … 1): two significant digits, at least two decimals ("0.30", "0.077")."""
    if value == 0 or abs(value) >= 0.1:
        return f"{value:.2f}"
    return _plain(value, 2)


def _plain(value: float, digits: int = 3) -> str:
    """A number of no declared unit: `digits` significant digits, thousands separated, never an exponent."""
    size = abs(value)
    if size >= 10 ** digits:
        return f"{value:,.0f}"
    if size == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(size)))
    return f"{value:.{min(decimals, 12)}f}"


_BY_UNIT = {
    "req/s": _rate,
    "tokens/s": _rate,
    "1/s": _rate,
    "s": _seconds,
    "fraction": _percent,
    "USD/h": _usd,
    "USD": _usd,
    "USD/d": _usd_per_day,
    "KS": _distance,
    "requests": lambda value: f"{value:.0f}",
    "adapters": lambda value: f"{value:.0f}",
}


def _decades(lowest: int, highest: int) -> tuple[float, ...]:
    """Zero and ±10**k for k in [lowest, highest], sorted: where `_plain` changes its decimals."""
    powers = [10.0**k for k in range(lowest, highest + 1)]
    return tuple(sorted({0.0, *powers, *(-power for power in powers)}))


_RATE_BANDS = (0.0, 10.0, 100.0, 1000.0, 10_000.0)
_USD_BANDS = (0.0, 0.01, 100.0)
#: Per unit, the values at which its formatter changes format (zero always among them). Between two neighbouring
#: ones, every value formats the same way: a fixed-point format of the value times a positive constant, whose
#: text (correct rounding being monotonic) never gets shorter as the value moves away from zero. `_plain` picks
#: its decimals by the decade (capped at 12, reached below 1e-10), so its bands are the decades.
_BANDS: dict[str, tuple[float, ...]] = {
    "req/s": _RATE_BANDS,
    "tokens/s": _RATE_BANDS,
    "1/s": _RATE_BANDS,
    "s": (0.0, 0.01, 1.0, 60.0),
    "fraction": (-0.001, 0.0, 0.001),  # (the switch is at 0.1 %, tested on value × 100: within an ulp of these)
    "USD/h": _USD_BANDS,
    "USD": _USD_BANDS,
    "USD/d": (0.0, 100.0),
    "KS": _decades(-12, 0),
    "requests": (0.0,),
    "adapters": (0.0,),
}
_PLAIN_BANDS = _decades(-12, 3)


def width_bands(field: str) -> tuple[float, ...]:
    """Where `field`'s formatter changes format (sorted, zero included): among finite values between two
    neighbouring points, the longest text is that of the value farthest from zero. (A value within a
    rounding error of a point may format either way: measure those apart.)"""
    spec = FIELD_BY_NAME.get(field)
    return _BANDS.get(spec.unit, _PLAIN_BANDS) if spec is not None else _PLAIN_BANDS


def format_value(field: str, value: float | None) -> str:
    """`value` of `field` in its display unit, or the missing mark."""
    if value is None or math.isnan(value):
        return MISSING_MARK
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    spec = FIELD_BY_NAME.get(field)
    return _BY_UNIT.get(spec.unit, _plain)(value) if spec is not None else _plain(value)
