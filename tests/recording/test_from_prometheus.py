"""Recording from a server's history (unit): slices, failed scrapes, the sample cap. The real server is in
tests/integration/test_prometheus_history.py."""

from __future__ import annotations

import re

from aitop.recording.from_prometheus import SLICE, record_server, recorded_names
from aitop.recording.reader import read_recording
from aitop.recording.writer import Recorder

T0 = 1_790_000_000.0


def _server(stamps, down=()):
    """A fake query function answering range selectors from a linear counter scraped at `stamps`."""
    asked = []

    def query(expr: str, at: float) -> list:
        seconds = float(re.search(r"\[(\d+)s\]$", expr).group(1))
        asked.append((at - seconds, at))
        inside = [t for t in stamps if at - seconds <= t <= at]  # Prometheus 2: both edges included
        labels = {"instance": "h:1", "job": "llm", "model": "m"}
        return [
            {"metric": {"__name__": "llm_requests_total", **labels}, "values": [[t, str(t - T0)] for t in inside if t not in down]},
            {"metric": {"__name__": "up", "instance": "h:1", "job": "llm"}, "values": [[t, "0" if t in down else "1"] for t in inside]},
            {"metric": {"__name__": "up", "instance": "other:1", "job": "node"}, "values": [[t, "1"] for t in inside]},
        ]

    return query, asked


def test_slices_do_not_overlap_and_every_scrape_is_written_once_in_time_order(tmp_path):
    stamps = [T0 + 15 * i for i in range(100)]  # 1485 s: three slices
    query, asked = _server(stamps, down={T0 + 150})
    recorder = Recorder(tmp_path / "r.om")
    done = record_server(query, ["llm_requests_total", "up"], T0 - 15, stamps[-1], recorder)
    recorder.close()
    assert len(asked) == 3 and all(b - a <= SLICE for a, b in asked)
    assert all(asked[i][1] == asked[i + 1][0] for i in range(2))  # slices meet; a shared edge is written once
    recording = read_recording(tmp_path / "r.om")
    assert recording.complete
    assert list(recording.targets) == ["h:1"]  # a target with `up` alone is not recorded
    scrapes = recording.targets["h:1"]
    assert scrapes.times == stamps and done.scrapes == 100
    assert scrapes.samples[10] is None  # up 0: a failed scrape
    assert scrapes.samples[11][("llm_requests_total", (("job", "llm"), ("model", "m")))] == 165.0


def test_the_sample_cap_stops_the_recording_and_says_so(tmp_path):
    stamps = [T0 + 15 * i for i in range(100)]
    query, _ = _server(stamps)
    recorder = Recorder(tmp_path / "r.om")
    done = record_server(query, ["llm_requests_total", "up"], T0 - 1, stamps[-1], recorder, max_samples=50)
    recorder.close()
    assert done.truncated == "recording too large: stopped after 50 samples"
    assert read_recording(tmp_path / "r.om").samples <= 50


def test_only_the_names_a_schema_reads_are_recorded():
    assert recorded_names(["llm_requests_total", "node_cpu_seconds_total", "vllm:num_requests_running"], None) == [
        "llm_requests_total", "up", "vllm:num_requests_running"]
