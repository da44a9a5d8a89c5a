"""Markers on the drill-down charts: a replayed restart and deployment show as the chart's vertical lines with
their glyph, and in words under the errors."""

from __future__ import annotations

from ui_fakes import settle

from aitop.monitor import Monitor
from aitop.recording.reader import read_recording
from aitop.recording.replay import ReplayCollector
from aitop.recording.writer import Recorder
from aitop.ui.replay import ReplayApp
from aitop.ui.screens import DetailScreen
from aitop.ui.widgets import MetricChart

T0 = 1_790_000_000.0
SIZE = (140, 40)


def _recording(path):
    """One `llm` model at 10 requests/s whose server restarts at +55 s with a new KV-cache block size."""
    recorder = Recorder(path)
    for i in range(70):
        restarted = i >= 55
        recorder.scrape("10.0.0.1:8000", T0 + i, {
            ("llm_requests_total", (("model", "m"),)): 10.0 * (i - 55 if restarted else i),
            ("vllm:cache_config_info", (("block_size", "32" if restarted else "16"),)): 1.0,
        })
    recorder.close()
    return read_recording(path)


async def test_a_replayed_restart_and_deployment_are_marked_on_the_drill_down_charts(tmp_path):
    collector = ReplayCollector(_recording(tmp_path / "r.om"), window=10.0, at=T0 + 60)
    app = ReplayApp(Monitor(collector, clock=lambda: collector.position), interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert await settle(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.loads >= 1)
        screen = app.screen
        assert [(m.kind, m.at) for m in screen.markers] == [("restart", T0 + 55), ("deploy", T0 + 55)]
        chart = screen.query_one("#chart-traffic", MetricChart)
        assert [m.kind for m in chart.markers] == ["restart", "deploy"]
        drawn = chart.plt.build()
        assert "↻" in drawn and "⚑" in drawn  # the glyphs on the canvas, above the vertical lines
        words = str(screen.query_one("#markers").render())
        assert "↻ -5s 10.0.0.1:8000 restarted (counters reset)" in words
        assert "⚑ -5s vllm:cache_config_info changed on 10.0.0.1:8000: block_size 16 → 32" in words
