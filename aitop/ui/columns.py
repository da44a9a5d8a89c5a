"""The overview's columns as data: heading, priority when space is short, sort shortcut.

No Textual here. `visible_columns()` decides which columns fit a given width — most important first, shown
in their natural order — so the same rule serves 80, 120 and 200 columns and is tested without an app.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from aitop.model import FIELD_BY_NAME

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
        width: the content width in cells (without padding). Fixed, so columns never jump as values
            change and what fits is known exactly; a rare wider value is cut with an ellipsis.
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


def _field(name: str, priority: int, width: int, sort_key: str = "") -> Column:
    return Column(name, FIELD_BY_NAME[name].heading, priority, width, sort_key)


#: Every column the overview can show, in display order.
ALL_COLUMNS: tuple[Column, ...] = (
    Column(MODEL, "model", 0, 20, "N", numeric=False),  # the table widens it to the longest name shown
    Column(SCHEMA, "schema", 3, 7, "", numeric=False),
    _field("request_rate", 0, 6, "R"),
    _field("error_rate", 0, 7, "E"),
    _field("latency_p50", 4, 7),
    _field("latency_p95", 0, 8, "P"),
    _field("latency_p99", 1, 8, "L"),
    Column(TREND, "trend", 1, 8, "", numeric=False),
    _field("ttft_p95", 2, 9, "F"),
    _field("tpot_p95", 5, 9),
    _field("input_tokens_rate", 4, 9),
    _field("output_tokens_rate", 2, 10, "T"),
    _field("cost_per_hour", 1, 7, "C"),
    _field("cost_per_request", 5, 9),
    _field("feedback_negative_ratio", 2, 7, "U"),
    _field("running", 6, 5),
    _field("waiting", 6, 5),
    _field("kv_cache_usage", 6, 6),
    # The GPUs under the model (DCGM exporter), last to appear: only on wide terminals.
    _field("gpu_utilization", 7, 6),
    _field("gpu_memory_ratio", 7, 9),
)
COLUMN_BY_KEY = {column.key: column for column in ALL_COLUMNS}
#: Shifted letter -> column key, for the sort shortcuts.
SORT_KEYS: dict[str, str] = {column.sort_key: column.key for column in ALL_COLUMNS if column.sort_key}


def visible_columns(width: int, columns: Iterable[Column] = ALL_COLUMNS, *,
                    model_width: int | None = None) -> tuple[Column, ...]:  # fmt: skip
    """The columns that fit in `width` cells: by priority, then shown in display order.

    Columns of priority 0 are always kept (the table scrolls sideways if even they do not fit), and a
    priority level is taken whole or not at all, so columns never appear one by one as a window grows.
    `model_width` replaces the model column's width (the longest name on show).
    """
    columns = tuple(columns)
    if model_width is not None:
        columns = tuple(replace(c, width=model_width) if c.key == MODEL else c for c in columns)
    chosen = [column for column in columns if column.priority == 0]
    used = sum(column.width + CELL_PADDING for column in chosen)
    for level in sorted({column.priority for column in columns} - {0}):
        extra = [column for column in columns if column.priority == level]
        cost = sum(column.width + CELL_PADDING for column in extra)
        if used + cost > width:
            break
        chosen.extend(extra)
        used += cost
    keep = {column.key for column in chosen}
    return tuple(column for column in columns if column.key in keep)
