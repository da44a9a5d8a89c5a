"""aitop with a real Alertmanager (Debian `prometheus-alertmanager`) on 127.0.0.1: its active
alerts are listed, `s` in the TUI creates a silence after a confirmation, the silence is in Alertmanager's
API and the alert is shown as silenced."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from prod_servers import mixed_page, serve_page  # noqa: E402

from aitop.monitor import Monitor  # noqa: E402
from aitop.ops_config import OpsSettings, attach  # noqa: E402
from aitop.sources.scrape.collector import ScrapeCollector  # noqa: E402
from aitop.ui.alert_text import alert_text  # noqa: E402
from aitop.ui.app import AitopApp  # noqa: E402
from aitop.ui.silence import ConfirmSilence  # noqa: E402
from aitop.ui.themes import palette_from_variables  # noqa: E402

pytestmark = pytest.mark.integration

AM_CONFIG = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'
ALERT = {"alertname": "HighErrorRate", "severity": "critical", "model": "llama-v1", "job": "vllm"}


@pytest.fixture(scope="module")
def alertmanager(known, tmp_path_factory):
    """A real Alertmanager holding one firing alert (posted as Prometheus posts them)."""
    binary = known.require_binary("prometheus-alertmanager")
    tmp = tmp_path_factory.mktemp("alertmanager")
    (tmp / "am.yml").write_text(AM_CONFIG)
    port = known.free_port()
    server = known._Server("alertmanager", [
        binary, f"--config.file={tmp / 'am.yml'}", f"--storage.path={tmp / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn",
    ], tmp / "alertmanager.log", f"http://127.0.0.1:{port}")
    server.wait_healthy("/-/ready")
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    httpx.post(f"{server.base_url}/api/v2/alerts", timeout=5, json=[{
        "labels": ALERT, "startsAt": now,
        "annotations": {"summary": "llama-v1: 7% of requests fail", "runbook_url": "https://runbooks.example/errors"},
    }]).raise_for_status()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def page():
    served = serve_page(mixed_page("v1"))
    yield served
    served.stop()


async def test_s_silences_the_alert_in_alertmanager_and_shows_it_silenced(alertmanager, page, monkeypatch):
    monkeypatch.setenv("USER", "oncall-test")
    monitor = Monitor(ScrapeCollector([page.url], window=10.0, timeout=5.0))
    attach(monitor, OpsSettings(silence_seconds=3600.0, silence_comment="deploy rollback in progress"),
           alertmanager=alertmanager)
    app = AitopApp(monitor, interval=None)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await app.poll_once()
        await pilot.pause()
        listed = [a for a in app.snapshot.alerts if a.rule == "alertmanager:HighErrorRate"]
        assert len(listed) == 1 and not listed[0].silenced_by
        assert listed[0].runbook == "https://runbooks.example/errors"
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmSilence)
        assert app.screen.question == (
            'Silence alertmanager:HighErrorRate on llama-v1 for 1h?\n'
            'matchers: alertname="HighErrorRate", job="vllm", model="llama-v1", severity="critical"\n'
            'by oncall-test: deploy rollback in progress')
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        silences = httpx.get(f"{alertmanager}/api/v2/silences", timeout=5).json()
        mine = [s for s in silences if s["createdBy"] == "oncall-test"]
        assert len(mine) == 1 and mine[0]["status"]["state"] == "active"
        assert mine[0]["comment"] == "deploy rollback in progress"
        assert {m["name"]: m["value"] for m in mine[0]["matchers"]} == ALERT
        # Alertmanager itself now counts the alert as silenced by that silence...
        (am_alert,) = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
        assert am_alert["status"]["silencedBy"] == [mine[0]["id"]]
        # ...and so does aitop, after the refresh the silence asked for
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(a.silenced_by for a in app.snapshot.alerts):
            await app.poll_once()
            await pilot.pause()
        (shown,) = [a for a in app.snapshot.alerts if a.rule == "alertmanager:HighErrorRate"]
        assert shown.silenced_by == (mine[0]["id"],)
        palette = palette_from_variables(app.theme_variables)
        head = alert_text(shown, time.time(), palette, width=80).plain.splitlines()[0]
        assert head.endswith(" · silenced")
        assert any(f"silenced alertmanager:HighErrorRate for 1h (silence {mine[0]['id']})" in n.message
                   for n in app._notifications)


async def test_s_without_an_alertmanager_says_how_to_get_one(page):
    from aitop.ui.silence import NO_ALERTMANAGER

    app = AitopApp(Monitor(ScrapeCollector([page.url], window=10.0, timeout=5.0)), interval=None)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await app.poll_once()
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmSilence)
        assert [n.message for n in app._notifications] == [NO_ALERTMANAGER]
