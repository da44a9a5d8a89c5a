"""One refresh, headless: collect → analyse → freeze. Shared by the TUI, `snapshot` and `check`.

The monitor is the stateful owner: it holds the `Analyzer` (baselines, drift, alert states), so every
refresh judges rows against what came before and carries alerts through their lifecycle. It also owns the
last good snapshot: when a poll fails outright (every target down, or the collector itself broke), it
re-issues that snapshot marked stale with the reason, so a front end never loses the numbers it was showing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from aitop.analysis.baseline import BaselineView
from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.engine import Analyzer
from aitop.analysis.thresholds import Threshold, as_rules
from aitop.markers import Marker, MarkerLog
from aitop.model import Alert, Collected, Row, Snapshot, TargetHealth
from aitop.history import History
from aitop.sanitize import clean
from aitop.sources.base import Collector, Points

log = logging.getLogger(__name__)


class Monitor:
    """Drives a `Collector` and turns what it collects into analysed, frozen `Snapshot`s.

    `analysis` carries the rules, prices and baseline settings (default: the built-in rules). Passing
    `thresholds` instead keeps the old contract: those fixed thresholds colour the cells and no alerts are
    raised (backend alerts still pass through).
    """

    def __init__(
        self,
        collector: Collector,
        *,
        thresholds: Iterable[Threshold] | None = None,
        clock: Callable[[], float] = time.time,
        recorded: History | None = None,
        analysis: AnalysisSettings | None = None,
        warmup: bool = False,
    ) -> None:
        self.collector = collector
        settings = analysis if analysis is not None else AnalysisSettings()
        if thresholds is not None:
            settings = replace(settings, rules=as_rules(thresholds))
        self.analyzer = Analyzer(settings)
        self.clock = clock
        self.recorded = recorded if recorded is not None else History()  # every refresh, ring-buffered
        #: Chart markers: the collector's restarts and deployments (scrape mode, replay), and alerts that fired.
        self.marker_log: MarkerLog = collector.markers if collector.markers is not None else MarkerLog(())
        self._firing: set[str] = set()
        self.last_good: Snapshot | None = None
        self.polls = 0
        #: Ring the terminal bell on a new critical alert (config `alerts.bell`; off by default).
        self.bell = settings.bell
        #: Critical alerts that started firing in the latest refresh (empty when none did). The UI rings the
        #: bell when `bell` is on and this is not empty — see `should_ring`.
        self.new_critical: tuple[Alert, ...] = ()
        #: Judge a row only once it has been watched for a full window: on for the live views (TUI, `watch`);
        #: off for one-shot `snapshot`/`check`, whose window is complete by construction.
        self.warmup = warmup
        self._source_down = False
        #: Delivers firing/resolved notifications of aitop's alerts (`aitop.notify.Notifier`); None: off.
        self.notifier = None
        #: Reads active alerts and silences (`aitop.sources.prometheus.alertmanager.AlertmanagerClient`); None: off.
        self.alertmanager = None

    @property
    def should_ring(self) -> bool:
        """Whether the latest refresh calls for the terminal bell."""
        return self.bell and bool(self.new_critical)

    def baseline(self, key: tuple[str, str], field: str) -> BaselineView | None:
        """What is normal for a row's field (mean, std, warm or not), or None before its first value."""
        return self.analyzer.baseline(key, field, self.clock())

    @property
    def kind(self) -> str:
        return self.collector.kind

    @property
    def group_by(self) -> str | None:
        """The label rows are grouped by (None: each schema's model label)."""
        return self.collector.group_by

    @group_by.setter
    def group_by(self, label: str | None) -> None:
        # Old rows and their history describe other groups: start the trend lines afresh. Alerts and
        # baselines belong to the (schema, model) rows and are kept: the collector goes on supplying them.
        if label != self.collector.group_by:
            self.collector.group_by = label
            self.recorded = self.recorded.fresh()
            self.last_good = None
            self.new_critical = ()

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        """Row `key` split by a second label, judged like any row. Empty if the source cannot tell."""
        try:
            rows = await self.collector.breakdown(key, label)
        except Exception:  # a drill-down detail must never take the screen down
            log.exception("breakdown failed")
            return ()
        return self.analyzer.judge(rows)

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points]:
        """The last `seconds` of each field of row `key`: from the backend when it keeps history
        (Prometheus), else from what this monitor has recorded since it started."""
        try:
            remote = await self.collector.history(key, fields, seconds)
        except Exception:
            log.exception("history query failed")
            remote = None
        if remote is not None:
            return remote
        since = self.clock() - seconds
        return {name: self.recorded.series(key, name, since=since) for name in fields}

    async def refresh(self) -> Snapshot:
        """Poll once. Never raises for source faults: they come back as target errors or a stale snapshot."""
        self.polls += 1
        # The Alertmanager is asked while the source is: a slow one adds nothing to a refresh beyond that.
        external_task = asyncio.ensure_future(self.alertmanager.alerts()) if self.alertmanager is not None else None
        try:
            return await self._refresh(external_task)
        finally:
            if external_task is not None:
                if not external_task.done():
                    external_task.cancel()  # a poll that ended early (the source down) does not wait for it
                elif not external_task.cancelled():
                    external_task.exception()  # retrieved: never "exception was never retrieved"

    async def _refresh(self, external_task: asyncio.Future | None) -> Snapshot:
        try:
            collected = await self.collector.collect()
        except Exception as exc:  # a collector bug must not take the UI down; say what broke
            log.exception("collector failed")
            return self._stale(f"internal error in {self.collector.kind} source: {clean(type(exc).__name__)}")
        self.new_critical = ()
        targets = collected.targets
        if targets and not any(target.up for target in targets):
            self._source_down = True
            if self.last_good is not None:
                errors = "; ".join(sorted({target.error or "down" for target in targets}))
                return self._stale(errors, targets=targets)
        elif self._source_down:
            # Back after an outage: the windows have a gap (a restarted Prometheus reads low rates), so
            # every row warms up again before it is judged.
            self._source_down = False
            self.analyzer.restart()
        alert_rows = None
        if self.collector.group_by is not None:
            # Alerts follow the (schema, model) rows, which the source supplies beside a regrouped view; one
            # that cannot leaves its alerts unjudged, never re-keyed to the view's groups.
            alert_rows = collected.model_rows if collected.model_rows is not None else ()
        try:
            analysis = self.analyzer.process(
                collected.rows, now=collected.taken_at, window_seconds=collected.window_seconds,
                warmup=self.collector.window_seconds if self.warmup else 0.0,
                alert_rows=alert_rows, grouping=self.collector.group_by, history=collected.server_history,
            )
        except Exception as exc:  # an analysis bug must not hide the numbers: show them unjudged
            log.exception("analysis failed")
            return self._stale(f"internal error in the analysis: {clean(type(exc).__name__)}")
        self.new_critical = analysis.new_critical
        warnings = collected.warnings
        external: tuple[Alert, ...] = ()
        if external_task is not None:
            try:
                external = await external_task
            except Exception as exc:  # noqa: BLE001 — the table goes on without the Alertmanager's alerts
                warnings = (*warnings, f"Alertmanager not read: {clean(type(exc).__name__)}: {clean(str(exc), 120)}")
        if self.notifier is not None:
            self.notifier.observe(analysis.alerts)  # queues only: delivery runs on its own thread
            if self.notifier.problem:
                warnings = (*warnings, self.notifier.problem)
        snapshot = Snapshot(
            collected=collected if warnings is collected.warnings else replace(collected, warnings=warnings),
            source_kind=self.collector.kind,
            source_targets=self.collector.targets,
            rows=analysis.rows,
            # The backend's own alerts (rule "prometheus:…") first, then aitop's.
            alerts=tuple(collected.alerts) + external + analysis.alerts,
            group_by=self.collector.group_by,
        )
        self.recorded.record(snapshot)
        self.last_good = snapshot
        self._mark_alerts(snapshot)
        return snapshot

    def _mark_alerts(self, snapshot: Snapshot) -> None:
        firing = {alert.id for alert in snapshot.alerts if alert.state == "firing"}
        for alert in snapshot.alerts:
            if alert.id in firing and alert.id not in self._firing:
                self.marker_log.add(Marker(snapshot.taken_at, "alert", f"{alert.rule} fired",
                                           key=(alert.schema, alert.group)))
        self._firing = firing

    async def markers(self, key: tuple[str, str], seconds: float) -> list[Marker]:
        """Row `key`'s chart markers of the last `seconds`: restarts and deployments from the server's history
        (Prometheus) or from the scrapes seen, and the alerts that fired."""
        until = self.clock()
        found = self.marker_log.for_row(key, until - seconds, until)
        try:
            found += await self.collector.history_markers(key, seconds)
        except Exception:  # a marker query must never cost the charts
            log.exception("marker query failed")
        return sorted(found, key=lambda marker: marker.at)

    def _stale(self, error: str, targets: tuple[TargetHealth, ...] | None = None) -> Snapshot:
        last = self.last_good
        if last is None:
            nothing = Collected(taken_at=self.clock(), window_seconds=self.collector.window_seconds, rows=(),
                                targets=targets or (), schemas=(), tls_verified=self.collector.tls_verified)
            return Snapshot(collected=nothing, source_kind=self.collector.kind,
                            source_targets=self.collector.targets, stale=True, error=error)
        collected = replace(last.collected, targets=targets) if targets is not None else last.collected
        return replace(last, collected=collected, stale=True, error=error)

    async def aclose(self) -> None:
        if self.notifier is not None:
            self.notifier.close(wait=2.0)  # let a last resolved notification out, briefly
        await self.collector.aclose()
