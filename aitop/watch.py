"""`aitop watch`: refresh like the TUI and print one JSON snapshot per line, for scripts and for testing
alert lifecycles from outside (warm-up, `for` and `keep_firing_for` apply as in the TUI).

On a recording it replays scrape by scrape instead: one line per recorded scrape, judged at the
recording's time (so `for` durations are recording time), as fast as possible or one line per `--interval`.

`--format jsonl` prints the JSON contract (`aitop.output`); `--format codec` prints each snapshot whole and
exact in the versioned snapshot codec (`aitop.codec`), for tools that read aitop's own values back.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable

from aitop.codec import encode
from aitop.config import Config
from aitop.model import Snapshot
from aitop.monitor import Monitor
from aitop.ops_config import attach
from aitop.output import to_json_line
from aitop.recording.replay import ReplayCollector
from aitop.secret import mask, mask_data
from aitop.collectors import open_collector


def to_codec_line(snapshot: Snapshot) -> str:
    """The snapshot as one line of the snapshot codec (`--format codec`): strict JSON, ASCII only, secrets
    masked like every other output."""
    return json.dumps(mask_data(encode(snapshot)), allow_nan=False, separators=(",", ":"))


#: `--format` → how a snapshot becomes a line.
LINES: dict[str, Callable[[Snapshot], str]] = {"jsonl": to_json_line, "codec": to_codec_line}


def _emit(line: str) -> bool:
    """Print one line; False once the output is gone (cli.main's guard: a closed pipe, a full disk)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return getattr(sys.stdout, "lost", None) is None


async def watch(config: Config, count: int | None, pace: float | None = None, output_format: str = "jsonl") -> int:
    """Refresh every interval as the TUI does (warm-up, `for`, `keep_firing_for`) and print one line per
    refresh in `output_format` (see `LINES`). On a recording: one line per recorded scrape, `pace` seconds
    apart (None: as fast as possible)."""
    line = LINES[output_format]
    collector = await open_collector(config)
    if isinstance(collector, ReplayCollector):
        return await _replay(collector, config, count, pace, line)
    monitor = Monitor(collector, analysis=config.analysis, warmup=True)
    attach(monitor, config.ops, http=config.http, timeout=config.timeout)
    monitor.collector.poll_budget = config.interval  # a slow target must not hold the refresh back
    loop = asyncio.get_running_loop()
    printed = 0
    try:
        while count is None or printed < count:
            started = loop.time()
            snapshot = await monitor.refresh()
            if not _emit(line(snapshot)):
                return 0
            printed += 1
            if count is not None and printed >= count:
                break
            await asyncio.sleep(max(0.0, config.interval - (loop.time() - started)))
    finally:
        await monitor.aclose()
    return 0


async def _replay(
    replay: ReplayCollector, config: Config, count: int | None, pace: float | None, line: Callable[[Snapshot], str]
) -> int:
    """Step `replay` (a `ReplayCollector`) through its scrapes from `--at` (default: the first scrape) to
    the end, judging each at the recording's time, so an alert's pending → firing → resolved happens at the
    scrapes where it happened."""
    monitor = Monitor(replay, analysis=config.analysis, clock=lambda: replay.position, warmup=True)
    position: float | None = replay.position if replay.at_given else replay.recording.start
    printed = 0
    try:
        while position is not None and (count is None or printed < count):
            replay.seek(position)
            if not _emit(line(await monitor.refresh())):
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
