"""Bounded per-row history of the traffic fields (charts, trends): flat arrays of doubles per row, a ring of
the last recordings within a memory budget for the whole fleet, rows unseen for a while evicted."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping

from aitop.model import TRAFFIC_FIELDS, Snapshot


class _Recordings:
    """One row's recordings as flat arrays of doubles (no Python object per point): a ring of `maxlen`
    times, and for each of them every field of `RECORDED_NAMES` (NaN for an unknown value). A new row gets
    room for `YOUNG_RECORDINGS`; once it has filled them its ring is allocated whole (and again whenever the
    fleet's size changes its length), so a fleet's history takes its memory in its first minute instead of
    growing until every ring is full, while rows that come and go (label churn) never take a whole ring."""

    __slots__ = ("count", "seen", "start", "times", "values")

    def __init__(self, maxlen: int) -> None:
        room = min(maxlen, YOUNG_RECORDINGS)
        self.times = _zeros(room)
        self.values = _zeros(room * _WIDTH)  # room × len(RECORDED_NAMES), one recording after the other
        self.count = 0  # recordings held (the ring's first `count` slots until it is full)
        self.start = 0  # index of the oldest recording once the ring is full
        self.seen = 0  # the History's recording count when the row was last recorded

    def add(self, at: float, values: Mapping[str, float | None], maxlen: int) -> None:
        numbers = array("d", [_NAN if (value := values.get(name)) is None else value for name in RECORDED_NAMES])
        room = len(self.times)
        if room > maxlen or (room < maxlen and self.count == room):  # shorter for the fleet, or full while young
            self._resize(maxlen)
        if self.count < maxlen:
            slot = self.count
            self.count += 1
        else:
            slot = self.start
            self.start = (slot + 1) % maxlen
        self.times[slot] = at
        self.values[slot * _WIDTH:(slot + 1) * _WIDTH] = numbers

    def _order(self) -> list[int]:
        """The slots holding recordings, oldest first."""
        return [*range(self.start, self.count), *range(self.start)]

    def _resize(self, maxlen: int) -> None:
        """A ring of `maxlen` slots keeping the newest `maxlen` recordings (at most), oldest first from slot 0,
        so it goes on filling after them or, full, overwriting from its start."""
        order = self._order()[-maxlen:]
        times, values = _zeros(maxlen), _zeros(maxlen * _WIDTH)
        for new, slot in enumerate(order):
            times[new] = self.times[slot]
            values[new * _WIDTH:(new + 1) * _WIDTH] = self.values[slot * _WIDTH:(slot + 1) * _WIDTH]
        self.times, self.values, self.start, self.count = times, values, 0, len(order)

    def series(self, index: int, since: float | None) -> tuple[tuple[float, float | None], ...]:
        times, values = self.times, self.values
        order = self._order()
        if since is not None:  # newest last: skip the old ones without building their pairs
            first = next((n for n, slot in enumerate(order) if times[slot] >= since), len(order))
            order = order[first:]
        return tuple((times[slot], None if math.isnan(v := values[slot * _WIDTH + index]) else v) for slot in order)


def _zeros(length: int) -> array[float]:
    """`length` doubles, written (so resident) now rather than when first used."""
    return array("d", bytes(8 * length))


_NAN = float("nan")
#: The fields `History` keeps (charts, trends): the traffic fields. The engine fields are read per refresh only,
#: which keeps the ring buffers' memory what it was (see `History`).
RECORDED_NAMES: tuple[str, ...] = tuple(spec.name for spec in TRAFFIC_FIELDS)
_WIDTH = len(RECORDED_NAMES)
_FIELD_INDEX = {name: index for index, name in enumerate(RECORDED_NAMES)}
#: Bytes one recording of one row takes: its time and every recorded field.
RECORDING_BYTES = 8 * (1 + _WIDTH)
#: What the whole history may take: 500 rows keep all 720 recordings (24 minutes at the default 2 s
#: refresh); a larger fleet keeps fewer per row, so memory stops growing once the rings are full instead of
#: growing with the fleet (2,000 rows: 193 recordings, 6.4 minutes).
BUDGET_BYTES = 56 * 1024 * 1024
#: Recordings a new row has room for before its whole ring is allocated (a minute at the default refresh).
YOUNG_RECORDINGS = 32
#: Recordings kept per row whatever the fleet's size: the trend column's 5 minutes at the default refresh.
MIN_RECORDINGS = 150


class History:
    """Bounded per-(row, field) history: the last `maxlen` (time, value) pairs of every row's fields.

    Stored as arrays of doubles per row, not as tuples of floats: 500 rows × 18 fields × 720 recordings is
    52 MB this way and several times that as Python objects (which every garbage collection would also
    walk). A fleet too large for `maxlen` recordings of every row within `budget` bytes keeps fewer per row
    (`ring_length`, never under `MIN_RECORDINGS`), so a large fleet's memory is flat once its rings are full.
    Rows unseen for `evict_after` recordings are dropped, so label churn cannot grow it without bound.
    A value that was unknown (None, or NaN) reads back as None.
    """

    __slots__ = ("_length", "_recordings", "_rows", "_sized_for", "budget", "evict_after", "maxlen")

    def __init__(self, maxlen: int = 720, evict_after: int = 60, budget: int = BUDGET_BYTES) -> None:
        self.maxlen = maxlen
        self.evict_after = evict_after
        self.budget = budget
        self._rows: dict[tuple[str, str], _Recordings] = {}
        self._recordings = 0
        self._sized_for = 0  # the row count `_length` was worked out for
        self._length = maxlen

    def fresh(self) -> History:
        """An empty history kept the same way (length, eviction, budget): what a regrouping or a jump back
        in a replay starts again from."""
        return History(maxlen=self.maxlen, evict_after=self.evict_after, budget=self.budget)

    def ring_length(self, rows: int) -> int:
        """Recordings kept per row in a fleet of `rows` rows. Worked out again only when the count moved by
        more than a tenth: a fleet whose size wavers by a row or two must not reshape every ring each time."""
        if abs(rows - self._sized_for) > self._sized_for // 10:
            self._sized_for = rows
            fitting = self.budget // (max(rows, 1) * RECORDING_BYTES)
            self._length = min(self.maxlen, max(MIN_RECORDINGS, fitting))
        return self._length

    def record(self, snapshot: Snapshot) -> None:
        """Append every row's fields at the snapshot's time."""
        self._recordings += 1
        rows, maxlen = self._rows, self.ring_length(len(snapshot.rows))
        for row in snapshot.rows:
            recordings = rows.get(row.key)
            if recordings is None:
                recordings = rows[row.key] = _Recordings(maxlen)
            recordings.seen = self._recordings
            recordings.add(snapshot.taken_at, row.values, maxlen)
        horizon = self._recordings - self.evict_after
        for key in [key for key, recordings in rows.items() if recordings.seen < horizon]:
            del rows[key]

    def series(self, key: tuple[str, str], name: str,
               since: float | None = None) -> tuple[tuple[float, float | None], ...]:
        """The recorded (time, value) pairs, oldest first (only those at or after `since`, if given); empty
        when the row was never seen or `name` is not a recorded field."""
        recordings = self._rows.get(key)
        index = _FIELD_INDEX.get(name)
        if recordings is None or index is None:
            return ()
        return recordings.series(index, since)

    def keys(self) -> Iterator[tuple[str, str]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)
