"""The process's garbage-collector policy: Python's default thresholds, and the collector paused while a
refresh reads a large answer.

Decoding a large answer and assembling its rows allocate tens of thousands of small dicts and lists (the
decoded JSON, the rows' accumulators), none of them in a reference cycle: `paused_gc()` keeps the
collector off meanwhile (about a third of a 1,000-row Prometheus refresh went to collections finding no
cycles), and it runs once afterwards instead.

The thresholds stay Python's default (700, 10, 10), on purpose. Raising the young threshold removes most
collections from a refresh (200,000: ~15 ms of a 1,000-row Prometheus refresh of ~170), but the live TUI
made garbage in reference cycles at every refresh, and fewer collections let it pile up: at 2,000 rows,
side by side for 5 minutes with keys pressed as benchmark item 8 does, RSS reached 650 MiB at 200,000 and
~510–560 MiB at 10,000 and 50,000, against 348 MiB at the default. Those cycles were Textual 8.2.8's: each
line the compositor drew (`Strip.divide` caching `[self]` in the strip) and each poll's worker (its task's
context holding it, and with it the snapshot it returned). aitop/ui/textual_cycles.py removes both; the
live TUI now leaves no cyclic garbage at a refresh (the scrape collector's httpx responses aside, one small
cycle per scrape). `tests/unit/test_gcpolicy.py` keeps the CLI from raising the thresholds without a
measurement.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]

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
