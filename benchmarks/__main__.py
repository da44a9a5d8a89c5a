"""Run the benchmark suite and print the table: `python -m benchmarks [--quick] [--only 1,4] [--soak-refreshes N]`."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback

from benchmarks.report import Figure, table

#: Item number -> module (each has `run(quick: bool) -> list[Figure]`).
ITEMS = {
    "1": "benchmarks.ingest",
    "2": "benchmarks.refresh",
    "3": "benchmarks.promload",
    "4": "benchmarks.terminal",
    "5": "benchmarks.memory",
    "6": "benchmarks.startup",
    "7": "benchmarks.idle",
    "8": "benchmarks.fleet",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and shorter soaks (under 3 min)")
    parser.add_argument("--only", default=",".join(ITEMS), help="comma-separated items to run (default: all)")
    parser.add_argument("--soak-refreshes", type=int, default=None, metavar="N",
                        help="refreshes of item 5's 500-row soak (default 5,000; --quick 1,600; the issue's figure: "
                             "10,000, about 17 min on 2 cores)")
    args = parser.parse_args(argv)
    chosen = [item.strip() for item in args.only.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in ITEMS]
    if unknown:
        parser.error(f"unknown item(s) {', '.join(unknown)}; choose from {', '.join(ITEMS)}")
    print(f"aitop benchmarks ({'quick' if args.quick else 'default'}) on {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}", file=sys.stderr)
    figures: list[Figure] = []
    started = time.monotonic()
    if "5" in chosen:
        # The long memory soak runs in the background (niced) while the other items run, and is collected last.
        from benchmarks import memory

        memory.start(args.quick, args.soak_refreshes)
        chosen = [item for item in chosen if item != "5"] + ["5"]
    for item in chosen:
        began = time.monotonic()
        print(f"[{item}] {ITEMS[item]} …", file=sys.stderr, flush=True)
        try:
            figures += importlib.import_module(ITEMS[item]).run(args.quick)
        except Exception as exc:  # one broken item must not hide the others' figures
            traceback.print_exc()
            figures.append(Figure(item, f"{ITEMS[item]} failed: {type(exc).__name__}: {exc}"[:100], None, ""))
        print(f"[{item}] done in {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
    print(table(sorted(figures, key=lambda figure: figure.item)))  # stable: each item's figures keep their order
    print(f"\ntotal {time.monotonic() - started:.0f} s; ratio = value / baseline; "
          f"{sum(f.verdict == 'MISS' for f in figures)} target(s) missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
