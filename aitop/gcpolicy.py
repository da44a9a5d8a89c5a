"""The process's garbage-collector policy: a young threshold of 50,000 set by the `aitop` command, the
collector paused while a refresh reads a large answer, and the TUI's startup heap frozen once its first data
is on screen (`freeze_startup_heap`).

Decoding a large answer and assembling its rows allocate tens of thousands of small dicts and lists (the
decoded JSON, the rows' accumulators), none of them in a reference cycle: `paused_gc()` keeps the
collector off meanwhile (about a third of a 1,000-row Prometheus refresh went to collections finding no
cycles), and it runs once afterwards instead.

The rest of a refresh allocates a whole new table too, which the previous one's freeing returns: under
Python's default thresholds (700, 10, 10) that starts dozens of young collections per 1,000-row refresh
and, every few refreshes, a full one over the whole heap, all finding next to nothing. `apply_policy()`
(the `aitop` command, before any command runs) raises the young threshold to 50,000 net new container
objects; the older generations keep the default ratios. Measured (benchmarks.refresh MODE 1000 7 11, 4
alternating rounds, 28 refreshes each, median CPU per refresh): Prometheus mode 202.7 ms at the default,
192.1 at 10,000, 185.1 at 50,000, 185.6 at 200,000; scrape mode 373.9, 249.7, 250.8, 239.8 (its analysis
phase 155.7 -> 31 ms: the full collections of a 1,000-lane heap had landed there).

Memory: reference counting frees everything outside cycles at once, whatever the thresholds; only
garbage in reference cycles waits for a collection, now until 50,000 net new container objects (≈ 200
bytes each: ~10 MiB at worst, plus what they hold) instead of 700. Raising the threshold was tried before and reverted:
the live TUI then made cycles at every refresh — Textual 8.2.8's, each drawn line (`Strip.divide`
caching `[self]` in the strip) and each poll's worker (its task's context holding it, and with it the
snapshot it returned) — and at 2,000 rows RSS reached 650 MiB at 200,000 and ~510–560 at 10,000 and
50,000 against 348 at the default. aitop/ui/textual_cycles.py removes both (what is left: one small httpx
cycle per scrape, and Textual's on rare events such as a re-arrangement or a closed screen). Measured since,
live TUIs at 2,000 rows side by side, Prometheus mode, keys pressed as benchmark item 8 does:
after 5 minutes 334 MiB at the default, 323 at 50,000, 343 at 200,000, each +6.5 to +12.5 % over the last
half, alike; over 10 minutes, 365 MiB at the default and 355 at 50,000, +9.0 and +8.2 % over the last
half (335 -> 365, 328 -> 355). `tests/unit/test_gcpolicy.py` holds the CLI to this threshold.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["YOUNG_THRESHOLD", "apply_policy", "freeze_startup_heap", "paused_gc"]

#: Net new container objects (allocations minus frees) that start a young collection; Python's default is 700.
YOUNG_THRESHOLD = 50_000


def apply_policy() -> None:
    """Set the process-wide collector thresholds (the module docstring says why, and what it costs in
    memory); the older generations keep Python's default ratios (10, 10)."""
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)


_lock = threading.Lock()
_pauses = 0  # threads (or nested blocks) inside `paused_gc` now
_resume = False  # whether the collector was on when the first of them entered


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (reference counting still frees memory)."""
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()


def freeze_startup_heap() -> int:
    """Collect once, then take every object alive now out of the collector's sight; returns how many.

    What a TUI has by its first screen (modules, Textual's widgets, styles and caches) lives as long as the
    process, yet every full collection would traverse it again: in the live TUI at 6 rows one such pass took
    70–150 ms, about a quarter of a minute's CPU, once a minute or so. Frozen, those objects are still freed
    by reference counting when they go; only a reference cycle among them would stay, and the collection
    just before makes sure none is frozen as garbage. Called once, after the first data is on screen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
