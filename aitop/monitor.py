"""One refresh, headless: collect → judge → freeze. Shared by the TUI, `snapshot` and `check`.

The monitor owns the last good snapshot: when a poll fails outright (every target down, or the collector
itself broke), it re-issues that snapshot marked stale with the reason, so a front end never loses the
numbers it was showing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from aitop.analysis.thresholds import DEFAULT_THRESHOLDS, Threshold, judge_row
from aitop.model import History, Snapshot
from aitop.sanitize import clean
from aitop.sources.base import Collector

log = logging.getLogger(__name__)


class Monitor:
    """Drives a `Collector` and turns what it collects into judged, frozen `Snapshot`s."""

    def __init__(
        self,
        collector: Collector,
        *,
        thresholds: Iterable[Threshold] = DEFAULT_THRESHOLDS,
        clock: Callable[[], float] = time.time,
        history: History | None = None,
    ) -> None:
        self.collector = collector
        self.thresholds = tuple(thresholds)
        self.clock = clock
        self.history = history if history is not None else History()
        self.last_good: Snapshot | None = None
        self.polls = 0

    @property
    def kind(self) -> str:
        return self.collector.kind

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
            error=None,
        )
        self.history.record(snapshot)
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
        return Snapshot(
            taken_at=last.taken_at,
            window_seconds=last.window_seconds,
            source_kind=last.source_kind,
            source_targets=last.source_targets,
            targets=tuple(targets) if targets is not None else last.targets,
            rows=last.rows,
            alerts=last.alerts,
            schemas=last.schemas,
            stale=True,
            error=error,
        )

    async def aclose(self) -> None:
        await self.collector.aclose()
