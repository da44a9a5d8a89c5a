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

from aitop.model import DRIFT_FIELDS, SPEC_BY_NAME

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


def field_column(name: str, priority: int, width: int, sort_key: str = "") -> Column:
    """The column of row field `name` (its heading from the field's declaration)."""
    return Column(name, SPEC_BY_NAME[name].heading, priority, width, sort_key)


#: Every column the overview can show, in display order.
ALL_COLUMNS: tuple[Column, ...] = (
    Column(MODEL, "model", 0, 20, "N", numeric=False),  # the table widens it to the longest name shown
    Column(SCHEMA, "schema", 3, 7, "", numeric=False),
    field_column("request_rate", 0, 6, "R"),
    field_column("error_rate", 0, 7, "E"),
    field_column("latency_p50", 4, 7),
    field_column("latency_p95", 0, 8, "P"),
    field_column("latency_p99", 1, 8, "L"),
    Column(TREND, "trend", 1, 8, "", numeric=False),
    field_column("ttft_p95", 2, 9, "F"),
    field_column("tpot_p95", 5, 9),
    field_column("input_tokens_rate", 4, 9),
    field_column("output_tokens_rate", 2, 10, "T"),
    field_column("cost_per_hour", 1, 7, "C"),
    field_column("cost_per_request", 5, 9),
    field_column("feedback_negative_ratio", 2, 7, "U"),
    field_column("cost_per_day", 7, 9, "D"),
    field_column("request_rate_peak", 7, 8),
    field_column("request_rate_session_peak", 8, 8),
    field_column("input_tokens_per_request", 8, 8),
    field_column("output_tokens_per_request", 7, 8),
    field_column("running", 6, 5),
    field_column("waiting", 6, 5),
    field_column("kv_cache_usage", 6, 6),
    # The GPUs under the model (DCGM exporter), last to appear: only on wide terminals.
    field_column("gpu_utilization", 7, 6),
    field_column("gpu_memory_ratio", 7, 9),
    # Engine internals: in the engineers' and quality views, and for the column picker.
    field_column("preemptions_rate", 9, 8),
    field_column("prefix_cache_hit_ratio", 9, 8),
    field_column("length_cut_ratio", 9, 8),
    field_column("goodput_ttft", 9, 8),
)
#: Columns the overview does not show but a view or the user can: the drift of each histogram.
EXTRA_COLUMNS: tuple[Column, ...] = tuple(field_column(name, 9, 8) for name in DRIFT_FIELDS.values())
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
                    widths: Mapping[str, int] | None = None, keep: Iterable[str] = ()) -> tuple[Column, ...]:  # fmt: skip
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
