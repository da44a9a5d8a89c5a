"""The `/` filter line: a regex input with the match count or, for a bad pattern, why it is bad."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

PLACEHOLDER = "regex over model and schema · !regex hides matches · Enter keeps · Esc clears"


class FilterBar(Horizontal):
    """Shown while a filter is being typed or is in force; the overview reacts to its `Input` messages."""

    def compose(self) -> ComposeResult:
        yield Static(Text("/", Style(bold=True)), id="filter-prompt", markup=False)
        yield Input(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False)
        yield Static(id="filter-info", markup=False)

    @property
    def input(self) -> Input:
        """The text field."""
        return self.query_one(Input)

    def show_counts(self, shown: int, total: int) -> None:
        """`3 of 6 rows`."""
        self.set_class(False, "-invalid")
        self.query_one("#filter-info", Static).update(Text(f"{shown} of {total} rows"), layout=False)

    def show_error(self, message: str) -> None:
        """Why the pattern is not used (the previous valid one still is)."""
        self.set_class(True, "-invalid")
        self.query_one("#filter-info", Static).update(Text(f"✗ {message}", Style(bold=True)), layout=False)
