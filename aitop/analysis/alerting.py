"""Alert states per (rule, row): Prometheus's lifecycle, stepped once per refresh by `Analyzer.process`.

A breach starts `pending`; a breach that has lasted `for` seconds is `firing` (a single clear reading while
pending starts over). A firing alert resolves once the condition has been false for `keep_firing_for`
seconds (default: its `for`); a breach in between restarts that count. An unknown value holds the state; a
firing alert without data for `missing_grace` seconds resolves. Resolved alerts stay listed for
`keep_resolved` seconds. Ids are a hash of rule, schema, group and field: stable across refreshes and restarts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.messages import duration_text, message, resolution
from aitop.analysis.rules import UNKNOWN, Rule, Verdict
from aitop.model import Alert, Row, Severity

__all__ = ["AlertEngine", "Reading", "alert_id"]

#: What `AlertEngine.step` reads per rule and row: (rule, row, verdict, context of a breach).
Reading = tuple[Rule, Row, Verdict, str | None]


def alert_id(rule: str, schema: str, group: str, field: str) -> str:
    """Stable alert id: the same rule on the same row and field always gets the same one."""
    return hashlib.sha256("\x00".join((rule, schema, group, field)).encode()).hexdigest()[:16]


@dataclass(slots=True)
class _Track:
    rule: Rule
    schema: str
    group: str
    state: str = "pending"  # pending | firing | resolved
    since: float = 0.0  # when the current state began
    fired_at: float = 0.0
    clear_since: float | None = None
    last_known: float = 0.0
    verdict: Verdict = UNKNOWN  # the last known verdict
    extra: str | None = None  # context for the message, from the last known reading


class AlertEngine:
    """Alert states per (rule, row)."""

    def __init__(self, settings: AnalysisSettings) -> None:
        self.settings = settings.alerts
        self._tracks: dict[tuple[str, str, str], _Track] = {}

    def step(self, readings: Iterable[Reading], now: float) -> list[_Track]:
        """Advance every alert by one refresh; returns the tracks that started firing."""
        started: list[_Track] = []
        seen: set[tuple[str, str, str]] = set()  # (only keys with a track: the loop below asks of no other)
        tracks = self._tracks
        for rule, row, verdict, extra in readings:
            if not verdict.breached and not tracks:  # (most refreshes of most fleets: nothing to follow)
                continue
            key = (rule.name, row.schema, row.group)
            track = tracks.get(key)
            if track is None:
                if not verdict.breached:
                    continue
                track = tracks[key] = _Track(rule, row.schema, row.group, since=now, last_known=now)
            seen.add(key)
            track.rule = rule
            if self._advance(track, verdict, extra, now):
                started.append(track)
        for key, track in self._tracks.items():
            if key not in seen:  # the row is gone or no longer matches: no data
                self._advance(track, UNKNOWN, None, now)
        horizon = now - self.settings.keep_resolved
        done = [k for k, t in self._tracks.items()
                if t.state == "inactive" or (t.state == "resolved" and t.since < horizon)]
        for key in done:
            del self._tracks[key]
        return started

    def _advance(self, track: _Track, verdict: Verdict, extra: str | None, now: float) -> bool:
        if not verdict.known:
            if track.state != "resolved" and now - track.last_known >= self.settings.missing_grace:
                if track.state == "firing":
                    track.state, track.since, track.extra = "resolved", now, "no data"
                else:
                    track.state = "inactive"
            return False
        track.last_known, track.verdict = now, verdict
        if verdict.breached:
            track.extra = extra  # keep the context of the breach while the alert waits to resolve
        rule = track.rule
        if verdict.breached:
            track.clear_since = None
            if track.state == "resolved":
                track.state, track.since = "pending", now
            if track.state == "pending" and now - track.since >= rule.for_:
                track.state, track.since, track.fired_at = "firing", now, now
                return True
        elif track.state == "pending":
            track.state = "inactive"  # not breached for the whole `for`: start over
        elif track.state == "firing":
            # The condition is false: count `keep_firing_for` from the first such reading; only a new
            # breach (above) stops the count.
            if track.clear_since is None:
                track.clear_since = now
            if now - track.clear_since >= rule.resolve_after:
                track.state, track.since = "resolved", now
        return False

    def followed_rows(self) -> set[tuple[str, str]]:
        """The (schema, group) rows with an alert in any state: the rows whose every reading `step` needs."""
        return {(track.schema, track.group) for track in self._tracks.values()}

    def alerting_fields(self) -> dict[tuple[str, str], set[str]]:
        """Row key → fields with an alert firing on them (one pass, not one per row)."""
        alerting: dict[tuple[str, str], set[str]] = {}
        for track in self._tracks.values():
            if track.state == "firing":
                alerting.setdefault((track.schema, track.group), set()).add(track.rule.field)
        return alerting

    def alerts(self, now: float) -> tuple[Alert, ...]:
        """Every listed alert; a lower-severity alert on a field whose worse alert is firing is inhibited."""
        worst: dict[tuple[str, str, str], Severity] = {}
        for track in self._tracks.values():
            if track.state == "firing":
                where = (track.schema, track.group, track.rule.field)
                worst[where] = max(worst.get(where, Severity.OK), track.rule.severity)
        shown = []
        for track in self._tracks.values():
            if (track.state in ("pending", "firing")
                    and worst.get((track.schema, track.group, track.rule.field), Severity.OK) > track.rule.severity):
                continue
            shown.append(self.to_alert(track, now))
        return tuple(sorted(shown, key=lambda a: (-int(a.severity), a.state != "firing", a.since, a.id)))

    @staticmethod
    def to_alert(track: _Track, now: float) -> Alert:
        rule, verdict = track.rule, track.verdict
        needs = ""
        if track.state == "resolved":
            held = duration_text(track.since - track.fired_at)
            text = message(rule, track.group, verdict, track.extra, "resolved", now - track.since) + f" after {held}"
        else:
            text = message(rule, track.group, verdict, track.extra, track.state, now - track.since)
            if track.state == "firing":
                needs = resolution(rule, verdict, None if track.clear_since is None else now - track.clear_since)
                text += ", " + needs
        return Alert(
            id=alert_id(rule.name, track.schema, track.group, rule.field),
            rule=rule.name,
            severity=rule.severity,
            state=track.state,
            schema=track.schema,
            group=track.group,
            field=rule.field,
            value=verdict.value,
            threshold=verdict.limit,
            since=track.since,
            message=text,
            resolution=needs,
            runbook=rule.runbook,
        )
