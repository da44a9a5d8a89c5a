"""A recording as a target: the collector that replays it through the live scrape path's store and rows.

Each recorded scrape is added to the target's `TargetWindow` with its recorded time as both clocks, so rates,
resets and percentiles come from exactly the code that computes them live. The replay stands at one instant,
`position` (unix time): `aitop snapshot FILE --at T` computes the window ending there; the TUI moves it with
the replay keys (play, pause, step, seek, speed).
"""

from __future__ import annotations

import bisect
import math
import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime

from aitop.catalog import Schema, builtin_schemas
from aitop.markers import MarkerLog, model_labels
from aitop.model import Row, TargetHealth
from aitop.recording.reader import Recording, RecordingError, rfc3339
from aitop.rows import RowBuilder, RowCache, TargetData
from aitop.sources.base import Collected, CollectorBase, plain_label_names
from aitop.store import TargetWindow

_RELATIVE = re.compile(r"-\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_at(text: str, *, now: float) -> float:
    """An instant: RFC 3339 (`2026-12-05T03:12:00Z`), unix seconds, or `-2h` before `now`."""
    value = text.strip()
    relative = _RELATIVE.fullmatch(value)
    if relative:
        return now - float(relative.group(1)) * _UNITS[relative.group(2)]
    try:
        stamp = float(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise RecordingError(
                f"--at {value[:40]!r}: expected RFC 3339 (2026-12-05T03:12:00Z), unix seconds, or -DURATION (-2h)"
            ) from None
        if parsed.tzinfo is None:
            raise RecordingError(f"--at {value[:40]!r}: give a time zone (Z or +01:00)") from None
        stamp = parsed.timestamp()
    if not math.isfinite(stamp):
        raise RecordingError(f"--at {value[:40]!r}: not a time")
    return stamp


class ReplayCollector(CollectorBase):
    """A `Collector` over a recording, standing at `position` (default: the recording's end)."""

    kind = "replay"

    def __init__(
        self,
        recording: Recording,
        *,
        window: float = 30.0,
        at: float | None = None,
        schemas: Sequence[Schema] | None = None,
    ) -> None:
        self.recording = recording
        self.targets = (recording.path,)
        self.window_seconds = window
        self.group_by: str | None = None
        self.schemas = tuple(schemas) if schemas is not None else builtin_schemas()
        if at is not None and not recording.start <= at <= recording.end:
            raise RecordingError(
                f"--at {rfc3339(at)} is outside the recording ({rfc3339(recording.start)} to {rfc3339(recording.end)})"
            )
        self.position = recording.end if at is None else at
        self.at_given = at is not None
        self._times = sorted({stamp for target in recording.targets.values() for stamp in target.times})
        self.playing = False
        self.speed = 1.0
        self._played_at: float | None = None  # monotonic time of the last advance while playing
        self._fed: dict[str, int] = {}  # instance -> index of the last scrape added to its window
        self._windows: dict[str, TargetWindow] = {}
        self._plans = {instance: RowCache() for instance in recording.targets}
        #: Restarts and deployments in the scrapes replayed so far, for the drill-down's chart markers.
        self.markers: MarkerLog = MarkerLog(model_labels(self.schemas))

    def seek(self, position: float) -> None:
        """Stand at `position` (clamped to the recording)."""
        self.position = min(max(position, self.recording.start), self.recording.end)

    def next_scrape(self, after: float) -> float | None:
        """The time of the first recorded scrape after `after`, None at the end."""
        index = bisect.bisect_right(self._times, after)
        return self._times[index] if index < len(self._times) else None

    def previous_scrape(self, before: float) -> float | None:
        """The time of the last recorded scrape before `before`, None at the start."""
        index = bisect.bisect_left(self._times, before) - 1
        return self._times[index] if index >= 0 else None

    def play(self, playing: bool) -> None:
        """Start or stop moving `position` forward at `speed` × real time."""
        self.playing = playing
        self._played_at = time.monotonic() if playing else None

    def _advance(self) -> None:
        if not self.playing:
            return
        now = time.monotonic()
        if self._played_at is not None:
            self.seek(self.position + (now - self._played_at) * self.speed)
            if self.position >= self.recording.end:
                self.playing = False
        self._played_at = now

    def _feed(self) -> None:
        """Bring every target's window to `position`: forward by adding scrapes, else rebuilt from the
        scrape that starts the window."""
        for instance, scrapes in self.recording.targets.items():
            last = scrapes.last_at(self.position)
            fed = self._fed.get(instance, -1)
            if last < fed or instance not in self._windows:
                self._windows[instance], fed = TargetWindow(self.window_seconds), -1
                self.markers.forget(instance)
            if last == fed:
                continue
            if fed == -1 and last >= 0:  # start at the newest scrape at least a window before `last`
                fed = max(scrapes.last_at(scrapes.times[last] - self.window_seconds), 0) - 1
            window = self._windows[instance]
            for index in range(fed + 1, last + 1):
                samples = scrapes.samples[index]
                self.markers.observe(instance, scrapes.times[index], samples)
                if samples is not None:
                    window.add(scrapes.times[index], scrapes.times[index], samples)
                    if len(window.frames) == 1:
                        # Plan the rows now, as a live collector does after its first scrape: the window then
                        # keeps the readings of averaged gauges (a per-query cost) from the next scrape on.
                        RowBuilder(self.schemas, group_by=self.group_by).add_target(
                            TargetData(instance, window, True, None))
            self._fed[instance] = last

    def _health(self, instance: str) -> TargetHealth:
        scrapes = self.recording.targets[instance]
        last = scrapes.last_at(self.position)
        if last < 0:
            return TargetHealth(instance, "replay", up=False, error="not scraped yet at this point of the recording")
        if scrapes.samples[last] is None:
            return TargetHealth(instance, "replay", up=False, error="down at this point of the recording (up 0)")
        return TargetHealth(instance, "replay", up=True, error=None, last_success=scrapes.times[last])

    def _build(self, builder: RowBuilder, plans: Mapping[str, RowCache] | None = None) -> RowBuilder:
        for instance in self.recording.targets:
            window = self._windows.get(instance)
            if window is not None and window.frames:
                up = self._health(instance).up
                builder.add_target(TargetData(instance, window, up, plans[instance] if plans else None))
        return builder

    async def collect(self) -> Collected:
        self._advance()
        self._feed()
        builder = self._build(RowBuilder(self.schemas, group_by=self.group_by), self._plans)
        elapsed = max((window.elapsed for window in self._windows.values()), default=0.0)
        return Collected(
            taken_at=self.position,
            window_seconds=elapsed,
            rows=tuple(builder.rows()),
            targets=tuple(self._health(instance) for instance in self.recording.targets),
            schemas=tuple(sorted(builder.detected)),
            labels=plain_label_names(builder.label_names()),
            warnings=self.recording.notes,
            backend=f"{'▶' if self.playing else '⏸'} {self.speed:g}×",
        )

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        builder = RowBuilder(self.schemas, group_by=label, within=key, within_group_by=self.group_by)
        return tuple(self._build(builder).rows())

    async def metric_names(self) -> dict[str, set[str]]:
        """{target: the metric names on its latest page replayed so far}, for `aitop detect` on a recording."""
        return {
            instance: {name for name, _ in window.latest.values} if window.latest else set()
            for instance, window in self._windows.items()
        }

    # `history` (None) and `aclose` are CollectorBase's: the monitor's ring buffers hold what was replayed.


def open_replay(config) -> ReplayCollector:
    """The replay of `config.recording` at `config.at` (a `Config`; relative `--at` counts back from the
    recording's end). Raises `RecordingError` (a `ConfigError` to the command line) when it cannot be read."""
    from aitop.recording.reader import read_recording

    recording = read_recording(config.recording)
    at = parse_at(config.at, now=recording.end) if config.at is not None else None
    return ReplayCollector(recording, window=config.window, at=at, schemas=config.schemas)
