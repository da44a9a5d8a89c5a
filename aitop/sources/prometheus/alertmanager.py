"""Alertmanager (API v2): its active alerts (silenced ones marked as such) and silences, and creating one.

Alerts come back as aitop `Alert`s with rule `alertmanager:<alertname>`, their labels remembered by id so a
silence made from the screen matches exactly that alert (every label, equality matchers). Names, labels
and annotations are written by others: they are sanitised before they reach a screen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta, UTC



from aitop.model import Alert, Severity
from aitop.sanitize import clean
from aitop.transport import HttpSettings, httpx_client

_SEVERITIES = {"critical": Severity.CRITICAL, "page": Severity.CRITICAL, "error": Severity.CRITICAL,
               "warning": Severity.WARNING, "warn": Severity.WARNING, "ticket": Severity.WARNING}
_GROUP_LABELS = ("model_name", "model", "gen_ai_request_model", "service", "job", "instance")


def _time(text: object) -> float:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AlertmanagerClient:
    """One Alertmanager, through its v2 API."""

    def __init__(self, url: str, *, http: HttpSettings | None = None, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.http = http or HttpSettings()
        self.timeout = timeout
        self.labels: dict[str, dict[str, str]] = {}  # alert id -> its labels, for silences

    async def _request(self, method: str, path: str, **kwargs) -> object:
        async with httpx_client(self.http, timeout=self.timeout, headers={}) as client:
            response = await client.request(method, self.url + "/api/v2" + path, **kwargs)
            response.raise_for_status()
            return response.json()

    async def alerts(self) -> tuple[Alert, ...]:
        """Active alerts, silenced and inhibited ones included (marked by `silenced_by`)."""
        body = await self._request("GET", "/alerts", params={"active": "true", "silenced": "true",
                                                              "inhibited": "true", "unprocessed": "true"})
        return self.alerts_from(body)

    def alerts_from(self, body: object) -> tuple[Alert, ...]:
        alerts = []
        for raw in body if isinstance(body, list) else []:
            if not isinstance(raw, dict):
                continue
            labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
            annotations = raw.get("annotations") or {}
            status = raw.get("status") or {}
            name = clean(labels.get("alertname", "alert"), 80)
            fingerprint = str(raw.get("fingerprint") or
                              hashlib.sha1(repr(sorted(labels.items())).encode()).hexdigest()[:16])
            alert_id = f"alertmanager:{clean(fingerprint, 40)}"
            self.labels[alert_id] = labels
            silenced = tuple(clean(s, 60) for s in status.get("silencedBy") or ())
            message = annotations.get("summary") or annotations.get("description") or name
            runbook = annotations.get("runbook_url") or annotations.get("runbook") or ""
            alerts.append(Alert(
                id=alert_id, rule=f"alertmanager:{name}",
                severity=_SEVERITIES.get(labels.get("severity", "").lower(), Severity.WARNING),
                state="firing", schema="alertmanager",
                group=next((clean(labels[k]) for k in _GROUP_LABELS if labels.get(k)), ""),
                field="", value=None, threshold=None, since=_time(raw.get("startsAt")),
                message=clean(message, 200) + (" (silenced)" if silenced else ""),
                runbook=clean(runbook, 300), silenced_by=silenced,
            ))  # fmt: skip
        return tuple(alerts)

    async def silences(self) -> list[Mapping]:
        """The silences Alertmanager holds (active, pending and expired)."""
        body = await self._request("GET", "/silences")
        return body if isinstance(body, list) else []

    async def silence(self, labels: Mapping[str, str], *, seconds: float, comment: str, author: str,
                      now: datetime | None = None) -> str:
        """Create a silence matching every one of `labels` exactly, for `seconds`; returns its id."""
        start = now or datetime.now(UTC)
        body = {
            "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in sorted(labels.items())],
            "startsAt": _iso(start), "endsAt": _iso(start + timedelta(seconds=seconds)),
            "createdBy": author, "comment": comment,
        }
        answer = await self._request("POST", "/silences", json=body)
        return str(answer.get("silenceID", "")) if isinstance(answer, dict) else ""


def matchers_for(alert: Alert, known: Mapping[str, Mapping[str, str]]) -> dict[str, str] | None:
    """The labels a silence for `alert` matches: an Alertmanager alert's own; a Prometheus alert's name and
    model (the labels it reaches Alertmanager with); None for aitop's own alerts, which Alertmanager never
    receives."""
    if alert.id in known:
        return dict(known[alert.id])
    if not alert.rule.startswith("prometheus:"):
        return None
    name = alert.rule.removeprefix("prometheus:")
    if not name:
        return None
    labels = {"alertname": name}
    if alert.group:
        labels["model"] = alert.group
    return labels
