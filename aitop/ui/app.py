"""The aitop TUI: wiring only — themes, the poll timer and worker, global key bindings, worker errors.

What a poll shows and what screen keys do live in the screens and widgets; where numbers come from lives
in `aitop.monitor`. A poll sets the app's `snapshot` reactive; every data screen watches it (and `paused`,
`held`, `poll_seconds`) from its mount on, so a screen underneath is current when it comes back to the top
and a screen pushed later starts from the snapshot on display.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.driver import Driver
from textual.reactive import var
from textual.timer import Timer
from textual.worker import Worker, WorkerState

import aitop.ui.textual_cycles  # noqa: F401  (on import: frames and polls no longer leave reference cycles)
from aitop.gcpolicy import freeze_startup_heap
from aitop.model import Snapshot
from aitop.monitor import Monitor
from aitop.sanitize import clean
from aitop.ui.commands import INTERVALS, AitopCommands
from aitop.ui.screens import HelpScreen, OverviewScreen
from aitop.ui.themes import (
    DEFAULT_THEME,
    NO_COLOR_VARIABLE,
    load_all_themes,
    next_theme,
    theme_cycle,
    variable_defaults,
)
from aitop.ui.views import VIEWS, View, with_user_columns
from aitop.ui.widgets.status_bar import format_interval

log = logging.getLogger(__name__)

NO_TERMINAL_HINT = (
    "aitop: no terminal here (stdout is not a TTY / TERM=dumb); use `aitop snapshot …` for text output, or `ssh -t`"
)
#: Exit status when the terminal hangs up (128 + SIGHUP, as a shell would report it).
EXIT_HANGUP = 128 + 1
#: What a failed worker of each group is called in the one-line error notice (the worker's description
#: otherwise). Only the exception's type is shown: its text can carry URLs with credentials.
FAILED_WORK = {"poll": "refresh failed", "detail-load": "drill-down history not loaded"}


class AitopApp(App[None]):
    """`top` for AI services: polls a `Monitor` and shows one row per model.

    Args:
        monitor: where snapshots come from. The app owns it while running and closes it on exit, because
            the collector's HTTP client belongs to the app's event loop.
        interval: seconds between polls; None starts no timer and no poll on mount (tests call `poll_once`).
        clock: the time source for "updated 2s ago"; widgets never read the wall clock themselves.
        theme_name: the theme to start with; an unknown name falls back to Textual's default, with a notice.
        columns: the user's columns per view (the config file's `[columns]`).
        config_path: where `c` saves a view's columns; None keeps them for the session only.
        settle_heap: run once after the first refresh is on screen (`run_tui` passes
            `gcpolicy.freeze_startup_heap`; tests leave it out, as it acts on the whole process).
    """

    # Absolute, because Textual resolves a relative CSS_PATH against the module of a subclass.
    CSS_PATH = Path(__file__).with_name("aitop.tcss")
    TITLE = "aitop"
    COMMANDS = App.COMMANDS | {AitopCommands}
    # Screens get these classes from their size; the TCSS hides the sidebar and columns and shows the
    # too-small notice with them. Below 60×15 nothing can be laid out usefully.
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (60, "-narrow"), (100, "-normal"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (15, "-tall")]
    # Every F-key has a letter twin: F-keys are unreliable through some terminals and SSH clients.
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="this list of keys"),
        Binding("f1", "help", "Help", show=False, tooltip="this list of keys"),
        Binding("q", "quit", "Quit", tooltip="quit aitop"),
        Binding("f10", "quit", "Quit", show=False, tooltip="quit aitop"),
        # Textual 8 maps ctrl+c to a "press ctrl+q" hint; over SSH users expect it to quit, like top.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, tooltip="quit aitop"),
        Binding("p", "toggle_pause", "Pause", tooltip="freeze the display; polling goes on"),
        Binding("space", "toggle_pause", "Pause", show=False, tooltip="freeze the display; polling goes on"),
        Binding("r", "refresh_now", "Refresh", show=False, tooltip="poll now (and show it, even paused)"),
        Binding("f5", "refresh_now", "Refresh", show=False, tooltip="poll now (and show it, even paused)"),
        Binding("plus", "step_interval(1)", "Slower refresh", show=False, key_display="+",
                tooltip="longer refresh interval"),
        Binding("equals_sign", "step_interval(1)", "Slower refresh", show=False, key_display="=",
                tooltip="longer refresh interval"),
        Binding("minus", "step_interval(-1)", "Faster refresh", show=False, key_display="-",
                tooltip="shorter refresh interval"),
        Binding("t", "cycle_theme", "Theme", show=False, tooltip="next colour theme"),
        # Declaring any command_palette binding drops Textual's own ctrl+p, so both are declared here.
        Binding("ctrl+p", "command_palette", "palette", show=False, priority=True, key_display="^p",
                tooltip="command palette: jump to row, group by, interval, theme, sidebar…"),
        Binding("colon", "command_palette", "palette", show=False, key_display=":",
                tooltip="command palette: jump to row, group by, interval, theme, sidebar…"),
        # The terminal is in raw mode, so ctrl+z and ctrl+l arrive as keys; as in top and htop they suspend
        # (back with `fg`, fully repainted) and redraw the whole screen.
        Binding("ctrl+z", "suspend_process", "Suspend", show=False, priority=True, tooltip="suspend (fg resumes)"),
        Binding("ctrl+l", "redraw", "Redraw", show=False, priority=True, tooltip="repaint the whole screen"),
    ]

    #: The snapshot on display; data screens watch it. Set again with the same snapshot (resume with
    #: nothing new), the watchers run and find it on display already: comparing snapshots by value would
    #: cost more than that.
    snapshot: var[Snapshot | None] = var(None, always_update=True)
    #: The display is frozen while polls go on (`p`).
    paused: var[bool] = var(False)
    #: Snapshots collected since the display froze (shown on resume).
    held: var[int] = var(0)
    #: Seconds between polls, shown and changed with +/- even when no timer runs (tests).
    poll_seconds: var[float] = var(2.0)

    def __init__(
        self,
        monitor: Monitor,
        *,
        interval: float | None = 2.0,
        clock: Callable[[], float] = time.time,
        theme_name: str = DEFAULT_THEME,
        columns: Mapping[str, Sequence[str]] | None = None,
        config_path: str | os.PathLike[str] | None = None,
        settle_heap: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self._settle_heap = settle_heap  # run once, after the first data is on screen (see `poll_once`)
        self.views: tuple[View, ...]
        self.views, problems = with_user_columns(VIEWS, columns or {})
        self.config_path = config_path
        self.monitor = monitor
        self.interval = interval
        self.poll_seconds = interval if interval is not None else 2.0
        self.clock = clock
        self.latest: Snapshot | None = None  # the newest one collected (newer than `snapshot` while paused)
        self.polls_skipped = 0
        self._poll_busy = False
        self._timer: Timer | None = None
        self._notices: list[str] = [clean(problem, 120) for problem in problems]
        self.theme_names: list[str] = []
        self._use_themes(theme_name)

    def _use_themes(self, theme_name: str) -> None:
        loaded = load_all_themes()
        for theme in loaded.themes:
            self.register_theme(theme)
        self.theme_names = theme_cycle(theme.name for theme in loaded.themes)
        self._notices.extend(loaded.problems)
        if loaded.themes:
            # The palette's "Theme" command offers every registered theme. Textual's own lack aitop's
            # severity colours (nord's critical red reads 1.6:1 on its panel), so only aitop's themes stay:
            # the built-in ones, checked for contrast by the tests, and the user's own.
            ours = {theme.name for theme in loaded.themes}
            for name in [name for name in self.available_themes if name not in ours]:
                self.unregister_theme(name)
        if self.get_theme(theme_name) is None:
            fallback = DEFAULT_THEME if self.get_theme(DEFAULT_THEME) is not None else "textual-dark"
            self._notices.append(clean(f"theme {theme_name!r} not found; using {fallback}", 120))
            theme_name = fallback
        self.theme = theme_name

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Declare the aitop-* variables so the TCSS parses under any theme, following its colours; under
        NO_COLOR also `aitop-no-color`, so cells mark severity by attributes, never by dimming."""
        defaults = variable_defaults(self.current_theme)
        if self.no_color:
            defaults[NO_COLOR_VARIABLE] = "1"
        return defaults

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this platform, but on Linux and macOS one whose input thread sleeps until a
        key comes (`aitop.ui.driver`) instead of waking ten times a second. TEXTUAL_DRIVER still wins."""
        driver_class = super().get_driver_class()
        if driver_class.__name__ == "LinuxDriver" and driver_class.__module__ == "textual.drivers.linux_driver":
            from aitop.ui.driver import QuietLinuxDriver

            return QuietLinuxDriver
        return driver_class

    def get_default_screen(self) -> OverviewScreen:
        return OverviewScreen(clock=self.clock)

    @property
    def overview(self) -> OverviewScreen:
        """The main screen (the bottom of the screen stack)."""
        overview = self.screen_stack[0]
        assert isinstance(overview, OverviewScreen)  # the default screen, never popped
        return overview

    def on_mount(self) -> None:
        # Back from a suspension (ctrl+z then `fg`, or SIGTSTP/SIGCONT from outside) the terminal shows
        # whatever ran meanwhile, and Textual redraws only what changes: repaint every cell.
        self.app_resume_signal.subscribe(self, lambda _app: self.action_redraw())
        for notice in self._notices:
            self.notify(notice, severity="warning", markup=False)
        if not self.is_headless:
            self._handle_hangup()
        if self.interval is not None:
            self.request_poll()
            self._timer = self.set_interval(self.poll_seconds, self.request_poll)

    def _handle_hangup(self) -> None:
        # Textual installs no SIGHUP handler; exit through the app so a dropped SSH session ends cleanly.
        # (Suppressed: no SIGHUP on this platform, or not the main thread.)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lambda: self.exit(return_code=EXIT_HANGUP))

    async def on_unmount(self) -> None:
        try:
            await self.monitor.aclose()
        except Exception:  # closing must not turn a clean exit into a traceback
            log.exception("closing the monitor failed")

    async def poll_once(self, *, show: bool = False) -> Snapshot:
        """Refresh the monitor once and show the result (unless paused and not `show`).

        The timer runs exactly this, in a worker. While paused the data keeps being collected — history and
        alerts stay complete — and only the display holds still.
        """
        snapshot = await self.monitor.refresh()
        self.latest = snapshot
        if self.monitor.should_ring:  # a new critical alert, and the user asked for the bell (off by default)
            self.bell()
        if self.paused and not show:
            self.held += 1
        else:
            self.show(snapshot)
        if self._settle_heap is not None:
            settle, self._settle_heap = self._settle_heap, None
            self.call_after_refresh(settle)  # e.g. gcpolicy.freeze_startup_heap: what exists now lives on
        return snapshot

    def forget_closed_watchers(self) -> None:
        """Drop closed screens' watchers of the app's reactives (a data screen calls it as it closes).

        Textual forgets them only when the watched value next changes, and the interval may never change
        again: each closed drill-down would stay in memory until then. Announcing each value again does
        it now; the screens still open find their values unchanged.
        """
        self.mutate_reactive(AitopApp.snapshot)
        self.mutate_reactive(AitopApp.paused)
        self.mutate_reactive(AitopApp.held)
        self.mutate_reactive(AitopApp.poll_seconds)

    def show(self, snapshot: Snapshot) -> None:
        """Put `snapshot` on display: every data screen watching `snapshot` shows it."""
        self.snapshot = snapshot

    def request_poll(self, *, show: bool = False) -> bool:
        """Start a poll in the background unless one is still running; True when one was started.

        A timer tick that finds a poll in flight is skipped (and counted), never queued and never allowed to
        cancel it: a poll slower than the interval must still complete. `show` displays the result even
        while paused (a regroup or an explicit refresh asked for it).
        """
        if self._poll_busy:
            self.polls_skipped += 1
            return False
        self._poll_busy = True
        self.run_worker(self._poll_then_release(show), group="poll", exit_on_error=False, description="poll")
        return True

    async def _poll_then_release(self, show: bool) -> Snapshot:
        try:
            return await self.poll_once(show=show)
        finally:
            self._poll_busy = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker (the app's or a screen's) is reported: one line, never a traceback."""
        if event.state is not WorkerState.ERROR:
            return
        worker = event.worker
        what = FAILED_WORK.get(worker.group) or f"{clean(worker.description or worker.group, 60)} failed"
        self.notify(f"{what}: {type(worker.error).__name__}", severity="error", markup=False)

    def action_refresh_now(self) -> None:
        """Poll now instead of waiting for the next tick (and show it, even while paused)."""
        self.request_poll(show=True)

    def action_toggle_pause(self) -> None:
        """Freeze or unfreeze the display; polling goes on, and resuming shows the newest data."""
        if self.paused:
            self.held = 0
            if self.latest is not None and self.latest is not self.snapshot:
                self.show(self.latest)
        self.paused = not self.paused

    def set_poll_interval(self, seconds: float) -> None:
        """Poll every `seconds` from now on."""
        self.poll_seconds = seconds
        if self._timer is not None:
            self._timer.stop()
            self._timer = self.set_interval(seconds, self.request_poll)
        self.notify(f"refresh every {format_interval(seconds)}", timeout=2)

    def action_step_interval(self, step: int) -> None:
        """The next longer (+) or shorter (-) interval of `INTERVALS`."""
        longer = [s for s in INTERVALS if s > self.poll_seconds]
        shorter = [s for s in INTERVALS if s < self.poll_seconds]
        if step > 0 and longer:
            self.set_poll_interval(longer[0])
        elif step < 0 and shorter:
            self.set_poll_interval(shorter[-1])

    def action_cycle_theme(self) -> None:
        """Switch to the next aitop theme (built-in, then user themes)."""
        self.theme = next_theme(self.theme, self.theme_names)
        self.notify(f"theme {self.theme}", timeout=2, markup=False)

    def action_redraw(self) -> None:
        """Repaint every cell of the screen (ctrl+l), not only the ones that changed."""
        self.screen.refresh(layout=True)

    def action_help(self) -> None:
        """Show every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def has_terminal() -> bool:
    """Whether a full-screen UI can run here: both ends are TTYs and TERM is not "dumb"."""
    try:
        ttys = sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False
    return ttys and os.environ.get("TERM", "") != "dumb"


def run_tui(monitor: Monitor, *, interval: float, theme_name: str = DEFAULT_THEME,
            columns: Mapping[str, Sequence[str]] | None = None, config_path: str | None = None) -> int:
    """Run the TUI until the user quits; returns the exit status.

    Refuses (status 2, one-line hint on stderr) without a terminal: Textual would otherwise write
    alternate-screen escapes into a file or pipe and never exit.
    """
    if not has_terminal():
        print(NO_TERMINAL_HINT, file=sys.stderr)
        return 2
    app = AitopApp(monitor, interval=interval, theme_name=theme_name, columns=columns, config_path=config_path,
                   settle_heap=freeze_startup_heap)
    app.run()
    return app.return_code or 0
