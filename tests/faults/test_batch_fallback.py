"""The batched query's fallback, against the scriptable fault server: an answer over the series budget and
an answer carrying an info both send the refresh's queries alone; a batch that answers keeps the schema
on one request a refresh."""

from __future__ import annotations

from kit import monitor, prometheus, values
from server import PrometheusAPI, api_error, batch_parts, query_kind

INFO = "PromQL info: input to histogram_quantile needed to be fixed for monotonicity"


async def test_a_batch_answers_in_one_request_per_refresh(serve, clock):
    server = serve(PrometheusAPI())
    collector = prometheus(server, clock)
    mon = monitor(collector, clock)
    for _ in range(3):
        snapshot = await mon.refresh()
        clock.advance(5)
    await mon.aclose()
    assert values(snapshot, "request_rate") == {"alpha": 10.0, "beta": 4.0}
    assert server.count(lambda r: query_kind(r) == "batch") == 3
    assert server.count(lambda r: query_kind(r) not in ("", "batch")) == 0  # no query sent alone
    assert collector.batcher.fallbacks == 0


async def test_an_answer_over_the_series_budget_is_asked_again_query_by_query(serve, clock):
    server = serve(PrometheusAPI())
    collector = prometheus(server, clock)
    collector.max_series = 1  # 2 models: every query has 2 series, the batch 10 (over its 5)
    mon = monitor(collector, clock)
    snapshot = await mon.refresh()
    await mon.aclose()
    assert collector.batcher.fallbacks == 1
    assert server.count(lambda r: query_kind(r) == "requests") == 1  # the same refresh, alone
    assert "llm requests: showing 1 of ≥2 series — group by fewer labels or filter" in snapshot.warnings


async def test_an_info_of_one_sub_query_is_not_pinned_on_the_others(serve, clock):
    api = PrometheusAPI()
    api.infos = [INFO]  # the fault server adds it to the latency answers only
    server = serve(api)
    collector = prometheus(server, clock)
    mon = monitor(collector, clock)
    snapshot = await mon.refresh()
    alpha = snapshot.row("llm", "alpha")
    assert f"info: {INFO}" in alpha.provenance["latency_p95"] and "info:" not in alpha.provenance["request_rate"]
    assert collector.batcher.fallbacks == 1 and collector.batcher.alone_until  # the latency queries stay out
    clock.advance(301)
    await mon.refresh()
    await mon.refresh()  # back on the batch, without the queries that warn
    await mon.aclose()
    batches = [r for r in server.requests(lambda r: query_kind(r) == "batch")]
    assert not any(expr.startswith("histogram_quantile") for expr, _ in batch_parts(batches[-1].param("query")))
    assert collector.batcher.fallbacks == 1


async def test_a_server_outage_does_not_take_the_queries_out_of_the_batch(serve, clock):
    api = PrometheusAPI()
    down = {"now": False}
    api.fault(lambda r: api_error(503, "unavailable", "overloaded") if down["now"] and query_kind(r) else None)
    server = serve(api)
    collector = prometheus(server, clock)
    mon = monitor(collector, clock)
    await mon.refresh()
    down["now"] = True
    stale = await mon.refresh()  # the batch fails, and so does every query sent alone after it
    assert stale.stale
    down["now"] = False
    clock.advance(60)  # past the back-off
    batches = server.count(lambda r: query_kind(r) == "batch")
    snapshot = await mon.refresh()
    await mon.aclose()
    assert values(snapshot, "request_rate") == {"alpha": 10.0, "beta": 4.0}
    assert server.count(lambda r: query_kind(r) == "batch") == batches + 1  # batched again at once
    assert not collector.batcher.alone_until


async def test_a_batch_answer_is_read_once_its_notes_included(serve, clock, monkeypatch):
    """The notes (warnings, infos) of a batch's answer come from the body decoded for its series: the
    megabytes of a large answer are never scanned and decoded a second time for them; the fallback still
    sees the info."""
    from aitop.sources.prometheus import results

    api = PrometheusAPI()
    api.infos = [INFO]
    server = serve(api)
    scanned: list[bytes] = []
    real = results._notes

    def notes(response):
        scanned.append(response.content)
        return real(response)

    monkeypatch.setattr(results, "_notes", notes)
    collector = prometheus(server, clock)
    mon = monitor(collector, clock)
    snapshot = await mon.refresh()
    await mon.aclose()
    assert collector.batcher.fallbacks == 1  # the batch's info was seen
    assert f"info: {INFO}" in snapshot.row("llm", "alpha").provenance["latency_p95"]
    assert scanned and not any(b"__aitop_concept__" in body for body in scanned)


async def test_a_query_failing_for_now_shows_its_kept_answer_decoded_again(serve, clock):
    """The last good answers are kept as the responses they came in (no decoded series stay alive between
    refreshes for the garbage collector to walk); a query that then fails for now shows its own share of
    the batch answer it last had, decoded again, with the same values."""
    api = PrometheusAPI()
    down = {"now": False}
    api.fault(lambda r: api_error(503, "unavailable", "busy")
              if down["now"] and query_kind(r) in ("batch", "requests") else None)
    server = serve(api)
    collector = prometheus(server, clock)
    mon = monitor(collector, clock)
    before = await mon.refresh()
    assert collector._answers and all(not isinstance(kept.source, list) for kept in collector._answers.values())
    assert {kept.tag for kept in collector._answers.values()} >= {"0", "1"}  # each its share of one batch
    down["now"] = True
    clock.advance(5)
    after = await mon.refresh()
    await mon.aclose()
    assert collector.batcher.fallbacks == 1
    assert values(after, "request_rate") == values(before, "request_rate") == {"alpha": 10.0, "beta": 4.0}
    assert any(w.startswith("llm requests: ") and "showing the answer from 5s ago" in w for w in after.warnings)
