"""The process's garbage-collector policy: Python's default thresholds, and the collector paused while a
refresh reads a large answer.

Decoding a large answer and assembling its rows allocate tens of thousands of small dicts and lists (the
decoded JSON, the rows' accumulators), none of them in a reference cycle: `paused_gc()` keeps the
collector off meanwhile (about a third of a 1,000-row Prometheus refresh went to collections finding no
cycles), and it runs once afterwards instead.

The thresholds stay Python's default (700, 10, 10), on purpose. Raising the young threshold removes most
collections from a refresh (200,000: ~15 ms of a 1,000-row Prometheus refresh of ~170), but the live TUI
makes garbage in reference cycles at every refresh — Textual 8's `Strip.adjust_cell_length` keeps a strip
already of the asked length in its own cache (`strip = self`), so each line drawn through it is a cycle only
the collector frees — and fewer collections let it pile up: at 2,000 rows, side by side for 5 minutes with
keys pressed as benchmark item 8 does, RSS reached 650 MiB at 200,000 and ~510–560 MiB at 10,000 and
50,000, against 348 MiB at the default. `tests/unit/test_gcpolicy.py` keeps the
CLI from raising them again without that measurement.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["freeze_startup_heap", "paused_gc"]

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
