"""One refresh, headless: collect → judge → freeze. Shared by the TUI, `snapshot` and `check`.

The monitor owns the last good snapshot: when a poll fails outright (every target down, or the collector
itself broke), it re-issues that snapshot marked stale with the reason, so a front end never loses the
numbers it was showing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from aitop.analysis.thresholds import DEFAULT_THRESHOLDS, Threshold, judge_row
from aitop.model import History, Row, Snapshot
from aitop.sanitize import clean
from aitop.sources.base import Collector, Points

log = logging.getLogger(__name__)


class Monitor:
    """Drives a `Collector` and turns what it collects into judged, frozen `Snapshot`s."""

    def __init__(
        self,
        collector: Collector,
        *,
        thresholds: Iterable[Threshold] = DEFAULT_THRESHOLDS,
        clock: Callable[[], float] = time.time,
        recorded: History | None = None,
    ) -> None:
        self.collector = collector
        self.thresholds = tuple(thresholds)
        self.clock = clock
        self.recorded = recorded if recorded is not None else History()  # every refresh, ring-buffered
        self.last_good: Snapshot | None = None
        self.polls = 0

    @property
    def kind(self) -> str:
        return self.collector.kind

    @property
    def group_by(self) -> str | None:
        """The label rows are grouped by (None: each schema's model label)."""
        return self.collector.group_by

    @group_by.setter
    def group_by(self, label: str | None) -> None:
        # Old rows and their history describe other groups: start the trend lines afresh.
        if label != self.collector.group_by:
            self.collector.group_by = label
            self.recorded = History(maxlen=self.recorded.maxlen, evict_after=self.recorded.evict_after)
            self.last_good = None

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        """Row `key` split by a second label, judged like any row. Empty if the source cannot tell."""
        try:
            rows = await self.collector.breakdown(key, label)
        except Exception:  # a drill-down detail must never take the screen down
            log.exception("breakdown failed")
            return ()
        return tuple(judge_row(row, self.thresholds) for row in rows)

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
        return {name: tuple(p for p in self.recorded.series(key, name) if p[0] >= since) for name in fields}

    async def refresh(self) -> Snapshot:
        """Poll once. Never raises for source faults: they come back as target errors or a stale snapshot."""
        self.polls += 1
        try:
            collected = await self.collector.collect()
        except Exception as exc:  # a collector bug must not take the UI down; say what broke
            log.exception("collector failed")
            return self._stale(f"internal error in {self.collector.kind} source: {clean(type(exc).__name__)}")
        rows = tuple(judge_row(row, self.thresholds) for row in collected.rows)
        targets = collected.targets
        if targets and not any(target.up for target in targets) and self.last_good is not None:
            errors = "; ".join(sorted({target.error or "down" for target in targets}))
            return self._stale(errors, targets=targets)
        snapshot = Snapshot(
            taken_at=collected.taken_at,
            window_seconds=collected.window_seconds,
            source_kind=self.collector.kind,
            source_targets=self.collector.targets,
            targets=targets,
            rows=rows,
            schemas=collected.schemas,
            alerts=tuple(collected.alerts),
            labels=collected.labels,
            group_by=self.collector.group_by,
            backend=collected.backend,
            warnings=collected.warnings,
            tls_verified=collected.tls_verified,
        )
        self.recorded.record(snapshot)
        self.last_good = snapshot
        return snapshot

    def _stale(self, error: str, targets=None) -> Snapshot:
        last = self.last_good
        if last is None:
            return Snapshot(
                taken_at=self.clock(),
                window_seconds=self.collector.window_seconds,
                source_kind=self.collector.kind,
                source_targets=self.collector.targets,
                targets=tuple(targets or ()),
                rows=(),
                stale=True,
                error=error,
            )
        return replace(
            last, targets=tuple(targets) if targets is not None else last.targets, stale=True, error=error
        )

    async def aclose(self) -> None:
        await self.collector.aclose()
