"""No number is ever cut: every value the demo produces over a whole incident cycle, in every column of
every view, at 80, 120 and 200 columns, shows whole — never an ellipsis — because columns take their width
from what they show (and a lower-priority column hides instead).

The demo runs deterministically (seeded, stepped by hand, read through the real scrape math as in
tests/unit/test_analysis_demo.py). For every column, the snapshots holding its widest and its narrowest
cell (severity mark included) go through a real app in time order, with the first and the last; every
cell of the table is checked against its column's width and the drawn table is read back.
"""

from __future__ import annotations

import asyncio

import pytest
from rich.cells import cell_len
from textual.coordinate import Coordinate
from demo_fleet import STEP, T0, WINDOW, FleetCollector
from ui_fakes import FrozenClock

from aitop.cli import demo_analysis
from aitop.demo import CYCLE_SECONDS, DemoFleet
from aitop.analysis.configure import AnalysisSettings
from aitop.monitor import Monitor
from aitop.ui.app import AitopApp
from aitop.ui.cells import Palette, numeric_cell
from aitop.ui.columns import COLUMN_BY_KEY
from aitop.ui.views import VIEWS
from aitop.ui.widgets import TopTable

WIDTHS = [(80, 24), (120, 40), (200, 60)]


def demo_cycle():
    """Every snapshot of one full incident cycle (and the warm-up before it), as the TUI would see them."""

    async def run():
        fleet = DemoFleet(seed=11)
        monitor = Monitor(FleetCollector(fleet), analysis=demo_analysis(AnalysisSettings()), warmup=True)
        snapshots = []
        while fleet.sim_time < CYCLE_SECONDS + WINDOW:
            fleet.step(STEP)
            snapshots.append(await monitor.refresh())
        return monitor, snapshots

    return asyncio.run(run())


def extremes(snapshots) -> list:
    """The snapshots holding, for some column, its widest or narrowest cell; with the first and the last."""
    keep = {0, len(snapshots) - 1}
    for key, column in COLUMN_BY_KEY.items():
        if not column.numeric:
            continue
        sizes = [(cell_len(numeric_cell(row, key, Palette()).plain), index)
                 for index, snapshot in enumerate(snapshots) for row in snapshot.rows]  # fmt: skip
        keep |= {max(sizes)[1], min(sizes)[1]}
    return [snapshots[index] for index in sorted(keep)]


@pytest.fixture(scope="module")
def cycle():
    monitor, snapshots = demo_cycle()
    return monitor, snapshots, extremes(snapshots)


def table_lines(table: TopTable) -> list[str]:
    """The table's header and rows as drawn (the first `row_count + 1` lines)."""
    return ["".join(segment.text for segment in table.render_line(y)) for y in range(table.row_count + 1)]


def test_the_cycle_covers_the_incidents(cycle):
    _, snapshots, chosen = cycle
    assert len(snapshots) > 150 and len(chosen) < len(snapshots) / 3
    assert any(alert.state == "firing" for snapshot in snapshots for alert in snapshot.alerts)
    assert {"vllm", "llm"} <= {row.schema for snapshot in snapshots for row in snapshot.rows}


@pytest.mark.parametrize("size", WIDTHS, ids=[f"{w}x{h}" for w, h in WIDTHS])
async def test_every_demo_value_shows_whole_in_every_column_and_view(cycle, size):
    monitor, _, snapshots = cycle
    app = AitopApp(monitor, interval=None, clock=FrozenClock(T0 + CYCLE_SECONDS))
    checked = 0
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(TopTable)
        overview = app.screen
        for view in VIEWS:
            overview.show_view(view.name)
            for snapshot in snapshots:
                app.show(snapshot)
                widths = {column.key.value: column.width for column in table.ordered_columns}
                for y in range(table.row_count):
                    for x, column in enumerate(table.ordered_columns):
                        cell = table.get_cell_at(Coordinate(y, x))
                        assert cell_len(cell.plain) <= widths[column.key.value], (view.name, column.key, cell.plain)
                        assert "…" not in cell.plain
                        checked += 1
            await pilot.pause()
            drawn = table_lines(table)
            assert not any("…" in line for line in drawn), (view.name, drawn)
    assert checked > 1_000


#: Past the demo's range: the widest text each unit's formatter makes (a live demo reaches "$1,048" an hour,
#: which the old fixed 7-cell `$/h` column cut to "▲ $1,04").
WIDEST = {"request_rate": 9999.0, "error_rate": 0.999, "latency_p50": 59.99, "latency_p95": 599.0,
          "latency_p99": 5999.0, "ttft_p95": 59.99, "tpot_p95": 9.99, "input_tokens_rate": 99_999.0,
          "output_tokens_rate": 9_999.0, "cost_per_hour": 99_999.0, "cost_per_request": 0.0012345,
          "feedback_negative_ratio": 1.0, "running": 99_999.0, "waiting": 99_999.0, "kv_cache_usage": 1.0,
          "cost_per_day": 2_399_976.0, "request_rate_peak": 9999.0, "request_rate_session_peak": 99_999.0,
          "input_tokens_per_request": 123_456.0, "output_tokens_per_request": 99_999.0, "latency_drift": 0.0012345,
          "ttft_drift": 1.0, "output_length_drift": 0.5}  # fmt: skip


@pytest.mark.parametrize("size", WIDTHS, ids=[f"{w}x{h}" for w, h in WIDTHS])
async def test_the_widest_value_of_every_unit_shows_whole_even_critical(make_app, size):
    from dataclasses import replace

    from ui_fakes import collected, fleet

    from aitop.model import Severity, Snapshot

    rows = [replace(row, values={**row.values, **WIDEST}, severity=dict.fromkeys(WIDEST, Severity.CRITICAL))
            for row in fleet()]  # fmt: skip
    data = collected(rows)
    wide = Snapshot(taken_at=T0, window_seconds=30.0, source_kind="scrape", source_targets=(), targets=data.targets,
                    rows=tuple(rows))  # fmt: skip
    app = make_app([])
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(TopTable)
        for view in VIEWS:
            app.screen.show_view(view.name)
            app.show(wide)
            await pilot.pause()
            widths = {column.key.value: column.width for column in table.ordered_columns}
            for y in range(table.row_count):
                for x, column in enumerate(table.ordered_columns):
                    cell = table.get_cell_at(Coordinate(y, x))
                    assert cell_len(cell.plain) <= widths[column.key.value], (view.name, column.key, cell.plain)
            assert not any("…" in line for line in table_lines(table)), view.name
            assert "‼ $99,999" in "".join(table_lines(table)) or "cost_per_hour" not in widths
