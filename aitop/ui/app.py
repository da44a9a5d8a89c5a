"""The aitop TUI: wiring only — themes, the poll timer and worker, key bindings, signals.

What a poll shows lives in the screens and widgets; where numbers come from lives in `aitop.monitor`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from aitop.model import Snapshot
from aitop.monitor import Monitor
from aitop.sanitize import clean
from aitop.ui.screens import OverviewScreen
from aitop.ui.themes import DEFAULT_THEME, load_themes, variable_defaults

log = logging.getLogger(__name__)

NO_TERMINAL_HINT = (
    "aitop: no terminal here (stdout is not a TTY / TERM=dumb); use `aitop snapshot …` for text output, or `ssh -t`"
)
#: Exit status when the terminal hangs up (128 + SIGHUP, as a shell would report it).
EXIT_HANGUP = 128 + 1


class AitopApp(App[None]):
    """`top` for AI services: polls a `Monitor` and shows one row per model.

    Args:
        monitor: where snapshots come from. The app owns it while running and closes it on exit, because
            the collector's HTTP client belongs to the app's event loop.
        interval: seconds between polls; None starts no timer and no poll on mount (tests call `poll_once`).
        clock: the time source for "updated 2s ago"; widgets never read the wall clock themselves.
        theme_name: the theme to start with; an unknown name falls back to Textual's default, with a notice.
    """

    # Absolute, because Textual resolves a relative CSS_PATH against the module of a subclass.
    CSS_PATH = Path(__file__).with_name("aitop.tcss")
    TITLE = "aitop"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        # Textual 8 maps ctrl+c to a "press ctrl+q" hint; over SSH users expect it to quit, like top.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("r", "refresh_now", "Refresh"),
    ]

    def __init__(
        self,
        monitor: Monitor,
        *,
        interval: float | None = 2.0,
        clock: Callable[[], float] = time.time,
        theme_name: str = DEFAULT_THEME,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.interval = interval
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.polls_skipped = 0
        self._poll_busy = False
        self._notices: list[str] = []
        self._use_themes(theme_name)

    def _use_themes(self, theme_name: str) -> None:
        loaded = load_themes()
        for theme in loaded.themes:
            self.register_theme(theme)
        self._notices.extend(loaded.problems)
        if self.get_theme(theme_name) is None:
            self._notices.append(clean(f"theme {theme_name!r} not found; using textual-dark", 120))
            theme_name = "textual-dark"
        self.theme = theme_name

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Declare the aitop-* variables so the TCSS parses under any theme, following its colours."""
        return variable_defaults(self.current_theme)

    def get_default_screen(self) -> OverviewScreen:
        return OverviewScreen(clock=self.clock)

    @property
    def overview(self) -> OverviewScreen:
        """The main screen (the bottom of the screen stack)."""
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        for notice in self._notices:
            self.notify(notice, severity="warning", markup=False)
        if not self.is_headless:
            self._handle_hangup()
        if self.interval is not None:
            self.request_poll()
            self.set_interval(self.interval, self.request_poll)

    def _handle_hangup(self) -> None:
        # Textual installs no SIGHUP handler; exit through the app so a dropped SSH session ends cleanly.
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lambda: self.exit(return_code=EXIT_HANGUP))
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            pass  # no SIGHUP on this platform, or not the main thread

    async def on_unmount(self) -> None:
        try:
            await self.monitor.aclose()
        except Exception:  # closing must not turn a clean exit into a traceback
            log.exception("closing the monitor failed")

    async def poll_once(self) -> Snapshot:
        """Refresh the monitor once and show the result. The timer runs exactly this, in a worker."""
        snapshot = await self.monitor.refresh()
        self.snapshot = snapshot
        self.overview.apply(snapshot)
        return snapshot

    def request_poll(self) -> bool:
        """Start a poll in the background unless one is still running; True when one was started.

        A timer tick that finds a poll in flight is skipped (and counted), never queued and never allowed to
        cancel it: a poll slower than the interval must still complete.
        """
        if self._poll_busy:
            self.polls_skipped += 1
            return False
        self._poll_busy = True
        self.run_worker(self._poll_then_release(), group="poll", exit_on_error=False, description="poll")
        return True

    async def _poll_then_release(self) -> Snapshot:
        try:
            return await self.poll_once()
        finally:
            self._poll_busy = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "poll" and event.state is WorkerState.ERROR:
            # Only the type: exception text can carry URLs with credentials (reliability.md C.4).
            error = event.worker.error
            self.notify(f"refresh failed: {type(error).__name__}", severity="error", markup=False)

    def action_refresh_now(self) -> None:
        """Poll now instead of waiting for the next tick."""
        self.request_poll()


def has_terminal() -> bool:
    """Whether a full-screen UI can run here: both ends are TTYs and TERM is not "dumb"."""
    try:
        ttys = sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False
    return ttys and os.environ.get("TERM", "") != "dumb"


def run_tui(monitor: Monitor, *, interval: float) -> int:
    """Run the TUI until the user quits; returns the exit status.

    Refuses (status 2, one-line hint on stderr) without a terminal: Textual would otherwise write
    alternate-screen escapes into a file or pipe and never exit (reliability.md D.6).
    """
    if not has_terminal():
        print(NO_TERMINAL_HINT, file=sys.stderr)
        return 2
    app = AitopApp(monitor, interval=interval)
    app.run()
    return app.return_code or 0
