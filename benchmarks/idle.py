"""Item 7 — live CPU: the TUI left alone, refreshing every 2 s, in both modes, beside two peers in the same run.

These programs run side by side, each in its own 120×40 pty, over the same seconds after a 6 s warm-up:

* aitop in scrape mode (`python -m aitop URL/metrics --scrape --interval 2s`) on an exporter of 6 vLLM models,
  every one advancing between scrapes (the issue's "6 demo models");
* aitop in Prometheus mode (`--prometheus --interval 2s`) on the imitation Prometheus API (6 groups);
* `vllm-htop --url URL --interval 2` on the same exporter: the peer the issue measures against (PyPI; a
  stdlib-Python TUI). The benchmark installs it into its own venv under the user cache on first use, so
  the project needs no dependency for it;
* `htop -d 20` (2 s refresh): `apt-get install htop`; it costs more the more processes the machine runs;
* a bare Textual app fetching the same page every 2 s (benchmarks/bare_app.py) that shows a 6 × 11 grid of
  changing numbers in a DataTable, as one Static, and at rest: the framework's own floor for this redraw;
* aitop without its screen in both modes (benchmarks/data_path.py: the TUI's monitor refreshed every 2 s,
  nothing drawn): the TUI's figure minus this one is what showing the data costs.

CPU % = user + system CPU time of each process (from /proc) over the measured wall time. The target is a
ratio in one run — aitop ≤ 1.5× vllm-htop in each mode — because the machine's load moves every figure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.report import Figure
from benchmarks.servers import serving
from benchmarks.tty import Terminal

ROWS = 6
WARM_UP = 6.0
PEER = "vllm-htop"
#: The bare Textual app's modes (benchmarks/bare_app.py), each run beside aitop as a third baseline.
BARE_MODES = {"table": "6×11 DataTable, every cell updated every 2 s", "text": "one Static of 6×11 numbers every 2 s",
              "idle": "at rest (no fetch)"}
PEER_VERSION = "0.5.0"  # the version measured in the table era; pinned so runs compare


def ensure_htop() -> str | None:
    """htop, installed with apt-get when it is missing and this runs as root (the benchmark's own setup:
    no test needs it), else None."""
    if shutil.which("htop") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("    installing htop with apt-get (once)", file=sys.stderr)
        for argv in (["apt-get", "install", "-y", "-q", "htop"], ["apt-get", "update", "-q"],
                     ["apt-get", "install", "-y", "-q", "htop"]):
            try:
                done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
                                      env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            except (subprocess.SubprocessError, OSError):
                break
            if done.returncode == 0 and shutil.which("htop"):
                break
    return shutil.which("htop")


def peer_binary() -> str | None:
    """vllm-htop from its own venv (created and filled from PyPI on first use), or None if it cannot be had."""
    from platformdirs import user_cache_dir

    venv = Path(user_cache_dir("aitop-benchmarks")) / f"{PEER}-{PEER_VERSION}"
    binary = venv / "bin" / PEER
    if binary.exists():
        return str(binary)
    print(f"    installing {PEER}=={PEER_VERSION} into {venv} (once)", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{PEER}=={PEER_VERSION}"],
                       check=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"    {PEER} not installed ({exc}): no peer baseline", file=sys.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        return None
    return str(binary) if binary.exists() else None


def run(quick: bool) -> list[Figure]:
    seconds = 10.0 if quick else 60.0
    htop, peer = ensure_htop(), peer_binary()
    if htop is None:
        print("    htop not installed: apt-get install htop (no htop column)", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        exporter = stack.enter_context(serving("exporter", "--lanes", str(ROWS), "--log"))
        prometheus = stack.enter_context(serving("prometheus", "--groups", str(ROWS)))
        options = {"scrape": [exporter.url + "/metrics", "--scrape", "--interval", "2s"],
                   "Prometheus": [prometheus.url, "--prometheus", "--interval", "2s"]}
        programs = {mode: [sys.executable, "-m", "aitop", *argv] for mode, argv in options.items()}
        for mode, argv in options.items():
            programs[f"data {mode}"] = [sys.executable, "-m", "benchmarks.data_path", *argv]
        if peer:
            programs[PEER] = [peer, "--url", exporter.url, "--interval", "2", "--no-gpu-detect"]
        for bare in BARE_MODES:
            programs[f"bare {bare}"] = [sys.executable, "-m", "benchmarks.bare_app", exporter.url + "/metrics", bare]
        if htop:
            programs["htop"] = [htop, "-d", "20"]
        terminals = {name: stack.enter_context(Terminal(argv)) for name, argv in programs.items()}
        time.sleep(WARM_UP)
        start = time.monotonic()
        before = {name: terminal.cpu() for name, terminal in terminals.items()}
        time.sleep(seconds)
        elapsed = time.monotonic() - start
        cpu = {name: (terminal.cpu() - before[name]) / elapsed * 100 for name, terminal in terminals.items()}
    peer_cpu, htop_cpu = cpu.get(PEER), cpu.get("htop")
    htop_note = f"htop -d 20 beside it: {htop_cpu:.2f} %" if htop_cpu is not None else "htop not installed"
    peer_label = f"{PEER} {PEER_VERSION} (same exporter)" if peer_cpu is not None else f"{PEER} not installed"
    bare = [Figure(
        "7", f"  bare Textual app, {BARE_MODES[mode]}", cpu[f"bare {mode}"], "%", peer_cpu, peer_label,
        note="benchmarks/bare_app.py, same ptys and seconds: what Textual alone costs for this redraw",
    ) for mode in BARE_MODES]
    data = [Figure(
        "7", f"  aitop without its screen, {mode} mode", cpu[f"data {mode}"], "%", peer_cpu, peer_label,
        note="benchmarks/data_path.py, same seconds: the TUI's monitor refreshed every 2 s, nothing drawn",
    ) for mode in ("scrape", "Prometheus")]
    return [*(Figure(
        "7", f"live CPU, TUI every 2 s, {mode} mode, {ROWS} rows, {seconds:.0f} s", cpu[mode], "%", peer_cpu,
        peer_label, "≤ 1.5× vllm-htop", (lambda v, p=peer_cpu: p is not None and v <= 1.5 * p),
        note=f"120×40 ptys, same seconds; {htop_note}",
    ) for mode in ("scrape", "Prometheus")), *data, *bare]
