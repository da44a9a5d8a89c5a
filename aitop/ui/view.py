"""What the overview shows of a snapshot: which rows (filter) in which order (sort). No Textual here.

Both are plain values so they survive refreshes, regrouping and screen changes, and are tested without
an app. A sort ranks `Row`s by their numbers, not by formatted cells; missing values always go last,
whichever the direction, because "unknown" is never the best or the worst.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

# `regex`, not `re`: its matcher takes a timeout. A pattern such as `(a|aa)+$` backtracks exponentially on a
# model name like `aaaa…a-x`; with `re` the match holds the event loop (and the GIL, so no thread helps)
# for minutes, and no key is answered. Its syntax is a superset of `re`'s in the default (V0) mode.
import regex

from aitop.model import Row
from aitop.ui.columns import COLUMN_BY_KEY, MODEL, SCHEMA

#: Longest filter pattern accepted; a regex is compiled once per change, never per row and refresh.
MAX_PATTERN = 200
#: Most CPU time one filtering of all rows may take; past it the pattern is refused (keys stay answered).
#: CPU, not wall, time: `regex` counts its timeout in CPU time, and a legitimate pattern must not be refused
#: because the machine is busy. On a machine shared k ways the UI waits about k times this at worst.
MATCH_BUDGET = 0.025


class FilterError(ValueError):
    """A filter the user typed that is not a valid regular expression; the message says why."""


class FilterTooSlow(FilterError):
    """A valid pattern that took longer than `MATCH_BUDGET` to filter the rows (catastrophic backtracking)."""

    def __init__(self, budget: float) -> None:
        super().__init__(
            f"regex too slow: gave up after {budget * 1000:.0f} ms (nested repeats such as (a|aa)+ backtrack; "
            "simplify it)"
        )


@dataclass(frozen=True, slots=True)
class RowFilter:
    """A case-insensitive regex over a row's group and schema; a leading `!` keeps non-matching rows.

    Attributes:
        text: what the user typed, `!` included.
    """

    text: str = ""

    @property
    def inverted(self) -> bool:
        """True when the filter keeps the rows that do *not* match."""
        return self.text.startswith("!")

    @property
    def pattern(self) -> str:
        """The regular expression without the `!`."""
        return self.text[1:] if self.inverted else self.text

    @property
    def active(self) -> bool:
        """False for the empty filter (and a lone `!`), which keep every row."""
        return bool(self.pattern)

    def compile(self) -> regex.Pattern[str] | None:
        """The compiled pattern (None when inactive); raises `FilterError` with a short reason."""
        if not self.active:
            return None
        if len(self.pattern) > MAX_PATTERN:
            raise FilterError(f"pattern longer than {MAX_PATTERN} characters")
        try:
            return regex.compile(self.pattern, regex.IGNORECASE | regex.VERSION0)
        except regex.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise FilterError(f"invalid regex: {exc.msg}{where}") from None

    def apply(self, rows: Iterable[Row], budget: float = MATCH_BUDGET) -> list[Row]:
        """The rows this filter keeps, in their given order; raises `FilterError` for an invalid pattern and
        `FilterTooSlow` when matching all of `rows` would take more than `budget` seconds of CPU time."""
        compiled = self.compile()
        if compiled is None:
            return list(rows)
        deadline = time.thread_time() + budget

        def found(text: str) -> bool:
            left = deadline - time.thread_time()
            if left <= 0:
                raise FilterTooSlow(budget)
            try:
                return compiled.search(text, timeout=left) is not None
            except TimeoutError:
                raise FilterTooSlow(budget) from None

        keep = not self.inverted
        return [row for row in rows if (found(row.group) or found(row.schema)) == keep]


@dataclass(frozen=True, slots=True)
class SortOrder:
    """Sort by column `key`; numbers descend and names ascend by default, `reverse` flips that."""

    key: str = "request_rate"
    reverse: bool = False

    @property
    def descending(self) -> bool:
        """Whether the biggest (or last in the alphabet) comes first, as shown by the header arrow."""
        natural = COLUMN_BY_KEY[self.key].numeric
        return natural != self.reverse

    def inverted(self) -> SortOrder:
        """The same column, the other way round (the `I` key)."""
        return SortOrder(self.key, not self.reverse)

    def by(self, key: str) -> SortOrder:
        """Sort by `key` in its natural direction; choosing the current column again inverts it, like htop."""
        return self.inverted() if key == self.key else SortOrder(key)

    def moved(self, keys: Sequence[str], step: int) -> SortOrder:
        """The sort column `step` places along `keys` (the visible sortable columns), wrapping around."""
        if not keys:
            return self
        if self.key not in keys:  # the sort column was hidden by a resize: start from an end
            return SortOrder(keys[0] if step > 0 else keys[-1], self.reverse)
        return SortOrder(keys[(keys.index(self.key) + step) % len(keys)], self.reverse)

    def rank(self, rows: Iterable[Row]) -> list[Row]:
        """`rows` in display order: by the sort column, missing values last, then schema and group."""
        rows = list(rows)
        by_name = _by_name(rows)
        if self.key in (MODEL, SCHEMA):
            if self.key == MODEL:
                by_name.sort(key=lambda row: row.group.casefold(), reverse=self.descending)
            else:
                by_name.sort(key=lambda row: row.schema.casefold(), reverse=self.descending)
            return by_name
        name = self.key
        # Missing and NaN values go last (a NaN is the one value not equal to itself).
        known = [(value, row) for row in by_name if (value := row.values.get(name)) is not None and value == value]
        unknown = [row for row in by_name if (value := row.values.get(name)) is None or value != value]
        # Python's sort is stable, so rows with equal values stay in name order.
        known.sort(key=itemgetter(0), reverse=self.descending)
        return [row for _, row in known] + unknown


#: The (schema, group) of the rows last put in name order, and that order as indexes into them: a refresh
#: brings the same rows again, in the order the source gives them.
_named: tuple[list[tuple[str, str]], list[int]] = ([], [])


def _sort_by_name(rows: list[Row]) -> list[int]:
    """Indexes of `rows` in name order: schema and group, without case, then as they are."""
    return sorted(range(len(rows)), key=lambda index: (rows[index].schema.casefold(), rows[index].group.casefold(),
                                                       rows[index].key))  # fmt: skip


def _by_name(rows: list[Row]) -> list[Row]:
    """`rows` sorted by schema and group (case folded, then as they are), the order worked out again only
    when the rows' names or their order changed."""
    global _named
    names = [(row.schema, row.group) for row in rows]
    if names != _named[0]:
        _named = (names, _sort_by_name(rows))
    return [rows[index] for index in _named[1]]
