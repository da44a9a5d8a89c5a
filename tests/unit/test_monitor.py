"""Monitor: judging, stale handling, bounded history."""


from aitop.model import Row, Severity, Snapshot, TargetHealth
from aitop.history import History
from aitop.monitor import Monitor
from aitop.sources.base import Collected, CollectorBase


class ScriptedCollector(CollectorBase):
    kind = "scrape"
    targets = ("http://t/metrics",)
    window_seconds = 30.0

    def __init__(self, *answers):
        self.answers = list(answers)

    async def breakdown(self, key, label):
        return (Row("vllm", "engine-0", label, {"error_rate": 0.2}),)

    async def history(self, key, fields, seconds):
        return None

    async def collect(self):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def aclose(self):
        pass


def collected(rows, up=True, at=100.0):
    return Collected(at, 30.0, tuple(rows), (TargetHealth("http://t/metrics", "scrape", up, None if up else "HTTP 503"),), ("vllm",))


def row(group, error_rate):
    return Row("vllm", group, "model_name", {"error_rate": error_rate, "latency_p95": 3.0})


async def test_rows_are_judged():
    monitor = Monitor(ScriptedCollector(collected([row("a", 0.09), row("b", 0.001)])))
    snapshot = await monitor.refresh()
    assert snapshot.row("vllm", "a").severity["error_rate"] is Severity.CRITICAL
    assert snapshot.row("vllm", "b").severity["error_rate"] is Severity.OK
    assert snapshot.row("vllm", "b").severity["latency_p95"] is Severity.CRITICAL


async def test_all_targets_down_keeps_last_good_rows_marked_stale():
    monitor = Monitor(ScriptedCollector(collected([row("a", 0.0)]), collected([], up=False, at=105.0)))
    first = await monitor.refresh()
    second = await monitor.refresh()
    assert second.stale and second.error == "HTTP 503"
    assert second.rows == first.rows and not second.targets[0].up


async def test_collector_crash_becomes_a_stale_snapshot_not_an_exception():
    monitor = Monitor(ScriptedCollector(collected([row("a", 0.0)]), RuntimeError("boom secret=xyz")))
    await monitor.refresh()
    snapshot = await monitor.refresh()
    assert snapshot.stale and "RuntimeError" in snapshot.error and "xyz" not in snapshot.error


async def test_first_poll_failing_gives_empty_stale_snapshot():
    monitor = Monitor(ScriptedCollector(RuntimeError("x")), clock=lambda: 42.0)
    snapshot = await monitor.refresh()
    assert snapshot.stale and snapshot.rows == () and snapshot.taken_at == 42.0


async def test_the_snapshot_holds_what_the_collector_returned_not_a_copy():
    from dataclasses import replace

    answer = replace(collected([row("a", 0.09)]), labels=("engine",), backend="Prometheus 3", warnings=("w",),
                     tls_verified=False, window_requested_seconds=10.0, clock_offset=-1.5, scrape_interval=15.0,
                     failed_queries=(("up", "timeout", ("request_rate",)),), at=99.0)  # fmt: skip
    down = collected([], up=False, at=105.0)
    monitor = Monitor(ScriptedCollector(answer, down))
    snapshot = await monitor.refresh()
    assert snapshot.collected is answer and snapshot.rows != answer.rows  # the judged rows are the snapshot's own
    read = {name: getattr(snapshot, name) for name in ("taken_at", "window_seconds", "targets", "schemas", "labels",
            "backend", "warnings", "tls_verified", "window_requested_seconds", "clock_offset", "scrape_interval",
            "failed_queries", "at")}  # fmt: skip
    assert read == {name: getattr(answer, name) for name in read}
    stale = await monitor.refresh()  # every target down: the last good data, with the new health
    assert stale.stale and stale.targets == down.targets and stale.collected.rows is answer.rows
    assert stale.backend == "Prometheus 3" and stale.rows == snapshot.rows


def test_history_is_bounded_and_evicts_churned_rows():
    history = History(maxlen=5, evict_after=3)
    for i in range(20):
        rows = (Row("s", f"pod-{i}", "model", {"request_rate": float(i)}), Row("s", "steady", "model", {"request_rate": 1.0}))
        history.record(Snapshot(float(i), 30, "scrape", (), (), rows))
    assert len(history.series(("s", "steady"), "request_rate")) == 5
    assert len(history) <= 5
    assert history.series(("s", "pod-0"), "request_rate") == ()
    assert history.series(("s", "pod-19"), "request_rate") == ((19.0, 19.0),)


async def test_breakdown_rows_are_judged_and_history_falls_back_to_local():
    now = [100.0]
    monitor = Monitor(ScriptedCollector(collected([row("a", 0.0)], at=100.0), collected([row("a", 0.5)], at=110.0)),
                      clock=lambda: now[0])
    await monitor.refresh()
    await monitor.refresh()
    (part,) = await monitor.breakdown(("vllm", "a"), "engine")
    assert part.severity["error_rate"] is Severity.CRITICAL
    now[0] = 112.0
    assert (await monitor.history(("vllm", "a"), ["error_rate"], 5))["error_rate"] == ((110.0, 0.5),)
    assert len((await monitor.history(("vllm", "a"), ["error_rate"], 60))["error_rate"]) == 2


async def test_regrouping_starts_history_afresh():
    monitor = Monitor(ScriptedCollector(collected([row("a", 0.0)])))
    await monitor.refresh()
    monitor.group_by = "engine"
    assert monitor.collector.group_by == "engine" and len(monitor.recorded) == 0 and monitor.last_good is None
