"""Small screens over the current one: a picker (group by, sort by), explain, and the alert list for
terminals too narrow for the sidebar. Esc closes each of them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from aitop.model import Alert, Row, Snapshot
from aitop.ui.explain import explain_text
from aitop.ui.themes import palette_from_variables
from aitop.ui.widgets import AlertSidebar
from aitop.ui.widgets.alert_sidebar import AlertList

T = TypeVar("T")
#: What a picker returns when the user closes it without choosing.
CANCELLED = object()


class PickerScreen(ModalScreen[object], Generic[T]):
    """Choose one of `choices` ((value, label) pairs); dismisses with the value, or `CANCELLED` on Esc.

    Labels may be label names from the source, so they are shown as `Text`, never as markup.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Close"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[T, str]], *, current: T | None = None) -> None:
        super().__init__(classes="picker")
        self.heading = title
        self.choices = list(choices)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.heading, Style(bold=True)), classes="dialog-title", markup=False)
            options = []
            for index, (value, label) in enumerate(self.choices):
                mark = "● " if value == self.current else "  "
                options.append(Option(Text(f"{mark}{label}"), id=f"choice-{index}"))
            yield OptionList(*options, id="picker-list")
            yield Static(Text("Enter chooses · Esc closes"), classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        for index, (value, _) in enumerate(self.choices):
            if value == self.current:
                picker.highlighted = index
        picker.focus()

    def action_cursor_down(self) -> None:
        """Next choice."""
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        """Previous choice."""
        self.query_one(OptionList).action_cursor_up()

    @on(OptionList.OptionSelected, "#picker-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int((event.option.id or "choice-0").removeprefix("choice-"))
        self.dismiss(self.choices[index][0])

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(CANCELLED)


class ExplainScreen(ModalScreen[None]):
    """How one field of one row was computed, and why it is missing when it is."""

    BINDINGS = [Binding("escape,e,enter", "close", "Close")]

    def __init__(self, row: Row, field: str, snapshot: Snapshot | None) -> None:
        super().__init__(classes="explain")
        self.row = row
        self.field = field
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        palette = palette_from_variables(self.app.theme_variables)
        with VerticalScroll(classes="dialog"):
            yield Static(Text("Explain", Style(bold=True)), classes="dialog-title", markup=False)
            yield Static(explain_text(self.row, self.field, self.snapshot, palette), id="explain-body", markup=False)

    @property
    def body(self) -> str:
        """The plain text shown (for tests and screen readers)."""
        palette = palette_from_variables(self.app.theme_variables)
        return explain_text(self.row, self.field, self.snapshot, palette).plain

    def action_close(self) -> None:
        """Back to where `e` was pressed."""
        self.dismiss(None)


class AlertsScreen(ModalScreen[object]):
    """The alert list over the whole screen, for terminals too narrow for the sidebar.

    Dismisses with the chosen `Alert` (the caller opens its drill-down), or None on Esc.
    """

    BINDINGS = [Binding("escape,a", "close", "Close")]

    def __init__(self, alerts: Sequence[Alert], *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(classes="alerts-modal")
        self.alerts = list(alerts)
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield AlertSidebar(clock=self.clock, id="alerts-full")

    def on_mount(self) -> None:
        sidebar = self.query_one(AlertSidebar)
        sidebar.show_alerts(self.alerts)
        sidebar.list.focus()

    @on(AlertList.Chosen)
    def _chosen(self, event: AlertList.Chosen) -> None:
        event.stop()
        self.dismiss(event.alert)

    def action_close(self) -> None:
        """Back to the overview."""
        self.dismiss(None)
