"""Item 6 — start-up: wall time from launch to the first frame with data.

* `aitop --demo` in a 120×40 pty: launch until the output first carries a simulated model's name (the
  first frame with rows). Baseline: a minimal Textual app (one `Static`) until its first frame, same pty.
* `aitop snapshot URL --window 0.1s` against a local exporter (child process, 6 vLLM models): launch until
  it exits with the table printed (the 0.1 s between its two scrapes included). Baseline: a bare Python
  interpreter fetching the same page with urllib.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

from aitop.demo import MODEL_NAMES
from benchmarks.report import Figure
from benchmarks.servers import child
from benchmarks.tty import Terminal, clean_env

MINIMAL_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class Hello(App):\n"
    "    def compose(self):\n"
    "        yield Static('benchmark-first-frame')\n"
    "Hello().run()\n"
)
FETCH = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()"


def _first_frame(argv: list[str], needles: list[bytes]) -> float | None:
    with Terminal(argv) as terminal:
        return terminal.wait_for(needles, timeout=20.0)


def _wall(argv: list[str], home: str) -> float:
    start = time.monotonic()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env(home), check=True,
                   timeout=60)
    return time.monotonic() - start


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if len(known) == len(values) else None


def run(quick: bool) -> list[Figure]:
    repeat = 2 if quick else 3
    names = [name.encode() for name in MODEL_NAMES]
    demo = _median([_first_frame([sys.executable, "-m", "aitop", "--demo"], names) for _ in range(repeat)])
    minimal = _median([_first_frame([sys.executable, "-c", MINIMAL_APP], [b"benchmark-first-frame"])
                       for _ in range(repeat)])
    with child("exporter", "--lanes", "6") as base, tempfile.TemporaryDirectory() as home:
        url = base + "/metrics"
        snapshot = statistics.median(
            _wall([sys.executable, "-m", "aitop", "snapshot", url, "--window", "0.1s"], home) for _ in range(repeat))
        fetch = statistics.median(_wall([sys.executable, "-c", FETCH, url], home) for _ in range(repeat))
    return [
        Figure("6", "start-up to first frame with data, --demo", demo and demo * 1e3, "ms",
               minimal and minimal * 1e3, "minimal Textual app", "≤ 1500 ms", lambda v: v <= 1500,
               "120×40 pty; first output carrying a model name"),
        Figure("6", "aitop snapshot, local exporter, window 0.1 s", snapshot * 1e3, "ms", fetch * 1e3,
               "python + urllib fetch", note="launch to exit, both scrapes and the 0.1 s between them included"),
    ]
