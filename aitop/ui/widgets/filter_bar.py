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

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._info: tuple[object, ...] = ()  # what the info shows: `Static.update` repaints even the same

    def _show_info(self, text: Text) -> None:
        shown = (text.plain, str(text.style), tuple(text.spans))
        if shown != self._info:
            self._info = shown
            self.query_one("#filter-info", Static).update(text, layout=False)

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
        self._show_info(Text(f"{shown} of {total} rows"))

    def show_error(self, message: str) -> None:
        """Why the pattern is not used (the previous valid one still is)."""
        self.set_class(True, "-invalid")
        self._show_info(Text(f"✗ {message}", Style(bold=True)))
