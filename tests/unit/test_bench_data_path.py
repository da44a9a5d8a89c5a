"""The data-path baseline of benchmark item 7 runs the TUI's own monitor, refreshing it as the TUI's timer
does: the TUI's CPU minus its CPU is what showing the data costs, so it must leave out the screen alone."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from pages import read, served  # noqa: E402

from benchmarks.data_path import refresh_forever, tui_data_path  # noqa: E402


async def test_the_tui_s_monitor_is_refreshed_every_interval(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with served(read("vllm").encode()) as url:
        monitor, interval = await asyncio.to_thread(tui_data_path, [url, "--scrape", "--interval", "0.5s"])
        assert type(monitor).__name__ == "IncidentMonitor"  # the TUI's in scrape mode: it keeps the incident buffer
        assert interval == 0.5
        refreshes = []
        original = monitor.refresh

        async def counted():
            snapshot = await original()
            refreshes.append(snapshot)
            return snapshot

        monitor.refresh = counted  # type: ignore[method-assign]
        task = asyncio.create_task(refresh_forever(monitor, interval))
        try:
            for _ in range(60):
                await asyncio.sleep(0.1)
                if len(refreshes) >= 3:
                    break
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await monitor.aclose()
    assert len(refreshes) >= 3
    assert refreshes[-1].rows and refreshes[-1].targets[0].up
