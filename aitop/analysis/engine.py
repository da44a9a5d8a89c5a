"""The stateful half of the analysis: baselines, drift, and alerts with a lifecycle.

Per refresh (`Analyzer.process`): price rows without native cost and project the daily spend; measure
drift; judge every rule against the baselines as they stood *before* this refresh; step each alert through
pending → firing → resolved; colour the cells; and only then learn the refresh into the baselines (a field
with an alert firing on it is not learnt: an incident must not become the new normal).

Lifecycle of one (rule, row), Prometheus's (`aitop.analysis.alerting.AlertEngine`): a breach starts
`pending`; a breach that has lasted `for` seconds is `firing` (a single clear reading while pending starts
over). A firing alert resolves once the condition has been false for `keep_firing_for` seconds (default: its
`for`); a breach in between restarts that count, so a value hovering at the limit does not flap. No value
margin holds an alert beyond that. An unknown value holds the state; a firing alert without data for
`missing_grace` seconds resolves. Resolved alerts stay listed for `keep_resolved` seconds. Ids are a hash of
rule, schema, group and field: stable across refreshes and restarts.

Warm-up: a row is judged only once aitop has watched it for a full window (`warmup` seconds, the source's
window), counted again from a row's reappearance, from a counter reset behind it (`Row.data_since`) and from
`restart()` (the source came back after an outage). A source that keeps history (Prometheus mode, `history`)
says since when the server holds each row's window: the warm-up counts from there, not from aitop's start
(but never from before an outage). Alerts belong to the (schema, model) rows; when the view
is grouped by another label the monitor passes those rows as `alert_rows`, so `g` changes what the table
shows, never an alert's state or its `since`.

Why the lifecycle is Prometheus's, and the tests that pin it: docs/architecture.md, alerts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from aitop.analysis.baseline import Baselines, BaselineView
from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.cost import DAILY_PROVENANCE, daily_spend, priced, with_daily_spend
from aitop.analysis.drift import DriftTracker
from aitop.model import judge_in_place
from aitop.model import row_with as _with
from aitop.analysis.usage import PROVENANCE as USAGE_PROVENANCE
from aitop.analysis.usage import PeakTracker, per_request, with_fields
from aitop.analysis.alerting import AlertEngine, Reading
from aitop.analysis.messages import context
from aitop.analysis.rules import (UNKNOWN, RowFilter, Rule, Verdict, evaluate, instant_severity, threshold_test)
from aitop.derive import QUANTILE_FIELDS
from aitop.explanations import with_lines
from aitop.model import DRIFT_FIELDS, Alert, Missing, Row, Severity

#: Why a drift is unknown where its quantiles are known: only a scrape sees the bucket distribution.
NO_BUCKETS = "drift needs the bucket distribution, which scrape mode reads; Prometheus mode gets the server's quantiles"

_NOT_LEARNT = frozenset(DRIFT_FIELDS.values())  # a drift is already measured against a baseline
_NOT_VIEWED: Any = object()  # (a baseline view not looked up yet: None is a view's "no baseline")
#: drift field -> (its concept, the quantile fields of that concept), looked up once rather than per row
_DRIFTS = tuple((concept, field, tuple(name for name, _ in QUANTILE_FIELDS.get(concept, ())))
                for concept, field in DRIFT_FIELDS.items())
_DAILY_LINE = {"cost_per_day": DAILY_PROVENANCE}
_EVERY_ROW = RowFilter()
#: One rule's step of `Analyzer._judge`: (rule, field, relative, alert, (test, limit, verdict) or None).
_Step = tuple[Rule, str, bool, bool, tuple[Callable[[float, float], bool], float, Callable[[float], Verdict]] | None]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one refresh's analysis produced."""

    rows: tuple[Row, ...]
    alerts: tuple[Alert, ...]
    new_critical: tuple[Alert, ...]  # critical alerts that started firing in this refresh


class Analyzer:
    """Owns baselines, drift baselines and alert states; fed every refresh's rows by the monitor."""

    def __init__(self, settings: AnalysisSettings | None = None) -> None:
        self.settings = settings if settings is not None else AnalysisSettings()
        self.rules = tuple(rule for rule in self.settings.rules if rule.enabled)
        # What each rule needs, worked out once rather than per row and refresh: (rule, field, relative,
        # alert, (test, limit, verdict) of an absolute limit or None), and each field's cell severity before
        # any rule breaches (OK, in `severity_of`'s order).
        steps: list[_Step] = [(rule, rule.field, rule.relative, rule.alert, threshold_test(rule))
                              for rule in self.rules]
        self._plan = (steps, dict.fromkeys((rule.field for rule in self.rules), Severity.OK))
        self._everywhere = all(rule.filter == _EVERY_ROW for rule in self.rules)
        self._plans: dict[tuple[bool, ...], tuple[list[_Step], dict[str, Severity]]] = {}
        self.reset()

    def _applicable(self, row: Row) -> tuple[list[_Step], dict[str, Severity]]:
        """The plan of the rules whose filter `row` matches (one per distinct set of them)."""
        matched = tuple(rule.filter.matches(row) for rule in self.rules)
        found = self._plans.get(matched)
        if found is None:
            steps = [step for step, match in zip(self._plan[0], matched) if match]
            found = self._plans[matched] = (steps, dict.fromkeys((step[1] for step in steps), Severity.OK))
        return found

    def reset(self) -> None:
        """Forget everything learnt: baselines, drift, alert states and warm-up."""
        self.baselines = Baselines(self.settings.baseline)
        self.drift = DriftTracker(self.settings.baseline)
        self.peaks = PeakTracker(self.settings.baseline.forget_after)
        self.engine = AlertEngine(self.settings)
        self._watched: dict[tuple[str | None, str, str], float] = {}  # (grouping, row key) -> since when
        #: When the source came back after its last outage (None: no outage yet); `_restarted`: at the next
        #: refresh, which sets it.
        self._resumed: float | None = None
        self._restarted = False

    def restart(self) -> None:
        """The source came back after an outage: every row's window has a gap, so warm up again."""
        self._watched.clear()
        self._restarted = True

    def _watch(self, rows: Sequence[Row], grouping: str | None, now: float,
               history: bool = False) -> dict[tuple[str, str], float]:  # fmt: skip
        """Seconds each of `rows` has been watched without a gap; rows not in `rows` start over on return.
        `history`: a row's `data_since` is the server's (the oldest sample of its window), older than aitop's
        first look when the server holds the window: the warm-up counts from it (but never from before an
        outage of the source)."""
        seen = {}
        for row in rows:
            key = (grouping, row.schema, row.group)
            since = self._watched.get(key, now)
            if row.data_since is not None:
                # A counter reset behind the row restarts its window; the server's history may start it earlier.
                floor = self._resumed if self._resumed is not None else row.data_since
                since = max(row.data_since, floor) if history else max(since, row.data_since)
            seen[key] = since
        for key in [key for key in self._watched if key[0] == grouping and key not in seen]:
            del self._watched[key]
        self._watched.update(seen)
        return {key[1:]: now - since for key, since in seen.items()}

    def baseline(self, key: tuple[str, str], field: str, now: float) -> BaselineView | None:
        """The current baseline of a row's field, for display ("normal: 120 ms")."""
        return self.baselines.view(key, field, now)

    def enrich(self, row: Row) -> Row:
        """Price table cost and the projected daily spend (stateless; used for breakdown rows too)."""
        row = with_daily_spend(priced(row, self.settings.prices))
        return with_fields(row, *per_request(row))

    def judge(self, rows: Sequence[Row]) -> tuple[Row, ...]:
        """Rows enriched and coloured by the rules that need no history (drill-down rows, one-shot use)."""
        return tuple(replace(row, severity=instant_severity(self.rules, row, {})) for row in map(self.enrich, rows))

    def process(self, rows: Sequence[Row], *, now: float, window_seconds: float, warmup: float = 0.0,
                alert_rows: Sequence[Row] | None = None, grouping: str | None = None,
                history: bool = False) -> Analysis:  # fmt: skip
        """Analyse one refresh's rows taken at `now` over a `window_seconds` window (see the module doc).

        `warmup`: seconds a row must have been watched before it is judged (the source's full window).
        `alert_rows`: the (schema, model) rows when `rows` are grouped by another label (`grouping`); alerts,
        baselines and drift follow those, and the view's cells are marked by their own values.
        `history`: the rows' `data_since` is the server's own (see `_watch`).
        """
        if self._restarted:
            self._resumed, self._restarted = now, False
        model_rows = rows if alert_rows is None else alert_rows
        prices = self.settings.prices
        model_rows = [priced(row, prices) for row in model_rows]
        watched = self._watch(model_rows, None, now, history)
        # One copy of each row to judge (drift, daily spend, warm-up) and one to show (severity, usage): the
        # values and reasons are copied once, and completed in place once judged and learnt.
        enriched, parts = [], []
        for row in model_rows:
            values, missing, lines = self._drift(row, now, window_seconds)
            enriched.append(_with(row, values=values, missing=missing,
                                  warmup=(watched[row.key], warmup) if warmup > 0 else None))
            parts.append((values, missing, lines))
        severities, readings = self._judge(enriched, now, with_baselines=True)
        started = self.engine.step(readings, now)
        alerting = self.engine.alerting_fields()
        judged = []
        learn, peaks = self.baselines.learn, self.peaks
        shown = alert_rows is None
        for row, severity, (values, missing, lines), base in zip(enriched, severities, parts, model_rows):
            if not row.stale:
                # A field alerting now describes the incident, not normal: it is left out of the baseline.
                skip = _NOT_LEARNT | alerting[row.key] if row.key in alerting else _NOT_LEARNT
                learn(row.key, values.items(), now, skip=skip)
            if shown:
                usage, usage_missing = peaks.fields(row, now, window_seconds)
                values.update(usage)
                missing.update(usage_missing)
                provenance = with_lines(base.provenance, _DAILY_LINE, when="cost_per_hour")
                provenance = with_lines(provenance, {**lines, **USAGE_PROVENANCE})
                judged.append(judge_in_place(row, severity, provenance))
        if alert_rows is not None:  # the view is grouped otherwise: mark its cells by their own values
            view = [with_daily_spend(priced(row, self.settings.prices)) for row in rows]
            view = self._warming(view, self._watch(view, grouping or "", now, history), warmup)
            view_severities, _ = self._judge(view, now, with_baselines=False, alerts=False)
            judged = [self.peaks.add(_with(row, severity=severity), now, window_seconds, grouping)
                      for row, severity in zip(view, view_severities)]  # fmt: skip
        self.baselines.forget_stale(now)
        self.drift.forget_stale(now)
        self.peaks.forget_stale(now)
        alerts = self.engine.alerts(now)
        new_critical = tuple(
            AlertEngine.to_alert(track, now) for track in started if track.rule.severity >= Severity.CRITICAL
        )
        return Analysis(tuple(judged), alerts, new_critical)

    @staticmethod
    def _warming(rows: list[Row], watched: dict[tuple[str, str], float], warmup: float) -> list[Row]:
        """`rows` carrying their warm-up progress (watched, needed), when there is a warm-up."""
        if warmup <= 0:
            return rows
        return [_with(row, warmup=(watched[row.key], warmup)) for row in rows]

    def _judge(self, rows: Sequence[Row], now: float, *, with_baselines: bool,
               alerts: bool = True) -> tuple[list[dict[str, Severity]], list[Reading]]:  # fmt: skip
        """(cell severities per row, alert readings): every applicable rule on every row; a row still warming
        up, and a relative rule without baselines, say UNKNOWN (which holds an alert's state).

        The severities are `severity_of` of the rows' verdicts. `alerts` False: no readings (a view that
        raises none). The readings are those `AlertEngine.step` acts on: every breach, and every reading of
        a row that has a track (or breached earlier in this pass); the rest it would pass over, so they are
        not made (nor their verdicts: most of 10,000 a refresh at 1,000 rows)."""
        views: dict[tuple[str, str, str], BaselineView | None] = {}
        baseline = self.baselines.view

        def view(row: Row, field: str) -> BaselineView | None:
            if not with_baselines:
                return None
            key = (row.schema, row.group, field)  # (one flat key, looked up once: 3,000 views a refresh)
            found = views.get(key, _NOT_VIEWED)
            if found is _NOT_VIEWED:
                found = views[key] = baseline((row.schema, row.group), field, now)
            return found

        followed = self.engine.followed_rows() if alerts else set()
        isfinite = math.isfinite
        severities: list[dict[str, Severity]] = []
        readings: list[Reading] = []
        for row in rows:
            steps, blank = self._plan if self._everywhere else self._applicable(row)
            severity = blank.copy()
            severities.append(severity)
            values = row.values
            judged = not row.warming
            follow = alerts and (row.schema, row.group) in followed
            for rule, field, relative, alert, threshold in steps:
                if not judged or (value := values.get(field)) is None:
                    verdict = UNKNOWN  # warming up, or what `evaluate` says of an unknown value
                elif threshold is not None:  # an absolute limit: `threshold_test`'s verdict, made when used
                    test, limit, fast = threshold
                    if not isfinite(value):
                        verdict = UNKNOWN
                    elif test(value, limit) or (follow and alert):
                        verdict = fast(value)
                    else:
                        continue  # within its limit, and no alert of the row to step: the cell stays OK
                elif relative:
                    found = view(row, field)
                    # (`evaluate` says UNKNOWN without a warm baseline: no call needed to know it)
                    verdict = UNKNOWN if found is None or not found.ready else evaluate(rule, row, found)
                else:
                    verdict = evaluate(rule, row, None)
                if verdict.breached and rule.severity > severity[field]:
                    severity[field] = rule.severity
                if alert and alerts:
                    # Stale rows repeat the last good window: they neither confirm nor clear an alert.
                    held = UNKNOWN if row.stale else verdict
                    if held.breached:
                        readings.append((rule, row, held, context(rule, row, partial(view, row))))
                        followed.add((row.schema, row.group))  # (a row listed twice: its next copy steps too)
                        follow = True
                    elif follow:
                        readings.append((rule, row, held, None))
        return severities, readings

    def _drift(self, row: Row, now: float, window_seconds: float) \
            -> tuple[dict[str, float | None], dict[str, Missing], dict[str, str]]:
        """(values, reasons, explanations) `row` has with its projected daily spend and drift fields added:
        copies of its own, and the drift fields' lines (left to the row shown, where they are laid over its
        own)."""
        values, missing = dict(row.values), dict(row.missing)
        values["cost_per_day"], reason = daily_spend(row)
        if reason is not None:
            missing["cost_per_day"] = reason
        lines: dict[str, str] = {}
        own, no_metric = row.values, Missing.NO_METRIC
        for concept, field, quantiles in _DRIFTS:
            buckets = row.distributions.get(concept)
            if not buckets:
                values[field] = None
                missing[field] = no_metric
                for name in quantiles:
                    if own.get(name) is not None:
                        # Quantiles without buckets: the server computed them (Prometheus mode); say so in `e`.
                        lines[field] = NO_BUCKETS
                        break
                continue
            distance, _ = self.drift.measure(row.key, concept, buckets, window_seconds, now, learn=not row.stale)
            values[field] = distance
            if distance is None:
                missing[field] = Missing.NOT_ENOUGH_SAMPLES
        return values, missing, lines
