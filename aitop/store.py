"""Per-target scrape history in raw-scrape mode, and counter increases over a window with resets handled.

Each counter series keeps a reset-adjusted running value (`raw + offset`; on a reset the offset becomes the
last adjusted value, so the restart counts from there). The increase between any two scrapes is then one
subtraction — the same total as summing pairwise increases with Prometheus's reset rule (a drop, or a
changed `_created`, restarts the count from zero), without walking every scrape in the window.
Histogram buckets reset together: a drop in a histogram's `_count` or a new `_created` resets all of them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from aitop.sources.exposition import SeriesKey

_COUNTERISH_SUFFIXES = ("_bucket", "_count", "_sum")


@dataclass(frozen=True, slots=True)
class Frame:
    """One successful scrape: when it happened and the adjusted value of every series."""

    monotonic: float
    wall: float
    values: dict[SeriesKey, float]


@dataclass(slots=True)
class _SeriesState:
    raw: float
    last_seen: float
    offset: float = 0.0
    created: float | None = None


def _reset_group(key: SeriesKey) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Series that reset together share a group: a histogram's buckets/_sum/_count, or a counter alone."""
    name, labels = key
    for suffix in _COUNTERISH_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], tuple(pair for pair in labels if pair[0] != "le")
    return name.removesuffix("_total"), labels


@dataclass(slots=True)
class TargetWindow:
    """The recent scrapes of one target, trimmed to what a `window`-long rate needs."""

    window: float
    frames: deque[Frame] = field(default_factory=deque)
    latest_raw: dict[SeriesKey, float] = field(default_factory=dict)  # gauges are read as they are
    _state: dict[SeriesKey, _SeriesState] = field(default_factory=dict)

    def add(self, monotonic: float, wall: float, samples: dict[SeriesKey, float]) -> None:
        """Record a scrape. `_created` samples are consumed here as reset signals, not stored."""
        created: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        values: dict[SeriesKey, float] = {}
        for (name, labels), value in samples.items():
            if name.endswith("_created"):
                created[(name[: -len("_created")], labels)] = value
            else:
                values[(name, labels)] = value
        reset_groups = self._reset_groups(values, created)
        adjusted: dict[SeriesKey, float] = {}
        state = self._state
        for key, raw in values.items():
            previous = state.get(key)
            group = _reset_group(key)
            if previous is None:
                state[key] = _SeriesState(raw=raw, last_seen=monotonic, created=created.get(group))
                adjusted[key] = raw
                continue
            if group in reset_groups or raw < previous.raw:
                previous.offset += previous.raw
            previous.raw = raw
            previous.last_seen = monotonic
            previous.created = created.get(group, previous.created)
            adjusted[key] = raw + previous.offset
        self.frames.append(Frame(monotonic=monotonic, wall=wall, values=adjusted))
        self.latest_raw = values
        self._trim()
        # A series that left the page is remembered while a frame of the window still holds it (so a brief
        # gap is not mistaken for a reset), then forgotten: label churn cannot grow the state without bound.
        oldest = self.frames[0].monotonic
        for key in [key for key, series in state.items() if series.last_seen < oldest]:
            del state[key]

    def _reset_groups(self, values: dict[SeriesKey, float], created: dict) -> set:
        groups = set()
        for group, stamp in created.items():
            for suffix in ("_count", "_total", ""):
                key = (group[0] + suffix, group[1])
                known = self._state.get(key)
                if known is not None and known.created is not None and known.created != stamp:
                    groups.add(group)
        for (name, labels), raw in values.items():
            if name.endswith("_count"):
                known = self._state.get((name, labels))
                if known is not None and raw < known.raw:
                    groups.add(_reset_group((name, labels)))
        return groups

    def _trim(self) -> None:
        # Keep the newest frame at least `window` older than the latest (the base), and everything after it.
        latest = self.frames[-1].monotonic
        while len(self.frames) >= 2 and self.frames[1].monotonic <= latest - self.window:
            self.frames.popleft()

    @property
    def latest(self) -> Frame | None:
        return self.frames[-1] if self.frames else None

    @property
    def base(self) -> Frame | None:
        """The frame the window's increases are measured from; None until there are two scrapes."""
        return self.frames[0] if len(self.frames) >= 2 else None

    @property
    def elapsed(self) -> float:
        base, latest = self.base, self.latest
        return latest.monotonic - base.monotonic if base and latest else 0.0

    def increase(self, key: SeriesKey) -> float | None:
        """How much a counter series grew over the window; None when it has no earlier sample to compare."""
        latest = self.latest
        if latest is None or len(self.frames) < 2 or key not in latest.values:
            return None
        now = latest.values[key]
        for frame in self.frames:
            if frame is latest:
                return None
            then = frame.values.get(key)
            if then is not None:
                return now - then
        return None
