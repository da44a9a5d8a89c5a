"""What every full aitop screen shares: the status line, the snapshot on display, the too-small notice."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.events import DescendantFocus, Resize
from textual.widget import Widget

from aitop.model import Snapshot
from aitop.ui.typed import AitopScreen
from aitop.ui.widgets import KeyBar, StatusBar, TooSmall
from aitop.ui.widgets.too_small import MIN_HEIGHT, MIN_WIDTH


class DataScreen(AitopScreen[None]):
    """A screen that shows the app's snapshot on display, and whether the display is paused.

    From its mount on it watches the app's reactives: `snapshot` (shown at once, so a screen pushed later
    starts from the one on display, and a screen underneath stays current until it comes back) and the
    pause and interval state for the status line. Subclasses compose a `StatusBar`, a `KeyBar` and a
    `TooSmall`, set their widgets up in their own `on_mount` (Textual runs it before this one), and extend
    `show_snapshot()`.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self._applied: Snapshot | None = None  # the snapshot on display here
        self._last_focused: Widget | None = None  # given back after the too-small notice took the focus

    @property
    def on_stack(self) -> bool:
        """False once the screen was popped; one popped before its first frame (Enter then Esc at once)
        still gets its Mount, with its widgets already going away, and must then set nothing up."""
        return self in self.app.screen_stack

    def on_mount(self) -> None:
        if not self.on_stack:
            return
        app = self.aitop
        for name in ("paused", "held", "poll_seconds"):
            self.watch(app, name, self._poll_state_changed, init=False)
        self._poll_state_changed()
        self.watch(app, "snapshot", self._snapshot_changed)  # init: the one on display now, if any

    def on_unmount(self) -> None:
        self.aitop.forget_closed_watchers()

    def _snapshot_changed(self, snapshot: Snapshot | None) -> None:
        # The one on display, set again (resume with nothing new, a regroup shown twice): no work. A screen
        # just popped (its watchers go when it closes) has nothing left to show it in.
        if snapshot is None or snapshot is self._applied or not self.on_stack:
            return
        self._applied = snapshot
        self.show_snapshot(snapshot)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Show `snapshot` in the screen's widgets; subclasses extend this."""
        self.query_one(StatusBar).apply(snapshot)

    def _poll_state_changed(self) -> None:
        app = self.aitop
        self.query_one(StatusBar).show_poll_state(paused=app.paused, held=app.held, interval=app.poll_seconds)
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
        if self.focused is not None or not self.is_mounted:
            return
        widget = self._last_focused
        if widget is not None and widget.is_attached and widget.display and widget.focusable:
            widget.focus()
        else:
            self.focus_next()
