"""How wide the overview's numeric columns must be: the widest value each has shown, measured at the cost of
what changed since the previous refresh.

A column only ever widens (so columns hold still), which is what makes this cheap: a value already measured
in a column cannot widen it again, so only values new to the column are formatted. A busy column (a rate: every
value new at every refresh) whose values all lie within one band of its formatter, no farther from zero than
one it has measured there, cannot widen either, and is told so by min, max and sum alone (`band_span`).
Formatting every candidate column of every row on every refresh was most of the table's work at 1,000 rows.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Sequence
from itertools import repeat
from typing import cast

from rich.cells import cell_len

from aitop.format import width_bands
from aitop.model import Row
from aitop.ui.cells import cell_value

#: Values remembered per column before that column's memory starts again (a busy column sees new values every
#: refresh: this bounds the memory, it is not a working set).
_KNOWN_SIZE = 8192
#: Cells kept free in every numeric column for a severity mark, so an alert never widens a column.
MARK_WIDTH = 2
#: How close (relatively) to a band's edge a value is formatted whatever its band: the formatter may test a
#: scaled value (×100 for a percentage), whose rounding can put the switch an ulp or two off the edge.
_EDGE = 1e-9


def candidates(name: str, values: set[float | None]) -> Collection[float | None]:
    """The values among `values` (no zeros) that can be the widest in column `name`: the missing and infinite
    ones, those near the edge of one of its formatter's bands (`aitop.format.width_bands`), and in each band
    the one farthest from zero. A busy column's 1,000 new values a refresh cost
    a sort and a handful of formats instead of 1,000 formats, for the same width."""
    if len(values) < 8:
        return values
    bands = width_bands(name)
    chosen: list[float | None] = []
    numbers = cast("set[float]", values)
    if None in values:
        chosen.append(None)
        numbers = cast("set[float]", values - {None})
    if any(map(math.isnan, numbers)) or any(map(math.isinf, numbers)):  # (rare: the loops in C tell)
        chosen.extend(value for value in numbers if not -math.inf < value < math.inf)
        numbers = {value for value in numbers if -math.inf < value < math.inf}
    finite = sorted(numbers)
    start = 0
    for edge in bands:
        if edge:
            low, high = bisect_left(finite, edge - abs(edge) * _EDGE), bisect_right(finite, edge + abs(edge) * _EDGE)
        else:  # (zeros are not among the values: the sign alone separates the two sides)
            low = high = bisect_left(finite, 0.0)
        if low > start:  # one band's values, on one side of zero: the farthest from zero is the widest
            chosen.append(finite[start] if finite[start] < 0 else finite[low - 1])
        chosen.extend(finite[max(low, start):high])
        start = max(start, high)
    if start < len(finite):
        chosen.append(finite[start] if finite[start] < 0 else finite[-1])
    return chosen


def _cells(name: str, value: float | None) -> int:
    return cell_len(cell_value(name, value))


def band_span(name: str, values: list[float | None]) -> tuple[int, float] | None:
    """(the band, the value farthest from zero) when every one of `values` lies inside one band of column
    `name`'s formatter, on one side of zero and clear of the rounding zone around its edges; else None
    (missing, infinite or NaN values included). Such values are no wider than the farthest of them: the
    monotonicity `candidates` relies on, told by a few passes in C instead of a sort."""
    if not values or None in values:
        return None
    numbers = cast("list[float]", values)
    if not math.isfinite(sum(numbers)):  # a NaN or an infinity (or an overflow: then the long way, as well)
        return None
    low, high = min(numbers), max(numbers)
    if low <= 0.0 <= high:
        return None
    bands = width_bands(name)
    band = bisect_right(bands, low)
    if bisect_right(bands, high) != band:
        return None
    below = bands[band - 1] if band else -math.inf
    above = bands[band] if band < len(bands) else math.inf
    if low <= below + abs(below) * _EDGE or high >= above - abs(above) * _EDGE:
        return None
    return band, (high if low > 0 else low)


class ColumnWidths:
    """The content width of each numeric column (mark included): the widest cell it has shown, never less.

    `track` formats only values not seen before in a column (each distinct one once), and none in a column
    whose values keep within a band it has measured; the widths are exactly those of formatting every value
    of every row on every refresh.
    """

    def __init__(self) -> None:
        #: Column key -> the widest cell it has shown (mark included); only grows, so columns hold still.
        self.widths: dict[str, int] = {}
        #: Column key -> values already measured there (their widths are within the column's, which never
        #: narrows). Zeros are never kept: 0.0 and -0.0 are one in a set but may print differently ("-0.00").
        self._known: dict[str, set[float | None]] = {}
        self._zeros: dict[str, int] = {}  # column key -> `_zero_width`
        #: Column key -> (a band, a value in it measured already): every value of that band between it and
        #: zero is no wider (see `band_span`), so a refresh whose values all lie there has nothing to measure.
        self._covered: dict[str, tuple[int, float]] = {}
        self._missing: set[str] = set()  # column keys whose width already holds the missing mark

    def _zero_width(self, name: str) -> int:
        """Cells the wider of 0.0 and -0.0 takes in column `name`, mark included."""
        width = self._zeros.get(name)
        if width is None:
            width = self._zeros[name] = max(_cells(name, 0.0), _cells(name, -0.0)) + MARK_WIDTH
        return width

    def track(self, columns: tuple[str, ...], rows: Sequence[Row]) -> bool:
        """Widen `columns` (numeric column keys) to the widest value of `rows`; True when any widened."""
        if not rows:
            return False
        grown = False
        tables = [row.values for row in rows]
        for name in columns:
            # (dict.get unbound, mapped in C; mypy cannot pick its overload)
            values: list[float | None] = list(map(dict.get, tables, repeat(name)))  # type: ignore[arg-type]
            span = band_span(name, values)
            covered = self._covered.get(name)
            if span is None and name in self._missing and values.count(None) == len(values):
                continue  # a column this source lacks: its missing mark was measured when first seen
            if span is not None:
                if covered is not None and covered[0] == span[0] and abs(span[1]) <= abs(covered[1]):
                    continue  # a busy column whose values keep within what it has shown: the usual refresh
                # Measured below (the column then holds it), so from now on it covers its band up to it.
                self._covered[name] = span if covered is None or covered[0] != span[0] else \
                    (span[0], max(span[1], covered[1], key=abs))
            if None in values:
                self._missing.add(name)  # (measured below, or known already)
            known = self._known.setdefault(name, set())
            distinct = set(values)
            fresh = distinct - known  # the set difference runs in C: a steady column costs next to nothing
            widths = []
            zero = 0 in fresh
            fresh.discard(0)
            if zero and self.widths.get(name, 0) < self._zero_width(name):  # else no zero can widen the column
                widths = [_cells(name, math.copysign(0.0, sign))
                          for sign in {math.copysign(1.0, value) for value in values if value == 0}]  # fmt: skip
            if fresh:
                some = candidates(name, fresh)
                widths.append(max(map(cell_len, map(cell_value, repeat(name, len(some)), some))))
                if len(fresh) * 2 > len(distinct):
                    # A busy column (most values new every refresh, e.g. a rate): growing the memory would cost
                    # more than it saves; this refresh's values are what the next one is most likely to repeat.
                    distinct.discard(0)
                    self._known[name] = distinct
                else:
                    if len(known) + len(fresh) > _KNOWN_SIZE:
                        known.clear()
                    known |= fresh
            widest = max(widths, default=0) + MARK_WIDTH
            if widths and widest > self.widths.get(name, 0):
                self.widths[name] = widest
                grown = True
        return grown
