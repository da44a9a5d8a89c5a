"""Human display of field values, shared by the TUI and `aitop snapshot --format table`."""

from __future__ import annotations

import math

from aitop.model import FIELD_BY_NAME

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


_BY_UNIT = {
    "req/s": _rate,
    "tokens/s": _rate,
    "s": _seconds,
    "fraction": _percent,
    "USD/h": _usd,
    "USD": _usd,
    "requests": lambda value: f"{value:.0f}",
}


def format_value(field: str, value: float | None) -> str:
    """`value` of `field` in its display unit, or the missing mark."""
    if value is None or math.isnan(value):
        return MISSING_MARK
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return _BY_UNIT[FIELD_BY_NAME[field].unit](value)
