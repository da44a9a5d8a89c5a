"""Views: which columns the overview shows, for whom. No Textual here.

The field names three audiences: executives (cost, satisfaction, availability), engineers (latency,
errors, saturation) and quality (feedback, drift). Each built-in view lists its columns in display order, in
`aitop/defaults.toml`'s `[columns]` (the config file's own syntax); `v` cycles them. The user may choose and
order a view's columns (`c`, like htop's F2), and the choice is saved in the config file's `[columns]` table
under the view's name, which replaces the built-in list the same way.

In the overview the columns hide by their priority, as they always did; in every other view, and in any
column list the user chose, the right-most column hides first: the order the user reads is the order of
importance, so what is dropped on a narrow terminal is predictable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from aitop.config_columns import parse_columns
from aitop.defaults import builtin
from aitop.ui.columns import ALL_COLUMNS, COLUMN_BY_KEY, MODEL, Column

CATALOGUE_BY_KEY: Mapping[str, Column] = COLUMN_BY_KEY


@dataclass(frozen=True, slots=True)
class View:
    """A named set of columns.

    Attributes:
        name: the key `v` shows and the config file's `[columns]` uses.
        title: who it is for and what it shows.
        keys: its columns in display order; empty for the overview, which shows them all by priority.
    """

    name: str
    title: str
    keys: tuple[str, ...] = ()

    def columns(self) -> tuple[Column, ...]:
        """The view's columns, with the priorities its kind of list uses (see the module doc)."""
        if not self.keys:
            return ALL_COLUMNS
        return ordered_columns(self.keys)


def ordered_columns(keys: Iterable[str]) -> tuple[Column, ...]:
    """Columns `keys` (unknown ones skipped) in that order; the model column first and always shown, the
    others hiding from the right."""
    known = [key for key in dict.fromkeys(keys) if key in CATALOGUE_BY_KEY and key != MODEL]
    return (CATALOGUE_BY_KEY[MODEL],
            *(replace(CATALOGUE_BY_KEY[key], priority=index + 1) for index, key in enumerate(known)))  # fmt: skip


def _builtin_views() -> tuple[View, ...]:
    """The built-in views: names and titles here, their columns from `aitop/defaults.toml`'s `[columns]`."""
    titled = (
        View("overview", "everything, most important first"),
        View("cost", "executives: spend, satisfaction, availability"),
        View("latency", "engineers: latency, errors, saturation"),
        View("quality", "quality: feedback, drift, errors"),
    )
    views, problems = with_user_columns(titled, parse_columns(builtin()["columns"]))
    if problems:  # a built-in list naming a column that does not exist is a bug, not a user's typo
        raise ValueError(f"aitop/defaults.toml: {'; '.join(problems)}")
    return views




def with_user_columns(views: Iterable[View], chosen: Mapping[str, Iterable[str]]) -> tuple[tuple[View, ...], list[str]]:
    """`views` with the user's column lists (from the config file) in place of their own, and one line per
    problem (an unknown view or column name: skipped, never fatal)."""
    problems: list[str] = []
    known_views = {view.name: view for view in views}
    result = {name: view for name, view in known_views.items()}
    for name, keys in chosen.items():
        if name not in known_views:
            problems.append(f"columns.{name}: no such view (known: {', '.join(known_views)})")
            continue
        keys = list(keys)
        unknown = [key for key in keys if key not in CATALOGUE_BY_KEY]
        if unknown:
            problems.append(f"columns.{name}: unknown column {unknown[0]!r} skipped")
        keys = [key for key in keys if key in CATALOGUE_BY_KEY]
        if keys:
            result[name] = replace(known_views[name], keys=tuple(keys))
    return tuple(result.values()), problems


#: The built-in views, in the order `v` cycles them.
VIEWS: tuple[View, ...] = _builtin_views()
VIEW_BY_NAME: Mapping[str, View] = {view.name: view for view in VIEWS}


def next_view(current: str, views: tuple[View, ...]) -> View:
    """The view after `current` (the first one when `current` is unknown)."""
    names = [view.name for view in views]
    if current not in names:
        return views[0]
    return views[(names.index(current) + 1) % len(views)]
