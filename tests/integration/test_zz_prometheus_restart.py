"""Killing Prometheus mid-session: the TUI marks the data stale at once, keeps it, and recovers on
the first poll after the restart, with no traceback. Runs last: it restarts the shared server."""

from __future__ import annotations

import pytest

from aitop.monitor import Monitor
from aitop.sources.prometheus.collector import PrometheusCollector
from aitop.ui.app import AitopApp

pytestmark = pytest.mark.integration


async def test_kill_and_restart_prometheus_under_the_tui(prometheus_server, known) -> None:
    known.wait_for_history(prometheus_server.base_url, 3)
    monitor = Monitor(PrometheusCollector(prometheus_server.base_url, window=30, timeout=2))
    app = AitopApp(monitor, interval=None)
    async with app.run_test(size=(120, 40)) as pilot:
        before = await app.poll_once()
        await pilot.pause()
        known_rows = set(known.expected_rows())  # the session's Prometheus also holds the fixture pages' rows
        assert not before.stale and known_rows <= {row.key for row in before.rows}

        prometheus_server.kill()
        during = await app.poll_once()
        await pilot.pause()
        assert during.stale and "cannot connect" in during.error
        assert during.rows == before.rows  # the last good numbers stay on screen
        assert "STALE" in app.export_screenshot()

        prometheus_server.restart("/-/ready")
        after = await app.poll_once()  # the first poll after the restart: no back-off for a refused connection
        await pilot.pause()
        assert not after.stale and after.targets[0].up and known_rows <= {row.key for row in after.rows}
        assert "STALE" not in app.export_screenshot()
        assert app.is_running
