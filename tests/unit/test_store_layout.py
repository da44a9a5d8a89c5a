"""The store's compact frames: shared layouts, reordered pages, series that come and go."""

from helpers import series, window_of

A = series("x_total", m="a")
B = series("x_total", m="b")


def test_frames_of_the_same_series_share_one_layout_and_key_objects():
    w = window_of((0, {A: 1, B: 1}), (5, {A: 2, B: 3}), (10, {A: 4, B: 6}), window=30)
    layouts = {id(frame.layout) for frame in w.frames}
    assert len(layouts) == 1
    first = next(iter(w.frames[0].values))
    assert all(next(iter(frame.values)) is first for frame in w.frames)


def test_a_reordered_page_is_read_by_key_not_position():
    w = window_of((0, {A: 1, B: 100}), (5, {B: 150, A: 3}), (10, {A: 6, B: 170}), window=30)
    assert w.increase(A) == 5
    assert w.increase(B) == 70
    assert dict(w.latest_raw) == {A: 6, B: 170}


def test_series_that_come_and_go_keep_their_own_base():
    w = window_of((0, {A: 1}), (5, {A: 2, B: 10}), (10, {B: 12}), (15, {A: 9, B: 15}), window=30)
    assert w.increase(A) == 8  # from the first frame, across the frame without it
    assert w.increase(B) == 5  # from the frame where it appeared
    assert w.latest.values.get(series("x_total", m="c")) is None
    assert len(w.latest.values) == 2 and A in w.latest.values
