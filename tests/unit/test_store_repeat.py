"""A scrape of the same series in the same order takes the store's array path; it must equal the full walk.

Random scrape sequences (growing counters, dropping gauges, counter and histogram resets, new `_created`
stamps, NaN, series that come and go, reordered pages) are fed to two windows, one with the repeat path
switched off, and everything a reader can see is compared after every scrape.
"""

import random

from helpers import series

from aitop.store import TargetWindow

KEYS = [
    series("x_total", m="a"), series("x_created", m="a"), series("x_total", m="b"),
    series("h_bucket", le="1"), series("h_bucket", le="+Inf"), series("h_count"), series("h_sum"),
    series("h_created"), series("g", m="a"), series("g", m="b"), series("c_total"),
]
AVERAGED = {series("g", m="a")}


class Slow(TargetWindow):
    def _add_again(self, *args) -> bool:  # the repeat path off: every scrape walks every series
        return False


def seen(window: TargetWindow) -> tuple:
    """Everything a reader of the window sees, with NaN and -0.0 told apart by repr."""
    frames = [(f.monotonic, f.wall, list(f.layout.items()), repr(list(f.data)), repr(f.kept)) for f in window.frames]
    readings = [(key, repr(window.increase(key)), repr(window.mean(key))) for key in KEYS]
    return frames, repr(list(window.raw)), window.reset_wall, window.data_since, readings


def state_of(window: TargetWindow) -> list:
    window._sync()
    return sorted((k, repr((s.raw, s.offset, s.last_seen, s.created, s.position))) for k, s in window._state.items())


def scrapes(rng: random.Random, count: int):
    values = {key: float(rng.randint(0, 50)) for key in KEYS}
    present = list(KEYS)
    for step in range(count):
        roll = rng.random()
        if roll < 0.05 and len(present) > 3:
            present.remove(rng.choice(present))  # a series leaves the page
        elif roll < 0.1:
            present = [key for key in KEYS if key in present or rng.random() < 0.5]  # some come back
        elif roll < 0.13:
            present = rng.sample(present, len(present))  # the page in another order
        for key in KEYS:
            name = key[0]
            change = rng.random()
            if name.endswith("_created"):
                values[key] = values[key] + 1 if change < 0.05 else values[key]
            elif name == "g":
                values[key] = float(rng.randint(0, 9)) if change < 0.7 else float("nan") if change < 0.75 else -0.0
            elif change < 0.04:
                values[key] = float(rng.randint(0, 3))  # a reset (a histogram's `_count` among them)
            else:
                values[key] += rng.choice((0.0, 1.0, 2.5))
        yield step * 5.0, {key: values[key] for key in present}


def test_repeated_scrapes_read_exactly_as_the_full_walk():
    for seed in range(40):
        fast, slow = TargetWindow(30.0), Slow(30.0)
        fast.averaged, slow.averaged = set(AVERAGED), set(AVERAGED)
        for at, samples in scrapes(random.Random(seed), 60):
            fast.add(at, 1e9 + at, dict(samples))
            slow.add(at, 1e9 + at, dict(samples))
            assert seen(fast) == seen(slow), (seed, at)
        assert state_of(fast) == state_of(slow), seed


def test_a_steady_page_takes_the_repeat_path():
    calls = []

    class Counted(TargetWindow):
        def _add(self, *args) -> None:
            calls.append(args[0])
            super()._add(*args)

    window = Counted(30.0)
    for step in range(6):
        window.add(step * 5.0, 1e9 + step * 5, {KEYS[0]: step * 2.0, KEYS[1]: 7.0, KEYS[8]: 3.0 - step})
    assert calls == [0.0]  # only the first scrape walked every series
    assert window.increase(KEYS[0]) == 10.0
