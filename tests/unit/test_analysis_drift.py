"""Drift: KS distance between the window's histogram and its baseline, from cumulative buckets."""

from __future__ import annotations

import math

import pytest

from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.drift import DriftTracker, ks_distance, to_cdf
from aitop.analysis.engine import Analyzer
from aitop.analysis.rules import Rule
from aitop.analysis.settings import BaselineSettings
from aitop.model import Missing, Row, Severity

INF = math.inf
T0 = 1_700_000_000.0
# Cumulative rates per bound (observations/s ≤ le), as Row.distributions holds them.
FAST = ((0.1, 5.0), (0.5, 9.0), (1.0, 9.8), (5.0, 10.0), (INF, 10.0))
SLOW = ((0.1, 0.2), (0.5, 1.0), (1.0, 3.0), (5.0, 9.5), (INF, 10.0))


def test_cdf_from_cumulative_buckets():
    cdf, total = to_cdf(FAST)
    assert total == 10.0 and cdf[0] == (0.1, 0.5) and cdf[-1] == (INF, 1.0)


@pytest.mark.parametrize("buckets", [(), ((INF, 3.0),), ((0.1, 1.0), (1.0, 2.0)), ((0.1, 0.0), (INF, 0.0))])
def test_no_cdf_without_inf_bucket_enough_buckets_or_data(buckets):
    assert to_cdf(buckets) is None


def test_non_monotonic_buckets_are_forced_monotonic():
    cdf, _ = to_cdf(((0.1, 6.0), (1.0, 4.0), (INF, 10.0)))
    assert [f for _, f in cdf] == [0.6, 0.6, 1.0]


def test_bucket_counts_above_the_total_are_capped_at_one():
    cdf, total = to_cdf(((0.1, 12.0), (1.0, 11.0), (INF, 10.0)))  # counts drifted past +Inf (float noise, races)
    assert total == 10.0 and [f for _, f in cdf] == [1.0, 1.0, 1.0]


def test_ks_distance_known_values():
    fast, _ = to_cdf(FAST)
    slow, _ = to_cdf(SLOW)
    assert ks_distance(fast, fast) == 0.0
    assert ks_distance(fast, slow) == pytest.approx(0.8)  # at le=0.5: 0.9 vs 0.1
    disjoint_a, _ = to_cdf(((1.0, 5.0), (2.0, 5.0), (INF, 5.0)))
    disjoint_b, _ = to_cdf(((1.0, 0.0), (2.0, 0.0), (INF, 5.0)))
    assert ks_distance(disjoint_a, disjoint_b) == 1.0


def test_ks_distance_over_different_bucket_layouts():
    a, _ = to_cdf(((1.0, 5.0), (INF, 10.0)))
    b, _ = to_cdf(((0.5, 0.0), (2.0, 10.0), (INF, 10.0)))
    # on the union grid {0.5, 1, 2, +Inf}: a = 0, .5, .5, 1 ; b = 0, 0, 1, 1
    assert ks_distance(a, b) == pytest.approx(0.5)


def test_tracker_needs_observations_and_warm_up_then_measures():
    tracker = DriftTracker(BaselineSettings())
    assert tracker.measure(("s", "m"), "latency", FAST, 1.0, 0.0) == (None, "few")  # 10 obs < 30
    for i in range(61):  # up to 120 s: still warming up (2 min and 4 completed 30 s slots)
        distance, why = tracker.measure(("s", "m"), "latency", FAST, 30.0, i * 2.0)
    assert (distance, why) == (None, "warming")
    distance, why = tracker.measure(("s", "m"), "latency", FAST, 30.0, 122.0)
    assert distance == pytest.approx(0.0, abs=1e-12) and why == ""
    distance, _ = tracker.measure(("s", "m"), "latency", SLOW, 30.0, 124.0)
    assert distance == pytest.approx(0.8)


def test_drift_is_a_row_field_and_usable_in_rules():
    rule = Rule("shape", "latency_drift", ">", Severity.WARNING, threshold=0.3, for_=10.0)
    analyzer = Analyzer(AnalysisSettings(rules=(rule,)))
    first = analyzer.process([Row("vllm", "m", "model_name", {}, distributions={"latency": FAST})],
                             now=T0, window_seconds=30.0)
    assert first.rows[0].value("latency_drift") is None
    assert first.rows[0].missing_reason("latency_drift") is Missing.NOT_ENOUGH_SAMPLES
    assert first.rows[0].missing_reason("ttft_drift") is Missing.NO_METRIC
    for i in range(1, 80):
        shape = FAST if i < 70 else SLOW  # the latency distribution changes shape at t = 140 s
        analysis = analyzer.process([Row("vllm", "m", "model_name", {}, distributions={"latency": shape})],
                                    now=T0 + i * 2.0, window_seconds=30.0)
        if i == 69:
            assert analysis.rows[0].value("latency_drift") == pytest.approx(0.0, abs=1e-12) and not analysis.alerts
    assert analysis.rows[0].value("latency_drift") == pytest.approx(0.8)
    (alert,) = analysis.alerts
    assert alert.state == "firing" and alert.message.startswith("latency drift 0.80 (threshold 0.30) on m")


def test_quantiles_without_buckets_say_drift_needs_a_scrape():
    """Prometheus mode: the server's quantiles, no buckets. Unknown drift, and `e` says why."""
    row = Row("vllm", "m", "model_name", {"latency_p95": 0.4})
    (judged,) = Analyzer(AnalysisSettings()).process([row], now=T0, window_seconds=30.0).rows
    assert judged.value("latency_drift") is None and judged.missing_reason("latency_drift") is Missing.NO_METRIC
    assert "scrape mode" in judged.provenance["latency_drift"]
    assert "ttft_drift" not in judged.provenance  # no TTFT quantiles either: simply no such metric
