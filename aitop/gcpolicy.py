"""The process's garbage-collector policy, and pausing the collector while a refresh reads a large answer.

aitop's refresh allocates a whole new table each time — a 1,000-row Prometheus refresh ~100,000 container
objects (decoded JSON, accumulators, rows, their dicts), almost none in a reference cycle, which the
previous table's freeing then returns. Under Python's default thresholds (700, 10, 10) that starts ~70
young collections per such refresh and, every few refreshes, a full one over the whole heap: measured
back to back with the policy below (headless TUI, 1,000 rows, 60 refreshes, no forced collections),
2,567 young, 233 middle and 21 full collections, 56 ms of GC per refresh (median), against one young
collection in all (115 ms, once). A young collection costs what is alive in the young generation, so the
fix is fewer of them, not smaller ones: `apply_policy()` raises the young threshold to 200,000 net new
container objects — above what one 1,000-row refresh holds at once — so a collection starts only once the
heap has really grown by that much (every ~20–30 refreshes at 1,000 rows, ~140 at 10). `gc.freeze()` of
the start-up heap was measured too and left out: with full collections this rare it saves nothing
measurable.

Memory: reference counting frees everything outside cycles at once, as before. Garbage in cycles (a few
hundred objects per 1,000-row refresh) waits for the next collection of its generation: at most 200,000
net new container objects for the young one (the default: 700; ≈ 200 bytes each, ~40 MiB in the worst
case), and 10 and 100 times that for garbage that had survived a collection first, in the same ratios
as the default's. Measured in the same runs: the one collection freed ~8,400 objects, and RSS after 60
refreshes was 167 MiB against 157 MiB with the default thresholds (+6 %).

`paused_gc()` keeps the collector off while a thread decodes or assembles an answer larger than even
that threshold (5,000 rows), and wherever aitop runs without the policy (as a library, in tests).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["YOUNG_THRESHOLD", "apply_policy", "paused_gc"]

#: Net new container objects (allocations minus frees) that start a young collection; Python's default is 700.
YOUNG_THRESHOLD = 200_000


def apply_policy() -> None:
    """Set the process-wide collector thresholds (see the module docstring for why, and the memory bound).
    The older generations keep Python's default ratios (10, 10): a middle collection every 10 young ones."""
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
