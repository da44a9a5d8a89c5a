"""Requests of queries no longer asked are dropped quietly: a failure nobody reads is not printed."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from aitop.sources.prometheus.batch import Flight
from aitop.sources.prometheus.collector import PrometheusCollector
from aitop.sources.prometheus.results import QueryFailure


async def test_a_failed_request_of_a_query_no_longer_planned_is_dropped_without_an_unretrieved_error() -> None:
    reported: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    collector = PrometheusCollector("http://127.0.0.1:9", window=30)
    try:
        async def fails() -> None:
            raise QueryFailure("no answer within 10s")

        task = asyncio.create_task(fails())
        await asyncio.wait([task])
        collector._inflight["rate(old_window[1m])"] = Flight(task, 0.0)
        del task
        collector._forget_unplanned({"rate(new_window[1m])"})  # e.g. the window changed with the scrape interval
        assert collector._inflight == {}
        gc.collect()  # a task's unread exception is reported when the task is collected
        assert [c.get("message") for c in reported] == []
    finally:
        loop.set_exception_handler(None)
        await collector.aclose()
