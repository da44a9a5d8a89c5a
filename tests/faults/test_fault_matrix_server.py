"""Fault cases F1–F13 (tests/faults/README.md): a misbehaving server — refused, starting, slow, blackholed, erroring, partial,
proxied, unauthorised, rate-limiting, truncating — against aitop's real collectors over real sockets.

Each test is named after its fault case. Time is scaled down (2 s instead of 20 s or 40 s) or simulated with
a fake clock (Retry-After 30, one retry a minute); every assertion on what aitop *sent* is made on the fault
server's request log.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest
from kit import monitor, prometheus, resources, scrape, screen_text, settle, values
from rich.style import Style
from server import (
    Action,
    Exporter,
    Hang,
    PrometheusAPI,
    Reply,
    Request,
    ResetMidBody,
    Trickle,
    api_error,
    api_success,
    html_login_page,
    query_kind,
    query_kinds,
    rate_limited,
    redirect,
    service_unavailable,
    vector,
)

from aitop import cli
from aitop.config import build_config
from aitop.model import Missing
from aitop.sources.detect import PendingCollector
from aitop.transport import backoff_delay
from aitop.ui.cells import Palette
from aitop.ui.explain import explain_text

REAL_GETADDRINFO = socket.getaddrinfo


class Resolver:
    """Names under .invalid do not resolve while `down` (deterministically, without asking a DNS server);
    once DNS "recovers" they resolve to 127.0.0.1."""

    def __init__(self) -> None:
        self.down = True
        self.lookups = 0

    def __call__(self, host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if str(host).endswith(".invalid"):
            self.lookups += 1
            if self.down:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            host = "127.0.0.1"
        return REAL_GETADDRINFO(host, *args, **kwargs)


@pytest.fixture
def nxdomain(monkeypatch) -> Resolver:
    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


# -- F1 -----------------------------------------------------------------------------------------------


async def test_f01_refused_at_start_up_then_the_server_starts(serve, state_dir):
    from aitop.ui.app import AitopApp

    api = PrometheusAPI()
    server = serve(api)
    server.refuse()  # nothing listens yet
    config = build_config([server.url], interval=0.5, timeout=1.0)
    collector = await asyncio.to_thread(cli._open_for_tui, config)  # what `aitop URL` does before the TUI
    assert isinstance(collector, PendingCollector) and collector.poll_budget == 0.5
    mon = monitor(collector)
    app = AitopApp(mon, interval=None)
    async with app.run_test(size=(120, 30)) as pilot:  # the UI starts anyway
        for _ in range(3):  # "starts after 20 s", scaled down: three refused polls
            snapshot = await app.poll_once()
            await pilot.pause()
            assert snapshot.rows == () and not snapshot.targets[0].up
            assert snapshot.targets[0].error == "disconnected: connection refused"
            # the banner, from the very first poll
            assert "DISCONNECTED — no data yet: disconnected: connection refused" in screen_text(app)
            await asyncio.sleep(0.02)
        # A refused connection costs nobody anything: asked again at every poll, no back-off.
        assert collector.failures == 4 and collector.next_attempt == -float("inf")
        server.listen()
        snapshot = await app.poll_once()  # the first poll after recovery has the data: within one interval
        await pilot.pause()
        assert snapshot.targets[0].up and values(snapshot, "request_rate") == {"alpha": 10.0, "beta": 4.0}
        assert app.is_running and "Traceback" not in screen_text(app)
    assert not list(state_dir.glob("crash-*"))


async def test_f01_nxdomain_backs_off_with_jitter(nxdomain, clock, monkeypatch):
    config = build_config(["http://prometheus.invalid:9090"], interval=0.5, timeout=1.0)
    collector = await asyncio.to_thread(cli._open_for_tui, config)
    assert isinstance(collector, PendingCollector)
    collector.monotonic = clock
    attempts = []
    opener = collector._opener

    async def counted():
        attempts.append(clock())
        return await opener()

    collector._opener = counted
    monkeypatch.setattr("random.uniform", lambda low, high: high)  # the top of each jittered range
    collector.next_attempt = clock()  # start the schedule now, on the fake clock
    collector.failures = 0
    delays = []
    for _ in range(5):
        snapshot = await collector.collect()
        assert "DNS lookup failed" in snapshot.targets[0].error
        delays.append(collector.next_attempt - clock())
        await collector.collect()  # too early: not asked again
        clock.advance(delays[-1])
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0] and len(attempts) == 5
    monkeypatch.undo()
    # The real jitter: within [ceiling / 2, ceiling], and not the same for everybody.
    draws = [backoff_delay(3) for _ in range(50)]
    assert all(2.0 <= d <= 4.0 for d in draws) and len(set(draws)) > 40
    assert backoff_delay(20) <= 30.0


async def test_f01_nxdomain_in_both_collectors(nxdomain, clock):
    from aitop.sources.prometheus.collector import PrometheusCollector
    from aitop.sources.scrape.collector import ScrapeCollector

    prom = PrometheusCollector("http://prometheus.invalid:9090", timeout=1.0, wall_clock=clock, monotonic=clock)
    page = ScrapeCollector(["http://exporter.invalid:8000/metrics"], timeout=1.0, wall_clock=clock, monotonic=clock)
    try:
        prom_health = (await prom.collect()).targets[0]
        scrape_health = (await page.collect()).targets[0]
    finally:
        await prom.aclose()
        await page.aclose()
    assert prom_health.error.startswith("DNS lookup failed for prometheus.invalid")
    assert prom.next_attempt > clock()  # backing off
    assert scrape_health.error == "DNS lookup failed for exporter.invalid"


async def test_f01_nxdomain_ui_starts_and_data_follows_the_dns_recovery(serve, nxdomain, clock, state_dir):
    """The UI starts on a host that does not resolve, says so, backs off, and shows the data at the first
    attempt after DNS recovers (an attempt the back-off schedules, ≤ its current delay)."""
    from aitop.ui.app import AitopApp

    server = serve(PrometheusAPI())
    config = build_config([f"http://prometheus.invalid:{server.port}"], interval=0.5, timeout=1.0)
    collector = await asyncio.to_thread(cli._open_for_tui, config)
    assert isinstance(collector, PendingCollector) and collector.failures == 1
    collector.monotonic = clock  # the back-off schedule from now on, on the fake clock
    collector.next_attempt = clock()
    app = AitopApp(monitor(collector), interval=None, clock=clock)
    async with app.run_test(size=(140, 30)) as pilot:
        await app.poll_once()
        await pilot.pause()
        assert app.is_running and "DISCONNECTED — no data yet: disconnected: DNS lookup failed" in screen_text(app)
        assert collector.next_attempt > clock()  # backing off
        lookups = nxdomain.lookups
        await app.poll_once()  # within the back-off: nobody asks DNS again
        assert nxdomain.lookups == lookups and server.count() == 0
        nxdomain.down = False  # DNS recovers
        clock.advance(collector.next_attempt - clock())
        snapshot = await app.poll_once()
        await pilot.pause()
        assert snapshot.targets[0].up and values(snapshot, "request_rate") == {"alpha": 10.0, "beta": 4.0}
        text = screen_text(app)
        assert "alpha" in text and "DNS lookup failed" not in text and "Traceback" not in text
    assert not list(state_dir.glob("crash-*"))


# -- F2 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stopping", "state"), [(False, "starting up"), (True, "shutting down")])
async def test_f02_server_starting_up_keeps_the_last_values(serve, clock, stopping, state):
    api = PrometheusAPI()
    starting = {"on": False}
    api.fault(lambda r: service_unavailable(stopping=stopping) if starting["on"] else None)
    server = serve(api)
    mon = monitor(prometheus(server, clock), clock)
    good = await mon.refresh()
    assert not good.stale and values(good, "request_rate") == {"alpha": 10.0, "beta": 4.0}

    starting["on"] = True
    clock.advance(5)
    during = await mon.refresh()
    assert during.stale and during.rows == good.rows  # last values kept…
    assert during.taken_at == good.taken_at  # …with their age (now − taken_at), for dimming
    assert f"Prometheus is {state} (HTTP 503)" in during.error  # told apart by X-Prometheus-Stopping
    assert not any(word in during.error for word in ("JSON", "Expecting value", "decode"))

    sent = server.count()
    clock.advance(0.1)
    await mon.refresh()  # within the back-off: nothing sent
    assert server.count() == sent
    starting["on"] = False
    clock.advance(2.5)  # past the first back-off (≤ 1 s)
    after = await mon.refresh()
    assert not after.stale and after.targets[0].up and values(after, "request_rate") == {"alpha": 10.0, "beta": 4.0}
    await mon.aclose()


async def test_f02_the_screen_says_starting_up_and_dims_the_old_values_with_their_age(serve, clock):
    from aitop.ui.app import AitopApp
    from aitop.ui.widgets import TopTable
    from aitop.ui.widgets.status_bar import StatusBar

    api = PrometheusAPI()
    starting = {"on": False}
    api.fault(lambda r: service_unavailable(stopping=False) if starting["on"] else None)
    server = serve(api)
    app = AitopApp(monitor(prometheus(server, clock), clock), interval=None, clock=clock)

    def cells() -> list[bool]:
        """Whether each cell of the table is faded (muted and italic; never dim, which reads about 2:1)."""
        table = app.query_one(TopTable)
        styles = [cell.style for key in table.rows for cell in table.get_row(key)]
        return [bool((Style.parse(s) if isinstance(s, str) else s).italic) for s in styles]

    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_once()
        await pilot.pause()
        assert cells() and not any(cells())
        starting["on"] = True
        for _ in range(3):  # "for 30 s", scaled down: polls 5 s apart, each within the back-off or refused
            clock.advance(5)
            await app.poll_once()
        app.query_one(StatusBar).render_status()  # (the age is re-rendered every second of the real clock)
        await pilot.pause()
        text = screen_text(app)
        assert "STALE — showing the last good data: Prometheus is starting up (HTTP 503)" in text
        assert "updated 15s ago" in text  # the kept values' age
        assert "alpha" in text and "10.0" in text  # last values kept…
        assert cells() and all(cells())  # …and dimmed
        assert not any(word in text for word in ("JSON", "Expecting value", "decode", "Traceback"))
        starting["on"] = False
        clock.advance(35)  # past any back-off
        await app.poll_once()
        await pilot.pause()
        assert "STALE" not in screen_text(app) and not any(cells())


# -- F3 -----------------------------------------------------------------------------------------------


#: How late the slow query answers. A poll that waited for it cannot return sooner: durations are judged
#: against this, the fault's own length, never against a guess of how fast this machine is.
@dataclass
class Held(Action):
    """`answer`, held back until the test opens `gate` (or the server stops): a query slower than any poll
    for exactly as long as the test needs, whatever the machine's load ("40 s", scaled to a condition)."""

    answer: Reply
    gate: threading.Event = field(default_factory=threading.Event)
    name: str = "held"

    def serve(self, server, conn, request):
        while not self.gate.wait(0.01):
            if server.stopped.is_set():
                return
        self.answer.serve(server, conn, request)


async def test_f03_slow_query_single_flight(serve):
    api = PrometheusAPI()
    # Every latency p95 request (alone or in the first poll's batch) waits for the gate of its time.
    gate = threading.Event()

    def slow_p95(request):
        return Held(api.answer(request), gate) if query_kind(request) == "latency_p95" else None

    def is_p95(r: Request) -> bool:
        return query_kind(r) == "latency_p95"

    def sent(kind: str) -> int:
        return server.count(lambda r: query_kind(r) == kind)

    def asked(kind: str) -> int:
        # Alone or in a batch: a first poll whose every request outlives its 0.1 s budget (a loaded machine)
        # reads as a failing server, and the schema is batched again from the next poll (the slow query
        # staying out of it, alone): the other panels then go out in the batch.
        return server.count(lambda r: kind in query_kinds(r))

    api.fault(slow_p95)
    server = serve(api)
    collector = prometheus(server, timeout=5.0)
    collector.poll_budget = 0.1  # the TUI sets its interval here
    snapshots = []

    async def poll_until(done) -> None:
        # A poll every 0.2 s ("5 s") until `done`; a loaded machine stretches the count, never the checks.
        for _ in range(300):
            started = time.monotonic()
            snapshots.append(await collector.collect())
            if done():
                return
            await asyncio.sleep(max(0.0, 0.2 - (time.monotonic() - started)))
        raise AssertionError(f"not done after {len(snapshots)} polls: {snapshots[-1].warnings}")

    # 1. The first p95 request held: polls go on until three showed rows and the other panels answered three
    # times meanwhile (a batch that waited for the slow query would have answered none).
    await poll_until(lambda: sum(bool(s.rows) for s in snapshots) >= 3 and asked("requests") >= 4)
    while_held = list(snapshots)
    assert server.count(is_p95) == 1  # single flight: never sent again while in flight
    # 2. Answered: polls until one shows it; 3. the second request held: two more polls show its last answer.
    gate.set()
    gate = threading.Event()  # for the next request
    await poll_until(lambda: snapshots[-1].rows and snapshots[-1].rows[0].value("latency_p95") is not None)
    answered_at = len(snapshots) - 1
    await poll_until(lambda: len(snapshots) >= answered_at + 3)
    server.stop()  # ends the held request still in progress
    await collector.aclose()

    polls = len(snapshots)
    assert server.max_concurrent(is_p95) == 1  # never two requests for that query at once
    assert server.count(is_p95) == 2 < polls  # the first, then one more after it answered
    # The other panels: sent every poll, except where single flight held one back because its previous
    # request was still in flight (a loaded machine can stretch a fast answer past a 0.2 s poll).
    assert sent("requests") <= polls and asked("requests") <= polls + 1  # (the first poll: batch, then alone)
    # No poll waited for the slow query: every poll while it was held returned, with it still running (a
    # poll that waited would have returned only when the request was abandoned, 7.5 s later, as an error).
    for snapshot in while_held:
        assert any(w.startswith("slow query: llm latency p95") and "still running" in w for w in snapshot.warnings)
    # After the answer, the second request is held: those polls too say so, and show the last answer.
    assert all(any(w.startswith("slow query: llm latency p95") for w in s.warnings) for s in snapshots[answered_at + 1:])
    # The request rate is missing only before its first answer (a loaded machine can make the batch miss the
    # first 0.1 s budget, and then the panels sent alone answer in any order: a row may show before its
    # rate); from then on every poll shows it, fresh or kept.
    first_rows = next(i for i, s in enumerate(snapshots) if s.rows and s.rows[0].value("request_rate") is not None)
    for snapshot in snapshots[first_rows:]:
        assert values(snapshot, "request_rate") == {"alpha": 10.0, "beta": 4.0}
    # Until its first answer the slow field says why it is empty; afterwards its last answer is shown.
    for snapshot in snapshots[first_rows:answered_at]:
        row = snapshot.rows[0]
        assert row.value("latency_p95") is None and row.missing_reason("latency_p95") is Missing.QUERY_ERROR
    assert all(s.rows[0].value("latency_p95") == 0.25 for s in snapshots[answered_at:])


async def test_f03_a_hanging_scrape_target_never_delays_the_others(serve):
    """Scrape mode: one of three targets blackholed; the other two are scraped and shown at every poll."""
    servers = [serve(Exporter([f"m{i}"])) for i in range(2)] + [serve(lambda r: Hang())]
    collector = scrape(*servers, timeout=5.0)
    collector.poll_budget = 0.2  # the TUI sets its interval here
    durations, results = [], []
    for _ in range(6):
        started = time.monotonic()
        results.append(await collector.collect())
        durations.append(time.monotonic() - started)
        await asyncio.sleep(0.05)
    await collector.aclose()
    assert servers[2].count() == 1  # the hung one: single flight, never stacked
    # The others at (nearly) every poll: on a loaded machine one of their scrapes may outlast a 0.2 s budget
    # and, single flight, not be sent again by the next poll.
    assert min(servers[0].count(), servers[1].count()) >= 4, [s.count() for s in servers]
    # The polls never waited for the hung target: one that did would take its 5 s deadline at least.
    assert max(durations) < 5.0, durations
    last = results[-1]
    assert [t.up for t in last.targets[:2]] == [True, True]
    assert all(value is not None and value > 0 for value in values(last, "request_rate").values())
    assert any(w.startswith(f"slow target {collector.targets[2]}: scrape still running") for w in last.warnings)


# -- F4 -----------------------------------------------------------------------------------------------


async def test_f04_blackhole_scrape_no_growth_over_100_cycles(serve):
    server = serve(lambda r: Hang())
    collector = scrape(server, timeout=0.01)
    samples = []
    for cycle in range(100):
        result = await collector.collect()
        assert result.targets[0].error in ("no answer within 0.01s", "connect timed out")
        if cycle in (9, 99):  # after warm-up (client pool, executor threads) and at the end
            # (the fault server shares this process: let it see the hang-ups and close its sockets first)
            await settle(lambda: server.in_flight() <= 1)
            samples.append(resources())
    (fds, tasks, threads), (fds_end, tasks_end, threads_end) = samples
    # A connection cancelled mid-connect may linger until the client closes: one at most, never a pile.
    assert fds_end <= fds + 2 and tasks_end <= tasks and threads_end <= threads + 1, samples
    assert await settle(lambda: server.in_flight() <= 1)  # the client hung up on every other request
    await collector.aclose()
    assert await settle(lambda: server.in_flight() == 0)
    assert collector.scrapes_started == 100 and server.count() >= 50  # (some gave up while connecting)


async def test_f04_blackhole_prometheus_no_growth(serve, clock):
    api = PrometheusAPI()  # detection answers; every query and the alerts request are blackholed
    api.fault(lambda r: Hang() if query_kind(r) or r.path.endswith("/alerts") else None)
    server = serve(api)
    collector = prometheus(server, clock, timeout=0.03)
    await collector.collect()
    await settle(lambda: server.in_flight() == 0)
    before = resources()
    collector.poll_budget = 1.0  # wait for every request's own deadline
    for _ in range(8):
        clock.advance(100)  # past any back-off: every cycle sends every query
        result = await collector.collect()
        assert "no answer within 0.03s" in result.targets[0].error
    assert server.count(lambda r: bool(query_kind(r))) >= 8 * 5  # (a few may time out while connecting)
    assert await settle(lambda: server.in_flight() == 0)
    await asyncio.sleep(0.05)
    after = resources()
    await collector.aclose()
    assert after[0] <= before[0] + 2 and after[1] <= before[1] and after[2] <= before[2], (before, after)


async def test_f04_trickling_body_hits_the_total_deadline(serve):
    body = ("x" * 10_000).encode()
    server = serve(lambda r: Trickle(body, {"Content-Type": "application/json"}, interval=0.02))
    page, prom = scrape(server, timeout=0.2), prometheus(server, timeout=0.2)
    started = time.monotonic()
    scraped, queried = await asyncio.gather(page.collect(), prom.collect())
    # Bytes keep coming (the whole body would take 200 s), yet the request ends at its deadline (~0.3 s):
    # bounded by a twentieth of the body's own time, not by a guess of this machine's speed.
    assert time.monotonic() - started < 10_000 * 0.02 / 20
    assert scraped.targets[0].error == "no answer within 0.2s"
    assert "no complete answer within 0.3s" in queried.targets[0].error
    assert await settle(lambda: server.in_flight() == 0)  # and both clients hung up
    await page.aclose()
    await prom.aclose()


# -- F5 -----------------------------------------------------------------------------------------------

TIMEOUT_BODY = ("timeout", "query timed out in query execution")


async def test_f05_timeout_errors_back_off_and_keep_the_old_values(serve, clock):
    api = PrometheusAPI()
    mode = {"all": False, "p95": False}
    api.fault(lambda r: api_error(503, *TIMEOUT_BODY) if mode["all"] and query_kind(r) else None)
    api.fault(lambda r: api_error(503, *TIMEOUT_BODY) if mode["p95"] and query_kind(r) == "latency_p95" else None)
    server = serve(api)
    mon = monitor(prometheus(server, clock), clock)
    good = await mon.refresh()
    assert not good.stale and good.row("llm", "alpha").value("latency_p95") == 0.25

    # One panel times out: its old value stays, marked in the warnings; only it backs off.
    mode["p95"] = True
    clock.advance(2)
    one = await mon.refresh()
    assert not one.stale and one.row("llm", "alpha").value("latency_p95") == 0.25  # the old value, kept
    assert any("timeout" in w and "latency p95" in w and "showing the answer from 2s ago" in w for w in one.warnings)
    def p95(r: Request) -> bool:
        return query_kind(r) == "latency_p95"

    sent = server.count(p95)
    await mon.refresh()  # same instant: the timed-out query is not re-sent, the others are
    assert server.count(p95) == sent
    collector = mon.collector
    (expr,) = {r.param("query") for r in server.requests(p95)}
    delays = [collector.query_next_attempt(expr) - clock()]
    for _ in range(2):  # retried once its back-off is over, each time after a longer wait (1 s, 2 s, 4 s…)
        clock.advance(delays[-1])
        await mon.refresh()
        assert server.count(p95) == sent + 1
        sent += 1
        delays.append(collector.query_next_attempt(expr) - clock())
    assert 0.5 <= delays[0] <= 1.0 <= delays[1] <= 2.0 <= delays[2] <= 4.0, delays

    # Every query times out: the server is struggling — stale snapshot, global back-off.
    mode.update(all=True, p95=False)
    clock.advance(5)
    stale = await mon.refresh()
    assert stale.stale and "timeout: query timed out in query execution" in stale.error
    assert stale.row("llm", "alpha").value("request_rate") == 10.0
    sent = server.count()
    await mon.refresh()
    assert server.count() == sent  # backing off
    mode["all"] = False
    clock.advance(1.1)
    assert not (await mon.refresh()).stale
    await mon.aclose()


# -- F6 and F7 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "kind", "reply", "expected", "reason", "why"),
    [
        ("f06", "errors", api_error(400, "bad_data", 'invalid parameter "query": 1:15: parse error: unexpected "}"'),
         "query rejected (bad_data): invalid parameter", Missing.QUERY_ERROR, "query error — the query for it failed"),
        ("f07", "latency_p99", api_error(422, "execution",
                                         "query processing would load too many samples into memory in query execution"),
         "query rejected by a server limit (execution): query processing would load too many samples into memory in "
         "query execution — narrow the query", Missing.LIMIT,
         "query rejected by a server limit — the server refused the query for a limit it enforces"),
    ],
)
async def test_f06_f07_rejected_query_is_retried_at_most_once_a_minute(serve, clock, f, kind, reply, expected, reason,
                                                                       why):
    api = PrometheusAPI()
    api.fault(lambda r: reply if query_kind(r) == kind else None)
    server = serve(api)
    mon = monitor(prometheus(server, clock), clock)
    def bad(r: Request) -> bool:
        return query_kind(r) == kind

    snapshots = []
    for _ in range(12):  # a minute of 5 s polls
        snapshots.append(await mon.refresh())
        clock.advance(5)
    assert server.count(bad) == 1  # not retried every interval
    assert server.count(lambda r: query_kind(r) == "requests") == 12  # the rest of the UI is fine
    for snapshot in snapshots:
        assert not snapshot.stale and snapshot.targets[0].up
        assert any(expected in w for w in snapshot.warnings), snapshot.warnings
        alpha = snapshot.row("llm", "alpha")
        assert alpha.value("request_rate") == 10.0
        field = "error_rate" if kind == "errors" else kind
        assert alpha.value(field) is None and alpha.missing_reason(field) is reason
        # The panel's explain (`e`) says why ("query error", or the limit); the other fields are computed as usual.
        assert f"why —     {why}" in explain_text(alpha, field, snapshot, Palette()).plain
        assert "query error" not in explain_text(alpha, "request_rate", snapshot, Palette()).plain
    assert any("next try in" in w for w in snapshots[-1].warnings)
    clock.advance(5)  # 65 s after the first attempt
    await mon.refresh()
    assert server.count(bad) == 2
    await mon.aclose()


# -- F8 and F9 -----------------------------------------------------------------------------------------

NO_STORES = "No StoreAPIs matched for this query"


async def test_f08_thanos_partial_empty_is_no_data_never_zero(serve, clock):
    api = PrometheusAPI()
    partial = {"errors": True, "all": False}

    def thanos(request):
        kind = query_kind(request)
        if kind and (partial["all"] or (partial["errors"] and kind == "errors")):
            return api_success(vector([]), warnings=[NO_STORES])
        return None

    api.fault(thanos)
    server = serve(api)
    mon = monitor(prometheus(server, clock), clock)
    first = await mon.refresh()
    assert f"llm errors: no data (partial): {NO_STORES}" in first.warnings
    for row in first.rows:  # the error panel had only a partial empty answer: unknown, not 0 %
        assert row.value("error_rate") is None and row.missing_reason("error_rate") is Missing.QUERY_ERROR
        assert row.value("request_rate") > 0

    partial.update(errors=False, all=False)
    clock.advance(5)
    good = await mon.refresh()
    assert good.row("llm", "alpha").value("error_rate") == pytest.approx(0.1)
    partial["all"] = True  # every store gone: the last values stay, flagged
    clock.advance(5)
    gone = await mon.refresh()
    assert NO_STORES in " ".join(gone.warnings)
    alpha = gone.row("llm", "alpha")
    assert alpha.value("request_rate") == 10.0 and alpha.value("error_rate") == pytest.approx(0.1)
    assert not any(row.value("request_rate") == 0 for row in gone.rows)
    await mon.aclose()


async def test_f09_infos_keep_the_value_and_reach_the_drill_down(serve, clock):
    info = "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see x) for metric name y"
    api = PrometheusAPI()
    api.infos = [info]
    server = serve(api)
    mon = monitor(prometheus(server, clock), clock)
    snapshot = await mon.refresh()
    alpha = snapshot.row("llm", "alpha")
    assert alpha.value("latency_p95") == 0.25  # the value is shown…
    assert f"info: {info}" in snapshot.warnings  # …with the info as a marker (the PARTIAL/notes line)…
    assert f"info: {info}" in alpha.provenance["latency_p95"]  # …and readable in the drill-down's "explain"
    assert "info:" not in alpha.provenance["request_rate"]
    await mon.aclose()
    # In the table the value carries the marker (underlined); `e` on it shows the annotation.
    from aitop.ui.cells import numeric_cell

    marked = numeric_cell(alpha, "latency_p95", Palette())
    assert marked.plain.strip() == "250ms" and any(span.style.underline for span in marked.spans)
    assert not any(getattr(span.style, "underline", False) for span in numeric_cell(alpha, "request_rate", Palette()).spans)
    assert info in " ".join(explain_text(alpha, "latency_p95", snapshot, Palette()).plain.split())


# -- F10 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["auto", "prometheus", "scrape"])
async def test_f10_html_login_page_is_named_not_parsed(serve, state_dir, capsys, kind):
    server = serve(lambda r: html_login_page())
    target = server.url + ("/metrics" if kind == "scrape" else "")
    code = await asyncio.to_thread(cli.main, ["snapshot", target, "--window", "0.05", "--timeout", "1"]
                                   + ([f"--{kind}"] if kind != "auto" else []))
    out, err = capsys.readouterr()
    assert code == 1
    assert "unexpected HTML from 127.0.0.1 — authentication proxy?" in err
    assert "Traceback" not in out + err and "JSONDecodeError" not in out + err


@pytest.mark.parametrize("kind", ["prometheus", "scrape"])
async def test_f10_redirect_to_sso_is_reported_not_followed(serve, state_dir, capsys, kind):
    server = serve(lambda r: redirect("/oauth2/start?rd=%2Fapi") if r.path != "/oauth2/start" else html_login_page())
    target = server.url + ("/metrics" if kind == "scrape" else "")
    assert await asyncio.to_thread(cli.main, ["snapshot", target, f"--{kind}", "--window", "0.05"]) == 1
    err = capsys.readouterr().err
    assert "302" in err and "/oauth2/start" in err and "does not follow redirects" in err
    assert server.count(lambda r: r.path == "/oauth2/start") == 0  # no redirect followed


# -- F11 ----------------------------------------------------------------------------------------------

PLANTED = "glc_PLANTED_f11_SECRET"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (api_error(401, "unauthorized", "bad token"), "authentication failed: not authorised (HTTP 401)"),
        (Reply(403, "forbidden", {"Content-Type": "text/plain"}), "authentication failed: not authorised (HTTP 403)"),
        (Reply(401, "no org id\n", {"Content-Type": "text/plain"}), "missing tenant (set --tenant)"),
    ],
)
async def test_f11_auth_failures_slow_the_retries_and_never_print_the_token(serve, clock, tmp_path, caplog, reply,
                                                                            message):
    from aitop.ui.app import AitopApp

    caplog.set_level(logging.DEBUG)  # every logger, every level: requests, urllib3, httpx, aitop
    server = serve(lambda r: reply)
    token = tmp_path / "token"
    token.write_text(PLANTED)
    token.chmod(0o600)
    config = build_config([server.url], kind="prometheus", bearer_token_file=str(token))
    collector = prometheus(server, clock, http=config.http)
    app = AitopApp(monitor(collector, clock), interval=None, clock=clock)
    async with app.run_test(size=(200, 30)) as pilot:
        health = (await app.poll_once()).targets[0]
        await pilot.pause()
        assert message in health.error and PLANTED not in health.error
        assert collector.next_attempt >= clock() + 60  # retry slowed to ≥ 60 s
        sent = server.count()
        for _ in range(11):  # a minute of 5 s polls, less one: nothing sent
            clock.advance(5)
            await app.poll_once()
        await pilot.pause()
        assert server.count() == sent
        screen = screen_text(app)
        assert message in screen  # the banner says what is wrong…
        clock.advance(6)
        await app.poll_once()
        assert server.count() > sent  # …and it is asked again after the minute
    assert all(r.headers.get("authorization") == f"Bearer {PLANTED}" for r in server.requests())  # it was sent
    logs = caplog.text + "".join(repr(record.args) for record in caplog.records)
    assert caplog.records  # (the HTTP libraries did log these requests)
    for where, text in [("screen", screen), ("logs", logs), ("collector", repr(collector.__dict__)),
                        ("config", repr(config))]:
        assert PLANTED not in text, f"the token reached the {where}"


async def test_f11_scrape_target_refusing_credentials_is_retried_after_a_minute(serve, clock):
    server = serve(lambda r: Reply(401, "Unauthorized"))
    collector = scrape(server, clock=clock)
    first = await collector.collect()
    assert first.targets[0].error.startswith("authentication failed (HTTP 401 Unauthorized)")
    for _ in range(11):  # a minute of 5 s polls
        clock.advance(5)
        await collector.collect()
    assert server.count() == 1
    clock.advance(6)
    await collector.collect()
    assert server.count() == 2
    await collector.aclose()


# -- F12 ----------------------------------------------------------------------------------------------


async def test_f12_429_retry_after_is_honoured(serve, clock):
    from aitop.ui.app import AitopApp

    api = PrometheusAPI()
    limited = {"on": True}
    api.fault(lambda r: rate_limited(30) if limited["on"] else None)
    server = serve(api)
    collector = prometheus(server, clock)
    app = AitopApp(monitor(collector, clock), interval=None, clock=clock)
    async with app.run_test(size=(160, 30)) as pilot:
        health = (await app.poll_once()).targets[0]
        await pilot.pause()
        assert health.error.startswith("rate limited by the server (HTTP 429); next try in 30s")
        assert "rate limited by the server (HTTP 429)" in screen_text(app)  # the rate-limit badge
        assert collector.next_attempt >= clock() + 30
        sent = server.count()
        for _ in range(5):  # polls for 29 s: no request to that endpoint
            clock.advance(29 / 5)
            await app.poll_once()
        assert server.count() == sent
        limited["on"] = False
        clock.advance(1.5)
        assert (await app.poll_once()).targets[0].up


async def test_f12_429_on_one_query_holds_only_that_query(serve, clock):
    api = PrometheusAPI()
    api.fault(lambda r: rate_limited(30) if query_kind(r) == "latency_p50" else None)
    server = serve(api)
    collector = prometheus(server, clock)
    await collector.collect()
    def p50(r: Request) -> bool:
        return query_kind(r) == "latency_p50"

    (request,) = server.requests(p50)
    assert collector.query_next_attempt(request.param("query")) >= clock() + 30
    for _ in range(5):  # 25 s of 5 s polls
        clock.advance(5)
        snapshot = await collector.collect()
    assert server.count(p50) == 1 and server.count(lambda r: query_kind(r) == "requests") == 6
    assert any("rate limited" in w and "latency p50" in w for w in snapshot.warnings)
    clock.advance(5.5)
    await collector.collect()
    assert server.count(p50) == 2  # after Retry-After
    await collector.aclose()


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "http-date"])
async def test_f12_scrape_429_retry_after(serve, clock, as_date):
    server = serve(lambda r: rate_limited(30.9 if as_date else 30, as_date=as_date))  # a date has 1 s steps
    collector = scrape(server, clock=clock)
    error = (await collector.collect()).targets[0].error
    assert error.startswith("rate limited (HTTP 429 Too Many Requests); retrying in ")
    waited = float(error.rsplit(" ", 1)[1].removesuffix("s"))
    assert 29 < waited <= 31 if as_date else waited == 30
    clock.advance(29)
    await collector.collect()
    assert server.count() == 1
    clock.advance(2.5)
    await collector.collect()
    assert server.count() == 2
    await collector.aclose()


# -- F13 ----------------------------------------------------------------------------------------------

GOOD_VECTOR = api_success(vector([({"model": "alpha"}, 10)])).body
BROKEN = {
    "reset": lambda: ResetMidBody(GOOD_VECTOR.encode(), {"Content-Type": "application/json"}),
    "trailing garbage": lambda: Reply(200, GOOD_VECTOR + "}}garbage", {"Content-Type": "application/json"}),
    "truncated": lambda: Reply(200, GOOD_VECTOR[: len(GOOD_VECTOR) // 2], {"Content-Type": "application/json"}),
}


@pytest.mark.parametrize("how", sorted(BROKEN))
async def test_f13_broken_bodies_are_transient_and_keep_the_last_data(serve, clock, how):
    api = PrometheusAPI()
    broken = {"on": False}
    api.fault(lambda r: BROKEN[how]() if broken["on"] and query_kind(r) else None)
    server = serve(api)
    collector = prometheus(server, clock)
    mon = monitor(collector, clock)
    good = await mon.refresh()
    broken["on"] = True
    clock.advance(5)
    bad = await mon.refresh()
    assert bad.stale and bad.rows == good.rows  # last good data kept
    expected = "connection broken mid-response" if how == "reset" else "not a Prometheus API response"
    assert expected in bad.error and "Traceback" not in bad.error
    assert bad.targets[0].failures == 1 and collector.failures_total >= 1  # the error counter increments
    broken["on"] = False
    clock.advance(35)
    assert not (await mon.refresh()).stale  # transient: back on its own
    await mon.aclose()


async def test_f13_invalid_utf8_in_a_label_value_is_shown_replaced(serve, clock):
    body = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{"model":"bad\xff\xfeutf8"},"value":[1,"3"]}]}}'
    api = PrometheusAPI()
    api.fault(lambda r: Reply(200, body, {"Content-Type": "application/json"}) if query_kind(r) == "requests" else None)
    mon = monitor(prometheus(serve(api), clock), clock)
    snapshot = await mon.refresh()
    row = next(row for row in snapshot.rows if row.group.startswith("bad"))
    assert row.value("request_rate") == 3.0 and "\ufffd" in row.group  # replaced, never a crash
    await mon.aclose()


async def test_f13_invalid_utf8_on_a_metrics_page_is_shown_replaced(serve, clock):
    pages = iter([b'llm_requests_total{model="bad\xff\xfe",status="success"} 3\n',
                  b'llm_requests_total{model="bad\xff\xfe",status="success"} 13\n'])
    collector = scrape(serve(lambda r: Reply(200, next(pages), {"Content-Type": "text/plain"})), clock=clock)
    await collector.collect()
    clock.advance(5)
    result = await collector.collect()
    await collector.aclose()
    (row,) = result.rows
    assert result.targets[0].up and row.group == "bad\ufffd\ufffd" and row.value("request_rate") == 2.0


async def test_f13_scrape_reset_mid_body(serve, clock):
    exporter = Exporter()
    broken = {"on": False}

    def app(request):
        if broken["on"]:
            return ResetMidBody(exporter.page().encode(), {"Content-Type": "text/plain"})
        return exporter(request)

    collector = scrape(serve(app), clock=clock)
    await collector.collect()
    clock.advance(5)
    good = await collector.collect()
    broken["on"] = True
    clock.advance(5)
    bad = await collector.collect()
    assert bad.targets[0].error == "connection broken mid-response" and bad.targets[0].failures == 1
    assert [r.values for r in bad.rows] == [r.values for r in good.rows] and all(r.stale for r in bad.rows)
    await collector.aclose()
