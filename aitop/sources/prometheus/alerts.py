"""The server's own alerts (`/api/v1/alerts`) as aitop `Alert`s, sanitised: names, labels and annotations
come from whoever wrote the alerting rules."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from aitop.model import Alert, Severity
from aitop.sanitize import clean

_SEVERITIES = {"critical": Severity.CRITICAL, "page": Severity.CRITICAL, "error": Severity.CRITICAL,
               "warning": Severity.WARNING, "warn": Severity.WARNING}
_GROUP_LABELS = ("model_name", "model", "gen_ai_request_model", "service", "job", "instance")


def alerts_from(body: object) -> tuple[Alert, ...]:
    """The server's pending and firing alerts (`/api/v1/alerts`), sanitised."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return ()
    alerts = []
    for raw in body["data"].get("alerts") or []:
        labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
        annotations = raw.get("annotations") or {}
        name = clean(labels.get("alertname", "alert"), 80)
        fingerprint = hashlib.sha1(json.dumps(sorted(labels.items())).encode()).hexdigest()[:12]
        group = next((clean(labels[label]) for label in _GROUP_LABELS if labels.get(label)), "")
        message = annotations.get("summary") or annotations.get("description") or name
        try:
            value: float | None = float(raw.get("value"))
        except (TypeError, ValueError):
            value = None
        try:
            since = datetime.fromisoformat(str(raw.get("activeAt")).replace("Z", "+00:00")).timestamp()
        except ValueError:
            since = 0.0
        alerts.append(Alert(
            id=f"prometheus:{name}:{fingerprint}",
            rule=f"prometheus:{name}",
            severity=_SEVERITIES.get(labels.get("severity", "").lower(), Severity.WARNING),
            state=clean(raw.get("state", "firing"), 20),
            schema="prometheus",
            group=group,
            field="",
            value=value,
            threshold=None,
            since=since,
            message=clean(message, 200),
            runbook=clean(str(annotations.get("runbook_url") or annotations.get("runbook")
                              or annotations.get("description") or ""), 300),
        ))
    return tuple(alerts)
