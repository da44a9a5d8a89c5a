"""The status line on top of every screen: where data comes from, whether it is fresh, how old it is.

Badges that change what the numbers mean (PAUSED, TLS NOT VERIFIED, firing alerts) come first, so a narrow
terminal cuts the tail of the line, never them. Banners (STALE/DISCONNECTED, partial data) get lines of their
own above it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.theme import Theme
from textual.timer import Timer
from textual.widget import Widget

from aitop.model import Snapshot
from aitop.sanitize import clean
from aitop.sources.prometheus.server import skew_warning
from aitop.ui.alert_text import alert_badge
from aitop.ui.cells import CRITICAL_MARK, WARNING_MARK, Palette
from aitop.ui.themes import palette_from_variables

SEPARATOR = " · "
URL_WIDTH = 48
ERROR_WIDTH = 120


def display_url(url: str, width: int = URL_WIDTH) -> str:
    """`url` safe to show: no user:password, query or fragment (they may hold secrets), capped in length."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return clean(url, width)
    if not parts.scheme or not host:
        return clean(url, width)
    if ":" in host:
        host = f"[{host}]"
    shown = f"{parts.scheme}://{host}{f':{port}' if port is not None else ''}{parts.path}"
    return clean(shown, width)


def format_age(seconds: float) -> str:
    """A short human age: 0s, 42s, 3m, 2h, 5d."""
    if math.isnan(seconds) or seconds < 0:
        return "0s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    if seconds < 86400:
        return f"{seconds // 3600:.0f}h"
    return f"{seconds // 86400:.0f}d"


def _source(snapshot: Snapshot) -> str:
    targets = snapshot.source_targets
    if len(targets) == 1:
        return f"{snapshot.source_kind} {display_url(targets[0])}"
    return f"{snapshot.source_kind} · {len(targets)} targets"


def _target_name(url: str) -> str:
    try:
        parts = urlsplit(url)
        if parts.hostname:
            return clean(f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname, 40)
    except ValueError:
        pass
    return display_url(url, 40)


def _health(snapshot: Snapshot, palette: Palette) -> tuple[Text, Text | None]:
    """The "2/3 up" part and, when a target is down, the first one's error (shown last: it is the longest part)."""
    total = len(snapshot.targets)
    up = snapshot.targets_up
    if total and up == total:
        return Text.assemble(("✓ ", Style(color=palette.ok)), f"{up}/{total} up"), None
    health = Text(f"✗ {up}/{total} up", Style(color=palette.critical, bold=True))
    down = next((target for target in snapshot.targets if not target.up), None)
    if down is None:
        return health, None
    reason = clean(down.error or "down", ERROR_WIDTH)
    where = "" if len(snapshot.source_targets) == 1 else f"{_target_name(down.url)}: "
    if down.down_since is not None:  # when the outage began, local time
        since = time.strftime("%H:%M:%S", time.localtime(down.down_since))
        where = f"{where.removesuffix(': ')} DOWN since {since}: ".lstrip()
    return health, Text(f"✗ {where}{reason}", Style(color=palette.critical))


def banner_text(snapshot: Snapshot, palette: Palette) -> Text | None:
    """The STALE / DISCONNECTED line, or None while data is fresh."""
    # Every target down at the very first poll is not "stale" (there is nothing older to keep), yet it
    # needs the banner most: a UI started against a dead server says so at once.
    down = bool(snapshot.targets) and not snapshot.targets_up and not snapshot.rows
    if not snapshot.stale and not down:
        return None
    word = "STALE — showing the last good data" if snapshot.rows else "DISCONNECTED — no data yet"
    error = snapshot.error or "; ".join(sorted({target.error or "down" for target in snapshot.targets}))
    reason = clean(error or "poll failed", ERROR_WIDTH)
    style = Style(color=palette.critical, bold=True, reverse=True)
    return Text.assemble((f" {CRITICAL_MARK} {word}: ", style), (reason, style), (" ", style), end="")


def partial_text(snapshot: Snapshot, palette: Palette) -> Text | None:
    """The PARTIAL line when the source answered only in part (server warnings), else None."""
    if not snapshot.warnings:
        return None
    style = Style(color=palette.warning, bold=True, reverse=True)
    more = f" (+{len(snapshot.warnings) - 1} more)" if len(snapshot.warnings) > 1 else ""
    first = clean(snapshot.warnings[0], ERROR_WIDTH)
    return Text.assemble((f" {WARNING_MARK} PARTIAL data: ", style), (first, style), (f"{more} ", style), end="")


def _badges(snapshot: Snapshot | None, paused: bool, held: int, palette: Palette, alerts: bool) -> list[Text]:
    badges = []
    if paused:
        new = f" · {held} new" if held else ""
        badges.append(Text(f" PAUSED{new} (p) ", Style(color=palette.warning, bold=True, reverse=True)))
    if snapshot is not None and skew_warning(snapshot.clock_offset):
        # Queries are evaluated at the server's time all the same; this says why times may look shifted.
        side = "+" if snapshot.clock_offset < 0 else "-"
        badges.append(Text(f" CLOCK {side}{abs(snapshot.clock_offset):.0f}s vs server ",
                           Style(color=palette.warning, bold=True, reverse=True)))
    if snapshot is not None and snapshot.source_kind == "replay":  # the numbers are from the past
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(snapshot.taken_at))
        badges.append(Text(f" REPLAY {stamp}Z ", Style(color=palette.warning, bold=True, reverse=True)))
    if snapshot is not None and snapshot.at is not None:  # `--at`: the server's past, not its present
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(snapshot.at))
        badges.append(Text(f" AT {stamp}Z ", Style(color=palette.warning, bold=True, reverse=True)))
    if snapshot is not None and not snapshot.tls_verified:
        # Permanent while checks are off: anyone on the path could be feeding these numbers.
        badges.append(Text(" TLS NOT VERIFIED ", Style(color=palette.critical, bold=True, reverse=True)))
    if alerts and snapshot is not None:
        badge = alert_badge(snapshot.alerts, palette)
        if badge is not None:
            badges.append(badge)
    return badges


def _window(snapshot: Snapshot, shown: float | None = None) -> str:
    """`window 30s`, or `window 1m (asked 10s, 4×15s scrape)` when widened to fit the scrape interval.
    `shown`: the window to state, when not the snapshot's own (see `steady_window`)."""
    text = f"window {format_age(snapshot.window_seconds if shown is None else shown)}"
    asked = snapshot.window_requested_seconds
    if asked is not None and asked != snapshot.window_seconds:
        scrape = f", 4×{format_age(snapshot.scrape_interval)} scrape" if snapshot.scrape_interval else ""
        text += f" (asked {format_age(asked)}{scrape})"
    return text


def steady_window(shown: float | None, measured: float, interval: float | None) -> float:
    """The window the status line states: the one it states already while the measured one stays within
    one refresh interval above it, else the measured one.

    A scrape-mode window runs from the newest scrape at least the asked window before the latest, so it
    measures between the asked window and one interval more (30 s or 32 s at a 2 s refresh, by the phase
    of the scrapes): stated to the second it flipped at every other refresh, and the line was sent to the
    terminal again for nothing. The JSON keeps the measured value.
    """
    if shown is not None and interval is not None and shown <= measured <= shown + interval + 0.5:
        return shown
    return measured


def status_text(snapshot: Snapshot | None, now: float, palette: Palette, *, paused: bool = False, held: int = 0,
                interval: float | None = None, alert_badge: bool = False,
                window: float | None = None) -> Text:  # fmt: skip
    """The whole status widget content for `snapshot` at time `now` (banner lines first).

    `paused` and `held` (snapshots collected since) say the display is frozen; `interval` is the seconds
    between polls (None: no timer). `alert_badge` adds the firing/pending count, for screens where the alert
    sidebar is not showing. `window`: the window to state instead of the snapshot's (`steady_window`).
    """
    line = Text(end="", no_wrap=True, overflow="ellipsis")
    line.append("aitop", Style(bold=True))
    for badge in _badges(snapshot, paused, held, palette, alert_badge):
        line.append(" ")
        line.append_text(badge)
    if snapshot is None:
        line.append(f"{SEPARATOR}connecting…", Style(color=palette.muted))
        return line
    # Most important first: at 80 columns the tail is cut off with an ellipsis.
    health, failure = _health(snapshot, palette)
    age = Text("recording" if snapshot.source_kind == "replay" else "time travel" if snapshot.at is not None
               else f"updated {format_age(now - snapshot.taken_at)} ago")
    if snapshot.stale:
        age.stylize(Style(color=palette.critical, bold=True))
    muted = Style(color=palette.muted)
    schemas = ", ".join(clean(schema, 32) for schema in snapshot.schemas) or "no known schema"
    source = _source(snapshot)
    if snapshot.backend:
        source += f" ({clean(snapshot.backend, 40)})"
    noun = "models" if snapshot.group_by is None else f"{clean(snapshot.group_by, 24)} groups"
    # The age first: it is short and says whether the rest can be trusted, so 80 columns never lose it.
    parts = [age, Text(clean(source)), health, Text(_window(snapshot, window), muted)]
    if interval is not None:
        parts.append(Text(f"every {format_interval(interval)}", muted))
    parts += [Text(f"{len(snapshot.rows)} {noun}", muted), Text(schemas, muted)]
    if failure is not None:
        parts.append(failure)
    for part in parts:
        line.append(SEPARATOR)
        line.append_text(part)
    banners = [b for b in (banner_text(snapshot, palette), partial_text(snapshot, palette)) if b is not None]
    if not banners:
        return line
    return Text("\n", end="", no_wrap=True, overflow="ellipsis").join([*banners, line])


def format_interval(seconds: float) -> str:
    """`500ms`, `2s`, `1m`: the poll interval as typed on the command line."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:g}s"
    return f"{seconds / 60:g}m"


def changed_span(old: Text, new: Text) -> Region | None:
    """The cells where `new` differs from `old` (line, first to last changed cell), when that is all that
    differs — same length, same styles at the same places, one line — else None (repaint it all). The
    age ticking every second then rewrites two characters on the terminal, not the whole line."""
    if len(old.plain) != len(new.plain) or old.spans != new.spans or str(old.style) != str(new.style):
        return None
    changed = [(y, a, b) for y, (a, b) in enumerate(zip(old.plain.split("\n"), new.plain.split("\n"))) if a != b]
    if len(changed) != 1:
        return None
    y, before, after = changed[0]
    start = next(i for i, (x, z) in enumerate(zip(before, after)) if x != z)
    end = len(after) - next(i for i, (x, z) in enumerate(zip(reversed(before), reversed(after))) if x != z)
    return Region(cell_len(after[:start]), y, cell_len(after[start:end]), 1)


class StatusBar(Widget):
    """Source, target health, schemas, window and data age; a banner while the data is stale.

    The age is recomputed every second from the injected clock once the data is overdue, so it keeps
    counting while polls fail or lag. Until then no timer wakes the app: one timer is set for the moment
    the data becomes overdue (a one-second tick cost ~0.2 ms of CPU each, most of an idle TUI's work).
    `alert_badge` is set by the screen: True where no alert sidebar is showing.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.paused = False
        self.held = 0
        self.interval: float | None = None
        self.alert_badge = True
        self.text = Text()
        self.window: float | None = None  # the window stated (`steady_window`)
        self._timer: Timer | None = None
        self._ticking = False  # whether `_timer` is the one-second tick (else a one-shot, or none)

    def on_mount(self) -> None:
        self.render_status()
        self._schedule()
        # Once per mount: the signal keeps every callback it is given (subscribing on each tick once added
        # 86,400 a day, and a theme change then re-rendered the line that many times).
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def on_unmount(self) -> None:
        # The signal holds its subscribers until it next publishes; a closed screen's widgets would stay in
        # memory until the next theme change.
        self.app.theme_changed_signal.unsubscribe(self)

    def _tick(self) -> None:
        """Once a second: count the age on only while the data is overdue (older than the refresh interval
        and a second) or stale. On schedule every refresh shows "updated 0s ago" anyway, and a live display
        then writes nothing to the terminal between refreshes."""
        if self._overdue() is True:
            self.render_status()

    def _overdue(self) -> bool | float | None:
        """True when the age must count on now; else the seconds until it must (None: no data yet)."""
        snapshot, interval = self.snapshot, self.interval
        if snapshot is None:
            return None
        if snapshot.stale or interval is None:
            return True
        left = snapshot.taken_at + interval + 1.0 - self.clock()
        return True if left <= 0 else left

    def _schedule(self) -> None:
        """Tick every second while the data is overdue; otherwise wake once, when it becomes overdue."""
        if not self.is_mounted:
            return
        overdue = self._overdue()
        if overdue is True:
            if not self._ticking:
                self._stop_timer()
                self._timer, self._ticking = self.set_interval(1.0, self._tick_and_schedule), True
            return
        if overdue is None:
            self._stop_timer()
        elif self._ticking or self._timer is None:
            self._stop_timer()
            self._timer = self.set_timer(overdue, self._tick_and_schedule)
        # else a one-shot is already set: it finds the data fresher when it fires, and sets itself again

    def _tick_and_schedule(self) -> None:
        self._tick()
        if not self._ticking:  # the one-shot: from now on tick every second (or wait again)
            self._timer = None
            self._schedule()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer, self._ticking = None, False

    def _on_theme_changed(self, _theme: Theme) -> None:
        self.render_status()

    def apply(self, snapshot: Snapshot) -> None:
        """Show `snapshot`'s source and health."""
        self.snapshot = snapshot
        self.window = steady_window(self.window, snapshot.window_seconds, self.interval)
        self.render_status()
        self._schedule()

    def show_poll_state(self, *, paused: bool, held: int, interval: float | None) -> None:
        """Show whether the display is paused (and how many snapshots came since), and the poll interval."""
        self.paused, self.held, self.interval = paused, held, interval
        self.render_status()
        self._schedule()

    def show_alert_badge(self, show: bool) -> None:
        """Count firing alerts in the line (when the sidebar that lists them is hidden)."""
        if show == self.alert_badge:  # asked on every refresh; the line is made again only for a change
            return
        self.alert_badge = show
        self.render_status()

    def render_status(self) -> None:
        """Recompute the text (the age changes even when the snapshot does not)."""
        palette = palette_from_variables(self.app.theme_variables)
        text = status_text(self.snapshot, self.clock(), palette, paused=self.paused, held=self.held,
                           interval=self.interval, alert_badge=self.alert_badge, window=self.window)  # fmt: skip
        self.set_class(self.snapshot is not None and self.snapshot.stale, "-stale")
        if text != self.text or str(text.style) != str(self.text.style):
            # Only a banner appearing or going changes the height; a new age or count does not.
            relayout = text.plain.count("\n") != self.text.plain.count("\n")
            span = None if relayout else changed_span(self.text, text)
            self.text = text
            if span is not None:
                self.refresh(span)
            else:
                self.refresh(layout=relayout)

    def render(self) -> Text:
        return self.text
