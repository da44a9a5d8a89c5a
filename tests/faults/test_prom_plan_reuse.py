"""A refresh reuses the last refresh's PromQL while nothing it is made from changed (making it again was
most of a small refresh's planning), and makes it again when the grouping or the window changes."""

from __future__ import annotations

from kit import monitor, prometheus, values
from server import PrometheusAPI, query_kind

import aitop.sources.prometheus.collector as collector_module


async def test_the_queries_are_made_once_until_the_grouping_or_window_changes(serve, clock, monkeypatch):
    made: list[tuple[float, str | None]] = []
    real = collector_module.instant_queries

    def counted(plan, *, window, group_by):
        made.append((window, group_by))
        return real(plan, window=window, group_by=group_by)

    monkeypatch.setattr(collector_module, "instant_queries", counted)
    server = serve(PrometheusAPI())
    collector = prometheus(server, clock)
    mon = monitor(collector, clock)
    for _ in range(3):
        snapshot = await mon.refresh()
        clock.advance(5)
    assert values(snapshot, "request_rate") == {"alpha": 10.0, "beta": 4.0}
    once = len(made)
    assert made == [(30, None)] * once and once == len(collector._plans)  # once per schema, not per refresh
    mon.group_by = "instance"
    await mon.refresh()
    assert (30, "instance") in made[once:]  # regrouped: made again, by instance (and by model, for alerts)
    batch = server.requests(lambda r: query_kind(r) == "batch")[-1].param("query")
    assert "instance" in batch
    regrouped = len(made)
    collector.window_seconds *= 2
    await mon.refresh()
    await mon.aclose()
    assert len(made) > regrouped and made[-1][0] == 60  # a new window: made again
