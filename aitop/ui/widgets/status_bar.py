"""The status line above the table: where data comes from, whether it is fresh, and how old it is."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from rich.style import Style
from rich.text import Text
from textual.theme import Theme
from textual.widgets import Static

from aitop.model import Snapshot
from aitop.sanitize import clean
from aitop.ui.cells import CRITICAL_MARK, Palette
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
    return health, Text(f"✗ {where}{reason}", Style(color=palette.critical))


def banner_text(snapshot: Snapshot, palette: Palette) -> Text | None:
    """The STALE / DISCONNECTED line, or None while data is fresh."""
    if not snapshot.stale:
        return None
    word = "STALE — showing the last good data" if snapshot.rows else "DISCONNECTED — no data yet"
    reason = clean(snapshot.error or "poll failed", ERROR_WIDTH)
    style = Style(color=palette.critical, bold=True, reverse=True)
    return Text.assemble((f" {CRITICAL_MARK} {word}: ", style), (reason, style), (" ", style), end="")


def status_text(snapshot: Snapshot | None, now: float, palette: Palette) -> Text:
    """The whole status widget content for `snapshot` at time `now` (banner line first when stale)."""
    line = Text(end="", no_wrap=True, overflow="ellipsis")
    line.append("aitop", Style(bold=True))
    if snapshot is None:
        line.append(f"{SEPARATOR}connecting…", Style(color=palette.muted))
        return line
    # Most important first: at 80 columns the tail is cut off with an ellipsis.
    health, failure = _health(snapshot, palette)
    age = Text(f"updated {format_age(now - snapshot.taken_at)} ago")
    if snapshot.stale:
        age.stylize(Style(color=palette.critical, bold=True))
    muted = Style(color=palette.muted)
    schemas = ", ".join(clean(schema, 32) for schema in snapshot.schemas) or "no known schema"
    parts = [
        Text(clean(_source(snapshot))),
        health,
        age,
        Text(f"window {format_age(snapshot.window_seconds)}", muted),
        Text(f"{len(snapshot.rows)} models", muted),
        Text(schemas, muted),
    ]
    if failure is not None:
        parts.append(failure)
    for part in parts:
        line.append(SEPARATOR)
        line.append_text(part)
    banner = banner_text(snapshot, palette)
    if banner is None:
        return line
    return Text("\n", end="", no_wrap=True, overflow="ellipsis").join([banner, line])


class StatusBar(Static):
    """Source, target health, schemas, window and data age; a banner while the data is stale.

    The age is recomputed every second from the injected clock, so it keeps counting between polls.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(markup=False, id=id)
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.text = Text()

    def on_mount(self) -> None:
        self.render_status()
        self.set_interval(1.0, self.render_status)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, _theme: Theme) -> None:
        self.render_status()

    def apply(self, snapshot: Snapshot) -> None:
        """Show `snapshot`'s source and health."""
        self.snapshot = snapshot
        self.render_status()

    def render_status(self) -> None:
        """Recompute the text (the age changes even when the snapshot does not)."""
        palette = palette_from_variables(self.app.theme_variables)
        text = status_text(self.snapshot, self.clock(), palette)
        self.set_class(self.snapshot is not None and self.snapshot.stale, "-stale")
        if text != self.text or str(text.style) != str(self.text.style):
            self.text = text
            self.update(text)
