"""Choose and order a view's columns, like htop's F2 setup: Space shows or hides the highlighted column,
`[` / `]` (or Shift+↑ / Shift+↓) move it, Enter keeps the choice, Esc leaves everything as it was."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from aitop.fields import FIELD_BY_NAME
from aitop.ui.columns import COLUMN_BY_KEY, MODEL, TREND
from aitop.ui.screens.modals import CANCELLED
from aitop.ui.widgets.top_table import TREND_FIELDS

HINT = "Space show/hide · [ ] or Shift+↑↓ move · Enter keep (saved) · Esc cancel"


def describe(key: str) -> str:
    """`p95 — end-to-end latency, 95th percentile`: the heading and what the column holds."""
    column = COLUMN_BY_KEY[key]
    if key == TREND:
        followed = " or ".join(FIELD_BY_NAME[name].heading for name in TREND_FIELDS)
        return f"{column.heading} — sparkline of {followed} over 5 minutes (w switches)"
    spec = FIELD_BY_NAME.get(key)
    return f"{column.heading} — {spec.description}" if spec is not None else column.heading


class ColumnPickerScreen(ModalScreen[object]):
    """The columns of view `view`: the shown ones first in their order, then the others.

    Dismisses with the chosen keys in order (the model column is always first and not offered), or
    `CANCELLED`.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "keep", "Keep", priority=True),
        Binding("left_square_bracket,shift+up", "move(-1)", "Move up", show=False),
        Binding("right_square_bracket,shift+down", "move(1)", "Move down", show=False),
        Binding("j", "down", "Down", show=False),
        Binding("k", "up", "Up", show=False),
    ]

    def __init__(self, view: str, shown: Sequence[str], available: Sequence[str]) -> None:
        super().__init__(classes="picker columns-picker")
        self.view = view
        shown = [key for key in shown if key != MODEL]
        self.order = [*shown, *(key for key in available if key not in shown and key != MODEL)]
        self.chosen = set(shown)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Columns of the {self.view} view", Style(bold=True)), classes="dialog-title",
                         markup=False)  # fmt: skip
            yield SelectionList[str](*self._selections(), id="columns-list")
            yield Static(Text(HINT), classes="dialog-hint", markup=False)

    def _prompt(self, key: str, shown: bool) -> Text:
        # "shown"/"hidden" in words too: the list's own check box differs by colour only (nothing under NO_COLOR).
        return Text.assemble(("shown  " if shown else "hidden ", Style(bold=shown)), describe(key))

    def _selections(self) -> list[Selection[str]]:
        return [Selection(self._prompt(key, key in self.chosen), key, key in self.chosen, id=key) for key in self.order]

    @on(SelectionList.SelectionToggled)
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        key = str(event.selection.value)
        self.chosen = set(self.list.selected)
        self.list.replace_option_prompt(key, self._prompt(key, key in self.chosen))

    @property
    def list(self) -> SelectionList[str]:
        """The list of columns."""
        return self.query_one(SelectionList)

    def on_mount(self) -> None:
        self.list.focus()
        self.list.highlighted = 0

    def action_down(self) -> None:
        """Highlight the next column."""
        self.list.action_cursor_down()

    def action_up(self) -> None:
        """Highlight the previous column."""
        self.list.action_cursor_up()

    def action_move(self, step: int) -> None:
        """Move the highlighted column up or down the order."""
        selection = self.list
        index = selection.highlighted
        if index is None or not 0 <= index + step < len(self.order):
            return
        self.chosen = set(selection.selected)
        self.order[index], self.order[index + step] = self.order[index + step], self.order[index]
        selection.clear_options()
        selection.add_options(self._selections())
        selection.highlighted = index + step

    def action_keep(self) -> None:
        """Close with the shown columns in order (at least one besides the model)."""
        chosen = set(self.list.selected)
        keys = [key for key in self.order if key in chosen]
        if not keys:
            self.notify("choose at least one column", severity="warning")
            return
        self.dismiss([MODEL, *keys])

    def action_cancel(self) -> None:
        """Close and change nothing."""
        self.dismiss(CANCELLED)
