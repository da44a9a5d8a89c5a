"""A field's declaration (`Field`) and the sections of the table, in contract order."""

from __future__ import annotations

from dataclasses import dataclass

from aitop.derivations import Derivation
from aitop.field_uses import Column, Series, Shown

#: Sections, in contract order. Traffic fields are recorded in the history (charts, trends); engine fields
#: are read per refresh only; analysis fields are added by `aitop.analysis` after the source built the row.
TRAFFIC = "traffic"
ENGINE = "engine"
ANALYSIS = "analysis"


@dataclass(frozen=True, slots=True)
class Field:
    """One numeric row field.

    Attributes:
        name: the JSON name and the key in `Row.values`.
        unit: the fixed unit of the value (the formatter picks its display from it).
        heading: the table heading (terse).
        noun: the name in sentences ("p95 latency 4.2s").
        description: one line for help, explain and docs.
        derive: the formula (`aitop.derivations`).
        section: TRAFFIC, ENGINE or ANALYSIS.
        column, shown, chart: its overview column, where else it is shown, its drill-down chart line
            (`aitop.field_uses`); None / NONE: not there.
        related: the fields whose move from their baselines best explains its move ("moved most: …").
        runbook: what to do when a built-in rule on it fires.
    """

    name: str
    unit: str
    heading: str
    noun: str
    description: str
    derive: Derivation
    section: str
    column: Column | None = None
    shown: Shown = Shown.NONE
    chart: Series | None = None
    related: tuple[str, ...] = ()
    runbook: str = ""
