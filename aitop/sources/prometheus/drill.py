"""Prometheus mode's drill-down: a row split by a second label, a row's history (`query_range`), and the
metric names per instance for `aitop detect`. A mixin of `PrometheusCollector`, which provides the plans,
the last rows, the request runner and the clock.

History: the rate range of a `query_range` is at least its step (and at least the window the table uses).
A range shorter than the step samples only part of each step — an error burst between two samples vanishes
when zooming out — while a range equal to the step covers the whole timeline, each point the average over
its step. (`max_over_time` of a finer rate would keep a burst's peak, but it multiplies the samples a
query loads by the step / window ratio, which a limited server rejects first.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aitop.model import Row
from aitop.sources.base import Points
from aitop.sources.prometheus.results import QueryFailure, assemble_rows
from aitop.sources.prometheus.promql import group_matcher, instant_queries
from aitop.sources.prometheus.history import history_step, row_expression

if TYPE_CHECKING:
    from prometheus_api_client import PrometheusConnect

    from aitop.catalog import Schema
    from aitop.sources.prometheus.promql import SchemaPlan


def history_window(window: float, step: float) -> float:
    """The rate range of a history query: the table's window, or the step when that is longer."""
    return max(window, step)


class PromDrillDown:
    """`breakdown`, `history` and `metric_names` over the collector's current plans."""

    if TYPE_CHECKING:  # what the host class, `PrometheusCollector`, provides
        schemas: tuple[Schema, ...]
        group_by: str | None
        _client: PrometheusConnect
        _plans: list[SchemaPlan]
        _last_rows: tuple[Row, ...]

        @property
        def window_used(self) -> float: ...

        def server_now(self) -> float: ...

        def _query_params(self, at: float) -> dict: ...

        async def _run(self, function: Callable, *args: Any, **kwargs: Any) -> Any: ...

        async def _run_bounded(self, function: Callable, *args: Any, **kwargs: Any) -> Any: ...

    async def metric_names(self) -> dict[str, set[str]]:
        """{instance: the catalog's metric names the server holds for it}, for `aitop detect`: a schema stands
        down per target, so one server-wide list of names would be too coarse."""
        from aitop.detect_report import names_by_instance, names_query

        params = self._query_params(self.server_now())
        (result, _) = await self._run(self._client.custom_query, names_query(self.schemas), params)
        return names_by_instance(result)

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        """Row `key` split by `label`, over the same window as the table."""
        plan = next((p for p in self._plans if p.schema.name == key[0]), None)
        if plan is None:
            return ()
        row = next((r for r in self._last_rows if r.key == key), None)
        matcher = group_matcher((row.group_label,) if row else plan.group_labels(self.group_by), key[1])
        narrowed = instant_queries(plan, window=self.window_used, group_by=label, matcher=matcher)
        params = self._query_params(self.server_now())
        asked = (self._run_bounded(self._client.custom_query, q.expr, params) for q in narrowed)
        results = await asyncio.gather(*asked, return_exceptions=True)
        answered = {q: r for q, r in zip(narrowed, results) if not isinstance(r, BaseException)}
        rows, _ = assemble_rows([plan], answered, {}, label)
        return tuple(rows)

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points] | None:
        """The last `seconds` of each field of row `key`, from `query_range` (see the module doc)."""
        plan = next((p for p in self._plans if p.schema.name == key[0]), None)
        if plan is None:
            return {name: () for name in fields}
        row = next((r for r in self._last_rows if r.key == key), None)
        label = row.group_label if row is not None else plan.group_labels(self.group_by)[0]
        matcher = group_matcher((label,), key[1])
        now = self.server_now()
        end = datetime.fromtimestamp(now, UTC)
        start = datetime.fromtimestamp(now - seconds, UTC)
        step_seconds = history_step(seconds)
        step = f"{step_seconds:g}s"
        window = history_window(self.window_used, step_seconds)
        series: dict[str, Points] = {}
        for name in fields:
            expr = row_expression(plan, name, window=window, matcher=matcher)
            if expr is None:
                series[name] = ()
                continue
            try:
                (result, _) = await self._run_bounded(self._client.custom_query_range, expr, start, end, step)
            except QueryFailure:
                series[name] = ()
                continue
            values = result[0]["values"] if result else []
            series[name] = tuple((float(t), _number(v)) for t, v in values)
        return series


    async def history_markers(self, key: tuple[str, str], seconds: float) -> list:
        """Row `key`'s restarts, deployments and firing alerts of the last `seconds` (prom_markers)."""
        from aitop.sources.prometheus.markers import server_markers

        return await server_markers(self, key, seconds)


def _number(text: str) -> float | None:
    value = float(text)
    return None if value != value else value
