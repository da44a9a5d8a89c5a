"""Asking a Prometheus-compatible server for the facts `prom_server` describes: its clock and the scrape
interval of the jobs holding AI-serving series. Each question may fail (Thanos and Mimir have no targets,
a proxy may forbid the status pages): a failed one leaves what was known before, never a refresh."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from aitop.sources.prometheus.results import QueryFailure
from aitop.sources.prometheus.server import (
    TIME_QUERY,
    ServerFacts,
    intervals_from_config,
    intervals_from_targets,
    jobs_query,
    longest_interval,
    spacing_query,
)


async def _query(collector: Any, expr: str) -> list | None:
    try:
        (result, _) = await collector._run_bounded(collector._client.custom_query, expr)
    except QueryFailure:
        return None
    return result


async def _get_json(collector: Any, path: str) -> object:
    get = partial(collector._http.session.get, timeout=collector.timeout)
    try:
        (response, _) = await collector._run_bounded(get, f"{collector.base_url}{path}")
        return response.json() if response.status_code == 200 else None
    except (QueryFailure, ValueError):
        return None


async def learn_offset(collector: Any, previous: float) -> float:
    """Server time − aitop's time, from a `time()` query (its answer is the server's "now" to the ms),
    taken against the middle of the request; `previous` when the server does not say."""
    before = collector.wall_clock()
    result = await _query(collector, TIME_QUERY)
    after = collector.wall_clock()
    if result is None:
        return previous
    try:
        return float(result[1]) - (before + after) / 2  # a scalar answer: [time, "value"]
    except (TypeError, ValueError, IndexError, KeyError):
        return previous


async def learn_interval(collector: Any, names: Sequence[str]) -> tuple[float | None, str, tuple[str, ...]]:
    """(longest scrape interval of the jobs holding `names`, where it was learned, those jobs)."""
    if not names:
        return None, "", ()
    found = await _query(collector, jobs_query(names))
    jobs = tuple(sorted({str(s.get("metric", {}).get("job", "")) for s in found or ()} - {""}))
    intervals = intervals_from_targets(await _get_json(collector, "/api/v1/targets"))
    if (interval := longest_interval(intervals, jobs)) is not None:
        return interval, "targets", jobs
    body = await _get_json(collector, "/api/v1/status/config")
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and isinstance(data.get("yaml"), str):
        intervals = intervals_from_config(data["yaml"])
        if (interval := longest_interval(intervals, jobs)) is not None:
            return interval, "config", jobs
    spacing = {}
    for series in await _query(collector, spacing_query(names)) or ():
        try:
            spacing[str(series.get("metric", {}).get("job", ""))] = float(series["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    spacing = {job: seconds for job, seconds in spacing.items() if seconds == seconds and seconds > 0}
    if spacing:
        return max(spacing.values()), "sample spacing", jobs
    return None, "", jobs


async def learn_server(collector: Any, names: Sequence[str], previous: ServerFacts) -> ServerFacts:
    """Fresh facts about the server the collector queries (the previous ones where it does not answer)."""
    offset = await learn_offset(collector, previous.offset)
    interval, source, jobs = await learn_interval(collector, names)
    if interval is None:
        interval, source = previous.scrape_interval, previous.interval_source
    return ServerFacts(offset=offset, scrape_interval=interval, interval_source=source, jobs=jobs)

