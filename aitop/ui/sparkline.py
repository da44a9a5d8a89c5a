"""Unicode sparklines (▁▂▃▄▅▆▇█) for the overview's trend column. No Textual here.

A trend is drawn from the monitor's own recorded history, which exists in every mode and costs no query:
asking Prometheus once per row and refresh would make the query count grow with the rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeGuard

BARS = "▁▂▃▄▅▆▇█"
#: How far back the trend column looks.
TREND_SECONDS = 300.0


def _usable(value: float | None) -> TypeGuard[float]:
    return value is not None and not math.isnan(value) and not math.isinf(value)


def sparkline(points: Iterable[tuple[float, float | None]], *, end: float, span: float = TREND_SECONDS,
              width: int = 8) -> str:  # fmt: skip
    """`width` characters showing the values of `points` in (end - span, end].

    With no more points than characters, each point gets one character, right-aligned (newest on the
    right), so a fresh start shows a trend at once; with more, the time they cover (at most `span`) is cut
    into `width` equal bins and each shows the mean of its points. Heights run from 0 to the largest value
    (so a flat, busy line stands high and an idle one low); a blank is a gap without data.
    """
    recent = [(t, v) for t, v in points if end - span < t <= end]
    if len(recent) <= width:
        means: list[float | None] = [v if _usable(v) else None for _, v in recent]
        blanks: list[float | None] = [None] * (width - len(means))
        means = blanks + means
    else:
        # Until the history covers the whole span, the bins share the time it does cover.
        start = min(t for t, _ in recent)
        covered = max(end - start, 1e-9)
        bins: list[list[float]] = [[] for _ in range(width)]
        for t, v in recent:
            if _usable(v):
                bins[min(int((t - start) / covered * width), width - 1)].append(v)
        means = [sum(values) / len(values) if values else None for values in bins]
    top = max((m for m in means if m is not None), default=None)
    if top is None:
        return " " * width
    chars = []
    for mean in means:
        if mean is None:
            chars.append(" ")
        elif top <= 0 or mean <= 0:
            chars.append(BARS[0])
        else:
            chars.append(BARS[min(len(BARS) - 1, round(mean / top * (len(BARS) - 1)))])
    return "".join(chars)
