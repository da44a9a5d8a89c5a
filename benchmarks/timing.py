"""Small timing helpers shared by the in-process benchmarks."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def cpu_seconds(function: Callable[[], T], *, repeat: int,
                setup: Callable[[], object] | None = None) -> tuple[float, T]:
    """Median CPU time of `function()` (all threads of this process) over `repeat` runs, and its last result.

    `setup()` runs untimed before each run; a collection is forced before each run so garbage left by the
    previous one is not billed to the next.
    """
    times: list[float] = []
    result: T
    for _ in range(repeat):
        if setup is not None:
            setup()
        gc.collect()
        start = time.process_time()
        result = function()
        times.append(time.process_time() - start)
    return statistics.median(times), result
