"""Notifications: a scripted incident on a real exporter reaches a real webhook receiver as firing, then resolved
(Alertmanager's webhook payload), through the alert engine's own lifecycle; a failing receiver is retried
and shown, and never holds a refresh."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import make_wsgi_app
from wsgiref.simple_server import WSGIRequestHandler, make_server

from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.rules import Rule
from aitop.model import Severity
from aitop.monitor import Monitor
from aitop.notify import Notifier, NotifyTarget
from aitop.sources.scrape.collector import ScrapeCollector

pytestmark = pytest.mark.integration


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def app_exporter():
    """An `llm_*` app's /metrics, its counters moved by the test."""
    registry = CollectorRegistry()
    requests = Counter("llm_requests", "requests", ["model", "status"], registry=registry)
    server = make_server("127.0.0.1", 0, make_wsgi_app(registry), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield requests, f"http://127.0.0.1:{server.server_port}/metrics"
    server.shutdown()
    server.server_close()


class Receiver:
    """A webhook receiver recording every body; answers `status` (or 500 for the first `fail_first`)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                failing = receiver.attempts <= receiver.fail_first
                if not failing:
                    receiver.bodies.append(json.loads(body))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.bodies

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


RULE = Rule("error_rate_critical", "error_rate", ">", Severity.CRITICAL, threshold=0.05, for_=20.0,
            keep_firing_for=20.0, runbook="roll back the last deploy")


async def _incident(requests, url, notifier) -> list[str]:
    """10 s refreshes on aitop's (scripted) clock: healthy, 30 s of 20 % errors, healthy again.
    Returns the alert state after each refresh."""
    now = [1_000_000.0]
    collector = ScrapeCollector([url], window=10.0, timeout=5.0, wall_clock=lambda: now[0],
                                monotonic=lambda: now[0])
    monitor = Monitor(collector, analysis=AnalysisSettings(rules=(RULE,)), clock=lambda: now[0])
    monitor.notifier = notifier
    states = []
    try:
        for step in range(12):
            failing = 3 <= step < 7
            requests.labels("chat", "success").inc(80 if failing else 100)
            if failing:
                requests.labels("chat", "error").inc(20)
            snapshot = await monitor.refresh()
            states.append(next((a.state for a in snapshot.alerts), "-"))
            now[0] += 10.0
    finally:
        await monitor.aclose()
    return states


async def test_webhook_receives_firing_then_resolved(app_exporter):
    requests, url = app_exporter
    receiver = Receiver()
    try:
        notifier = Notifier([NotifyTarget("pager", severity=Severity.CRITICAL, webhook=receiver.url)])
        states = await _incident(requests, url, notifier)
        bodies = receiver.wait_for(2)
    finally:
        receiver.stop()
    # pending for `for` (20 s), firing, resolved after keep_firing_for: the engine's lifecycle, one message each
    assert states == ["-", "-", "-", "-", "pending", "pending", "firing", "firing", "firing", "resolved",
                      "resolved", "resolved"]
    assert [b["status"] for b in bodies] == ["firing", "resolved"]
    fired, resolved = bodies[0]["alerts"][0], bodies[1]["alerts"][0]
    assert fired["labels"] == {"alertname": "error_rate_critical", "severity": "critical", "schema": "llm",
                               "model": "chat", "field": "error_rate"}
    assert fired["annotations"]["runbook"] == "roll back the last deploy"
    assert fired["fingerprint"] == resolved["fingerprint"]
    assert bodies[0]["version"] == "4" and bodies[0]["receiver"] == "pager"
    assert resolved["endsAt"] != "0001-01-01T00:00:00Z"


async def test_warning_tier_does_not_reach_a_critical_only_receiver_and_failures_are_retried(app_exporter):
    requests, url = app_exporter
    receiver = Receiver(fail_first=2)
    try:
        ticket = NotifyTarget("tickets", severity=Severity.WARNING, only=True, webhook=receiver.url)
        pager = NotifyTarget("pager", severity=Severity.CRITICAL, webhook=receiver.url, retries=3)
        notifier = Notifier([ticket, pager], sleep=lambda _: None)  # back-off waits skipped, not their count
        await _incident(requests, url, notifier)
        bodies = receiver.wait_for(2)
    finally:
        receiver.stop()
    # the critical alert went to the pager only; its first delivery failed twice and was retried
    assert [(b["receiver"], b["status"]) for b in bodies] == [("pager", "firing"), ("pager", "resolved")]
    assert receiver.attempts == 4
    assert notifier.failures == type(notifier.failures)([], maxlen=20)


def test_a_dead_receiver_is_reported_after_bounded_retries_without_blocking():
    from aitop.model import Alert

    dead = NotifyTarget("pager", severity=Severity.WARNING, webhook="http://127.0.0.1:9/hook", retries=2,
                        timeout=1.0)
    waits: list[float] = []
    notifier = Notifier([dead], sleep=waits.append)
    alert = Alert("a1", "error_rate_critical", Severity.CRITICAL, "firing", "llm", "chat", "error_rate", 0.2, 0.05,
                  0.0, "chat: error rate 20%")
    started = time.monotonic()
    notifier.observe([alert])
    returned_after = time.monotonic() - started
    deadline = time.monotonic() + 20
    while notifier.problem is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert notifier.problem == "notification to pager failed after 3 attempts: ConnectError"
    assert len(waits) == 2 and waits[1] >= waits[0] * 0.5  # back-off between the three attempts
    assert returned_after < 0.5 * (time.monotonic() - started)  # observe() only queued the event
