"""`aitop --record FILE`: the TUI's collector hands every scrape to the recorder while you watch."""

from __future__ import annotations

import asyncio

import pytest

from aitop.cli import _open_for_tui
from aitop.config import ConfigError, build_config
from aitop.demo import DemoFleet
from aitop.recording.reader import read_recording
from aitop.recording.writer import Recorder


def test_the_tui_collector_records_while_watching(tmp_path):
    fleet = DemoFleet()
    url = fleet.start()
    recorder = Recorder(tmp_path / "watch.om.gz")
    try:
        collector = _open_for_tui(build_config([url]), recorder)

        async def watch():
            for _ in range(3):
                await collector.collect()
                await asyncio.sleep(0.2)
            await collector.aclose()

        asyncio.run(watch())
    finally:
        recorder.close()
        fleet.stop()
    recording = read_recording(tmp_path / "watch.om.gz")
    assert recording.complete and recording.scrapes == 3 and recording.samples > 100


def test_record_refuses_a_recording_as_the_source(tmp_path):
    source = Recorder(tmp_path / "a.om")
    source.scrape("h:1", 1_790_000_000.0, {("llm_requests_total", (("model", "m"),)): 1.0})
    source.close()
    config = build_config([])
    from dataclasses import replace

    config = replace(config, targets=(str(tmp_path / "a.om"),), recording=str(tmp_path / "a.om"))
    recorder = Recorder(tmp_path / "b.om")
    with pytest.raises(ConfigError, match="--record records /metrics targets"):
        _open_for_tui(config, recorder)
    recorder.close()


def test_the_tui_monitor_of_a_recording_reads_the_recording_clock(tmp_path):
    """Drill-down charts come from the monitor's history `since clock() - range`: for a recording that
    clock must be the replay's position, or a recording older than the range shows empty charts."""
    from dataclasses import replace

    from aitop.cli import _open_for_tui
    from aitop.recording.command import tui_monitor

    source = Recorder(tmp_path / "a.om")
    for i in range(30):
        source.scrape("h:1", 1_600_000_000.0 + i, {("llm_requests_total", (("model", "m"),)): 10.0 * i})
    source.close()
    config = replace(build_config([]), targets=(str(tmp_path / "a.om"),), recording=str(tmp_path / "a.om"))
    monitor, finish = tui_monitor(config, None, _open_for_tui, lambda: tmp_path)

    async def run():
        await monitor.refresh()
        monitor.collector.seek(1_600_000_020.0)
        await monitor.refresh()
        return await monitor.history(("llm", "m"), ["request_rate"], 300.0)

    history = asyncio.run(run())
    finish()
    assert [value for _, value in history["request_rate"]] == [10.0, 10.0]
