"""The overview's columns as data: heading, priority when space is short, sort shortcut.

No Textual here. `visible_columns()` decides which columns fit a given width — most important first, shown
in their natural order — so the same rule serves 80, 120 and 200 columns and is tested without an app.
Widths come from content: a column is as wide as its heading (with the sort mark) and the widest cell it
has shown, so a number is never cut; when the widths grow, a lower-priority column hides instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from rich.cells import cell_len

from aitop.fields import FIELD_BY_NAME, FIELDS

TREND = "trend"
MODEL = "model"
SCHEMA = "schema"
#: What a DataTable adds around each cell (one space either side).
CELL_PADDING = 2


@dataclass(frozen=True, slots=True)
class Column:
    """One overview column.

    Attributes:
        key: the DataTable column key; for numeric columns also the row field name.
        heading: the header text.
        priority: 0 is always shown; higher numbers hide first when the table is narrow.
        width: the narrowest content width in cells (without padding). The table widens a column to its
            heading and to the widest value it has shown (and never narrows it again while they stay), so
            columns do not jump as values change and no value is ever cut.
        sort_key: the shifted letter that sorts by this column ("" when it has none).
        numeric: True when the cells are field values (sorted as numbers, descending first).
    """

    key: str
    heading: str
    priority: int
    width: int
    sort_key: str = ""
    numeric: bool = True

    @property
    def field(self) -> str | None:
        """The row field behind the column, or None for model/schema/trend."""
        return self.key if self.numeric else None


def field_column(name: str) -> Column:
    """The column of row field `name`, as its declaration says (`aitop.fields`: `Field.column`)."""
    field = FIELD_BY_NAME[name]
    if field.column is None:
        raise ValueError(f"{name} has no column")
    return Column(name, field.heading, field.column.priority, field.column.width, field.column.sort)


#: The columns that are not fields, at their places in the overview (the fields' places interleave with them).
_OWN_COLUMNS: tuple[tuple[int, Column], ...] = (
    (0, Column(MODEL, "model", 0, 20, "N", numeric=False)),  # the table widens it to the longest name shown
    (1, Column(SCHEMA, "schema", 3, 7, "", numeric=False)),
    (7, Column(TREND, "trend", 1, 8, "", numeric=False)),
)
_PLACED = [(field.column.at, field_column(field.name)) for field in FIELDS
           if field.column is not None and field.column.at is not None]  # fmt: skip
#: Every column the overview can show, in display order.
ALL_COLUMNS: tuple[Column, ...] = tuple(column for _, column in sorted((*_OWN_COLUMNS, *_PLACED), key=lambda p: p[0]))
#: Columns the overview does not show but a view or the user can (the drift of each histogram): the fields with
#: a column and no place in the overview, in contract order.
EXTRA_COLUMNS: tuple[Column, ...] = tuple(field_column(field.name) for field in FIELDS
                                          if field.column is not None and field.column.at is None)  # fmt: skip
#: Every column any view can show: the overview's, then the extras.
CATALOGUE: tuple[Column, ...] = (*ALL_COLUMNS, *EXTRA_COLUMNS)
COLUMN_BY_KEY = {column.key: column for column in CATALOGUE}
#: Shifted letter -> column key, for the sort shortcuts.
SORT_KEYS: dict[str, str] = {column.sort_key: column.key for column in ALL_COLUMNS if column.sort_key}


def heading_width(column: Column) -> int:
    """Cells the heading takes, with the one cell of the sort mark (▼/▲) every heading keeps room for."""
    return cell_len(column.heading) + 1


def sized(columns: Iterable[Column], widths: Mapping[str, int] | None = None) -> tuple[Column, ...]:
    """`columns` widened to their heading and to `widths` (key -> widest cell shown), never narrowed."""
    widths = widths or {}
    return tuple(replace(column, width=max(column.width, heading_width(column), widths.get(column.key, 0)))
                 for column in columns)  # fmt: skip


def table_width(columns: Iterable[Column]) -> int:
    """Cells `columns` take side by side, padding included."""
    return sum(column.width + CELL_PADDING for column in columns)


def visible_columns(width: int, columns: Iterable[Column] = ALL_COLUMNS, *, model_width: int | None = None,
                    widths: Mapping[str, int] | None = None,
                    keep: Iterable[str] = ()) -> tuple[Column, ...]:  # fmt: skip
    """The columns that fit in `width` cells: by priority, then shown in display order.

    Columns of priority 0 are always kept (the table scrolls sideways if even they do not fit), and so
    are the columns named in `keep` (the sort column: its ▼ must always be on screen). A priority level
    is taken whole or not at all, so columns never appear one by one as a window grows. `model_width`
    replaces the model column's width (the longest name on show); `widths` widens columns to their
    content (see `sized`).
    """
    columns = sized(columns, widths)
    if model_width is not None:
        columns = tuple(replace(c, width=model_width) if c.key == MODEL else c for c in columns)
    kept = set(keep)
    chosen = [column for column in columns if column.priority == 0 or column.key in kept]
    used = sum(column.width + CELL_PADDING for column in chosen)
    for level in sorted({column.priority for column in columns} - {0}):
        extra = [column for column in columns if column.priority == level and column.key not in kept]
        cost = sum(column.width + CELL_PADDING for column in extra)
        if used + cost > width:
            break
        chosen.extend(extra)
        used += cost
    keep = {column.key for column in chosen}
    return tuple(column for column in columns if column.key in keep)
