"""Alert rules on synthetic series (flat, noise, step, spike, slow ramp, gaps): each fires or stays quiet as it
should, `for` and `keep_firing_for` are respected, ids are stable, messages carry context. Time is injected (`now`),
never slept."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.alerting import alert_id
from aitop.analysis.engine import Analyzer
from aitop.analysis.configure import DEFAULT_RULES
from aitop.analysis.rules import Rule, RowFilter
from aitop.model import Row, Severity

T0 = 1_700_000_000.0
STEP = 2.0  # seconds between refreshes, as the TUI's default interval


def make_row(group: str = "llama-3.1-8b", *, schema: str = "vllm", errors=None, stale=False, **values) -> Row:
    return Row(schema, group, "model_name", values, errors_by_type=errors or {}, stale=stale)


def rules_named(*names: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in DEFAULT_RULES if rule.name in names)


def drive(analyzer: Analyzer, field: str, series, *, base: dict | None = None, start: float = 0.0, errors=None):
    """Feed `series` (one value per STEP) for one row; yield (t, analysis) per refresh."""
    for i, value in enumerate(series):
        t = start + i * STEP
        row = make_row(errors=errors, **{**(base or {}), field: value})
        yield t, analyzer.process([row], now=T0 + t, window_seconds=30.0)


def states(analysis, rule: str) -> list[str]:
    return [alert.state for alert in analysis.alerts if alert.rule == rule]


def first_time(trace, rule: str, state: str) -> float | None:
    return next((t for t, analysis in trace if state in states(analysis, rule)), None)


# -- fixed thresholds -------------------------------------------------------------------------------------


def test_flat_healthy_series_stays_quiet():
    analyzer = Analyzer()
    trace = list(drive(analyzer, "error_rate", [0.001] * 300, base={"latency_p95": 0.8, "request_rate": 10.0}))
    assert all(not analysis.alerts for _, analysis in trace)
    assert trace[-1][1].rows[0].severity["error_rate"] is Severity.OK


def test_noise_below_the_threshold_stays_quiet():
    rng = random.Random(7)
    trace = list(drive(Analyzer(), "error_rate", [rng.uniform(0, 0.0095) for _ in range(300)]))
    assert all(not analysis.alerts for _, analysis in trace)


def test_step_fires_after_for_not_before_and_carries_context():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical")))
    series = [0.001] * 50 + [0.09] * 40  # step at t = 100 s
    trace = list(drive(analyzer, "error_rate", series, errors={"timeout": 0.6, "error": 0.3}))
    assert first_time(trace, "error_rate_critical", "pending") == 100.0
    fired = first_time(trace, "error_rate_critical", "firing")
    assert fired == 130.0  # for = 30 s, judged at each refresh
    t, analysis = trace[-1]
    (alert,) = analysis.alerts
    assert alert.severity is Severity.CRITICAL and alert.since == T0 + 130.0
    assert (alert.value, alert.threshold, alert.field, alert.group) == (0.09, 0.05, "error_rate", "llama-3.1-8b")
    assert alert.message == ("error rate 9.0% (threshold 5.0%) on llama-3.1-8b, top error: timeout (67%), "
                             f"firing for {int(t - 130)}s, clears after 30s below 5.0%")
    assert analysis.rows[0].severity["error_rate"] is Severity.CRITICAL


def test_pending_message_says_when_it_will_fire():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_warning")))
    (*_, (_, analysis)) = drive(analyzer, "error_rate", [0.02] * 6)
    (alert,) = analysis.alerts
    assert alert.state == "pending"
    assert alert.message.endswith("pending for 10s (fires after 30s)")


def test_spike_shorter_than_for_never_fires():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical")))
    series = [0.001] * 20 + [0.2] * 10 + [0.001] * 30  # 20 s spike, for = 30 s
    trace = list(drive(analyzer, "error_rate", series))
    assert first_time(trace, "error_rate_critical", "pending") == 40.0
    assert first_time(trace, "error_rate_critical", "firing") is None
    assert not trace[-1][1].alerts  # a pending alert that clears is gone, not "resolved"
    # …but the cell was red while the value was over the threshold
    assert trace[25][1].rows[0].severity["error_rate"] is Severity.CRITICAL


def test_slow_ramp_warns_then_goes_critical_and_the_warning_is_inhibited():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_warning", "error_rate_critical")))
    series = [i * 0.0005 for i in range(200)]  # 0 → 10 % over 400 s
    trace = list(drive(analyzer, "error_rate", series))
    warned = first_time(trace, "error_rate_warning", "firing")
    critical = first_time(trace, "error_rate_critical", "firing")
    assert warned == pytest.approx(42 + 30, abs=STEP)  # crosses 1 % at t ≈ 42 s
    assert critical == pytest.approx(202 + 30, abs=STEP)  # crosses 5 % at t ≈ 202 s
    assert [a.rule for a in trace[-1][1].alerts] == ["error_rate_critical"]  # one problem, one alert


def test_gaps_hold_the_state_and_are_never_judged_as_zero():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical")))
    series = [0.09 if i % 3 else None for i in range(30)] + [float("nan")] * 5
    trace = list(drive(analyzer, "error_rate", series))
    # pending from the first known breach (t = 2 s); the gaps neither confirm nor cancel it
    assert first_time(trace, "error_rate_critical", "pending") == 2.0
    assert first_time(trace, "error_rate_critical", "firing") == 32.0
    t, analysis = trace[-1]
    assert states(analysis, "error_rate_critical") == ["firing"]  # 10 s of NaN < missing_grace
    # The cell shows the value's own state: an unknown value carries no mark, even while the alert fires.
    assert analysis.rows[0].severity["error_rate"] is Severity.OK


def test_firing_alert_without_data_resolves_after_the_grace_period():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical")))
    trace = list(drive(analyzer, "error_rate", [0.09] * 20 + [None] * 40))
    resolved = first_time(trace, "error_rate_critical", "resolved")
    assert resolved == pytest.approx(38 + 60, abs=STEP)  # last value at 38 s, missing_grace = 60 s
    (alert,) = trace[-1][1].alerts
    assert "no data" in alert.message


def test_a_value_hovering_just_under_the_limit_resolves_after_keep_firing_for():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical")))
    # fire, then hover just under the limit (inside the old 5 % hysteresis band) for good
    series = [0.09] * 20 + [0.049, 0.0495] * 30
    trace = list(drive(analyzer, "error_rate", series))
    transitions = []
    for t, analysis in trace:
        state = (states(analysis, "error_rate_critical") or ["-"])[0]
        if not transitions or transitions[-1][1] != state:
            transitions.append((t, state))
    assert [s for _, s in transitions] == ["pending", "firing", "resolved"]
    clear_starts = 20 * STEP
    assert transitions[-1][0] == clear_starts + 30.0  # keep_firing_for defaults to for = 30 s


def test_oscillating_around_the_limit_never_fires():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical")))
    trace = list(drive(analyzer, "error_rate", [0.06, 0.04] * 100))
    assert first_time(trace, "error_rate_critical", "firing") is None


def test_ids_are_stable_and_a_refire_reuses_the_id_with_a_new_since():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical")))
    trace = list(drive(analyzer, "error_rate", [0.09] * 30 + [0.0] * 20 + [0.09] * 30))
    ids = {a.id for _, analysis in trace for a in analysis.alerts}
    assert ids == {alert_id("error_rate_critical", "vllm", "llama-3.1-8b", "error_rate")}
    sinces = [a.since for _, analysis in trace for a in analysis.alerts if a.state == "firing"]
    assert sorted(set(sinces)) == [T0 + 30.0, T0 + 130.0]


def test_keep_resolved_then_forget():
    settings = replace(AnalysisSettings(rules=rules_named("error_rate_critical")))
    analyzer = Analyzer(settings)
    trace = list(drive(analyzer, "error_rate", [0.09] * 20 + [0.0] * 200))
    resolved_at = first_time(trace, "error_rate_critical", "resolved")
    assert resolved_at is not None
    last_listed = max(t for t, analysis in trace if analysis.alerts)
    assert last_listed == pytest.approx(resolved_at + 300, abs=STEP)


def test_stale_rows_neither_confirm_nor_clear():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical")))
    for i in range(10):
        analysis = analyzer.process([make_row(error_rate=0.09, stale=True)], now=T0 + i * STEP, window_seconds=30)
    assert not analysis.alerts  # stale values repeat the last good window: nothing new learnt


def test_new_critical_is_reported_once_when_it_starts_firing():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("error_rate_critical", "error_rate_warning")))
    trace = list(drive(analyzer, "error_rate", [0.09] * 30))
    news = [(t, analysis.new_critical) for t, analysis in trace if analysis.new_critical]
    assert len(news) == 1 and news[0][0] == 30.0 and news[0][1][0].rule == "error_rate_critical"


def test_row_filters_by_schema_group_and_grouping_label():
    rule = Rule("llama-only", "error_rate", ">", Severity.WARNING, threshold=0.01,
                filter=RowFilter(labels=(("model_name", __import__("re").compile("llama-.*")),)))
    analyzer = Analyzer(AnalysisSettings(rules=(rule,)))
    rows = [make_row("llama-3.1-8b", error_rate=0.5), make_row("qwen", error_rate=0.5),
            Row("llm", "llama-x", "model", {"error_rate": 0.5})]  # grouped by another label
    analysis = analyzer.process(rows, now=T0, window_seconds=30)
    assert [(a.group, a.state) for a in analysis.alerts] == [("llama-3.1-8b", "firing")]
    assert analysis.rows[1].severity == {} and analysis.rows[2].severity == {}


def test_min_request_rate_keeps_tiny_traffic_unjudged():
    rule = replace(rules_named("error_rate_critical")[0], min_request_rate=1.0, for_=0.0)
    analyzer = Analyzer(AnalysisSettings(rules=(rule,)))
    quiet = analyzer.process([make_row(error_rate=0.5, request_rate=0.2)], now=T0, window_seconds=30)
    loud = analyzer.process([make_row(error_rate=0.5, request_rate=5.0)], now=T0 + 2, window_seconds=30)
    assert not quiet.alerts and [a.state for a in loud.alerts] == ["firing"]


def test_cell_only_rules_colour_without_alerting():
    rule = Rule("p99", "latency_p99", ">", Severity.WARNING, threshold=1.0, alert=False)
    analysis = Analyzer(AnalysisSettings(rules=(rule,))).process([make_row(latency_p99=3.0)], now=T0, window_seconds=30)
    assert not analysis.alerts and analysis.rows[0].severity == {"latency_p99": Severity.WARNING}


def test_feedback_rule_fires_above_ten_percent_and_ignores_windows_without_votes():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("feedback_negative_ratio_warning")))
    trace = list(drive(analyzer, "feedback_negative_ratio", [0.05] * 20 + [None] * 20 + [0.3] * 20))
    assert first_time(trace, "feedback_negative_ratio_warning", "pending") == 80.0
    assert first_time(trace, "feedback_negative_ratio_warning", "firing") == 110.0
    (alert,) = trace[-1][1].alerts
    assert alert.message.startswith("negative feedback 30.0% (threshold 10.0%) on llama-3.1-8b")


def test_latency_rule_message_names_the_field_that_moved():
    analyzer = Analyzer(AnalysisSettings(rules=rules_named("latency_p95_critical")))
    calm = {"queue_p95": 0.05, "ttft_p95": 0.2, "request_rate": 10.0}
    for i in range(150):  # 5 min of calm to warm the baselines
        analyzer.process([make_row(latency_p95=0.9, **calm)], now=T0 + i * STEP, window_seconds=30)
    incident = {**calm, "queue_p95": 4.0}
    for i in range(150, 170):
        analysis = analyzer.process([make_row(latency_p95=5.0, **incident)], now=T0 + i * STEP, window_seconds=30)
    (alert,) = analysis.alerts
    assert "p95 latency 5.00s (threshold 2.00s)" in alert.message
    assert "moved most: p95 queue time ×80.0 vs baseline" in alert.message


def test_a_threshold_rule_judged_without_lookups_says_what_evaluate_says():
    """The analysis judges absolute thresholds through `threshold_test` (no per-row lookups of the value,
    limits and comparison): for every operator, limit and value, including the edges, NaN and infinities,
    and with a traffic floor (no shortcut then), the verdict must be exactly `evaluate`'s, and a finite value
    breaches exactly when the returned test says so."""
    from aitop.analysis.rules import OPS, evaluate, threshold_test

    values = (-math.inf, -1.0, 0.0, 0.5, 1.0, 1.0 + 1e-12, 2.0, math.inf, math.nan)
    checked = 0
    for op in OPS:
        for limit in (0.0, 1.0, -1.0):
            rule = Rule("r", "error_rate", op, Severity.WARNING, threshold=limit)
            found = threshold_test(rule)
            assert found is not None
            test, threshold, judge = found
            for value in values:
                row = Row("vllm", "m", "model_name", {"error_rate": value, "request_rate": 1.0})
                fast, slow = judge(value), evaluate(rule, row)
                assert (fast == slow) if value == value else (not fast.known and not slow.known)
                if math.isfinite(value):
                    assert test(value, threshold) == slow.breached
                checked += 1
    assert checked == len(OPS) * 3 * len(values)
    assert threshold_test(Rule("r", "error_rate", ">", Severity.WARNING, threshold=1.0, min_request_rate=1.0)) is None
    assert threshold_test(Rule("r", "latency_p95", ">", Severity.WARNING, baseline=3.0)) is None
