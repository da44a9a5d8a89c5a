"""Item 4 — terminal output: bytes the TUI writes to its terminal per refresh, in a real 120×40 pty.

aitop runs as users run it (`python -m aitop URL --scrape --interval 2s`) against a vLLM exporter in a child
process that logs every scrape; the bytes read from the pty between one scrape and the next are that
refresh's output. Two pages of 30 models: 20 advancing on every scrape (20 rows change), and a frozen one
(nothing changes). Baseline: `htop -d 20` (2 s refresh) in a pty of the same size over the same seconds.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time

from benchmarks.report import Figure
from benchmarks.servers import serving
from benchmarks.tty import Terminal

LANES = 30
INTERVAL = 2.0
WARM_SCRAPES = 3  # the first frame, the first rates, and one more for the layout to settle


def _measure(changing: int, refreshes: int) -> tuple[list[int], int | None]:
    """Bytes per refresh of aitop, and htop's bytes per 2 s over the same seconds (None without htop)."""
    args = ["--lanes", str(LANES), "--changing", str(changing), "--log"]
    with serving("exporter", *args) as server:
        argv = [sys.executable, "-m", "aitop", server.url + "/metrics", "--scrape", "--interval", f"{INTERVAL:g}s"]
        htop = shutil.which("htop")
        with Terminal(argv) as aitop, (Terminal([htop, "-d", "20"]) if htop else Terminal(["true"])) as other:
            deadline = time.monotonic() + 20 + (refreshes + WARM_SCRAPES) * INTERVAL * 2
            while len(server.scrapes) < WARM_SCRAPES + refreshes + 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            marks = server.scrapes[WARM_SCRAPES:WARM_SCRAPES + refreshes + 1]
            per_refresh = [aitop.bytes_between(a, b) for a, b in zip(marks, marks[1:])]
            htop_bytes = None
            if htop and len(marks) > 1:
                htop_bytes = round(other.bytes_between(marks[0], marks[-1]) / ((marks[-1] - marks[0]) / 2.0))
    return per_refresh, htop_bytes


def run(quick: bool) -> list[Figure]:
    refreshes = 4 if quick else 8
    changing, htop_changing = _measure(20, refreshes)
    frozen, htop_frozen = _measure(0, refreshes)
    figures = []
    for name, values, htop, target, check in (
        ("terminal bytes/refresh, 20 of 30 rows changing", changing, htop_changing, "≤ 8192 B",
         lambda v: v <= 8192),
        ("terminal bytes/refresh, nothing changed", frozen, htop_frozen, "≈ 0 (≤ 256 B)", lambda v: v <= 256),
    ):
        value = statistics.median(values) if values else None
        note = f"120×40 pty, refresh every {INTERVAL:g} s; per refresh: {', '.join(str(v) for v in values)} B"
        figures.append(Figure("4", name, value, "B", htop, "htop per 2 s refresh", target, check, note))
    return figures
