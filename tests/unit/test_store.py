"""Counter increases over a window, with every kind of reset."""

import pytest
from helpers import histogram, series, window_of

C = series("x_total", m="a")
CREATED = series("x_created", m="a")


def test_increase_is_difference_over_window():
    w = window_of((0, {C: 10}), (5, {C: 25}), (10, {C: 40}))
    assert w.increase(C) == 30
    assert w.elapsed == 10


def test_drop_counts_as_reset_like_prometheus():
    values = [0, 1, 2, 3, 2, 3, 4]  # functions.test: increase == 7
    w = window_of(*[(i, {C: v}) for i, v in enumerate(values)], window=100)
    assert w.increase(C) == 7


def test_changed_created_is_reset_even_when_value_grew():
    w = window_of((0, {C: 10, CREATED: 100.0}), (5, {C: 12, CREATED: 200.0}))
    assert w.increase(C) == 12  # restarted and counted 12, not +2


def test_created_unchanged_is_not_reset():
    w = window_of((0, {C: 10, CREATED: 100.0}), (5, {C: 12, CREATED: 100.0}))
    assert w.increase(C) == 2


def test_histogram_count_drop_resets_every_bucket():
    before = histogram("h", {"1": 5, "+Inf": 10}, m="a")
    after = histogram("h", {"1": 6, "+Inf": 7}, m="a")  # bucket 1 grew, but the histogram restarted
    w = window_of((0, before), (5, after))
    assert w.increase(series("h_bucket", le="1", m="a")) == 6
    assert w.increase(series("h_bucket", le="+Inf", m="a")) == 7


def test_only_one_scrape_means_no_increase():
    w = window_of((0, {C: 10}))
    assert w.increase(C) is None
    assert w.elapsed == 0


def test_new_series_counts_from_its_first_sample():
    other = series("x_total", m="b")
    w = window_of((0, {C: 1}), (5, {C: 2, other: 50}), (10, {C: 3, other: 70}))
    assert w.increase(other) == 20
    assert w.increase(series("x_total", m="never")) is None


def test_brief_gap_is_not_mistaken_for_reset():
    w = window_of((0, {C: 100}), (5, {}), (10, {C: 120}), window=20)
    assert w.increase(C) == 20


def test_window_keeps_base_at_least_window_old():
    w = window_of(*[(t, {C: t * 2}) for t in range(0, 40, 2)], window=10)
    assert w.elapsed == pytest.approx(10)
    assert w.increase(C) == pytest.approx(20)
    assert len(w.frames) == 6


def test_gauges_are_read_raw():
    g = series("running", m="a")
    w = window_of((0, {g: 5}), (5, {g: 2}))
    assert w.latest_raw[g] == 2


def test_state_of_vanished_series_is_forgotten():
    w = window_of((0, {C: 1}), *[(t, {}) for t in range(5, 60, 5)], window=10)
    assert C not in w._state
