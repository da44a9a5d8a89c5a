"""A row's explanations (field -> one line, `Row.provenance`), built when someone reads them.

Every refresh derives every field of every row, but the explanations are read only by `e`, the drill-down, the
codec and a few checks of one field: at 1,000 rows building them all was most of a refresh's row assembly. So
a row carries an `Explanations` mapping holding how to make its lines: reading one line (`get`, `in`, `[]`)
makes that line alone, and anything that needs them all (iteration, `len`, `dict()`, equality, pickling)
makes them all, once, in the order the eager build gave. Both ways give the same text (tests/unit/
test_explanations.py). The helpers below add lines the way `{**a, **b}` would, without making the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["Explanations", "default_lines", "under_lines", "with_lines"]

One = Callable[[str], str | None]
Every = Callable[[], dict[str, str]]


class Explanations(Mapping[str, str]):
    """An immutable mapping of field -> explanation whose lines are made on first read.

    `one(name)` makes one line (None: the field has none); `every()` makes all of them, in order. Both must
    agree, and both must read only what no longer changes (a finished row's draft). Pickled or copied, it is
    a plain dict: what it was made from need not be picklable."""

    __slots__ = ("_complete", "_every", "_known", "_one")

    def __init__(self, one: One, every: Every) -> None:
        self._one: One | None = one
        self._every: Every | None = every
        self._known: dict[str, str | None] = {}
        self._complete: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        complete, every = self._complete, self._every
        if complete is not None:
            return complete
        if every is None:  # made by another thread meanwhile (it sets `_complete` first)
            return self._complete or {}
        complete = self._complete = every()
        self._one = self._every = None  # what the lines were made from can go
        self._known = {}
        return complete

    def get(self, key: str, default: Any = None) -> Any:
        if self._complete is not None:
            return self._complete.get(key, default)
        known = self._known
        if key in known:
            line = known[key]
        else:
            one = self._one
            if one is None:  # made complete by another thread meanwhile
                return self._all().get(key, default)
            line = known[key] = one(key)
        return default if line is None else line

    def __getitem__(self, key: str) -> str:
        line = self.get(key)
        if line is None:
            raise KeyError(key)
        return line

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"Explanations({self._all()!r})"

    def __reduce__(self) -> tuple[type[dict], tuple[dict[str, str]]]:
        return (dict, (dict(self._all()),))

    @property
    def made(self) -> bool:
        """Whether every line has been made (for tests and benchmarks)."""
        return self._complete is not None


def with_lines(provenance: Mapping[str, str], lines: Mapping[str, str]) -> Mapping[str, str]:
    """`{**provenance, **lines}`, leaving lazy explanations unmade."""
    if not isinstance(provenance, Explanations):
        return {**provenance, **lines}
    return Explanations(lambda key: lines[key] if key in lines else provenance.get(key),
                        lambda: {**provenance, **lines})


def under_lines(lines: Mapping[str, str], provenance: Mapping[str, str]) -> Mapping[str, str]:
    """`{**lines, **provenance}` (the row's own lines win), leaving lazy explanations unmade."""
    if not isinstance(provenance, Explanations):
        return {**lines, **provenance}
    return Explanations(lambda key: provenance.get(key, lines.get(key)), lambda: {**lines, **provenance})


def default_lines(provenance: Mapping[str, str], lines: Mapping[str, str]) -> Mapping[str, str]:
    """`provenance` with each of `lines` it lacks added after its own (`dict.setdefault`), leaving lazy
    explanations unmade."""
    if not isinstance(provenance, Explanations):
        out = dict(provenance)
        for key, line in lines.items():
            out.setdefault(key, line)
        return out

    def every() -> dict[str, str]:
        out = dict(provenance)
        for key, line in lines.items():
            out.setdefault(key, line)
        return out

    return Explanations(lambda key: provenance.get(key, lines.get(key)), every)
