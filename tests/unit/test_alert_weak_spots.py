"""The weak spots found by mutating the alert rules and the numbers under them. Each test here was run
against the mutant it names (comment `mutant:`) and failed there.

Time is injected (`now`), never slept.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from helpers import series, window_of

from aitop.analysis.configure import AnalysisSettings, parse_analysis
from aitop.analysis.engine import Analyzer
from aitop.analysis.configure import DEFAULT_RULES
from aitop.analysis.rules import Rule, evaluate
from aitop.catalog import builtin_schemas
from aitop.derive import Accumulator, finish_row
from aitop.format import format_value
from aitop.model import Alert, Row, Severity
from aitop.rows import RowBuilder, TargetData
from aitop.store import TargetWindow

T0 = 1_700_000_000.0
STEP = 2.0


def row(**values) -> Row:
    return Row("vllm", "m", "model_name", values)


def rule(name: str, **changes) -> Rule:
    return replace(next(r for r in DEFAULT_RULES if r.name == name), **changes)


def run(analyzer: Analyzer, series_: list, field: str = "error_rate", base: dict | None = None):
    """(t, state of the only alert or "-") per refresh, one value per STEP."""
    trace = []
    for i, value in enumerate(series_):
        analysis = analyzer.process([row(**{**(base or {}), field: value})], now=T0 + i * STEP, window_seconds=30)
        trace.append((i * STEP, analysis.alerts[0].state if analysis.alerts else "-", analysis))
    return trace


def transitions(trace) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    for t, state, _ in trace:
        if not out or out[-1][1] != state:
            out.append((t, state))
    return out


# -- a value hovering inside the old hysteresis band ----------------------------------------------------


def test_hovering_inside_the_old_band_resolves_and_the_sidebar_says_what_it_needs():
    # mutant: clearing starts only 5 % under the limit (the old hysteresis) -> never resolves
    analyzer = Analyzer(AnalysisSettings(rules=(rule("latency_p95_critical"),)))
    trace = run(analyzer, [3.9] * 20 + [1.95] * 30, field="latency_p95")
    assert transitions(trace) == [(0.0, "pending"), (30.0, "firing"), (70.0, "resolved")]
    firing = trace[19][2].alerts[0]
    assert firing.message.endswith("clears after 30s below 2.00s")
    clearing = trace[25][2].alerts[0]  # 10 s after the value went under 2 s
    assert clearing.state == "firing" and clearing.message.endswith("clearing: 10s of 30s below 2.00s")
    assert clearing.resolution == "clearing: 10s of 30s below 2.00s"  # the sidebar's own line
    # The cell shows the value's own state while the alert waits to resolve.
    assert trace[25][2].rows[0].severity["latency_p95"] is Severity.OK


# -- exactly at the threshold ----------------------------------------------------------------------------


def test_a_value_exactly_at_the_threshold_breaches_only_an_inclusive_comparison():
    # mutant: `>` tested as `>=` (or the reverse) -> one of the two asserts fails
    strict, inclusive = rule("error_rate_critical"), rule("error_rate_critical", op=">=")
    assert not evaluate(strict, row(error_rate=0.05)).breached
    assert evaluate(inclusive, row(error_rate=0.05)).breached
    below = rule("request_rate_collapse", baseline=None, threshold=1.0, op="<")
    assert not evaluate(below, row(request_rate=1.0)).breached
    assert evaluate(replace(below, op="<="), row(request_rate=1.0)).breached
    assert [s for _, s in transitions(run(Analyzer(AnalysisSettings(rules=(strict,))), [0.05] * 30))] == ["-"]


# -- keep_firing_for different from for ----------------------------------------------------------------


@pytest.mark.parametrize(("for_", "keep"), [(10.0, 40.0), (30.0, 4.0), (20.0, 0.0)])
def test_keep_firing_for_counts_from_the_first_clear_reading_independently_of_for(for_, keep):
    # mutant: resolve_after returns `for_` whatever keep_firing_for says -> the resolution time is off
    analyzer = Analyzer(AnalysisSettings(rules=(rule("error_rate_critical", for_=for_, keep_firing_for=keep),)))
    trace = run(analyzer, [0.09] * 40 + [0.0] * 40)
    assert transitions(trace) == [(0.0, "pending"), (for_, "firing"), (80.0 + keep, "resolved")]


def test_a_breach_while_clearing_restarts_keep_firing_for():
    analyzer = Analyzer(AnalysisSettings(rules=(rule("error_rate_critical", keep_firing_for=10.0),)))
    trace = run(analyzer, [0.09] * 20 + [0.0] * 4 + [0.09] + [0.0] * 10)
    # clear from 40 s, a breach at 48 s stops the count, clear again from 50 s: resolved at 60 s
    assert transitions(trace)[-1] == (60.0, "resolved")


def test_keep_firing_for_and_its_old_name_clear_for_come_from_the_config():
    settings, notes = parse_analysis({"rules": [{"name": "error_rate_critical", "keep_firing_for": "45s"},
                                                {"name": "error_rate_warning", "clear_for": "1m"}]})  # fmt: skip
    by_name = {r.name: r for r in settings.rules}
    assert by_name["error_rate_critical"].resolve_after == 45.0 and by_name["error_rate_warning"].resolve_after == 60.0
    assert by_name["latency_p95_critical"].resolve_after == 30.0  # default: its `for`
    _, notes = parse_analysis({"rules": [{"name": "error_rate_critical", "hysteresis": 0.1}]})
    assert any("hysteresis" in note and "keep_firing_for" in note for note in notes)


# -- NaN / Inf are unknown -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_are_judged_unknown_not_as_a_breach(value):
    # mutant: only None counts as unknown -> +Inf breaches "> 2 s", -Inf breaches "< 0.25× baseline"
    for r in (rule("latency_p95_critical"), rule("request_rate_collapse", baseline=None, threshold=1.0)):
        verdict = evaluate(r, row(**{r.field: value}))
        assert not verdict.known and not verdict.breached
    analyzer = Analyzer(AnalysisSettings(rules=(rule("latency_p95_critical", for_=0.0),)))
    assert [s for _, s in transitions(run(analyzer, [value] * 10, field="latency_p95"))] == ["-"]


# -- the min_request_rate boundary -----------------------------------------------------------------------


def test_min_request_rate_judges_a_row_at_exactly_the_minimum_and_not_below():
    # mutant: `traffic <= min_request_rate` skips the boundary -> the first assert fails
    r = rule("error_rate_critical", min_request_rate=1.0)
    assert evaluate(r, row(error_rate=0.5, request_rate=1.0)).breached
    assert not evaluate(r, row(error_rate=0.5, request_rate=0.999)).known
    assert not evaluate(r, row(error_rate=0.5, request_rate=math.nan)).known


# -- two counter resets in one window --------------------------------------------------------------------


def test_two_resets_in_one_window_add_up_and_restart_the_warm_up():
    # mutant: a reset sets the offset to the last value instead of adding it -> the second reset loses 20
    key = series("llm_requests_total", model="m", status="success")
    scrapes = [(t, {key: v}) for t, v in ((0, 0.0), (2, 10.0), (4, 20.0), (6, 5.0), (8, 15.0), (10, 3.0), (12, 13.0))]
    window = window_of(*scrapes, window=12.0)
    assert window.increase(key) == 10 + 10 + 5 + 10 + 3 + 10
    assert window.data_since == T0 + 10  # the latest reset: the window is unbroken only from there
    analyzer = Analyzer(AnalysisSettings(rules=(rule("error_rate_critical", for_=0.0),)))
    for t in range(0, 13, 2):  # watched since T0, but the window behind the row is unbroken only from T0 + 10
        analysis = analyzer.process([replace(row(error_rate=0.5), data_since=window.data_since)], now=T0 + t,
                                    window_seconds=12, warmup=12.0)  # fmt: skip
    assert not analysis.alerts and analysis.rows[0].warming and analysis.rows[0].warmup == (2.0, 12.0)
    for t in range(14, 23, 2):
        analysis = analyzer.process([replace(row(error_rate=0.5), data_since=window.data_since)], now=T0 + t,
                                    window_seconds=12, warmup=12.0)  # fmt: skip
    assert [a.state for a in analysis.alerts] == ["firing"]  # 12 s of unbroken data at T0 + 22


def test_a_gauge_dropping_is_not_a_reset():
    running = series("vllm:num_requests_running", model_name="m")
    window = window_of((0, {running: 9.0}), (2, {running: 3.0}), (4, {running: 1.0}))
    assert window.data_since == T0  # only counters restart


# -- errors above requests are clamped ------------------------------------------------------------------


def test_errors_counted_above_requests_read_as_100_percent():
    # mutant: the min(…, 1.0) clamp removed -> 150 %
    acc = Accumulator(group_label="model")
    acc.present |= {"requests", "errors"}
    acc.counted |= {"requests", "errors"}
    acc.rates["requests"] = 2.0
    acc.rates["errors"] = 3.0  # errors are counted separately and can run ahead within a window
    assert finish_row("llm", "m", acc).value("error_rate") == 1.0


# -- mixed up / down replicas ---------------------------------------------------------------------------


def _target(instance: str, rate: float, *, up: bool = True, expired: bool = False) -> TargetData:
    key = series("llm_requests_total", model="m", status="success")
    window = window_of((0, {key: 0.0}), (10, {key: 10 * rate}), window=10.0)
    return TargetData(instance, window, up, expired=expired)


def _rows(*targets: TargetData) -> dict[str, Row]:
    builder = RowBuilder(builtin_schemas())
    for target in targets:
        builder.add_target(target)
    return {r.group: r for r in builder.rows()}


def test_mixed_up_and_down_replicas_count_until_the_down_ones_leave_the_window():
    # mutant: expired targets still applied -> the rate stays 3 req/s
    live = _rows(_target("a:1", 1.0), _target("b:1", 1.0), _target("c:1", 1.0, up=False))["m"]
    assert live.value("request_rate") == 3.0  # its last samples are still in the window
    assert live.replicas == (2, 3) and not live.stale
    expired = _rows(_target("a:1", 1.0), _target("c:1", 1.0, up=False, expired=True), _target("b:1", 1.0))["m"]
    assert expired.value("request_rate") == 2.0 and expired.replicas == (2, 3) and not expired.stale
    # Every replica down: the row shows its last good window, stale, until the target is evicted.
    gone = _rows(_target("c:1", 1.0, up=False, expired=True))["m"]
    assert gone.stale and gone.value("request_rate") == 1.0
    assert _rows(_target("a:1", 1.0))["m"].replicas is None  # one target: nothing to say


def test_a_replica_loss_trips_the_collapse_rule_once_judged():
    collapse = rule("request_rate_collapse", baseline=None, threshold=2.5, for_=0.0)
    analyzer = Analyzer(AnalysisSettings(rules=(collapse,)))
    three = replace(row(request_rate=3.0), replicas=(3, 3))
    two = replace(row(request_rate=2.0), replicas=(2, 3))
    assert not analyzer.process([three], now=T0, window_seconds=10).alerts
    assert [a.state for a in analyzer.process([two], now=T0 + 2, window_seconds=10).alerts] == ["firing"]


# -- one formatter ---------------------------------------------------------------------------------------


def test_every_number_a_person_reads_has_its_unit_and_no_exponent():
    from aitop.ui.alert_text import comparison

    assert format_value("cost_per_day", 13_340.2) == "$13,340/day"
    assert format_value("latency_drift", 0.07734) == "0.077" and format_value("latency_drift", 0.3) == "0.30"
    assert format_value("not_a_field", 13_340.2) == "13,340"
    spend = Alert("x", "cost_per_day_warning", Severity.WARNING, "firing", "llm", "gpt-4o", "cost_per_day",
                  13_340.2, 10_000.0, T0, "")  # fmt: skip
    assert comparison(spend) == "$/day $13,340/day > $10,000/day"
    drift = replace(spend, field="latency_drift", value=0.07734, threshold=0.3)
    assert comparison(drift) == "latency drift 0.077 < 0.30"
    budget = rule("cost_per_day_warning", threshold=10_000.0, for_=0.0)
    analysis = Analyzer(AnalysisSettings(rules=(budget,))).process(
        [Row("llm", "gpt-4o", "model", {"cost_per_hour": 13_340.2 / 24})], now=T0, window_seconds=30)
    assert analysis.alerts[0].message.startswith("projected spend $13,340/day (threshold $10,000/day) on gpt-4o")
    assert "e+" not in analysis.alerts[0].message


# -- steady cost, baselines that do not learn incidents, warm-up after an outage -------------------------


def test_a_per_query_cost_gauge_is_the_mean_of_the_windows_scrapes_not_the_last_query():
    # mutant: the gauge read at the latest scrape only -> $0.005 a request, the last query's cost
    requests = series("llm_requests_total", model="m", status="success")
    cost = series("llm_cost_per_query_usd", model="m")
    latency = {series("llm_request_latency_seconds_bucket", model="m", le="+Inf"): 0.0}
    window = TargetWindow(10.0)
    for i, t in enumerate((0, 2, 4, 6, 8, 10)):  # a refresh per scrape, as the collector runs them
        window.add(t, T0 + t, {requests: 10.0 * t, cost: (0.001 if i % 2 else 0.005), **latency})
        builder = RowBuilder(builtin_schemas())
        builder.add_target(TargetData("a:1", window, True))
        (m,) = builder.rows()
    assert m.value("cost_per_request") == pytest.approx((0.001 * 3 + 0.005 * 2) / 5)  # the 5 scrapes after the base
    assert m.value("cost_per_hour") == pytest.approx(m.value("cost_per_request") * 10.0 * 3600)
    assert "avg_over_time(llm_cost_per_query_usd" in m.provenance["cost_per_request"]


def test_a_baseline_does_not_learn_from_a_cell_whose_alert_is_firing():
    # mutant: every field learnt whatever the alerts -> the incident's 9 s becomes part of "normal"
    analyzer = Analyzer(AnalysisSettings(rules=(rule("latency_p95_critical", for_=0.0),)))
    for i in range(150):  # 5 minutes of 0.5 s, then 8 minutes of a 9 s incident: most of the 20-minute window
        analyzer.process([row(latency_p95=0.5)], now=T0 + i * STEP, window_seconds=30)
    for i in range(150, 390):
        analyzer.process([row(latency_p95=9.0)], now=T0 + i * STEP, window_seconds=30)
    baseline = analyzer.baseline(("vllm", "m"), "latency_p95", T0 + 390 * STEP)
    assert baseline.mean == pytest.approx(0.5)


async def test_after_an_outage_of_the_source_every_row_warms_up_again():
    from aitop.model import TargetHealth
    from aitop.monitor import Monitor
    from aitop.sources.base import Collected, CollectorBase

    class Source(CollectorBase):
        kind, targets, window_seconds, group_by = "prometheus", ("http://prom:9090",), 10.0, None
        now, up = T0, True

        async def collect(self):
            health = TargetHealth(self.targets[0], "prometheus", self.up, error=None if self.up else "refused")
            return Collected(self.now, 10.0, (row(error_rate=0.5),) if self.up else (), (health,), ("vllm",))

        async def aclose(self):
            pass

    source = Source()
    monitor = Monitor(source, analysis=AnalysisSettings(rules=(rule("error_rate_critical", for_=0.0),)), warmup=True)
    for _ in range(6):
        source.now += STEP
        snapshot = await monitor.refresh()
    assert [a.state for a in snapshot.alerts] == ["firing"]
    source.up = False
    source.now += STEP
    await monitor.refresh()
    source.up = True
    source.now += STEP
    snapshot = await monitor.refresh()  # back: a restarted server's window has a gap
    assert snapshot.rows[0].warming and snapshot.rows[0].severity["error_rate"] is Severity.OK
    for _ in range(5):
        source.now += STEP
        snapshot = await monitor.refresh()
    assert not snapshot.rows[0].warming and snapshot.rows[0].severity["error_rate"] is Severity.CRITICAL
