"""Item 7 — idle cost: CPU % of the TUI left alone, refreshing every 2 s with 50 rows, beside htop.

aitop (`python -m aitop URL --scrape --interval 2s`) watches an exporter of 50 vLLM models, every one
advancing between scrapes (a live fleet; nobody touches the keyboard), in a 120×40 pty. `htop -d 20`
(also every 2 s) runs in another pty of the same size over the same seconds. CPU % = user + system CPU
time of each process (from /proc) over the measured wall time, after a 6 s warm-up.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time

from benchmarks.report import Figure
from benchmarks.servers import serving
from benchmarks.tty import Terminal

ROWS = 50
WARM_UP = 6.0


def run(quick: bool) -> list[Figure]:
    seconds = 10.0 if quick else 60.0
    htop = shutil.which("htop")
    if htop is None:
        print("    htop not installed: apt-get install htop (measuring aitop without its baseline)", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(serving("exporter", "--lanes", str(ROWS), "--log"))
        argv = [sys.executable, "-m", "aitop", server.url + "/metrics", "--scrape", "--interval", "2s"]
        aitop = stack.enter_context(Terminal(argv))
        other = stack.enter_context(Terminal([htop, "-d", "20"])) if htop else None
        time.sleep(WARM_UP)
        start, ours = time.monotonic(), aitop.cpu()
        theirs = other.cpu() if other else 0.0
        scrapes = len(server.scrapes)
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        ours = (aitop.cpu() - ours) / elapsed * 100
        theirs = (other.cpu() - theirs) / elapsed * 100 if other else None
        refreshes = len(server.scrapes) - scrapes
    per_refresh = ours / 100 * elapsed / max(refreshes, 1) * 1e3
    return [Figure(
        "7", f"idle CPU, TUI every 2 s, {ROWS} rows, {seconds:.0f} s", ours, "%", theirs,
        "htop -d 20 (same pty size)" if htop else "htop not installed: apt-get install htop",
        note=f"120×40 pty; {refreshes} refreshes, {per_refresh:.0f} ms CPU per refresh (collect, analysis, "
             f"table, render; all {ROWS} rows change every refresh)",
    )]
