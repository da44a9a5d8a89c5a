"""Item 4 — terminal output: bytes the TUI writes to its terminal per refresh, in a real 120×40 pty.

aitop runs as users run it (`python -m aitop URL --scrape --interval 2s`, TERM=xterm-256color as over SSH,
which does not forward COLORTERM) against a vLLM exporter in a child process that logs every scrape; the
bytes read from the pty between one scrape and the next are that refresh's output. Three sessions run side
by side on pages of 30 calm models: 20 advancing on every scrape (default sort by req/s, so rows may
trade places), the same sorted by model name (`N`: rows keep their places), and a frozen page (nothing
changes). `--window 6s` lets the window and the trend column fill within the warm-up. Baseline: `htop -d 20`
(2 s refresh) in a pty of the same size over the same seconds.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time

from benchmarks.idle import ensure_htop
from benchmarks.report import Figure
from benchmarks.servers import serving
from benchmarks.tty import Terminal

LANES = 30
INTERVAL = 2.0
WARM_SCRAPES = 12  # 6 s window full and the trend column settled: from then on a frozen page shows nothing new
SCENARIOS = (  # name, lanes advancing per scrape, keys pressed after start, target, check
    ("20 of 30 rows changing", 20, b"", "≤ 8192 B", lambda v: v <= 8192),
    ("20 of 30 rows changing, sorted by name", 20, b"N", "≤ 8192 B", lambda v: v <= 8192),
    ("nothing changed", 0, b"", "≈ 0 (≤ 256 B)", lambda v: v <= 256),
)


def run(quick: bool) -> list[Figure]:
    refreshes = 2 if quick else 8
    wanted = WARM_SCRAPES + refreshes + 1
    with contextlib.ExitStack() as stack:
        sessions = []
        for _, changing, keys, *_ in SCENARIOS:
            server = stack.enter_context(
                serving("exporter", "--lanes", str(LANES), "--changing", str(changing), "--log"))
            argv = [sys.executable, "-m", "aitop", server.url + "/metrics", "--scrape",
                    "--interval", f"{INTERVAL:g}s", "--window", "6s"]
            terminal = stack.enter_context(Terminal(argv))
            sessions.append((server, terminal, keys))
        htop = ensure_htop()
        if htop is None:
            print("    htop not installed: apt-get install htop (no baseline)", file=sys.stderr)
        other = stack.enter_context(Terminal([htop, "-d", "20"])) if htop else None
        deadline = time.monotonic() + 30 + wanted * INTERVAL * 2
        pressed = set()
        while time.monotonic() < deadline and any(len(s.scrapes) < wanted for s, _, _ in sessions):
            for index, (server, terminal, keys) in enumerate(sessions):
                if keys and index not in pressed and len(server.scrapes) >= 2:
                    os.write(terminal.master, keys)
                    pressed.add(index)
            time.sleep(0.1)
        figures = []
        for (name, _, _, target, check), (server, terminal, _) in zip(SCENARIOS, sessions):
            marks = server.scrapes[WARM_SCRAPES:wanted]
            values = [terminal.bytes_between(a, b) for a, b in zip(marks, marks[1:])]
            htop_bytes = None
            if other is not None and len(marks) > 1:
                htop_bytes = round(other.bytes_between(marks[0], marks[-1]) / ((marks[-1] - marks[0]) / 2.0))
            note = f"120×40 pty, 256 colours, every {INTERVAL:g} s; per refresh: {', '.join(map(str, values))} B"
            figures.append(Figure("4", f"terminal bytes/refresh, {name}", statistics.median(values) if values else None,
                                  "B", htop_bytes, "htop per 2 s refresh" if htop else "htop not installed",
                                  target, check, note))
    return figures
