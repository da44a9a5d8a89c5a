"""Item 2 — refresh cost: aitop's own CPU time per refresh, headless, at 10 to 5,000 rows.

One refresh is what the TUI's timer runs: `AitopApp.poll_once()` (collect -> analysis -> snapshot -> table
diff) and the repaint that follows, in `App.run_test(headless=True)` at 120×40. CPU time is the process's
(every thread, so `to_thread` parsing and querying count); the sources run in child processes
(`benchmarks.servers`), so serving costs are not billed to aitop:

* Prometheus mode: the real `PrometheusCollector` against an imitation of the HTTP API answering each of
  the vLLM queries (batched: one request per refresh) with one series per row, values jittered on every
  answer (every row changes);
* scrape mode: the real `ScrapeCollector` against one vLLM exporter page of N model lanes (114 series
  each), every lane advancing between scrapes.

Baseline: a bare Textual `DataTable` of the same rows × columns with every cell replaced per refresh.
Floors: the I/O of a refresh alone, with none of aitop's work — Prometheus mode's batched request and the
alerts request on aitop's own requests session, JSON-decoded; scrape mode's GET and one regex match per line. A target
below its floor cannot be met by optimising aitop's code, only by sending fewer requests or reading fewer lines.
Each child applies aitop's garbage-collector policy (`aitop.gcpolicy.apply_policy`: what the `aitop` command
applies before any command runs), so the figures are what users run; the bare DataTable and the floors get it too.
Each size runs in its own interpreter with a time limit, so a size that has gone quadratic reports what
it managed (a lower bound) instead of stalling the suite.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

from benchmarks.report import Figure

SIZE = (120, 40)
PROMETHEUS_SIZES = (10, 100, 1000, 5000)
SCRAPE_SIZES = (10, 100, 1000)
SERIES_PER_LANE = 114
TARGETS = {10: (15.0, "≤ 15 ms"), 1000: (150.0, "≤ 150 ms")}


# -- the child: one mode at one size -------------------------------------------------------------------

class _Timed:
    """Wraps an async method and adds the process CPU time spent in it to `seconds`."""

    def __init__(self, method) -> None:
        self.method = method
        self.seconds = 0.0

    async def __call__(self, *args, **kwargs):
        start = time.process_time()
        try:
            return await self.method(*args, **kwargs)
        finally:
            self.seconds += time.process_time() - start


async def _aitop(collector, refreshes: int) -> None:
    from aitop.monitor import Monitor
    from aitop.ui.app import AitopApp

    collect = collector.collect = _Timed(collector.collect)
    monitor = Monitor(collector)
    refresh = monitor.refresh = _Timed(monitor.refresh)
    app = AitopApp(monitor, interval=None)
    async with app.run_test(headless=True, size=SIZE) as pilot:
        for number in range(2 + refreshes):  # 2 warm-ups: detection and the first table build, first rates
            if number == 1:
                await asyncio.sleep(1.0)  # scrape mode needs scrapes a real second apart
            gc.collect()
            collect.seconds = refresh.seconds = 0.0
            start = time.process_time()
            await app.poll_once()
            await pilot.pause()
            total = time.process_time() - start
            kind = "warm" if number < 2 else "refresh"
            print(kind, total * 1e3, collect.seconds * 1e3, (refresh.seconds - collect.seconds) * 1e3, flush=True)
        print("shape", app.overview.table.row_count, len(app.overview.table.columns), flush=True)


async def _bare(rows: int, columns: int, refreshes: int) -> None:
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            for column in range(columns):
                table.add_column(f"c{column}", key=f"c{column}")
            for row in range(rows):
                table.add_row(*(Text(f"{row * column:.2f}") for column in range(columns)), key=f"r{row}")

    app = Bare()
    async with app.run_test(headless=True, size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(DataTable)
        for tick in range(1, refreshes + 1):
            gc.collect()
            start = time.process_time()
            for row in range(rows):
                for column in range(columns):
                    table.update_cell(f"r{row}", f"c{column}", Text(f"{(row + tick) * column / 7:.2f}"))
            await pilot.pause()
            print("refresh", (time.process_time() - start) * 1e3, 0, 0, flush=True)


def _floor_prometheus(url: str, refreshes: int) -> None:
    """The HTTP requests alone: aitop's batched query per schema (and the alerts request) sent one after
    another on aitop's own requests session and JSON-decoded, nothing else — what the requests cost before
    any of aitop's work. A batch whose answer exceeds the response cap is sent as its queries, one by one,
    as aitop's fallback sends it."""
    from aitop.sources.prometheus.batch import batch_expr
    from aitop.sources.prometheus.collector import PrometheusCollector
    from aitop.sources.prometheus.promql import instant_queries
    from aitop.sources.prometheus.results import QueryFailure

    collector = PrometheusCollector(url, window=30)
    asyncio.run(collector.collect())  # detection: the plans say which queries a refresh sends
    exprs = [batch_expr(instant_queries(plan, window=30, group_by=None)) for plan in collector._plans]
    session = collector._http.session

    def answer(expr: str) -> None:
        session.post(f"{url}/api/v1/query", data={"query": expr, "time": f"{time.time():.3f}"}).json()

    for _ in range(refreshes):
        start = time.process_time()
        for plan, expr in zip(collector._plans, exprs, strict=True):
            try:
                answer(expr)
            except QueryFailure:  # over the response cap (5,000 rows): aitop then sends the queries one by one
                for query in instant_queries(plan, window=30, group_by=None):
                    answer(query.expr)
        session.get(f"{url}/api/v1/alerts").json()
        print("refresh", (time.process_time() - start) * 1e3, 0, 0, flush=True)


def _floor_scrape(url: str, refreshes: int) -> None:
    """Reading the page alone: one GET and one regex match per line, no arithmetic, no rows."""
    import httpx

    from aitop.sources.scrape.exposition import _PLAIN_SAMPLE

    with httpx.Client() as client:
        for _ in range(refreshes):
            start = time.process_time()
            for line in client.get(url).text.splitlines():
                if line and line[0] != "#":
                    _PLAIN_SAMPLE.fullmatch(line)
            print("refresh", (time.process_time() - start) * 1e3, 0, 0, flush=True)


async def _child(mode: str, rows: int, refreshes: int, columns: int) -> None:
    from aitop.sources.prometheus.collector import PrometheusCollector
    from aitop.sources.scrape.collector import ScrapeCollector
    from benchmarks.servers import child

    if mode == "bare":
        await _bare(rows, columns, refreshes)
    elif mode == "floor-prometheus":
        with child("prometheus", "--groups", str(rows)) as url:
            await asyncio.to_thread(_floor_prometheus, url, refreshes)
    elif mode == "floor-scrape":
        with child("exporter", "--lanes", str(rows)) as url:
            await asyncio.to_thread(_floor_scrape, url + "/metrics", refreshes)
    elif mode == "prometheus":
        with child("prometheus", "--groups", str(rows)) as url:
            await _aitop(PrometheusCollector(url, window=30), refreshes)
    else:
        with child("exporter", "--lanes", str(rows)) as url:
            await _aitop(ScrapeCollector([url + "/metrics"], window=30), refreshes)


# -- the parent: sizes, time limits, figures -----------------------------------------------------------

@dataclass
class Outcome:
    """What one child reported: per-refresh (total, collect, analysis) ms, and whether it finished."""

    refreshes: list[tuple[float, float, float]] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    shape: tuple[int, int] = (0, 0)
    finished: bool = False

    @property
    def total(self) -> float | None:
        if self.refreshes:
            return statistics.median(r[0] for r in self.refreshes)
        return max(self.warm[1:], default=None)  # timed out: the slowest refresh seen is a lower bound

    def part(self, index: int) -> float:
        return statistics.median(r[index] for r in self.refreshes) if self.refreshes else 0.0


def measure(mode: str, rows: int, refreshes: int, limit: float, columns: int = 11) -> Outcome:
    """Run one child; stop it after `limit` seconds and keep what it printed."""
    outcome = Outcome()
    command = [sys.executable, "-m", "benchmarks.refresh", mode, str(rows), str(refreshes), str(columns)]
    # Its own process group, so the server it starts goes down with it when the time limit strikes.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=limit)
        outcome.finished = process.returncode == 0
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
    for line in out.splitlines():
        kind, *numbers = line.split()
        if kind == "refresh":
            outcome.refreshes.append(tuple(float(n) for n in numbers))  # type: ignore[arg-type]
        elif kind == "warm":
            outcome.warm.append(float(numbers[0]))
        elif kind == "shape":
            outcome.shape = (int(numbers[0]), int(numbers[1]))
    return outcome


_FLOOR_NOTES = {
    "Prometheus": "the batched queries + the alerts request on aitop's requests session, JSON-decoded, nothing else",
    "scrape": "one GET of the page + one regex match per line, nothing else",
}


def _figures(mode: str, results: dict[int, Outcome], baselines: dict[int, Outcome], limit: float,
             floors: dict[int, Outcome]) -> list[Figure]:  # fmt: skip
    figures = []
    for rows, outcome in results.items():
        ceiling, target = TARGETS.get(rows, (None, ""))
        baseline = baselines[rows].total if rows in baselines else None
        if outcome.refreshes:
            note = (f"collect {outcome.part(1):.1f} + analysis/history {outcome.part(2):.1f} + table diff/render "
                    f"{outcome.total - outcome.part(1) - outcome.part(2):.1f} ms; {outcome.shape[0]} rows × "
                    f"{outcome.shape[1]} columns")
        elif outcome.total is not None:
            note = f"stopped after {limit:.0f} s: the slowest refresh that finished (a lower bound)"
        else:
            note = "not run: a smaller size already hit the time limit" if not outcome.warm else \
                f"no refresh finished within {limit:.0f} s"
        if mode == "scrape":
            note += f"; {rows * SERIES_PER_LANE:,} series per scrape"
        figures.append(Figure("2", f"refresh CPU, {mode}, {rows:,} rows", outcome.total, "ms", baseline,
                              "bare DataTable", target, (lambda v, c=ceiling: v <= c) if ceiling else None, note))
        floor = floors.get(rows)
        if floor is not None and floor.total is not None:
            below = f"; the target ({target}) is below it" if ceiling and floor.total > ceiling else ""
            figures.append(Figure("2", f"  floor: the I/O alone, {rows:,} rows", floor.total, "ms",
                                  note=_FLOOR_NOTES[mode] + below))
    sizes = [rows for rows in sorted(results) if results[rows].refreshes]
    for small, big in zip(sizes, sizes[1:]):
        growth = results[big].total / results[small].total  # type: ignore[operator]
        figures.append(Figure("2", f"  growth {mode}, {small:,}→{big:,} rows", growth, "", big / small,
                              "(linear)", "≤ ×1.5 of linear", lambda v, linear=big / small: v <= 1.5 * linear))
    return figures


def _series(mode: str, sizes: tuple[int, ...], refreshes: int, limit: float) -> dict[int, Outcome]:
    results: dict[int, Outcome] = {}
    for rows in sizes:
        if any(not outcome.finished for outcome in results.values()):
            results[rows] = Outcome()  # a smaller size already ran out of time: this one would too
            continue
        results[rows] = measure(mode, rows, refreshes if rows < 5000 else 3, limit)
    return results


def run(quick: bool) -> list[Figure]:
    refreshes, limit = (2, 25.0) if quick else (7, 60.0)
    sizes = PROMETHEUS_SIZES[:3] if quick else PROMETHEUS_SIZES  # quick: 10 to 1,000 rows still show the growth
    prometheus = _series("prometheus", sizes, refreshes, limit)
    scrape = _series("scrape", SCRAPE_SIZES[:2] if quick else SCRAPE_SIZES, refreshes, limit)
    columns = next((o.shape[1] for o in prometheus.values() if o.shape[1]), 11)
    baselines = {rows: measure("bare", rows, refreshes if rows < 5000 else 3, limit, columns) for rows in sizes}
    floors = {mode: {rows: measure(f"floor-{mode.lower()}", rows, refreshes, limit) for rows in sizes}
              for mode, sizes in (("Prometheus", tuple(prometheus)), ("scrape", tuple(scrape)))}
    return (_figures("Prometheus", prometheus, baselines, limit, floors["Prometheus"])
            + _figures("scrape", scrape, baselines, limit, floors["scrape"]))


if __name__ == "__main__":
    from aitop.gcpolicy import apply_policy

    apply_policy()
    mode, rows, refreshes, columns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    asyncio.run(_child(mode, rows, refreshes, columns))
