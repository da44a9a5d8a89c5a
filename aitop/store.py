"""Per-target scrape history in raw-scrape mode, and counter increases over a window with resets handled.

Each counter series keeps a reset-adjusted running value (`raw + offset`; on a reset the offset becomes the
last adjusted value, so the restart counts from there). The increase between any two scrapes is then one
subtraction — the same total as summing pairwise increases with Prometheus's reset rule (a drop, or a
changed `_created`, restarts the count from zero), without walking every scrape in the window.
Histogram buckets reset together: a drop in a histogram's `_count` or a new `_created` resets all of them.

Memory: a frame holds its values in a flat array of doubles laid out by a `key -> position` index that
consecutive frames share while the set of series stays the same (the usual case), so a 30 s window of
16 scrapes costs 8 bytes per series per scrape, and every frame refers to the same key objects.

A scrape of the same series in the same order as the previous one (the usual case) is added with array
arithmetic over that layout (`_add_again`: values, drops, offsets) instead of a walk over every series'
state, which is brought up to date only when a scrape that needs the walk comes (`_sync`).

How this window compares with Prometheus's extrapolating `rate()`: docs/architecture.md.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import compress
from operator import add, lt
from typing import TypeVar, overload

from aitop.series import SeriesKey

_COUNTERISH_SUFFIXES = ("_bucket", "_count", "_sum")
_COUNTER_SUFFIXES = ("_total", "_bucket", "_count")

#: Series key -> position in a frame's array; shared by the frames of one set of series.
Layout = dict[SeriesKey, int]

_Default = TypeVar("_Default")


class FrameValues(Mapping[SeriesKey, float]):
    """A read-only `key -> value` view of one frame's array."""

    __slots__ = ("_layout", "_data")

    def __init__(self, layout: Layout, data: array) -> None:
        self._layout = layout
        self._data = data

    def __getitem__(self, key: SeriesKey) -> float:
        return self._data[self._layout[key]]

    @overload
    def get(self, key: SeriesKey, /) -> float | None: ...

    @overload
    def get(self, key: SeriesKey, default: float | _Default, /) -> float | _Default: ...

    def get(self, key: SeriesKey, default: object = None, /) -> object:
        position = self._layout.get(key)
        return default if position is None else self._data[position]

    def __contains__(self, key: object) -> bool:
        return key in self._layout

    def __iter__(self) -> Iterator[SeriesKey]:
        return iter(self._layout)

    def __len__(self) -> int:
        return len(self._layout)


@dataclass(frozen=True, slots=True)
class Frame:
    """One successful scrape: when it happened and the adjusted value of every series."""

    monotonic: float
    wall: float
    layout: Layout
    data: array  # adjusted values, by `layout` position
    #: The readings of the gauges averaged over the window (`TargetWindow.averaged`), as scraped.
    kept: Mapping[SeriesKey, float] | None = None

    @property
    def values(self) -> FrameValues:
        return FrameValues(self.layout, self.data)


@dataclass(slots=True)
class _SeriesState:
    key: SeriesKey  # the one key object every frame's layout uses for this series
    group: tuple[str, tuple[tuple[str, str], ...]]  # the series that reset with it (`_reset_group`)
    raw: float
    last_seen: float
    offset: float = 0.0
    created: float | None = None
    position: int = 0  # in the latest frame's layout


@dataclass(slots=True)
class _Repeat:
    """The latest scrape's shape, for a scrape of the same series in the same order (`_add_again`)."""

    order: list[SeriesKey]  # the sample keys as scraped, `_created` ones included
    layout: Layout
    values: list[bool] | None  # per sample: not a `_created` one (None: the page has none)
    created: list[bool]  # per sample: a `_created` one
    stamps: list[float]  # the `_created` values, in page order
    offsets: array  # each series' reset offset, by layout position
    counter: list[bool]  # by layout position: a counter (its drop is a restart)
    count: list[bool]  # by layout position: a histogram's `_count` (its drop resets its group)


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
    _raw: array = field(default_factory=lambda: array("d"))  # the latest scrape's raw values, by layout
    _state: dict[SeriesKey, _SeriesState] = field(default_factory=dict)
    #: Gauges whose every reading in the window is kept, for their mean (a per-query cost): the row builder
    #: names them when it plans. Only these: keeping every series' readings would double the store.
    averaged: set[SeriesKey] = field(default_factory=set)
    #: Unix time of the first scrape, and of the latest scrape in which a counter restarted from zero: the
    #: window is unbroken only from the later of the two (the row builder passes it on as `Row.data_since`).
    started_wall: float | None = None
    reset_wall: float | None = None
    _repeat: _Repeat | None = None  # what a scrape of the same series in the same order can skip (`_add_again`)
    _pending: float | None = None  # set by `_add_again`: `_state` lags the arrays, as of this monotonic time

    @property
    def data_since(self) -> float | None:
        """Unix time from which this target's window holds unbroken data (None before the first scrape)."""
        if self.started_wall is None:
            return None
        return self.started_wall if self.reset_wall is None else max(self.started_wall, self.reset_wall)

    @property
    def latest_raw(self) -> Mapping[SeriesKey, float]:
        """The latest scrape's values as scraped (gauges are read as they are)."""
        return FrameValues(self.frames[-1].layout, self._raw) if self.frames else {}

    @property
    def raw(self) -> array:
        """The latest scrape's values as scraped, by position in the latest frame's layout."""
        return self._raw

    def add(self, monotonic: float, wall: float, samples: dict[SeriesKey, float]) -> None:
        """Record a scrape. `_created` samples are consumed here as reset signals, not stored."""
        order = list(samples)
        repeat = self._repeat
        if repeat is not None and order == repeat.order and self._add_again(monotonic, wall, samples, repeat):
            return
        self._sync()
        self._add(monotonic, wall, samples)
        self._repeat = self._repeat_of(order, samples)

    def _repeat_of(self, order: list[SeriesKey], samples: dict[SeriesKey, float]) -> _Repeat | None:
        layout = self.frames[-1].layout
        is_created = [key[0].endswith("_created") for key in order]
        stored = list(compress(order, [not flag for flag in is_created])) if any(is_created) else order
        if list(layout) != stored:
            return None  # a layout kept from a page in another order: positions are not the page's order
        previous = self._repeat
        if previous is not None and previous.layout is layout:
            counter, count = previous.counter, previous.count
        else:
            counter = [key[0].endswith(_COUNTER_SUFFIXES) for key in layout]
            count = [key[0].endswith("_count") for key in layout]
        state = self._state
        return _Repeat(
            order, layout, [not flag for flag in is_created] if any(is_created) else None, is_created,
            list(compress(samples.values(), is_created)), array("d", [state[key].offset for key in layout]),
            counter, count,
        )

    def _add(self, monotonic: float, wall: float, samples: dict[SeriesKey, float]) -> None:
        created: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        values: dict[SeriesKey, float] = {}
        for key, value in samples.items():
            name = key[0]
            if name.endswith("_created"):
                created[(name[: -len("_created")], key[1])] = value
            else:
                values[key] = value
        reset_groups = self._reset_groups(values, created)
        previous_layout = self.frames[-1].layout if self.frames else None
        same = previous_layout is not None and previous_layout.keys() == values.keys()
        layout: Layout = previous_layout if same else {}  # type: ignore[assignment]
        adjusted = array("d", bytes(8 * len(values)))
        raws = array("d", bytes(8 * len(values)))
        state = self._state
        if self.started_wall is None:
            self.started_wall = wall
        reset = bool(reset_groups)
        for index, (key, raw) in enumerate(values.items()):
            series = state.get(key)
            if series is None:
                group = _reset_group(key)
                series = state[key] = _SeriesState(key, group, raw, monotonic, created=created.get(group))
                value = raw
            else:
                if raw < series.raw or series.group in reset_groups:
                    series.offset += series.raw
                    # Gauges drop all the time (their offset is never read); a counter dropping is a restart.
                    reset = reset or key[0].endswith(_COUNTER_SUFFIXES)
                series.raw = raw
                series.last_seen = monotonic
                if created:
                    series.created = created.get(series.group, series.created)
                value = raw + series.offset
            if not same:
                series.position = layout[series.key] = index
            adjusted[series.position] = value
            raws[series.position] = raw
        if reset:
            self.reset_wall = wall
        averaged = self.averaged
        kept = {key: values[key] for key in averaged if key in values} if averaged else None
        self.frames.append(Frame(monotonic, wall, layout, adjusted, kept))
        self._raw = raws
        self._trim()
        # A series that left the page is remembered while a frame of the window still holds it (so a brief
        # gap is not mistaken for a reset), then forgotten: label churn cannot grow the state without bound.
        if len(state) > len(values):  # else every series is on the latest page
            oldest = self.frames[0].monotonic
            for key in [key for key, series in state.items() if series.last_seen < oldest]:
                del state[key]

    # -- the same series again: array arithmetic instead of a walk over every series' state --------------


    def _add_again(self, monotonic: float, wall: float, samples: dict[SeriesKey, float], repeat: _Repeat) -> bool:
        """`_add` of a scrape whose series (and their order) are the latest scrape's, when no `_created`
        changed, no histogram `_count` dropped and no other series is remembered; False (nothing done)
        otherwise. The per-series state is brought up to date only when a later scrape needs it (`_sync`)."""
        if len(self._state) != len(repeat.layout):
            # Series of earlier pages are still remembered: their `_created` may be stale, which `_add` reads
            # as a reset of their group, and their state is to be forgotten in time. Rare; the walk does both.
            return False
        values = samples.values()
        if repeat.values is None:
            raws = array("d", values)
        else:
            readings = list(values)
            if list(compress(readings, repeat.created)) != repeat.stamps:
                return False  # a new `_created`: a reset for `_add` to judge
            raws = array("d", compress(readings, repeat.values))
        previous = self._raw
        drops = list(compress(range(len(raws)), map(lt, raws, previous)))
        count = repeat.count
        if any(count[index] for index in drops):
            return False  # a histogram's `_count` dropped: all its series reset, for `_add` to judge
        offsets, counter = repeat.offsets, repeat.counter
        reset = False
        for index in drops:
            offsets[index] += previous[index]
            reset = reset or counter[index]
        if reset:
            self.reset_wall = wall
        layout = repeat.layout
        averaged = self.averaged
        kept = {key: raws[layout[key]] for key in averaged if key in layout} if averaged else None
        self.frames.append(Frame(monotonic, wall, layout, array("d", map(add, raws, offsets)), kept))
        self._raw = raws
        self._pending = monotonic
        self._trim()
        return True

    def _sync(self) -> None:
        """Bring every series' state up to the arrays `_add_again` kept."""
        if self._pending is None or self._repeat is None:
            return
        state, raws, offsets = self._state, self._raw, self._repeat.offsets
        for key, position in self._repeat.layout.items():
            series = state[key]
            series.raw, series.offset, series.last_seen = raws[position], offsets[position], self._pending
        self._pending = None

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

    def mean(self, key: SeriesKey) -> float | None:
        """A gauge's mean over the window's scrapes (Prometheus `avg_over_time`): every scrape after the base
        frame (or the only one) that kept its reading, and always the latest; NaN readings are skipped. None
        when the latest scrape does not hold the series. Readings are kept only for keys in `averaged`."""
        frames = self.frames
        if not frames or key not in frames[-1].layout:
            return None
        total, count = 0.0, 0
        readings = [frame.kept.get(key) if frame.kept else None for frame in list(frames)[1:-1]]
        readings.append(self.latest_raw[key])  # kept or not (the key may have been named after this scrape)
        for value in readings:
            if value is not None and value == value:
                total += value
                count += 1
        return total / count if count else None

    def increase(self, key: SeriesKey) -> float | None:
        """How much a counter series grew over the window; None when it has no earlier sample to compare."""
        frames = self.frames
        if len(frames) < 2:
            return None
        latest = frames[-1]
        layout = latest.layout
        position = layout.get(key)
        if position is None:
            return None
        now = latest.data[position]
        for frame in frames:
            if frame is latest:
                return None
            # Frames of the same set of series share the layout, so the position holds.
            at = position if frame.layout is layout else frame.layout.get(key)
            if at is not None:
                return now - frame.data[at]
        return None
