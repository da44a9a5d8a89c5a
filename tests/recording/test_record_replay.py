"""Must show: record 20 s of the demo fleet, then `aitop snapshot FILE --window 10s` equals a live snapshot of
the same window.

"The same window" is made exact: the live snapshot is the one the recording process itself computed at its
last scrape, with a 10 s window over the same scrapes it wrote (both clocks of the live collector are the
wall clock, read once per scrape, so the live rates divide by the very timestamps the recording holds). The replay is the real
command line reading the file back.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from aitop.cli import main
from aitop.demo import DemoFleet
from aitop.monitor import Monitor
from aitop.output import to_json
from aitop.recording.reader import read_recording
from aitop.recording.writer import Recorder
from aitop.sources.scrape.collector import ScrapeCollector

REFRESH_HISTORY_FIELDS = ("request_rate_peak", "request_rate_session_peak")
NUMERIC = ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "ttft_p95",
           "input_tokens_rate", "output_tokens_rate", "cost_per_hour", "feedback_negative_ratio", "running",
           "waiting", "kv_cache_usage", "tpot_p95")


class OneClock:
    """The wall clock as both of the collector's clocks, read once per scrape: the collector reads its
    monotonic clock, then its wall clock, for each scrape's stamp; both get the same reading."""

    def __init__(self) -> None:
        self.last = time.time()

    def monotonic(self) -> float:
        self.last = time.time()
        return self.last

    def wall(self) -> float:
        return self.last


async def _record_live(url: str, path, seconds: float, window: float):
    clock = OneClock()
    collector = ScrapeCollector([url], window=window, wall_clock=clock.wall, monotonic=clock.monotonic)
    collector.recorder = Recorder(path)
    monitor = Monitor(collector)
    started = time.monotonic()
    try:
        while True:
            live = await monitor.refresh()
            if time.monotonic() - started >= seconds:
                return live
            await asyncio.sleep(1.0)
    finally:
        collector.recorder.close()
        await monitor.aclose()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", ["fleet.om", "fleet.om.gz"])
def test_snapshot_of_a_recording_equals_the_live_snapshot_of_the_same_window(tmp_path, monkeypatch, capsys, name):
    monkeypatch.setenv("AITOP_CONFIG_DIR", str(tmp_path))  # no user config file
    fleet = DemoFleet()
    url = fleet.start()
    path = tmp_path / name
    try:
        live = asyncio.run(_record_live(url, path, 20.0 if name == "fleet.om" else 12.0, 10.0))
    finally:
        fleet.stop()
    recording = read_recording(path)
    assert recording.complete and recording.notes == ()
    assert recording.end - recording.start >= (19.0 if name == "fleet.om" else 11.0)

    assert main(["snapshot", str(path), "--window", "10s", "--format", "json"]) == 0
    replayed = json.loads(capsys.readouterr().out)

    assert replayed["source"]["kind"] == "replay"
    assert replayed["window_seconds"] == round(live.window_seconds, 3)  # the JSON keeps milliseconds
    assert 10.0 <= replayed["window_seconds"] < 12.0
    live_rows = {(row["schema"], row["group"]): row for row in json.loads(to_json(live))["rows"]}
    rows = {(row["schema"], row["group"]): row for row in replayed["rows"]}
    # The peaks are the highest req/s of the *refreshes* seen (aitop.analysis.usage): the live session
    # refreshed 20 times, a snapshot refreshes once, so they are a property of the session, not of the data.
    for table in (live_rows, rows):
        for row in table.values():
            for field in REFRESH_HISTORY_FIELDS:
                row.pop(field, None)
                row["missing"].pop(field, None)
    assert rows.keys() == live_rows.keys() and len(rows) == 6
    compared = 0
    for key, row in rows.items():
        for field in NUMERIC:
            expected = live_rows[key][field]
            if expected is None:
                assert row[field] is None, (key, field)
            else:
                assert row[field] == pytest.approx(expected, rel=1e-9, abs=1e-12), (key, field)
                compared += 1
    assert compared >= 6 * 8
    assert row.keys() == live_rows[key].keys()
    assert rows == live_rows  # everything else too: errors by type, missing reasons, severities
