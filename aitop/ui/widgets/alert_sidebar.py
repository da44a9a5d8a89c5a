"""The alert list: aitop's own alerts and the server's, worst first; Enter opens the row's drill-down."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.message import Message
from textual.theme import Theme
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from aitop.model import Alert
from aitop.ui.alert_text import alert_counts, alert_text, ordered
from aitop.ui.themes import palette_from_variables


class AlertList(OptionList):
    """One multi-line option per alert, in `ordered()` order; keeps the highlight on the same alert."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class Chosen(Message):
        """The user pressed Enter on an alert."""

        def __init__(self, alert: Alert) -> None:
            super().__init__()
            self.alert = alert

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.alerts: list[Alert] = []
        self._shown: list[tuple[tuple[str, str], Text]] = []  # (alert, prompt) on display: redraw only changes

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def on_unmount(self) -> None:
        # The signal holds its subscribers until it next publishes; a closed screen's widgets would stay in
        # memory until the next theme change.
        self.app.theme_changed_signal.unsubscribe(self)

    def _on_theme_changed(self, _theme: Theme) -> None:
        self._render_alerts()

    def on_resize(self, _event: Resize) -> None:
        self._render_alerts()

    def show_alerts(self, alerts: Sequence[Alert]) -> None:
        """List `alerts` (in display order, not the order given)."""
        self.alerts = ordered(alerts)
        self._render_alerts()

    def _render_alerts(self) -> None:
        highlighted = self.highlighted_alert
        palette = palette_from_variables(self.app.theme_variables)
        width = max(self.scrollable_content_region.width - 1, 20)
        now = self.clock()
        # Ids come from rule files and servers and may repeat; the position makes the option id unique.
        shown = [((alert.id, alert.rule), alert_text(alert, now, palette, width=width)) for alert in self.alerts]
        if [key for key, _ in shown] == [key for key, _ in self._shown]:
            # The same alerts in the same places (the highlight stays on its alert): redraw only the entries
            # whose text changed — at most an age ticking over a minute, most refreshes none.
            for index, ((_, prompt), (_, before)) in enumerate(zip(shown, self._shown)):
                if prompt != before:  # (rich compares the text and its styles)
                    self.replace_option_prompt(f"alert-{index}", prompt)
            self._shown = shown
            return
        self._shown = shown
        options: list[Option | None] = []
        for index, (_, prompt) in enumerate(shown):
            options.append(Option(prompt, id=f"alert-{index}"))
            options.append(None)  # a separator line between alerts
        self.set_options(options[:-1])
        if self.alerts:
            self.highlighted = 0  # Enter always has an alert to open
        if highlighted is not None:
            for index, alert in enumerate(self.alerts):
                if alert.id == highlighted.id and alert.rule == highlighted.rule:
                    self.highlighted = self.get_option_index(f"alert-{index}")
                    break

    @property
    def highlighted_alert(self) -> Alert | None:
        """The alert under the cursor."""
        if self.highlighted is None:
            return None
        option = self.get_option_at_index(self.highlighted)
        return self._alert_of(option)

    def _alert_of(self, option: Option) -> Alert | None:
        try:
            index = int((option.id or "").removeprefix("alert-"))
        except ValueError:
            return None
        return self.alerts[index] if 0 <= index < len(self.alerts) else None

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        alert = self._alert_of(event.option)
        if alert is not None:
            self.post_message(self.Chosen(alert))


def alert_title(alerts: Sequence[Alert]) -> Text:
    """`Alerts · 2 firing · 1 pending`, or `Alerts · none` — the sidebar's heading."""
    firing, pending = alert_counts(alerts)
    parts = [f"{firing} firing"] if firing else []
    if pending:
        parts.append(f"{pending} pending")
    return Text.assemble(("Alerts", Style(bold=True)), f" · {' · '.join(parts) if parts else 'none'}")


class AlertSidebar(Vertical):
    """A heading, the alert list, and a calm line when nothing is wrong."""

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self._title: tuple[object, ...] = ()  # what the heading shows: `Static.update` repaints even the same

    def compose(self) -> ComposeResult:
        yield Static(alert_title(()), id="alerts-title", markup=False)
        yield AlertList(clock=self.clock, id="alerts-list")
        yield Static(Text("✓ no alerts"), id="alerts-empty", markup=False)

    @property
    def list(self) -> AlertList:
        """The option list inside."""
        return self.query_one(AlertList)

    def show_alerts(self, alerts: Sequence[Alert]) -> None:
        """Show `alerts`; an empty list shows the calm line instead."""
        title = alert_title(alerts)
        shown = (title.plain, tuple(title.spans))
        if shown != self._title:
            self._title = shown
            self.query_one("#alerts-title", Static).update(title, layout=False)
        self.list.show_alerts(alerts)
        self.set_class(not alerts, "-empty")
