"""The ring-buffered history: within its memory budget at any fleet size, in order through resizes."""

from __future__ import annotations

from aitop.history import MIN_RECORDINGS, RECORDING_BYTES, YOUNG_RECORDINGS, History
from aitop.model import Row, Snapshot


def fleet(at: float, count: int) -> Snapshot:
    rows = tuple(Row("vllm", f"m{n}", "model_name", {"request_rate": at + n}) for n in range(count))
    return Snapshot(at, 30, "scrape", (), (), rows)


def stored_bytes(history: History) -> int:
    return sum(8 * (len(ring.times) + len(ring.values)) for ring in history._rows.values())


def test_a_large_fleet_keeps_fewer_recordings_within_the_budget_and_memory_stops_growing() -> None:
    history = History(maxlen=720, budget=100 * 200 * RECORDING_BYTES)
    sizes = []
    for at in range(400):
        history.record(fleet(float(at), 100))
        sizes.append(stored_bytes(history))
    assert history.ring_length(100) == 200
    assert sizes[199] == sizes[-1] == 100 * 200 * RECORDING_BYTES  # full at 200 recordings, flat after
    points = history.series(("vllm", "m7"), "request_rate")
    assert [at for at, _ in points] == [float(at) for at in range(200, 400)]
    assert [value for _, value in points] == [at + 7.0 for at in range(200, 400)]


def test_a_small_fleet_keeps_every_recording_and_the_floor_holds_for_a_huge_one() -> None:
    history = History(maxlen=720, budget=1_000_000)
    assert history.ring_length(3) == 720
    assert History(maxlen=720, budget=1_000_000).ring_length(100_000) == MIN_RECORDINGS


def test_rings_shrink_and_grow_with_the_fleet_keeping_the_newest_in_order() -> None:
    history = History(maxlen=720, budget=MIN_RECORDINGS * 2 * 50 * RECORDING_BYTES)  # 50 rows: 300 each
    for at in range(500):  # 10 rows: 720 each (budget allows 1,500), the ring wraps
        history.record(fleet(float(at), 10))
    for at in range(500, 900):  # 50 rows: 300 each, the wrapped rings cut to their newest 300
        history.record(fleet(float(at), 50))
    assert [at for at, _ in history.series(("vllm", "m3"), "request_rate")] == [float(at) for at in range(600, 900)]
    for at in range(900, 1000):  # back to 10 rows: the rings grow again by appending, still in order
        history.record(fleet(float(at), 10))
    times = [at for at, _ in history.series(("vllm", "m3"), "request_rate")]
    assert times == [float(at) for at in range(600, 1000)]
    assert history.series(("vllm", "m3"), "request_rate", since=995.0)[0] == (995.0, 998.0)


def test_a_fleet_wavering_by_a_row_keeps_its_ring_length() -> None:
    history = History(maxlen=720, budget=100 * 200 * RECORDING_BYTES)
    lengths = {history.ring_length(100 + at % 2) for at in range(10)}
    assert lengths == {200}


def test_fresh_keeps_the_settings_and_nothing_else() -> None:
    history = History(maxlen=9, evict_after=4, budget=12345)
    history.record(fleet(1.0, 2))
    fresh = history.fresh()
    assert (fresh.maxlen, fresh.evict_after, fresh.budget, len(fresh)) == (9, 4, 12345, 0)


def test_a_row_takes_its_whole_ring_once_past_its_first_minute_so_memory_is_flat_from_then() -> None:
    history = History(maxlen=720, budget=100 * 200 * RECORDING_BYTES)
    sizes = []
    for at in range(300):
        history.record(fleet(float(at), 100))
        sizes.append(stored_bytes(history))
    assert sizes[0] == 100 * YOUNG_RECORDINGS * RECORDING_BYTES  # a new row: room for its first minute
    whole = sizes[YOUNG_RECORDINGS]  # not a 200th of it a refresh for 200 refreshes
    assert whole == sizes[-1] == 100 * 200 * RECORDING_BYTES and set(sizes[YOUNG_RECORDINGS:]) == {whole}
    assert [at for at, _ in history.series(("vllm", "m9"), "request_rate")][:2] == [100.0, 101.0]


def test_a_churning_fleet_keeps_its_memory_bounded() -> None:
    history = History(maxlen=720, evict_after=10, budget=20 * 200 * RECORDING_BYTES)
    sizes = []
    for at in range(400):  # 20 rows, one of them renamed every refresh (400 names in all)
        rows = tuple(Row("vllm", f"m{at - n}", "model_name", {"request_rate": 1.0}) for n in range(20))
        history.record(Snapshot(float(at), 30, "scrape", (), (), rows))
        sizes.append((len(history), stored_bytes(history)))
    assert max(count for count, _ in sizes) <= 20 + 10 + 1
    assert sizes[-1] == sizes[100]  # rows seen long ago are dropped: the same rows, the same bytes
    # A row living 20 refreshes never takes its whole ring (200 recordings): room for its first minute only.
    assert all(len(ring.times) < history.ring_length(20) == 200 for ring in history._rows.values())
