"""Command palette (ctrl+p or `:`): jump to a row, group by, interval, theme, sidebar, sort, pause.

Row and label names come from the source, and Textual's `Matcher.highlight()` parses its argument as
markup, so hits are highlighted here on plain `Content` instead; help strings are fixed text for the same
reason (the palette renders them as markup).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content

from aitop.sanitize import clean
from aitop.ui.columns import ALL_COLUMNS, TREND
from aitop.ui.typed import aitop_app
from aitop.ui.widgets.status_bar import format_interval

#: Poll intervals offered by the palette and stepped through by `+` / `-`.
INTERVALS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

Command = tuple[str, Callable[[], object], str]


def plain_highlight(matcher: Matcher, text: str) -> Content:
    """`Matcher.highlight` without markup parsing: `[/]` in a model name stays text and cannot crash."""
    content = Content(text)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class AitopCommands(Provider):
    """aitop's own commands, built from the current snapshot each time the palette opens."""

    def commands(self) -> list[Command]:
        """Every command available now, as (title, callback, help)."""
        app = aitop_app(self.app)
        overview = app.overview
        found: list[Command] = []
        snapshot = overview.snapshot
        if snapshot is not None:
            for row in snapshot.rows:
                title = f"Jump to {clean(row.group, 80)} ({clean(row.schema, 24)})"
                found.append((title, partial(overview.jump_to, row.key), "select this row in the table"))
            found.append(("Group by model (default)", partial(overview.set_group_by, None), "one row per model"))
            for label in snapshot.labels:
                found.append((f"Group by {clean(label, 60)}", partial(overview.set_group_by, label),
                              "one row per value of this label"))  # fmt: skip
        for seconds in INTERVALS:
            found.append((f"Set interval {format_interval(seconds)}", partial(app.set_poll_interval, seconds),
                          "time between refreshes"))  # fmt: skip
        for name in app.theme_names:
            found.append((f"Theme {name}", partial(setattr, app, "theme", name), "colours of every screen and chart"))
        found.append(("Toggle alert sidebar", overview.action_toggle_alerts, "show or hide the alert list"))
        found.append(("Pause / resume display", app.action_toggle_pause, "polling goes on while paused"))
        found.append(("Filter rows", overview.action_filter, "regex over model and schema; ! inverts"))
        found.append(("Trend: switch field", overview.action_cycle_trend, "request rate or p95 latency"))
        for column in ALL_COLUMNS:
            if column.key != TREND:
                found.append((f"Sort by {column.heading}", partial(overview.action_sort_by, column.key),
                              "again to invert"))  # fmt: skip
        return found

    async def discover(self) -> Hits:
        """The commands, unfiltered, when the palette opens with no query."""
        for title, callback, help_text in self.commands():
            yield DiscoveryHit(Content(title), callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands matching `query`, best first."""
        matcher = self.matcher(query)
        for title, callback, help_text in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, plain_highlight(matcher, title), callback, text=title, help=help_text)
