"""How the front ends use a field, as values a field entry (`aitop.fields`) carries: its overview column, the
other places it is shown, and its drill-down chart series.

Each consumer derives its own list from the field table (the text table's columns are the fields marked
`Shown.TABLE`, the trend column's choices those marked `Shown.TREND`, …), so a field's facts are written
once, on its entry, and a new field is shown by saying so there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    """A field's column in the TUI's overview and column picker.

    Attributes:
        at: its place in the overview, left to right (the model, schema and trend columns hold places of
            their own, `aitop.ui.columns`); None: not in the overview, only in the views and the picker.
        priority: 0 is always shown; higher numbers hide first when the table is narrow.
        width: the narrowest content width in cells (the table widens it to its heading and values).
        sort: the shifted letter that sorts by it ("" when none does).
    """

    at: int | None
    priority: int
    width: int
    sort: str = ""


class Shown(enum.Flag):
    """Where else a field is shown, besides the JSON, `e` and the drill-down's field list."""

    NONE = 0
    TABLE = enum.auto()  # a column of `aitop snapshot --format table`
    TREND = enum.auto()  # a field the overview's trend column can follow (`w` cycles them)
    SPLIT = enum.auto()  # a column of the drill-down's split-by-label table
    FLEET = enum.auto()  # the fleet header's latency figure (merged from the rows' histograms when it can be)


TABLE, TREND, SPLIT, FLEET = Shown.TABLE, Shown.TREND, Shown.SPLIT, Shown.FLEET


@dataclass(frozen=True, slots=True)
class Series:
    """A field's line in a drill-down chart: the chart (`chart-<chart>`), its legend label (the field's
    heading when None), and whether it reads on the right axis."""

    chart: str
    label: str | None = None
    right: bool = False
