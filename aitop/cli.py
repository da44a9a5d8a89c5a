"""Command line: parse arguments, build the config, run the TUI, a snapshot or the demo exporter.

Stdout carries only the requested output; diagnostics go to stderr. Every path returns an exit code and no
traceback reaches the user: an unexpected error is written, without local variables, to a private file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from aitop import __version__
from aitop.config import DEFAULT_SNAPSHOT_WINDOW, Config, ConfigError, build_config, parse_duration
from aitop.monitor import Monitor
from aitop.output import to_json, to_table
from aitop.sources.scrape import ScrapeCollector

SUBCOMMANDS = ("snapshot", "demo-server")
NO_TARGET_HINT = (
    "aitop: no target given. Pass a /metrics URL (aitop http://host:8000/metrics), set $AITOP_URL,\n"
    "       or try the simulated fleet: aitop --demo"
)


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="a /metrics URL (host:port works too)")
    parser.add_argument("--timeout", type=_duration, help="per-request timeout (default 5s)")


def _main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop",
        description="top for AI services: live per-model traffic, errors, latency, tokens, cost and feedback.",
        epilog="subcommands: aitop snapshot TARGET… --format json|table · aitop demo-server --port N",
    )
    _add_common(parser)
    parser.add_argument("--demo", action="store_true", help="watch an embedded simulated fleet")
    parser.add_argument("--interval", type=_duration, help="time between refreshes, e.g. 2s (default 2s)")
    parser.add_argument("--window", type=_duration, help="rate and percentile window, e.g. 1m (default 30s)")
    parser.add_argument("--version", action="version", version=f"aitop {__version__}")
    return parser


def _snapshot_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop snapshot",
        description="Scrape twice, --window apart, and print one snapshot of every row.",
    )
    _add_common(parser)
    parser.add_argument("--format", choices=("json", "table"), default="table")
    parser.add_argument(
        "--window", type=_duration, default=DEFAULT_SNAPSHOT_WINDOW, help="time between the two scrapes, e.g. 30s (default 10s)"
    )
    return parser


def _demo_server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aitop demo-server", description="Serve only the simulated exporter.")
    parser.add_argument("--port", type=int, default=9400, help="port on 127.0.0.1 (default 9400)")
    return parser


def _state_dir() -> Path:
    path = Path(platformdirs.user_state_dir("aitop"))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _setup_logging(to_file: bool) -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO if to_file else logging.WARNING)
    if to_file:  # a TUI owns the terminal: log lines on stderr would tear the screen
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            _state_dir() / "aitop.log", maxBytes=1_000_000, backupCount=1
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]


def _write_crash_report(exc: BaseException) -> Path | None:
    """Write the traceback — frames only, never local variables — to a 0600 file."""
    try:
        path = _state_dir() / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        return path
    except OSError:
        return None


async def _snapshot(config: Config, output_format: str) -> int:
    monitor = Monitor(ScrapeCollector(config.targets, window=config.window, timeout=config.timeout))
    try:
        await monitor.refresh()
        await asyncio.sleep(config.window)
        snapshot = await monitor.refresh()
    finally:
        await monitor.aclose()
    sys.stdout.write(to_json(snapshot) + "\n" if output_format == "json" else to_table(snapshot))
    for target in snapshot.targets:
        if not target.up:
            print(f"aitop: {target.url}: {target.error}", file=sys.stderr)
    return 0 if snapshot.targets_up else 1


def _run_tui(config: Config) -> int:
    from aitop.ui.app import run_tui  # Textual is imported only when a TUI is wanted

    monitor = Monitor(ScrapeCollector(config.targets, window=config.window, timeout=config.timeout))
    return run_tui(monitor, interval=config.interval)


def _run_demo(args: argparse.Namespace) -> int:
    from aitop.demo import DemoFleet

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("aitop: --demo needs a terminal; for a headless demo run `aitop demo-server`", file=sys.stderr)
        return 2
    fleet = DemoFleet()
    url = fleet.start()
    try:
        config = build_config([url], interval=args.interval, window=args.window, timeout=args.timeout)
        return _run_tui(config)
    finally:
        fleet.stop()


def _dispatch(argv: Sequence[str]) -> int:
    if argv and argv[0] == "snapshot":
        args = _snapshot_parser().parse_args(argv[1:])
        config = build_config(args.targets, window=args.window, timeout=args.timeout)
        if not config.targets:
            print(NO_TARGET_HINT, file=sys.stderr)
            return 2
        _setup_logging(to_file=False)
        return asyncio.run(_snapshot(config, args.format))
    if argv and argv[0] == "demo-server":
        from aitop.demo import serve

        args = _demo_server_parser().parse_args(argv[1:])
        return serve(args.port)
    args = _main_parser().parse_args(argv)
    _setup_logging(to_file=True)
    if args.demo:
        return _run_demo(args)
    config = build_config(args.targets, interval=args.interval, window=args.window, timeout=args.timeout)
    if not config.targets:
        print(NO_TARGET_HINT, file=sys.stderr)
        return 2
    return _run_tui(config)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `aitop` command; returns the process exit code."""
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except ConfigError as exc:
        print(f"aitop: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 — the last line of defence: no traceback, no secrets on screen
        report = _write_crash_report(exc)
        where = f"; details in {report}" if report else ""
        print(f"aitop: internal error ({type(exc).__name__}){where}", file=sys.stderr)
        return 70
