"""Table cells as Rich `Text`: values formatted for display, severity as symbol *and* colour.

No Textual here, only Rich, so the rules for what a cell looks like can be tested without an app. Every cell
is a `SortableText` built from plain strings and styles — never from markup — so a label value such as
``[/]`` or ``[@click=app.quit]`` stays literal text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import JustifyMethod
from rich.style import Style
from rich.text import Text

from aitop.explanations import Explanations, noted_info
from aitop.format import MISSING_MARK, format_value
from aitop.model import Row, Severity
from aitop.ui.sparkline import TREND_SECONDS, sparkline

#: Widest model name shown in the table; longer names end in an ellipsis (the full name is in the model).
MODEL_WIDTH = 40

WARNING_MARK = "▲"
CRITICAL_MARK = "‼"
ROW_CRITICAL_MARK = "●"


@dataclass(frozen=True, slots=True)
class Palette:
    """Rich colours for severities, taken from the theme's aitop-* variables."""

    ok: str = "green"
    warning: str = "yellow"
    critical: str = "red"
    muted: str = "grey50"
    #: Chart and sparkline colours, in plotting order.
    series: tuple[str, ...] = ("blue", "yellow", "magenta", "green")
    #: NO_COLOR: every colour becomes the terminal's default, so critical cells are reversed to stand out.
    no_color: bool = False

    def faded(self) -> Style:
        """Stale or secondary text: muted and italic, never `dim` (which halves contrast, to about 2:1)."""
        return Style(color=self.muted, italic=True)

    def critical_style(self) -> Style:
        """A critical value: bold in the critical colour; reversed too under NO_COLOR."""
        return Style(color=self.critical, bold=True, reverse=self.no_color or None)


class SortableText(Text):
    """A `Text` that remembers the value it displays, so the table sorts on numbers, not on styled strings.

    `value` is a float for numeric cells (None when missing) and the raw label for text cells.
    """

    __slots__ = ("value", "row_key", "_look")

    def __init__(self, text: str = "", style: str | Style = "", *, value: float | str | None = None,
                 justify: JustifyMethod | None = None) -> None:  # fmt: skip
        super().__init__(text, style=style, justify=justify, no_wrap=True, end="")
        self.value = value
        #: The table row this cell belongs to (set on the model cell), so a sort can rank whole rows.
        self.row_key: str | None = None
        self._look: tuple[object, ...] | None = None

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SortableText):
            return NotImplemented
        # Missing values sort below every number, so a descending sort puts them last.
        mine, theirs = self.value, other.value
        if mine is None or theirs is None:
            return mine is None and theirs is not None
        if isinstance(mine, str) and isinstance(theirs, str):
            return mine < theirs
        if isinstance(mine, str) or isinstance(theirs, str):
            return NotImplemented  # a number against a label: no order (a column holds one kind)
        return mine < theirs

    def signature(self) -> tuple[object, ...]:
        """What the cell looks like. `Text.__eq__` ignores the base style, which carries staleness here.
        Worked out on the first call and kept: a cell is complete before it is compared (the table compares
        each changed cell two or three times a refresh), and only its `value` and `row_key` change later."""
        if self._look is None:
            self._look = (self.plain, str(self.style), tuple(self.spans))
        return self._look


def cell_value(name: str, value: float | None) -> str:
    """`value` of field `name` as a table cell shows it: the one formatter's text, without a unit suffix
    the column's heading already carries ("$1,612", not "$1,612/day", under "$/day")."""
    return format_value(name, value).removesuffix("/day")


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


_UNDERLINED = Style(underline=True)
_PLAIN = Style()


def numeric_cell(row: Row, name: str, palette: Palette, *, dim: bool = False, shown: str | None = None,
                 noted: bool | None = None) -> SortableText:  # fmt: skip
    """The cell for field `name` of `row`: formatted value, severity mark and colour, or a dimmed `—`.
    `shown` (the value's `cell_value`) and `noted` (its `has_info`) save working them out again when the
    caller already has them."""
    value = _number(row.value(name))
    base = palette.faded() if dim else ""
    if value is None:
        cell = SortableText(style=base, value=None, justify="right")
        cell.append(MISSING_MARK, Style(color=palette.muted))
        return cell
    if shown is None:
        shown = cell_value(name, value)
    # A server's info annotation on the query behind the value (e.g. histogram buckets forced monotonic):
    # the value is underlined, taking no width; `e` shows the annotation.
    if noted is None:
        noted = has_info(row, name)
    severity = row.severity.get(name, Severity.OK)
    if severity < Severity.WARNING and not noted:
        # Most cells: the text as it is, given at once (appended with no style, it would be the same Text).
        return SortableText(shown, style=base, value=value, justify="right")
    cell = SortableText(style=base, value=value, justify="right")
    underline = _UNDERLINED if noted else _PLAIN
    if severity >= Severity.CRITICAL:
        style = palette.critical_style()
        cell.append(f"{CRITICAL_MARK} ", style)
        cell.append(shown, style + underline)
    elif severity >= Severity.WARNING:
        style = Style(color=palette.warning)
        cell.append(f"{WARNING_MARK} ", style)
        cell.append(shown, style + underline)
    else:
        cell.append(shown, underline)
    return cell


def has_info(row: Row, name: str) -> bool:
    """Whether the server attached an info annotation to the query behind `name` of `row`."""
    provenance = row.provenance
    if isinstance(provenance, Explanations):  # (tells without making the line: asked of every shown cell)
        return provenance.info(name)
    return noted_info(provenance.get(name))


def model_cell(row: Row, palette: Palette, *, dim: bool = False) -> SortableText:
    """The model (group) cell; a row with a critical field is marked before the name."""
    cell = SortableText(style=palette.faded() if dim else "", value=row.group)
    if row.worst >= Severity.CRITICAL:
        cell.append(f"{ROW_CRITICAL_MARK} ", Style(color=palette.critical, bold=True))
    else:
        cell.append("  ")  # keeps names aligned with the marked ones
    note = replicas_note(row)
    if note:
        cell.append(row.group[: MODEL_WIDTH - len(note) - 1])
        cell.append(f" {note}", Style(color=palette.warning))
    else:
        cell.append(row.group)
    cell.truncate(MODEL_WIDTH + 2, overflow="ellipsis")
    return cell


def replicas_note(row: Row) -> str:
    """"2/3 replicas up" when some of the targets behind a row are down; empty otherwise."""
    if row.replicas is None or row.replicas[0] >= row.replicas[1]:
        return ""
    return f"{row.replicas[0]}/{row.replicas[1]} replicas up"


def schema_cell(row: Row, palette: Palette, *, dim: bool = False) -> SortableText:
    """The schema cell (vllm, tgi, …), in the muted colour."""
    return SortableText(row.schema, Style(color=palette.muted, italic=dim or None), value=row.schema)


#: Cells a sparkline takes.
TREND_WIDTH = 8


def latest(points: Sequence[tuple[float, float | None]]) -> float | None:
    """The newest known value of `points` (time, value or None), oldest first."""
    return next((value for _, value in reversed(points) if value is not None), None)


def trend_cell(points: Sequence[tuple[float, float | None]], *, end: float, palette: Palette, dim: bool = False,
               drawn: str | None = None) -> SortableText:  # fmt: skip
    """The sparkline cell; its sort value is the newest known point. `drawn` is the sparkline of `points`,
    when the caller already has it."""
    cell = SortableText(style=palette.faded() if dim else "", value=latest(points))
    if drawn is None:
        drawn = sparkline(points, end=end, span=TREND_SECONDS, width=TREND_WIDTH)
    cell.append(drawn, Style(color=palette.series[0]))
    return cell
