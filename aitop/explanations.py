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

__all__ = ["Explanations", "Lazy", "default_lines", "noted_info", "under_lines", "with_lines"]

class Explanations(Mapping[str, str]):
    """An immutable mapping of field -> explanation whose lines are made on first read.

    A subclass says how: `_line(name)` makes one line (None: the field has none), `_lines()` all of them, in
    order. Both must agree, and both must read only what no longer changes (a finished row's draft); two
    threads reading at once may both make a line, the same one. Pickled or copied, it is a plain dict: what
    it was made from need not be picklable."""

    __slots__ = ("_complete", "_known")

    def __init__(self) -> None:
        self._known: dict[str, str | None] | None = None  # the lines made one by one (made when first read)
        self._complete: dict[str, str] | None = None

    def _line(self, key: str) -> str | None:
        raise NotImplementedError

    def _lines(self) -> dict[str, str]:
        raise NotImplementedError

    def _all(self) -> dict[str, str]:
        complete = self._complete
        if complete is None:
            complete = self._complete = self._lines()
            self._known = None
        return complete

    def get(self, key: str, default: Any = None) -> Any:
        complete = self._complete
        if complete is not None:
            return complete.get(key, default)
        known = self._known
        if known is None:
            known = self._known = {}
        if key in known:
            line = known[key]
        else:
            line = known[key] = self._line(key)
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

    def info(self, key: str) -> bool:
        """Whether `key`'s line carries an info annotation of the server's (`noted_info`). A subclass may
        tell without making the line: the table asks this of every shown cell, every refresh."""
        return noted_info(self.get(key))

    @property
    def made(self) -> bool:
        """Whether every line has been made (for tests and benchmarks)."""
        return self._complete is not None


class Lazy(Explanations):
    """Explanations made by two functions: `one(name)` and `every()`."""

    __slots__ = ("_every", "_one")

    def __init__(self, one: Callable[[str], str | None], every: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._one, self._every = one, every

    def _line(self, key: str) -> str | None:
        return self._one(key)

    def _lines(self) -> dict[str, str]:
        return self._every()


def noted_info(line: str | None) -> bool:
    """Whether an explanation line carries an info annotation: it starts with one ("info: …", a server's) or
    has one after its query (" — info: …")."""
    return line is not None and (line.startswith("info: ") or " — info: " in line)


_OVER, _UNDER, _DEFAULT = 0, 1, 2


class _Layer(Explanations):
    """`lines` laid over (or under, or beside) other explanations, leaving them unmade."""

    __slots__ = ("_base", "_how", "_lines_added", "_when")

    def __init__(self, base: Explanations, lines: Mapping[str, str], how: int, when: str | None = None) -> None:
        super().__init__()
        self._base, self._lines_added, self._how, self._when = base, lines, how, when

    def _line(self, key: str) -> str | None:
        lines = self._lines_added
        if self._how == _OVER:
            applies = key in lines and (self._when is None or self._when in self._base)
            return lines[key] if applies else self._base.get(key)
        return self._base.get(key, lines.get(key))

    def info(self, key: str) -> bool:
        lines = self._lines_added
        if key not in lines:  # (the usual case: the added lines are for a few fields)
            return self._base.info(key)
        if self._how == _OVER:
            if self._when is None or self._when in self._base:
                return noted_info(lines[key])
            return self._base.info(key)
        return self._base.info(key) if key in self._base else noted_info(lines[key])

    def _lines(self) -> dict[str, str]:
        base, lines = self._base, self._lines_added
        if self._when is not None and self._when not in base:
            return dict(base)
        if self._how == _OVER:
            return {**base, **lines}
        if self._how == _UNDER:
            return {**lines, **base}
        out = dict(base)
        for key, line in lines.items():
            out.setdefault(key, line)
        return out


def with_lines(provenance: Mapping[str, str], lines: Mapping[str, str], *, when: str | None = None) \
        -> Mapping[str, str]:
    """`{**provenance, **lines}`, leaving lazy explanations unmade; with `when`, only if `provenance` has
    that field's line (else `provenance` as it is)."""
    if isinstance(provenance, Explanations):
        return _Layer(provenance, lines, _OVER, when)
    return {**provenance, **lines} if when is None or when in provenance else provenance


def under_lines(lines: Mapping[str, str], provenance: Mapping[str, str]) -> Mapping[str, str]:
    """`{**lines, **provenance}` (the row's own lines win), leaving lazy explanations unmade."""
    if isinstance(provenance, Explanations):
        return _Layer(provenance, lines, _UNDER)
    return {**lines, **provenance}


def default_lines(provenance: Mapping[str, str], lines: Mapping[str, str]) -> Mapping[str, str]:
    """`provenance` with each of `lines` it lacks added after its own (`dict.setdefault`), leaving lazy
    explanations unmade."""
    if isinstance(provenance, Explanations):
        return _Layer(provenance, lines, _DEFAULT)
    out = dict(provenance)
    for key, line in lines.items():
        out.setdefault(key, line)
    return out
