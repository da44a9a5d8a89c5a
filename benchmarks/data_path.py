"""aitop without its screen, for item 7: what the data path alone costs at the TUI's refresh rate.

`python -m benchmarks.data_path TARGET [aitop options]` builds the monitor exactly as the `aitop` command
builds the TUI's (same options, config, collector policy and malloc arenas, the incident buffer in scrape
mode) and runs what the TUI's timer runs, minus the display: `Monitor.refresh()` (collect, analysis,
history, alerts) every interval, on an asyncio loop, until killed. Item 7 measures it beside the TUI in the
same seconds: the TUI's CPU minus this is what showing the data costs.
"""

from __future__ import annotations

import asyncio
import sys

from aitop.cli import _open_for_tui
from aitop.cli_args import config_from_args, main_parser
from aitop.gcpolicy import apply_policy
from aitop.guard import state_dir
from aitop.heap import cap_malloc_arenas
from aitop.monitor import Monitor
from aitop.recording.command import tui_monitor


async def refresh_forever(monitor: Monitor, interval: float) -> None:
    """`monitor.refresh()` every `interval` seconds (a refresh slower than that is followed at once)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await monitor.refresh()
        await asyncio.sleep(max(interval - (loop.time() - started), 0.0))


def tui_data_path(argv: list[str]) -> tuple[Monitor, float]:
    """The monitor `aitop ARGV` would give its TUI, and its refresh interval."""
    config = config_from_args(main_parser().parse_args(argv))
    monitor, _ = tui_monitor(config, None, _open_for_tui, state_dir)
    return monitor, config.interval


def main(argv: list[str]) -> None:
    apply_policy()
    cap_malloc_arenas()
    asyncio.run(refresh_forever(*tui_data_path(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
