"""What every full aitop screen shares: the status line, snapshot routing, the too-small notice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.events import DescendantFocus, Resize
from textual.screen import Screen
from textual.widget import Widget

from aitop.model import Snapshot
from aitop.ui.widgets import KeyBar, StatusBar, TooSmall, UiState
from aitop.ui.widgets.too_small import MIN_HEIGHT, MIN_WIDTH


class DataScreen(Screen[None]):
    """A screen the app sends every shown snapshot and every pause/interval change to.

    Subclasses compose a `StatusBar` and a `TooSmall`, and override `when_ready()` (one-off setup of
    their widgets) and `show_snapshot()`. A screen's Mount comes before its nested containers have composed
    their children, so a snapshot that arrives earlier is held and shown once everything exists.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.ready = False
        self._ready_event = asyncio.Event()
        self._pending: Snapshot | None = None
        self._applied: Snapshot | None = None  # the snapshot last shown through `apply`
        self._last_focused: Widget | None = None  # given back after the too-small notice took the focus

    def on_mount(self) -> None:
        self.call_after_refresh(self._become_ready)

    async def until_ready(self, timeout: float = 5.0) -> bool:
        """Wait until the screen's widgets all exist (the first poll can finish before that)."""
        try:
            await asyncio.wait_for(self._ready_event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _become_ready(self) -> None:
        if self not in self.app.screen_stack:
            return  # closed before its first frame (Enter then Esc at once): its widgets are going away
        self.ready = True
        self._ready_event.set()
        self.when_ready()
        self.apply_state(self.app.ui_state)  # type: ignore[attr-defined]
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.show_snapshot(pending)

    def when_ready(self) -> None:
        """Set up widgets once they all exist (columns, focus)."""

    def apply(self, snapshot: Snapshot) -> None:
        """Show `snapshot` (or hold it until the screen is ready)."""
        if not self.ready:
            self._pending = snapshot
            return
        if snapshot is self._applied:  # the one on display, sent again (resume, a screen closing): no work
            return
        self._applied = snapshot
        self.show_snapshot(snapshot)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Show `snapshot` in the screen's widgets; subclasses extend this."""
        self.query_one(StatusBar).apply(snapshot)

    def apply_state(self, state: UiState) -> None:
        """Show whether the display is paused, and the poll interval."""
        self.query_one(StatusBar).apply_state(state)
        self.query_one(KeyBar).show_keys()  # "Pause" reads "Resume" while paused

    def on_resize(self, event: Resize) -> None:
        # The notice is hidden (so gets no resize of its own) until the screen is too small.
        self.query_one(TooSmall).say(event.size.width, event.size.height)
        if event.size.width >= MIN_WIDTH and event.size.height >= MIN_HEIGHT:
            # Hiding everything for the notice took the focus away; without it arrows and Enter do nothing.
            self.call_after_refresh(self._restore_focus)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        self._last_focused = event.widget

    def _restore_focus(self) -> None:
        if self.focused is not None or not self.ready:
            return
        widget = self._last_focused
        if widget is not None and widget.is_attached and widget.display and widget.focusable:
            widget.focus()
        else:
            self.focus_next()
