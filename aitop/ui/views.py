"""Views: which columns the overview shows, for whom. No Textual here.

The field names three audiences: executives (cost, satisfaction, availability), engineers (latency,
errors, saturation) and quality (feedback, drift). Each built-in view lists its columns in display order;
`v` cycles them. The user may choose and order a view's columns (`c`, like htop's F2), and the choice is
saved in the config file's `[columns]` table under the view's name.

In the overview the columns hide by their priority, as they always did; in every other view, and in any
column list the user chose, the right-most column hides first: the order the user reads is the order of
importance, so what is dropped on a narrow terminal is predictable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from aitop.ui.columns import ALL_COLUMNS, COLUMN_BY_KEY, MODEL, TREND, Column

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


#: The built-in views, in the order `v` cycles them.
VIEWS: tuple[View, ...] = (
    View("overview", "everything, most important first"),
    View("cost", "executives: spend, satisfaction, availability", (
        "request_rate", "error_rate", "cost_per_hour", "cost_per_day", "feedback_negative_ratio", "cost_per_request",
        "request_rate_peak", "output_tokens_per_request", "input_tokens_per_request", TREND)),
    View("latency", "engineers: latency, errors, saturation", (
        "schema", "request_rate", "error_rate", "latency_p95", "latency_p99", "ttft_p95", "tpot_p95", "waiting",
        "running", "kv_cache_usage", "gpu_utilization", "gpu_memory_ratio", "preemptions_rate",
        "prefix_cache_hit_ratio", "goodput_ttft", "request_rate_peak", "latency_p50", "request_rate_session_peak",
        TREND)),
    View("quality", "quality: feedback, drift, errors", (
        "request_rate", "feedback_negative_ratio", "error_rate", "latency_drift", "ttft_drift",
        "output_length_drift", "length_cut_ratio", "output_tokens_per_request", TREND)),
)  # fmt: skip
VIEW_BY_NAME: Mapping[str, View] = {view.name: view for view in VIEWS}


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


def next_view(current: str, views: tuple[View, ...]) -> View:
    """The view after `current` (the first one when `current` is unknown)."""
    names = [view.name for view in views]
    if current not in names:
        return views[0]
    return views[(names.index(current) + 1) % len(views)]
