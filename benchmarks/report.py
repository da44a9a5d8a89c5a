"""Figures and the printed table: each figure beside a baseline measured in the same run, the ratio, the
target and whether it was met."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured number.

    `check` decides PASS/MISS from the value (None: a figure reported without a target). `baseline` is a
    comparable number measured in the same run, named by `baseline_label`; the ratio is value / baseline.
    """

    item: str  # "1".."7"
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    check: Callable[[float], bool] | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def verdict(self) -> str:
        if self.check is None:
            return "info"
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return "MISS"
        return "PASS" if self.check(self.value) else "MISS"


def number(value: float | None, unit: str = "") -> str:
    """A compact human number: 3 significant digits, thousands separators for big ones."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    magnitude = abs(value)
    if magnitude >= 10_000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1 or magnitude == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".rstrip()


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"×{value:.3g}" if value < 1000 else f"×{value:,.0f}"


HEADINGS = ("#", "figure", "value", "baseline (same run)", "ratio", "target", "result")


def table(figures: Iterable[Figure]) -> str:
    """The figures as a fixed-width text table (one line per figure, notes indented below)."""
    rows: list[tuple[str, ...]] = []
    notes: dict[int, str] = {}
    for figure in figures:
        baseline = ""
        if figure.baseline is not None:
            baseline = f"{number(figure.baseline, figure.unit)} {figure.baseline_label}".strip()
        elif figure.baseline_label:
            baseline = figure.baseline_label
        rows.append((figure.item, figure.name, number(figure.value, figure.unit), baseline,
                     _ratio(figure.ratio), figure.target or "—", figure.verdict))
        if figure.note:
            notes[len(rows) - 1] = figure.note
    widths = [max(len(row[i]) for row in (HEADINGS, *rows)) for i in range(len(HEADINGS))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    out = [line(HEADINGS), line(tuple("-" * width for width in widths))]
    for index, row in enumerate(rows):
        out.append(line(row))
        if index in notes:
            out.append(" " * (widths[0] + 2) + "  " + notes[index])
    return "\n".join(out)
