"""`aitop watch`: refresh like the TUI and print one JSON snapshot per line, for scripts and for testing
alert lifecycles from outside (warm-up, `for` and `keep_firing_for` apply as in the TUI).

On a recording it replays scrape by scrape instead: one line per recorded scrape, judged at the
recording's time (so `for` durations are recording time), as fast as possible or one line per `--interval`.
"""

from __future__ import annotations

import asyncio
import sys

from aitop.config import Config
from aitop.monitor import Monitor
from aitop.ops_config import attach
from aitop.output import to_json_line
from aitop.secret import mask
from aitop.sources.factory import open_collector


def _emit(snapshot) -> bool:
    """Print one line; False once the output is gone (cli.main's guard: a closed pipe, a full disk)."""
    sys.stdout.write(to_json_line(snapshot) + "\n")
    sys.stdout.flush()
    return getattr(sys.stdout, "lost", None) is None


async def watch(config: Config, count: int | None, pace: float | None = None) -> int:
    """Refresh every interval as the TUI does (warm-up, `for`, `keep_firing_for`) and print JSON lines.
    On a recording: one line per recorded scrape, `pace` seconds apart (None: as fast as possible)."""
    collector = await open_collector(config)
    if collector.kind == "replay":
        return await _replay(collector, config, count, pace)
    monitor = Monitor(collector, analysis=config.analysis, warmup=True)
    attach(monitor, config.ops, http=config.http, timeout=config.timeout)
    monitor.collector.poll_budget = config.interval  # a slow target must not hold the refresh back
    loop = asyncio.get_running_loop()
    printed = 0
    try:
        while count is None or printed < count:
            started = loop.time()
            snapshot = await monitor.refresh()
            if not _emit(snapshot):
                return 0
            printed += 1
            if count is not None and printed >= count:
                break
            await asyncio.sleep(max(0.0, config.interval - (loop.time() - started)))
    finally:
        await monitor.aclose()
    return 0


async def _replay(replay, config: Config, count: int | None, pace: float | None) -> int:
    """Step `replay` (a `ReplayCollector`) through its scrapes from `--at` (default: the first scrape) to
    the end, judging each at the recording's time, so an alert's pending → firing → resolved happens at the
    scrapes where it happened."""
    monitor = Monitor(replay, analysis=config.analysis, clock=lambda: replay.position, warmup=True)
    position: float | None = replay.position if replay.at_given else replay.recording.start
    printed = 0
    try:
        while position is not None and (count is None or printed < count):
            replay.seek(position)
            if not _emit(await monitor.refresh()):
                return 0
            printed += 1
            position = replay.next_scrape(position)
            if pace and position is not None and (count is None or printed < count):
                await asyncio.sleep(pace)
    finally:
        await monitor.aclose()
    for warning in replay.recording.notes:  # what could not be read (cut off, unreadable lines…)
        print(mask(f"aitop: warning: {warning}"), file=sys.stderr)
    return 0
