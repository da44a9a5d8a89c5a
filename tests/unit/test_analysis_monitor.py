"""The monitor as the stateful owner of the analysis: alerts next to the backend's, the bell, regrouping."""

from __future__ import annotations

from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.settings import AlertSettings
from aitop.analysis.thresholds import Threshold
from aitop.model import Alert, Row, Severity, TargetHealth
from aitop.monitor import Monitor
from aitop.sources.base import Collected, CollectorBase

T0 = 1_700_000_000.0


class Clocked(CollectorBase):
    """A collector whose rows and time the test sets before each refresh."""

    kind = "prometheus"
    targets = ("http://prom:9090",)
    window_seconds = 30.0

    def __init__(self) -> None:
        self.now = T0
        self.rows: list[Row] = []
        self.alerts: tuple = ()
        self.group_by = None
        self.model_rows: tuple[Row, ...] | None = None

    async def collect(self) -> Collected:
        return Collected(self.now, 30.0, tuple(self.rows), (TargetHealth(self.targets[0], "prometheus", True),),
                         ("vllm",), alerts=self.alerts, model_rows=self.model_rows)

    async def breakdown(self, key, label):
        return (Row("vllm", "engine-0", label, {"error_rate": 0.5, "cost_per_hour": 5.0}),)

    async def history(self, key, fields, seconds):
        return None

    async def aclose(self) -> None:
        pass


BACKEND = Alert("p1", "prometheus:HighErrorRate", Severity.CRITICAL, "firing", "", "", "", None, None, T0, "from rules")


async def poll(monitor: Monitor, source: Clocked, seconds: float, step: float = 2.0) -> list:
    rung = []
    end = source.now + seconds
    while source.now < end:
        source.now += step
        await monitor.refresh()
        rung.append(monitor.should_ring)
    return rung


async def test_backend_alerts_pass_through_next_to_aitops_own():
    source = Clocked()
    source.rows, source.alerts = [Row("vllm", "m", "model_name", {"error_rate": 0.2})], (BACKEND,)
    monitor = Monitor(source)
    await poll(monitor, source, 40)
    snapshot = monitor.last_good
    assert snapshot.alerts[0] is BACKEND
    assert [(a.rule, a.state) for a in snapshot.alerts[1:]] == [("error_rate_critical", "firing")]


async def test_bell_rings_once_on_a_new_critical_and_only_when_enabled():
    for bell in (False, True):
        source = Clocked()
        source.rows = [Row("vllm", "m", "model_name", {"latency_p95": 9.0})]
        monitor = Monitor(source, analysis=AnalysisSettings(alerts=AlertSettings(bell=bell)))
        rung = await poll(monitor, source, 60)
        assert rung.count(True) == (1 if bell else 0)
        assert monitor.new_critical == ()  # only in the refresh where it started firing


async def test_explicit_thresholds_colour_cells_and_raise_no_alerts():
    source = Clocked()
    source.rows = [Row("vllm", "m", "model_name", {"error_rate": 0.2, "latency_p95": 9.0})]
    monitor = Monitor(source, thresholds=(Threshold("error_rate", warning=0.01),))
    await poll(monitor, source, 60)
    assert monitor.last_good.alerts == ()
    assert monitor.last_good.rows[0].severity == {"error_rate": Severity.WARNING}


async def test_breakdown_rows_get_cost_fields_and_instant_severity():
    source = Clocked()
    monitor = Monitor(source)
    (part,) = await monitor.breakdown(("vllm", "m"), "engine")
    assert part.severity["error_rate"] is Severity.CRITICAL and part.value("cost_per_day") == 120.0


async def test_regrouping_keeps_baselines_and_alerts_of_the_model_rows():
    source = Clocked()
    model = Row("vllm", "m", "model_name", {"error_rate": 0.2, "request_rate": 10.0})
    source.rows = [model]
    monitor = Monitor(source)
    await poll(monitor, source, 200)
    assert monitor.baseline(("vllm", "m"), "request_rate").ready
    (firing,) = [a for a in monitor.last_good.alerts if a.rule == "error_rate_critical"]
    assert firing.state == "firing"
    monitor.group_by = "engine"
    source.group_by = "engine"
    source.rows = [Row("vllm", "0", "engine", {"error_rate": 0.2, "request_rate": 10.0})]
    source.model_rows = (model,)
    await poll(monitor, source, 2)
    assert monitor.baseline(("vllm", "m"), "request_rate").ready
    (kept,) = [a for a in monitor.last_good.alerts if a.rule == "error_rate_critical"]
    assert (kept.state, kept.since, kept.group) == ("firing", firing.since, "m")
    # The view's row is marked by its own value, the alert stays on the model it belongs to.
    assert monitor.last_good.rows[0].group == "0"
    assert monitor.last_good.rows[0].severity["error_rate"] is Severity.CRITICAL


async def test_json_rows_carry_the_derived_fields_null_when_unknown():
    import json

    from aitop.output import to_json

    source = Clocked()
    source.rows = [Row("llm", "gpt-4o", "model", {"cost_per_hour": 2.0})]
    monitor = Monitor(source)
    await poll(monitor, source, 2)
    (row,) = json.loads(to_json(monitor.last_good))["rows"]
    assert row["cost_per_day"] == 48.0
    assert row["latency_drift"] is None and row["missing"]["latency_drift"] == "no such metric"
    assert {"ttft_drift", "output_length_drift"} <= set(row)


async def test_a_regrouped_source_without_model_rows_never_rekeys_alerts_to_the_view_groups():
    source = Clocked()
    source.rows = [Row("vllm", "m", "model_name", {"error_rate": 0.2, "request_rate": 10.0})]
    monitor = Monitor(source)
    await poll(monitor, source, 40)
    (firing,) = [a for a in monitor.last_good.alerts if a.rule == "error_rate_critical"]
    monitor.group_by = source.group_by = "engine"
    source.rows = [Row("vllm", "0", "engine", {"error_rate": 0.2, "request_rate": 10.0})]
    await poll(monitor, source, 10)
    alerts = [a for a in monitor.last_good.alerts if a.rule == "error_rate_critical"]
    assert [(a.group, a.state, a.since) for a in alerts] == [("m", "firing", firing.since)]  # held, unjudged
    assert monitor.last_good.rows[0].severity["error_rate"] is Severity.CRITICAL  # the view's cell: its value


async def test_an_unreachable_alertmanager_is_a_warning_and_the_rows_stay():
    class DeadAlertmanager:
        async def alerts(self):
            raise ConnectionRefusedError("connection refused")

    source = Clocked()
    source.rows = [Row("vllm", "llama", "model_name", {"request_rate": 1.0})]
    monitor = Monitor(source, clock=lambda: source.now)
    monitor.alertmanager = DeadAlertmanager()
    snapshot = await monitor.refresh()
    assert [row.group for row in snapshot.rows] == ["llama"] and not snapshot.stale
    assert snapshot.warnings == ("Alertmanager not read: ConnectionRefusedError: connection refused",)
