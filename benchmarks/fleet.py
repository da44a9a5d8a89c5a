"""Item 8 — a large fleet: key latency and memory of the live TUI at 2,000 rows.

aitop (`python -m aitop URL --prometheus --interval 2s`) watches the imitation Prometheus API with 2,000
groups (every value jittered on every answer) in a 120×40 pty, for 10 minutes (`--quick`: 1 minute).

* Key latency: after the table is up, a cursor key (↓, then ↑, alternately) is pressed once the
  terminal has been quiet for 0.3 s (so a refresh's own output is not taken for the answer), and the time to
  the first byte the TUI writes back is that key's latency. Target: median ≤ 100 ms.
* Memory: the process's RSS (/proc) every 5 s; the growth over the last half of the run (from its middle
  sample to its last) must stay under 10 %.
Baseline: the latency of the same keys in `htop -d 20` (same pty size, same seconds).
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

ROWS = 2000
QUIET = 0.3
RSS_EVERY = 5.0


def rss_mib(pid: int) -> float:
    """Resident set size of `pid` in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def key_latency(terminal: Terminal, key: bytes, timeout: float = 5.0) -> float | None:
    """Seconds from pressing `key` (once the terminal is quiet) to the first byte written back."""
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        with terminal._lock:
            last = terminal.chunks[-1][0] if terminal.chunks else 0.0
        if time.monotonic() - last >= QUIET:
            break
        time.sleep(0.02)
    pressed = time.monotonic()
    os.write(terminal.master, key)
    while time.monotonic() - pressed < timeout:
        with terminal._lock:
            after = [at for at, _ in terminal.chunks[-4:] if at > pressed]
        if after:
            return min(after) - pressed
        time.sleep(0.002)
    return None


def run(quick: bool) -> list[Figure]:
    seconds = 60.0 if quick else 600.0
    htop = ensure_htop()
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(serving("prometheus", "--groups", str(ROWS)))
        aitop = stack.enter_context(Terminal([sys.executable, "-m", "aitop", server.url, "--prometheus",
                                              "--interval", "2s"]))
        other = stack.enter_context(Terminal([htop, "-d", "20"])) if htop else None
        if aitop.wait_for([b"model-0"], 120) is None:
            return [Figure("8", f"key latency, {ROWS:,} rows: the table never appeared", None, "ms")]
        start = time.monotonic()
        ours, theirs, rss = [], [], []
        next_rss = start
        presses = 0
        while time.monotonic() - start < seconds:
            if time.monotonic() >= next_rss:
                rss.append(rss_mib(aitop.process.pid))
                next_rss += RSS_EVERY
            key = b"\x1b[B" if presses % 2 == 0 else b"\x1b[A"  # (htop has no j/k)
            ours.append(key_latency(aitop, key))
            if other is not None:
                theirs.append(key_latency(other, key))
            presses += 1
            time.sleep(0.2)
        rss.append(rss_mib(aitop.process.pid))
    answered = [s * 1e3 for s in ours if s is not None]
    baseline = [s * 1e3 for s in theirs if s is not None]
    median = statistics.median(answered) if answered else None
    middle, last = rss[len(rss) // 2], rss[-1]
    growth = (last - middle) / middle * 100 if middle else None
    return [
        Figure("8", f"key latency, {ROWS:,} rows, median of {len(answered)} keys", median, "ms",
               statistics.median(baseline) if baseline else None, "htop -d 20, same keys" if baseline else "",
               "≤ 100 ms", lambda v: v <= 100,
               note=f"max {max(answered, default=0):.0f} ms; {len(ours) - len(answered)} keys unanswered in 5 s; "
                    f"Prometheus mode, 120×40 pty, refresh every 2 s, {seconds:.0f} s"),
        Figure("8", f"RSS growth over the last half, {ROWS:,} rows, {seconds:.0f} s", growth, "%", None, "",
               "< 10 %", lambda v: v < 10,
               note=f"RSS {rss[0]:.0f} → {middle:.0f} → {last:.0f} MiB (start, middle, end)"),
    ]
