"""The incident buffer: bounded by age and by samples, written to the state directory as a recording when a
critical alert starts firing (at most once a minute), and off by config."""

from __future__ import annotations

import asyncio

import pytest

from aitop.config import ConfigError, build_config
from aitop.recording.incident import IncidentBuffer, IncidentMonitor, incident_name
from aitop.recording.reader import read_recording
from aitop.recording.replay import ReplayCollector
from aitop.recording.writer import Recorder

T0 = 1_790_000_000.0


def _page(i: int, burst_from: int) -> dict:
    return {
        ("llm_requests_total", (("model", "m"),)): 10.0 * i,
        ("llm_errors_total", (("model", "m"),)): 5.0 * max(0, i - burst_from),
    }


def test_the_buffer_keeps_the_last_minutes_within_its_sample_bound(tmp_path):
    buffer = IncidentBuffer(keep=60.0)
    for i in range(300):
        buffer.scrape("h:1", T0 + i, _page(i, 1000))
    assert len(buffer) == 61 and buffer.samples == 122  # 60 s back from the newest, both ends included
    small = IncidentBuffer(keep=900.0, max_samples=10)
    for i in range(300):
        small.scrape("h:1", T0 + i, _page(i, 1000))
    assert small.samples <= 10 and len(small) == 5
    buffer.scrape("h:1", T0 + 300, None)  # a failed scrape is kept as `up 0`
    assert buffer.write(tmp_path / "b.om.gz") == 61
    recording = read_recording(tmp_path / "b.om.gz")
    assert recording.complete and recording.start == T0 + 240 and recording.end == T0 + 299
    assert recording.targets["h:1"].samples[-1] is None


def test_a_critical_alert_writes_the_buffer_to_the_state_directory(tmp_path):
    source = tmp_path / "source.om"
    recorder = Recorder(source)
    for i in range(200):
        recorder.scrape("h:1", T0 + i, _page(i, 20))
    recorder.close()
    replay = ReplayCollector(read_recording(source), window=10.0, at=T0)
    buffer = IncidentBuffer(keep=900.0)
    monitor = IncidentMonitor(replay, buffer=buffer, directory=tmp_path / "state")

    async def run():
        scrapes = replay.recording.targets["h:1"]
        for stamp, samples in zip(scrapes.times, scrapes.samples):
            buffer.scrape("h:1", stamp, samples)
            replay.seek(stamp)
            await monitor.refresh()
        await monitor.aclose()

    asyncio.run(run())
    (written,) = monitor.written  # the critical fires once; the warning writes nothing
    assert written.parent == tmp_path / "state"
    assert written.name.startswith("incident-20260921T1414") and written.name.endswith("-error_rate_critical.om.gz")
    incident = read_recording(written)
    assert incident.complete and incident.start == T0 and T0 + 50 <= incident.end <= T0 + 60


def test_incident_name_is_file_safe():
    assert incident_name(T0, "../../etc/x y") == "incident-20260921T141320Z-.._.._etc_x_y.om.gz"


def test_incidents_config(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[incidents]\nenabled = false\nkeep = "5m"\n')
    settings = build_config(["h:1/metrics"], config_file=config)
    assert settings.incidents is False and settings.incident_keep == 300.0
    assert build_config(["h:1/metrics"]).incidents is True
    config.write_text('[incidents]\nenabled = "no"\n')
    with pytest.raises(ConfigError, match="incidents.enabled: expected true or false"):
        build_config(["h:1/metrics"], config_file=config)
