"""prommath against the test vectors of prometheus/prometheus promql/promqltest/testdata/histograms.test."""

import math

import pytest

from aitop.prommath import histogram_quantile, merge_buckets, parse_le

INF = math.inf
POSITIVE = [(0.1, 50), (0.2, 70), (1, 110), (INF, 120)]
NEGATIVE = [(-0.2, 10), (-0.1, 20), (0.3, 20), (INF, 30)]
TWO = [(0, 0), (2, 1), (4, 2), (6, 3), (INF, 3)]
THREE_POSITIVE = [(0, 0), (0.1, 50), (0.2, 70), (1, 110), (INF, 110)]
THREE_NEGATIVE = [(-0.25, 0), (-0.2, 10), (-0.1, 20), (0.3, 20), (INF, 20)]
NON_MONOTONIC = [(0.1, 20), (1, 10), (10, 50), (100, 40), (1000, 90), (INF, 80)]


@pytest.mark.parametrize(
    ("buckets", "q", "expected"),
    [
        (POSITIVE, 0, 0.0),
        (POSITIVE, 0.2, 0.048),
        (POSITIVE, 0.5, 0.15),
        (POSITIVE, 0.8, 0.72),
        (POSITIVE, 1, 1.0),
        (NEGATIVE, 0, -0.2),
        (NEGATIVE, 0.2, -0.2),
        (NEGATIVE, 0.5, -0.15),
        (NEGATIVE, 0.8, 0.3),
        (NEGATIVE, 1, 0.3),
        (TWO, 1 / 6, 1.0),
        (TWO, 0.5, 3.0),
        (TWO, 5 / 6, 5.0),
        (THREE_POSITIVE, 0, 0.0),
        (THREE_POSITIVE, 0.25, 0.055),
        (THREE_POSITIVE, 0.5, 0.125),
        (THREE_POSITIVE, 0.75, 0.45),
        (THREE_POSITIVE, 1, 1.0),
        (THREE_NEGATIVE, 0, -0.25),
        (THREE_NEGATIVE, 0.25, -0.225),
        (THREE_NEGATIVE, 0.5, -0.2),
        (THREE_NEGATIVE, 0.75, -0.15),
        (THREE_NEGATIVE, 1, -0.1),
        (NON_MONOTONIC, 0.01, 0.0045),
        (NON_MONOTONIC, 0.5, 8.5),
        (NON_MONOTONIC, 0.99, 979.75),
    ],
)
def test_quantile_vectors(buckets, q, expected):
    assert histogram_quantile(q, buckets) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("q", "expected"), [(-0.1, -INF), (1.01, INF)])
def test_quantile_out_of_range(q, expected):
    assert histogram_quantile(q, POSITIVE) == expected


def test_quantile_nan_q_is_nan():
    assert math.isnan(histogram_quantile(math.nan, POSITIVE))


def test_mixed_le_spellings_coalesce():
    r = 3.0
    raw = [("0.1", r), ("0.2", r), ("2e-1", r), ("2.0e-1", r), ("+Inf", 4 * r)]
    buckets = [(parse_le(le), count) for le, count in raw]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.15)
    assert histogram_quantile(0.75, buckets) == pytest.approx(0.2)
    assert histogram_quantile(1, buckets) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "buckets",
    [
        [(parse_le("+inf"), 0), (parse_le("+Inf"), 0)],  # one bucket after coalescing
        [(0.1, 0), (1, 0), (INF, 0)],  # rate of constant counters
        [(0.1, 5), (1, 10)],  # no +Inf bucket
        [],
    ],
)
def test_quantile_is_nan_when_prometheus_says_nan(buckets):
    assert math.isnan(histogram_quantile(0.5, buckets))


def test_zero_first_bucket_with_positive_bound_gives_nan_at_q0_like_go():
    # 0/0 in Go is NaN; Python would raise ZeroDivisionError.
    assert math.isnan(histogram_quantile(0, [(1, 0), (2, 5), (INF, 5)]))


def test_float_noise_is_ignored():
    noisy = [(1, 100.0), (2, 100.0 - 1e-11), (INF, 100.0)]
    assert histogram_quantile(0.99, noisy) == pytest.approx(0.99)


def test_aggregated_request_duration_vector():
    # histograms.test: histogram_quantile(0.3, sum(rate(request_duration_seconds_bucket[5m])) by (le)) == 0.075
    # per-series increments per 5m step (0+NxM), i.e. their rates up to the common 1/300 factor:
    series = [
        [(0.1, 1), (0.2, 3), (INF, 4)],  # job1 ins1
        [(0.1, 2), (0.2, 5), (INF, 6)],  # job1 ins2
        [(0.1, 3), (0.2, 4), (INF, 6)],  # job2 ins1
        [(0.1, 4), (0.2, 7), (INF, 9)],  # job2 ins2
    ]
    rates = [[(le, n / 300) for le, n in buckets] for buckets in series]
    assert histogram_quantile(0.3, merge_buckets(rates).items()) == pytest.approx(0.075)


def test_merge_sums_by_bound_as_float():
    merged = merge_buckets([[(parse_le("1"), 2), (INF, 3)], [(parse_le("1.0"), 5), (parse_le("+Inf"), 7)]])
    assert merged == {1.0: 7, INF: 10}


@pytest.mark.parametrize(("raw", "expected"), [("1", 1.0), ("1e0", 1.0), ("+Inf", INF), ("-inf", -INF)])
def test_parse_le(raw, expected):
    assert parse_le(raw) == expected


@pytest.mark.parametrize("raw", ["Hello World", "", None])
def test_parse_le_malformed(raw):
    assert parse_le(raw) is None


