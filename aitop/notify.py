"""Notifications: on an alert's firing and resolved transitions, POST a webhook or run a command.

The transitions are the alert engine's own (pending → firing after `for`, firing → resolved after
`keep_firing_for`), read from each refresh's alerts; nothing is re-judged here. Delivery never blocks the
caller: `observe` only puts events on a bounded queue that one worker thread drains; a failed delivery is
retried with exponential back-off a bounded number of times, and failures are kept for the screen. A full
queue drops the oldest event and counts it. The payload is Alertmanager's webhook shape (version 4), so
receivers written for Alertmanager read it; a command gets the same JSON on stdin and its argument list as
configured (never a shell).
"""

from __future__ import annotations

import collections
import json
import logging
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from aitop.analysis.settings import ConfigError, duration, integer, string, table
from aitop.model import Alert, Severity
from aitop.output import rfc3339
from aitop.secret import mask
from aitop.transport import backoff_delay

log = logging.getLogger(__name__)

NOTIFY_KEYS = frozenset({"name", "severity", "webhook", "command", "retries", "timeout"})
_SEVERITIES = {"warning": Severity.WARNING, "critical": Severity.CRITICAL}
QUEUE_SIZE = 256
#: How long a delivery failure stays on the status line.
PROBLEM_SHOWN_FOR = 300.0


@dataclass(frozen=True, slots=True)
class NotifyTarget:
    """Where one tier of alerts goes: alerts at `severity` or worse (`only` = exactly that tier)."""

    name: str
    severity: Severity = Severity.WARNING
    only: bool = False
    webhook: str | None = None
    command: tuple[str, ...] = ()
    retries: int = 3
    timeout: float = 5.0

    def wants(self, alert: Alert) -> bool:
        return alert.severity == self.severity if self.only else alert.severity >= self.severity


def parse_notify(raw: object) -> tuple[NotifyTarget, ...]:
    """`[[notify]]` entries: `severity` ("warning", "critical", or "=critical" for that tier only) and a
    `webhook` URL or a `command` argument list."""
    if not isinstance(raw, list):
        raise ConfigError("notify: expected [[notify]] tables")
    targets = []
    for i, entry in enumerate(raw):
        where = f"notify[{i}]"
        entry = table(where, entry, NOTIFY_KEYS)
        tier = string(f"{where}.severity", entry.get("severity", "warning"))
        only = tier.startswith("=")
        if tier.removeprefix("=") not in _SEVERITIES:
            raise ConfigError(f"{where}.severity: warning, critical, =warning or =critical, not {tier[:20]!r}")
        webhook = string(f"{where}.webhook", entry["webhook"]) if "webhook" in entry else None
        command = entry.get("command", [])
        if not isinstance(command, list) or not all(isinstance(arg, str) for arg in command):
            raise ConfigError(f"{where}.command: a list of arguments, e.g. [\"notify-send\", \"aitop\"]")
        if (webhook is None) == (not command):
            raise ConfigError(f"{where}: give exactly one of webhook or command")
        if webhook is not None and not webhook.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.webhook: an http:// or https:// URL")
        targets.append(NotifyTarget(
            name=string(f"{where}.name", entry.get("name", _host(webhook) if webhook else command[0])),
            severity=_SEVERITIES[tier.removeprefix("=")], only=only, webhook=webhook, command=tuple(command),
            retries=integer(f"{where}.retries", entry.get("retries", 3)),
            timeout=duration(f"{where}.timeout", entry.get("timeout", 5.0), allow_zero=False, maximum=120.0),
        ))  # fmt: skip
    return tuple(targets)


def _host(url: str) -> str:
    """A webhook's name for the screen: its host only (Slack-style URLs hold their secret in the path)."""
    try:
        return httpx.URL(url).host or "webhook"
    except (httpx.InvalidURL, ValueError):
        return "webhook"


def payload(alerts: Sequence[tuple[str, Alert]], now: float, receiver: str) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4) for `(status, alert)` pairs."""
    items = []
    for state, alert in alerts:
        labels = {"alertname": alert.rule, "severity": alert.severity.label, "schema": alert.schema,
                  "model": alert.group}
        if alert.field:
            labels["field"] = alert.field
        annotations = {"summary": alert.message}
        if alert.runbook:
            annotations["runbook"] = alert.runbook
        items.append({
            "status": state, "labels": labels, "annotations": annotations,
            "startsAt": rfc3339(alert.since if state == "firing" else None) or "0001-01-01T00:00:00Z",
            "endsAt": rfc3339(now) if state == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "", "fingerprint": alert.id,
        })
    status = "firing" if any(state == "firing" for state, _ in alerts) else "resolved"
    return {"version": "4", "groupKey": f"aitop:{receiver}", "status": status, "receiver": receiver,
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "", "alerts": items,
            "truncatedAlerts": 0}


class Notifier:
    """Turns refreshes' alerts into firing/resolved events and delivers them from a worker thread."""

    def __init__(self, targets: Sequence[NotifyTarget], *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, queue_size: int = QUEUE_SIZE) -> None:
        self.targets = tuple(targets)
        self.clock, self._sleep = clock, sleep
        self._firing: dict[str, Alert] = {}
        self._queue: collections.deque[tuple[str, Alert, float]] = collections.deque(maxlen=queue_size)
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.dropped = 0
        self.delivered = 0
        self.failures: collections.deque[str] = collections.deque(maxlen=20)  # newest last, for the screen
        self._failed_at: float | None = None

    def observe(self, alerts: Iterable[Alert]) -> None:
        """Queue an event for every alert that started firing or resolved since the last call (never blocks)."""
        if not self.targets:
            return
        now = self.clock()
        current = {alert.id: alert for alert in alerts}
        events = []
        for alert_id, alert in current.items():
            if alert.state == "firing" and alert_id not in self._firing:
                self._firing[alert_id] = alert
                events.append(("firing", alert))
        for alert_id in list(self._firing):
            latest = current.get(alert_id)
            if latest is None or latest.state != "firing":  # resolved by the engine (or gone: no data)
                events.append(("resolved", latest or self._firing[alert_id]))
                del self._firing[alert_id]
        if not events:
            return
        with self._wake:
            for state, alert in events:
                if len(self._queue) == self._queue.maxlen:
                    self.dropped += 1
                self._queue.append((state, alert, now))
            self._wake.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="aitop-notify", daemon=True)
            self._thread.start()

    @property
    def problem(self) -> str | None:
        """The latest delivery failure of the last `PROBLEM_SHOWN_FOR` seconds, for the status line (None:
        all delivered since)."""
        if self._failed_at is None or self.clock() - self._failed_at > PROBLEM_SHOWN_FOR:
            return None
        return self.failures[-1] if self.failures else None

    def close(self, wait: float = 0.0) -> None:
        """Stop the worker after the queue drains, waiting at most `wait` seconds."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread is not None and wait > 0:
            self._thread.join(wait)

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stopped:
                    self._wake.wait()
                if not self._queue:
                    return
                state, alert, at = self._queue.popleft()
            for target in self.targets:
                if target.wants(alert):
                    self._deliver(target, payload([(state, alert)], at, target.name))

    def _deliver(self, target: NotifyTarget, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        for attempt in range(target.retries + 1):
            try:
                if target.webhook is not None:
                    response = httpx.post(target.webhook, content=data, timeout=target.timeout,
                                          headers={"Content-Type": "application/json"})
                    if response.status_code >= 300:
                        raise OSError(f"HTTP {response.status_code}")
                else:
                    done = subprocess.run(list(target.command), input=data, capture_output=True,
                                          timeout=target.timeout, check=False)
                    if done.returncode != 0:
                        raise OSError(f"exit status {done.returncode}")
                self.delivered += 1
                return
            except (OSError, httpx.HTTPError, subprocess.SubprocessError) as exc:
                # httpx's messages can carry the URL, and a chat webhook URL is a credential: type only.
                detail = "" if isinstance(exc, httpx.HTTPError) else f": {exc}"
                error = mask(f"{type(exc).__name__}{detail}")[:200]
                if attempt == target.retries:
                    self.failures.append(f"notification to {target.name} failed after {attempt + 1} "
                                         f"attempts: {error}")
                    self._failed_at = self.clock()
                    log.warning("%s", self.failures[-1])
                    return
                self._sleep(backoff_delay(attempt + 1))
