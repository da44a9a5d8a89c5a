"""The main screen: status line, the model table, and the key footer."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from aitop.model import Snapshot
from aitop.ui.widgets import StatusBar, TopTable


class OverviewScreen(Screen[None]):
    """One row per model with rates, errors, latency, tokens, cost and feedback."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(id="overview")
        self._clock = clock

    def compose(self) -> ComposeResult:
        yield StatusBar(clock=self._clock, id="status")
        yield TopTable(id="top")
        yield Footer()

    def apply(self, snapshot: Snapshot) -> None:
        """Show `snapshot` in every widget of the screen, as one repaint."""
        with self.app.batch_update():
            self.query_one(StatusBar).apply(snapshot)
            self.query_one(TopTable).apply(snapshot)
