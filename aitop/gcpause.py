"""Pausing Python's cyclic garbage collector while a refresh reads a large answer.

Reading 1,000 rows of answers allocates tens of thousands of small dicts and lists (the decoded JSON, the
rows' accumulators), none of them in a reference cycle. With the collector on, every 700 of them start a
collection of the young generation, and the growth soon a full one over the whole heap: a third of such a
refresh's CPU, spent finding no cycles. Paused, the collector runs once afterwards instead. It stays paused
only while some thread is inside `paused_gc()`, and is switched back on only if it was on before.
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
