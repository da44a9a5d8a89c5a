"""Baselines (rolling median / MAD over time slots) and the rules relative to them, on synthetic series:
flat, noise, step, spike, slow ramp, gaps, warm-up, both directions."""

from __future__ import annotations

import math
import random

import pytest

from aitop.analysis.baseline import Baselines, SlotBaseline
from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.engine import Analyzer
from aitop.analysis.configure import DEFAULT_RULES
from aitop.analysis.rules import Rule
from aitop.analysis.settings import BaselineSettings
from aitop.model import Row, Severity

T0 = 1_700_000_000.0
STEP = 2.0
SETTINGS = BaselineSettings()


def feed(series, settings=SETTINGS) -> SlotBaseline:
    baseline = SlotBaseline()
    for i, value in enumerate(series):
        if value is not None and math.isfinite(value):
            baseline.add(value, i * STEP, settings)
    return baseline


def rules_named(*names: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in DEFAULT_RULES if rule.name in names)


def run(rules, field, series, **base):
    analyzer = Analyzer(AnalysisSettings(rules=rules))
    trace = []
    for i, value in enumerate(series):
        row = Row("vllm", "m", "model_name", {**base, field: value})
        trace.append((i * STEP, analyzer.process([row], now=T0 + i * STEP, window_seconds=30.0)))
    return trace


def fired(trace, rule: str) -> list[float]:
    """Times at which `rule` was firing."""
    return [t for t, analysis in trace if any(a.rule == rule and a.state == "firing" for a in analysis.alerts)]


def lognormal_noise(seed: int, n: int, level: float, sigma: float) -> list[float]:
    rng = random.Random(seed)
    return [level * rng.lognormvariate(-sigma * sigma / 2, sigma) for _ in range(n)]


# -- the baseline itself ------------------------------------------------------------------------------------


def test_flat_series_has_its_level_and_no_spread():
    view = feed([5.0] * 200).view(400.0, SETTINGS)
    assert view.mean == 5.0 and view.std == 0.0 and view.ready
    assert view.score(5.5) == pytest.approx(2.0)  # spread floored at 5 % of the level


def test_noise_gives_the_level_and_the_per_reading_spread():
    rng = random.Random(3)
    view = feed([10 + rng.gauss(0, 1) for _ in range(600)]).view(1200.0, SETTINGS)
    assert view.mean == pytest.approx(10, abs=0.2) and view.std == pytest.approx(1.0, abs=0.25)


def test_spread_between_slots_is_the_mad_scaled_to_a_standard_deviation():
    series = [level for level in (1.0, 2.0, 3.0, 4.0, 5.0) for _ in range(15)]  # one flat 30 s slot per level
    view = feed([*series, 3.0]).view(len(series) * STEP + STEP, SETTINGS)
    # Slot means 1..5: median 3, absolute deviations 2 1 0 1 2, MAD 1; no spread within a slot.
    assert view.mean == 3.0 and view.std == pytest.approx(1.4826, rel=1e-9)


def test_warm_up_needs_time_and_slots():
    assert not feed([1.0] * 50).view(100.0, SETTINGS).ready  # 100 s < 2 min warm-up
    assert feed([1.0] * 70).view(140.0, SETTINGS).ready


def test_a_spike_shorter_than_half_the_window_does_not_move_the_median():
    series = [1.0] * 300 + [20.0] * 30 + [1.0] * 30  # one minute at 20×
    view = feed(series).view(len(series) * STEP, SETTINGS)
    assert view.mean == pytest.approx(1.0)


def test_a_bad_start_is_forgotten_once_good_slots_dominate():
    series = [8.0] * 40 + [1.86] * 110  # starts inside an incident (80 s), then healthy for 220 s
    view = feed(series).view(len(series) * STEP, SETTINGS)
    assert view.mean == pytest.approx(1.86)


def test_a_lasting_step_becomes_the_new_normal_after_half_the_window():
    series = [1.0] * 600 + [3.0] * 330  # 11 min at the new level, window 20 min
    view = feed(series).view(len(series) * STEP, SETTINGS)
    assert view.mean == pytest.approx(3.0)


def test_gaps_are_skipped_and_never_count_as_zero():
    series = [4.0 if i % 2 else None for i in range(200)] + [float("nan")] * 10
    view = feed(series).view(420.0, SETTINGS)
    assert view.mean == 4.0 and view.samples == 100


def test_rows_not_seen_are_forgotten():
    baselines = Baselines(BaselineSettings(forget_after=60.0))
    baselines.learn(("s", "gone"), [("request_rate", 1.0)], 0.0)
    for t in range(0, 200, 2):
        baselines.learn(("s", "kept"), [("request_rate", 1.0)], float(t))
        baselines.forget_stale(float(t))
    assert baselines.view(("s", "gone"), "request_rate", 200.0) is None
    assert len(baselines) == 1


# -- rules relative to the baseline ---------------------------------------------------------------------


def test_latency_step_to_3x_its_baseline_warns_after_for():
    series = [0.5] * 150 + [1.8] * 30  # 3.6× at t = 300 s, under the fixed 2 s threshold
    trace = run(rules_named("latency_p95_vs_baseline"), "latency_p95", series)
    times = fired(trace, "latency_p95_vs_baseline")
    assert times and times[0] == 330.0
    (alert,) = trace[-1][1].alerts
    assert alert.severity is Severity.WARNING
    assert alert.message.startswith("p95 latency 1.80s (3× baseline 500ms = 1.50s) on m")


def test_no_baseline_rule_fires_during_warm_up():
    series = [0.5] * 20 + [1.8] * 60  # the step comes at 40 s, before the 2 min warm-up
    assert not fired(run(rules_named("latency_p95_vs_baseline"), "latency_p95", series), "latency_p95_vs_baseline")


def test_slow_ramp_is_followed_by_the_baseline_and_stays_quiet():
    series = [0.5 * 3 ** (i / 900) for i in range(900)]  # ×3 over 30 min
    assert not fired(run(rules_named("latency_p95_vs_baseline"), "latency_p95", series), "latency_p95_vs_baseline")


def test_noisy_cost_stays_quiet_but_a_tripling_fires():
    rules = rules_named("cost_per_hour_vs_baseline")
    calm = lognormal_noise(11, 450, 80.0, 0.4)  # ±40 % reading to reading, like a last-query cost gauge
    assert not fired(run(rules, "cost_per_hour", calm), "cost_per_hour_vs_baseline")
    # "20 % above" is inside this noise, so the limit widens to 3σ (≈ 2.2× here): a tripling clears it
    tripled = calm[:300] + lognormal_noise(12, 60, 240.0, 0.1)
    times = fired(run(rules, "cost_per_hour", tripled), "cost_per_hour_vs_baseline")
    assert times and times[0] == pytest.approx(600 + 30, abs=STEP)


def test_quiet_cost_fires_at_twenty_percent_above_baseline():
    series = [100.0] * 150 + [125.0] * 30
    times = fired(run(rules_named("cost_per_hour_vs_baseline"), "cost_per_hour", series), "cost_per_hour_vs_baseline")
    assert times[0] == 330.0


def test_request_rate_collapse_is_critical_but_a_surge_is_not_a_collapse():
    rules = rules_named("request_rate_collapse")
    rng = random.Random(5)
    calm = [10 + rng.gauss(0, 1) for _ in range(150)]
    collapse = run(rules, "request_rate", calm + [1.0] * 30)
    times = fired(collapse, "request_rate_collapse")
    assert times[0] == 330.0 and collapse[-1][1].alerts[0].severity is Severity.CRITICAL
    assert "below 25% of baseline" in collapse[-1][1].alerts[0].message
    assert not fired(run(rules, "request_rate", calm + [50.0] * 30), "request_rate_collapse")


def test_sparse_traffic_going_silent_is_not_a_collapse():
    series = [0.1] * 150 + [0.0] * 60  # baseline below min_baseline = 0.2 req/s
    assert not fired(run(rules_named("request_rate_collapse"), "request_rate", series), "request_rate_collapse")


def test_sigma_rule_catches_both_directions():
    rule = Rule("anomaly", "request_rate", "<>", Severity.WARNING, sigma=5.0, for_=10.0)
    rng = random.Random(9)
    calm = [10 + rng.gauss(0, 0.5) for _ in range(150)]
    assert fired(run((rule,), "request_rate", calm + [20.0] * 10), "anomaly")
    assert fired(run((rule,), "request_rate", calm + [2.0] * 10), "anomaly")
    assert not fired(run((rule,), "request_rate", calm + [10 + rng.gauss(0, 0.5) for _ in range(60)]), "anomaly")


def test_baseline_rules_survive_gaps():
    series = [0.5 if i % 4 else None for i in range(200)] + [2.0] * 30
    times = fired(run(rules_named("latency_p95_vs_baseline"), "latency_p95", series), "latency_p95_vs_baseline")
    assert times and times[0] == 430.0


def test_cell_severity_follows_baseline_rules_too():
    trace = run(rules_named("latency_p95_vs_baseline"), "latency_p95", [0.5] * 150 + [1.8])
    assert trace[-1][1].rows[0].severity == {"latency_p95": Severity.WARNING}
    assert trace[-2][1].rows[0].severity == {"latency_p95": Severity.OK}


def test_learning_a_row_equals_adding_each_value_to_its_baseline():
    """`Baselines.learn` updates the slots inline (the per-value call was the cost at 1,000 rows): the state it
    leaves must be exactly what `SlotBaseline.add` leaves, slot closes and window trims included."""
    settings = BaselineSettings(window=120.0, slots=4, min_slots=2, warmup=0.0)
    rng = random.Random(7)
    baselines = Baselines(settings)
    alone: dict[str, SlotBaseline] = {"a": SlotBaseline(), "b": SlotBaseline()}
    now = T0
    for _ in range(400):
        now += rng.choice((0.5, 2.0, 7.0, 31.0))
        values = {"a": rng.gauss(10, 3), "b": rng.choice((None, math.nan, rng.random()))}
        baselines.learn(("s", "m"), values.items(), now)
        for field, value in values.items():
            if value is not None and math.isfinite(value):
                alone[field].add(value, now, settings)
        for field, series in alone.items():
            learnt = baselines._rows[("s", "m")].get(field)
            if learnt is None:
                assert series.start is None
                continue
            state = lambda b: (list(b.completed()), b.start, b.count, b.total, b.squares, b.first, b.samples)  # noqa: E731
            assert state(learnt) == state(series)
            assert learnt.view(now, settings) == series.view(now, settings)


def test_learning_equals_adding_when_a_field_vanishes_for_longer_than_the_window_and_the_clock_jumps():
    """The shortcut of `learn` (no slot closes or expires in this row: only the sums move) must not miss a
    slot a field left behind while it had no value, nor one a jump of the clock expires or closes."""
    settings = BaselineSettings(window=120.0, slots=4, min_slots=2, warmup=0.0)
    rng = random.Random(11)
    baselines = Baselines(settings)
    alone = {"a": SlotBaseline(), "b": SlotBaseline(), "c": SlotBaseline()}
    now = T0
    for step in range(600):
        now += -50.0 if step == 300 else rng.choice((2.0, 2.0, 2.0, 9.0, 45.0))
        values = {"a": rng.random(), "b": rng.random() if (step // 80) % 2 else None,
                  "c": rng.random() if step % 7 == 0 else None}
        baselines.learn(("s", "m"), values.items(), now)
        for field, value in values.items():
            if value is not None:
                alone[field].add(value, now, settings)
        for field, series in alone.items():
            learnt = baselines._rows[("s", "m")].get(field)
            state = lambda b: (list(b.completed()), b.start, b.count, b.total, b.squares, b.first, b.samples)  # noqa: E731
            assert (learnt is None and series.start is None) or state(learnt) == state(series)
            if learnt is not None:
                assert learnt.view(now, settings) == series.view(now, settings)


def test_a_series_takes_its_window_of_slots_once_past_its_first_slots_so_memory_is_flat_from_then():
    baselines = Baselines(SETTINGS)
    sizes, slots = [], []
    for i in range(int(2 * SETTINGS.window / STEP)):
        baselines.learn(("s", "m"), [("request_rate", 1.0 + i % 3), ("latency_p95", 0.5)], T0 + i * STEP)
        sizes.append(sum(len(series.done) for series in baselines._rows[("s", "m")].values()))
        slots.append(len(baselines._rows[("s", "m")]["request_rate"].completed()) // 3)
    whole = 2 * 3 * (SETTINGS.slots + 1)
    assert sizes[0] < whole and sizes.index(whole) <= 5 * 60 / STEP  # a young series: room for its first slots
    assert set(sizes[sizes.index(whole):]) == {whole}  # then the window's at once, never growing after
    assert max(slots) == SETTINGS.slots + 1 and slots[-1] >= SETTINGS.slots  # the window's slots, all held


def test_rows_that_come_and_go_never_take_a_window_of_slots():
    baselines = Baselines(BaselineSettings(forget_after=60.0))
    for t in range(0, 3600, 2):  # a new row every minute, each seen for a minute
        baselines.learn(("s", f"m{t // 60}"), [("request_rate", 1.0)], float(t))
        baselines.forget_stale(float(t))
    held = [series for row in baselines._rows.values() for series in row.values()]
    assert len(held) <= 3 and all(len(series.done) < 3 * (BaselineSettings().slots + 1) for series in held)
