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
