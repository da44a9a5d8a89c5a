"""`aitop watch`: refresh like the TUI and print one JSON snapshot per line, for scripts and for testing
alert lifecycles from outside (warm-up, `for` and `keep_firing_for` apply as in the TUI)."""

from __future__ import annotations

import asyncio
import sys

from aitop.config import Config
from aitop.monitor import Monitor
from aitop.ops_config import attach
from aitop.output import to_json_line
from aitop.sources.factory import open_collector


async def watch(config: Config, count: int | None) -> int:
    """Refresh every interval as the TUI does (warm-up, `for`, `keep_firing_for`) and print JSON lines."""
    monitor = Monitor(await open_collector(config), analysis=config.analysis, warmup=True)
    attach(monitor, config.ops, http=config.http, timeout=config.timeout)
    if hasattr(monitor.collector, "poll_budget"):  # a slow target must not hold the refresh back
        monitor.collector.poll_budget = config.interval
    loop = asyncio.get_running_loop()
    printed = 0
    try:
        while count is None or printed < count:
            started = loop.time()
            snapshot = await monitor.refresh()
            sys.stdout.write(to_json_line(snapshot) + "\n")
            sys.stdout.flush()
            if getattr(sys.stdout, "lost", None) is not None:  # cli.main's guard: the pipe closed or the disk is full
                return 0
            printed += 1
            if count is not None and printed >= count:
                break
            await asyncio.sleep(max(0.0, config.interval - (loop.time() - started)))
    finally:
        await monitor.aclose()
    return 0
