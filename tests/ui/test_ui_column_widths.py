"""The numeric columns' widths: measured at the cost of what changed, equal to measuring everything."""

from __future__ import annotations

import math
from random import Random

import pytest

from rich.cells import cell_len
from ui_fakes import FIELD_NAMES, make_row


from aitop.fields import FIELDS
from aitop.ui.cells import cell_value
from aitop.ui.widgets import column_widths
from aitop.ui.widgets.column_widths import MARK_WIDTH, ColumnWidths, candidates

NAMES = FIELD_NAMES
POOL = [None, 0.0, -0.0, float("nan"), float("inf"), -1.5, 59.999, 9999.5, 1e-4, -2e5, 0.004, 123456.7]


@pytest.fixture
def formatted(monkeypatch) -> list[object]:
    """Every value the tracker formats to measure it, in order."""
    values: list[object] = []
    monkeypatch.setattr(column_widths, "cell_value", lambda name, value: values.append(value) or
                        cell_value(name, value))  # fmt: skip
    return values


def test_widths_equal_measuring_every_value_of_every_row_at_every_refresh() -> None:
    rng = Random(17)
    tracker, expected = ColumnWidths(), {}
    columns = NAMES[:10]
    rows = {}
    for refresh in range(60):
        if refresh == 30:  # another view: columns new to the tracker are measured over every row
            columns = NAMES[5:]
        for group in rng.sample(range(12), rng.randint(0, 12)):  # some rows change, some vanish, some come
            values = {name: rng.choice([*POOL, rng.uniform(-1e6, 1e6), rng.uniform(0, 2)]) for name in columns}
            rows[group] = make_row(f"m{group}", **values)
        shown = [rows[key] for key in rng.sample(sorted(rows), rng.randint(0, len(rows)))]
        for name in columns:
            if shown:
                widest = max(cell_len(cell_value(name, row.value(name))) for row in shown) + MARK_WIDTH
                expected[name] = max(expected.get(name, 0), widest)
        grown = tracker.track(columns, shown)
        assert tracker.widths == expected
        assert grown == (tracker.widths != getattr(tracker, "_seen_widths", {}))
        tracker._seen_widths = dict(tracker.widths)  # type: ignore[attr-defined]


def test_a_zero_that_changes_sign_is_measured_again() -> None:
    tracker = ColumnWidths()
    tracker.track(("request_rate",), [make_row("a", request_rate=0.0)])
    before = tracker.widths["request_rate"]
    tracker.track(("request_rate",), [make_row("a", request_rate=-0.0)])
    assert tracker.widths["request_rate"] == max(before, cell_len(cell_value("request_rate", -0.0)) + MARK_WIDTH)
    assert math.copysign(1.0, -0.0) < 0


def test_only_changed_values_are_formatted_each_distinct_one_once(formatted: list[object]) -> None:
    tracker = ColumnWidths()
    rows = [make_row(f"m{n}", request_rate=42.5 if n % 2 else None) for n in range(1000)]
    tracker.track(("request_rate",), rows)
    assert tracker.widths == {"request_rate": len("42.5") + MARK_WIDTH}
    assert sorted(formatted, key=str) == [42.5, None]
    formatted.clear()
    tracker.track(("request_rate",), rows)  # a steady fleet: nothing to format
    assert formatted == []
    rows[3] = make_row("m3", request_rate=1234.5)  # one row changed: that value alone
    tracker.track(("request_rate",), rows)
    assert formatted == [1234.5]
    assert tracker.widths == {"request_rate": len("1.2k") + MARK_WIDTH}


def _around(edge: float) -> list[float]:
    """`edge` and the three floats either side of it."""
    out, up, down = [edge], edge, edge
    for _ in range(3):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        out += [up, down]
    return out


#: Where some formatter switches format or rounds up to one more digit, either sign.
EDGES = [value * sign for sign in (1, -1) for base in
         (1e-11, 1e-10, 1e-4, 0.00095, 0.001, 0.005, 0.00995, 0.01, 0.0095, 0.015, 0.09999, 0.099995, 0.1, 0.9995,
          0.9999, 1, 9.99, 9.995, 9.999, 10, 59.995, 60, 99.5, 99.95, 99.99, 100, 999.5, 999.9, 1000, 9950, 9999.5,
          10_000, 99_999.5, 999_999.5) for value in _around(base)]  # fmt: skip


def test_the_values_left_to_measure_hold_the_widest_for_every_unit() -> None:
    rng = Random(7)
    fields = {"not a field": "not a field"}  # (formatted as a plain number)
    for field in FIELDS:
        fields.setdefault(field.unit, field.name)
    for name in fields.values():
        for _ in range(300):
            count = rng.choice([rng.randint(8, 12), rng.randint(8, 60)])
            values: set[float | None] = set()
            while len(values) < count:
                pick = rng.random()
                if pick < 0.4:
                    value = rng.choice(EDGES)
                elif pick < 0.9:
                    value = rng.uniform(-2, 2) * 10 ** rng.randint(-12, 7)
                else:
                    value = rng.choice([None, math.nan, math.inf, -math.inf])
                if value != 0:
                    values.add(value)
            every = max(cell_len(cell_value(name, value)) for value in values)
            kept = max(cell_len(cell_value(name, value)) for value in column_widths.candidates(name, values))
            assert kept == every, (name, sorted(values, key=str))


def test_a_busy_column_formats_a_handful_of_its_new_values(formatted: list[object]) -> None:
    rng = Random(3)
    tracker = ColumnWidths()
    for _ in range(3):  # every value new at every refresh, as a rate's are
        rows = [make_row(f"m{n}", request_rate=rng.uniform(0, 20_000), spec_acceptance_length=rng.uniform(0, 5))
                for n in range(1000)]  # fmt: skip
        formatted.clear()
        tracker.track(("request_rate", "spec_acceptance_length"), rows)
        assert len(formatted) < 40
        for name in ("request_rate", "spec_acceptance_length"):
            widest = max(cell_len(cell_value(name, row.value(name))) for row in rows) + MARK_WIDTH
            assert tracker.widths[name] >= widest


def test_a_busy_column_within_one_band_and_a_column_never_known_cost_no_set_and_no_format(formatted: list[object],
                                                                                          monkeypatch) -> None:
    rng = Random(4)
    tracker = ColumnWidths()
    columns = ("request_rate", "cost_per_hour")
    first = [make_row(f"m{n}", request_rate=rng.uniform(20, 90)) for n in range(1000)]
    tracker.track(columns, first)
    assert formatted and tracker.widths == {"request_rate": len("12.3") + MARK_WIDTH,
                                            "cost_per_hour": len(cell_value("cost_per_hour", None)) + MARK_WIDTH}
    farthest = max(row.value("request_rate") for row in first)
    for _ in range(3):  # every value new, all within the band [10, 100) and no farther from zero than measured
        rows = [make_row(f"m{n}", request_rate=rng.uniform(10, farthest)) for n in range(1000)]
        formatted.clear()
        monkeypatch.setattr(column_widths, "candidates", lambda *a: pytest.fail("measured again"))
        assert not tracker.track(columns, rows)
        assert formatted == []
    monkeypatch.setattr(column_widths, "candidates", candidates)
    formatted.clear()
    tracker.track(columns, [*rows, make_row("far", request_rate=99.5)])  # farther, in the same band: measured
    assert 99.5 in formatted and tracker.widths["request_rate"] == len("99.5") + MARK_WIDTH
    formatted.clear()
    tracker.track(columns, [*rows, make_row("far", request_rate=99.25)])  # and now covered
    assert formatted == []


def test_widths_equal_measuring_everything_when_refreshes_keep_within_a_band_and_leave_it() -> None:
    rng = Random(23)
    columns = ("request_rate", "ttft_p95", "error_rate", "cost_per_hour", "spec_acceptance_length", "running")
    for _ in range(20):
        tracker, expected = ColumnWidths(), {}
        centre = {name: rng.choice(EDGES) or 1.0 for name in columns}
        for _ in range(15):  # around an edge: mostly one band, sometimes both sides, now and then missing
            rows = [make_row(f"m{n}", **{name: None if rng.random() < 0.02 else centre[name] *
                                         rng.uniform(0.5, 1.0 + rng.choice([0.0, 0.0, 1e-9, 0.5]))
                                         for name in columns}) for n in range(rng.randint(1, 30))]  # fmt: skip
            for name in columns:
                widest = max(cell_len(cell_value(name, row.value(name))) for row in rows) + MARK_WIDTH
                expected[name] = max(expected.get(name, 0), widest)
            tracker.track(columns, rows)
            assert tracker.widths == expected, centre
