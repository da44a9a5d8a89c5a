"""Chart markers from what was seen: restarts, deployments, model-version changes, firing alerts."""

from __future__ import annotations

import asyncio

from aitop.markers import MarkerLog
from aitop.monitor import Monitor
from aitop.recording.reader import read_recording
from aitop.recording.replay import ReplayCollector
from aitop.recording.writer import Recorder

T0 = 1_790_000_000.0
M = (("model", "m"),)


def _page(requests: float, started: float = T0 - 100, block: str = "16", models=("m",)) -> dict:
    page = {("process_start_time_seconds", ()): started,
            ("vllm:cache_config_info", (("block_size", block), ("model_name", "m"))): 1.0}
    for model in models:
        page[("llm_requests_total", (("model", model),))] = requests
    return page


def test_a_counter_reset_is_a_restart_on_the_targets_rows():
    log = MarkerLog({"model", "model_name"})
    log.observe("h:1", T0, _page(100.0))
    log.observe("h:1", T0 + 1, _page(110.0))
    assert not log.markers  # a first scrape and growing counters are nothing
    log.observe("h:1", T0 + 2, _page(3.0))
    (marker,) = log.markers
    assert (marker.at, marker.kind, marker.text) == (T0 + 2, "restart", "h:1 restarted (counters reset)")
    assert marker.applies_to(("llm", "m")) and not marker.applies_to(("llm", "other"))


def test_a_new_process_start_time_is_a_restart_even_without_a_counter_going_down():
    log = MarkerLog({"model"})
    log.observe("h:1", T0, _page(100.0))
    log.observe("h:1", T0 + 15, _page(200.0, started=T0 + 10))
    assert [(m.kind, m.text) for m in log.markers] == [("restart", "h:1 restarted (process start time changed)")]


def test_a_new_info_label_set_and_a_new_model_are_deployments():
    log = MarkerLog({"model"})
    log.observe("h:1", T0, _page(100.0))
    log.observe("h:1", T0 + 1, _page(110.0, block="32", models=("m", "m-v2")))
    assert [(m.kind, m.text) for m in log.markers] == [
        ("deploy", "vllm:cache_config_info changed on h:1: block_size 16 → 32"),
        ("deploy", "model m-v2 appeared on h:1"),
    ]
    assert log.markers[1].applies_to(("llm", "m-v2")) and not log.markers[1].applies_to(("llm", "m"))
    assert log.for_row(("llm", "m"), T0, T0 + 1) == [log.markers[0]]
    assert log.for_row(("llm", "m"), T0 + 2, T0 + 9) == []


def test_a_failed_scrape_is_no_marker_and_the_log_is_bounded():
    log = MarkerLog({"model"}, max_markers=3)
    log.observe("h:1", T0, _page(100.0))
    log.observe("h:1", T0 + 1, None)
    assert not log.markers
    for i in range(10):
        log.observe("h:1", T0 + 2 + i, _page(10.0 * (i % 2)))
    assert len(log.markers) == 3 and log.markers[-1].at == T0 + 10


def test_replay_markers_and_an_alert_marker_reach_the_monitor(tmp_path):
    recorder = Recorder(tmp_path / "r.om")
    for i in range(100):
        errors = 0.0 if i < 30 else 5.0 * (i - 30)
        requests = 10.0 * i if i < 20 else 10.0 * (i - 20)  # a restart at +20 s
        recorder.scrape("h:1", T0 + i, {("llm_requests_total", (("model", "m"), ("status", "ok"))): requests,
                                        ("llm_requests_total", (("model", "m"), ("status", "error"))): errors})
    recorder.close()
    replay = ReplayCollector(read_recording(tmp_path / "r.om"), window=5.0)
    monitor = Monitor(replay, clock=lambda: replay.position, warmup=True)

    async def run():
        for i in range(100):
            replay.seek(T0 + i)
            await monitor.refresh()
        return await monitor.markers(("llm", "m"), 3600.0)

    markers = asyncio.run(run())
    assert [(m.at, m.kind) for m in markers if m.kind == "restart"] == [(T0 + 20, "restart")]
    alerts = [m for m in markers if m.kind == "alert"]
    assert alerts and alerts[0].text.endswith(" fired") and T0 + 30 < alerts[0].at < T0 + 80
