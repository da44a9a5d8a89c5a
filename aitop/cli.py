"""Command line: parse arguments, build the config, run the TUI, a snapshot, a check or the demo exporter.

Stdout carries only the requested output; diagnostics go to stderr. Every path returns an exit code and no
traceback reaches the user: an unexpected error is written, without local variables, to a private file
(`aitop.guard`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import os
import sys
from collections.abc import Sequence
from dataclasses import replace


from aitop.analysis.configure import DEFAULT_RULES, AnalysisSettings
from aitop.check import evaluate_snapshot, render_json, render_text, unknown
from aitop.config import DEFAULT_SNAPSHOT_WINDOW, Config, ConfigError, build_config, writable_config_path
from aitop.ops_config import attach, with_alertmanager
from aitop.guard import (
    crash_reports_without_locals,
    exit_on_hangup,
    setup_logging,
    state_dir,
    terminal_problem,
    thread_errors_off_the_terminal,
    write_crash_report,
)
from aitop.gcpolicy import apply_policy
from aitop.glyphs import use_glyph_fallback
from aitop.heap import cap_malloc_arenas
from aitop.monitor import Monitor
from aitop.recording.command import attach_recorder, tui_monitor
from aitop.secret import mask
from aitop.output import to_json, to_table
from aitop.outstream import EXIT_OUTPUT_LOST, guarded_stdout, stdout_closed
from aitop.sources.detect import DetectionError, PendingCollector
from aitop.collectors import open_collector
from aitop.transport import HttpSettings
from aitop.cli_args import (
    add_common,
    check_parser,
    config_from_args,
    demo_server_parser,
    detect_parser,
    duration,
    main_parser,
    snapshot_parser,
    watch_parser,
)

log = logging.getLogger(__name__)

SUBCOMMANDS = ("snapshot", "watch", "check", "detect", "slo", "demo-server", "record")
STDOUT_CLOSED = "aitop: stdout is closed: nothing can be written (give aitop a terminal, a pipe or a file)"
NO_TTY_HINT = (
    "aitop: no TTY ({problem}): use ssh -t for the live view, or --once (aitop snapshot …) for a plain snapshot"
)
NO_TARGET_HINT = (
    "aitop: no target given. Pass a Prometheus URL (aitop http://prometheus:9090) or /metrics URLs\n"
    "       (aitop http://host:8000/metrics), set $AITOP_URL, or try the simulated fleet: aitop --demo"
)
async def _snapshot(config: Config, output_format: str) -> int:
    monitor = Monitor(await open_collector(config), analysis=config.analysis)
    try:
        if monitor.kind == "scrape":  # a rate needs two scrapes; a Prometheus server has the history
            await monitor.refresh()
            await asyncio.sleep(config.window)
        snapshot = await monitor.refresh()
    finally:
        await monitor.aclose()
    sys.stdout.write(to_json(snapshot) + "\n" if output_format == "json" else to_table(snapshot))
    if monitor.kind == "replay":  # what could not be read from the recording (cut off, unreadable lines…)
        for warning in snapshot.warnings:
            print(mask(f"aitop: warning: {warning}"), file=sys.stderr)
    for target in snapshot.targets:
        if not target.up:
            print(mask(f"aitop: {target.url}: {target.error}"), file=sys.stderr)
    return 0 if snapshot.targets_up else 1


def _run_watch(argv: Sequence[str]) -> int:
    parser = watch_parser()
    args = parser.parse_args(argv)
    if args.count is not None and args.count < 1:
        parser.error("--count: at least 1")
    config = with_alertmanager(config_from_args(args), args.alertmanager)
    if not config.targets:
        print(NO_TARGET_HINT, file=sys.stderr)
        return 2
    setup_logging(to_file=False)
    cap_malloc_arenas()  # a watch runs for days (aitop/heap.py)
    try:
        from aitop.watch import watch

        return asyncio.run(watch(config, args.count, args.interval, args.format))
    except KeyboardInterrupt:  # the documented way to stop it
        return 0


async def _check(config: Config, output_format: str, slo: bool = False) -> int:
    try:
        collector = await open_collector(config)
    except (ConfigError, DetectionError) as exc:
        result = unknown(str(exc))
    else:
        monitor = Monitor(collector, analysis=config.analysis)
        try:
            snapshot = await monitor.refresh()
            # A rate needs two scrapes; a Prometheus server has the history. Nothing reachable: no wait.
            if monitor.kind == "scrape" and snapshot.targets_up:
                await asyncio.sleep(config.window)
                snapshot = await monitor.refresh()
        finally:
            await monitor.aclose()
        result = evaluate_snapshot(snapshot, config.analysis.rules)
        if slo:
            from aitop.slo.judge import judge_slos

            result = await judge_slos(result, config, monitor)
    sys.stdout.write(render_json(result) + "\n" if output_format == "json" else render_text(result))
    return result.exit_code


def _run_check(argv: Sequence[str]) -> int:
    args = check_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        window = args.window if args.window is not None else config.check_window or DEFAULT_SNAPSHOT_WINDOW
        config = replace(config, window=window)
        if not config.targets:
            raise ConfigError("no target given (pass TARGET…, set $AITOP_URL, or targets in the config)")
    except ConfigError as exc:
        sys.stdout.write(render_text(unknown(str(exc))))
        return 3
    setup_logging(to_file=False)
    try:
        return asyncio.run(_check(config, args.format, args.slo))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 — a plugin must answer UNKNOWN, never a traceback
        report = write_crash_report(exc)
        where = f"; details in {report}" if report else ""
        sys.stdout.write(render_text(unknown(f"internal error ({type(exc).__name__}){where}")))
        return 3


def _open_for_tui(config: Config, recorder=None, *, optional: bool = False):
    """The collector for the TUI: a target that cannot be reached yet does not stop it from starting.
    `recorder` (`--record FILE`, the incident buffer) receives every scrape; `optional`: a collector that
    does not scrape (a server, a recording) goes without it instead of being refused."""

    async def opened():
        return await attach_recorder(await open_collector(config), recorder, optional=optional)

    try:
        collector = asyncio.run(opened())
    except DetectionError as error:
        collector = PendingCollector(opened, config.targets, window_seconds=config.window, error=error)
    collector.poll_budget = config.interval  # a slow target or query must not hold the refresh back
    return collector


def _run_tui(config: Config, record: str | None = None) -> int:
    from aitop.ui.app import has_terminal  # Textual only for a TUI

    cap_malloc_arenas()  # before any thread: a session of hours must not pile up freed heap (aitop/heap.py)

    if not has_terminal() or os.environ.get("TERM", "") == "unknown":  # refuse before probing any server
        print(NO_TTY_HINT.format(problem=terminal_problem() or "no terminal"), file=sys.stderr)
        return 2
    monitor, finish = tui_monitor(config, record, _open_for_tui, state_dir)
    attach(monitor, config.ops, http=config.http, timeout=config.timeout)
    try:
        return _run_app(config, monitor)
    finally:
        finish()


def _run_app(config: Config, monitor: Monitor) -> int:
    from aitop.ui.app import AitopApp, run_tui

    exit_on_hangup()
    with crash_reports_without_locals(AitopApp), thread_errors_off_the_terminal():
        # Columns chosen with `c` are saved in the file the settings came from, else the user's default one.
        config_path = str(writable_config_path(config.config_file, os.environ))
        if monitor.kind == "replay":  # a recording: the app with the replay keys
            from aitop.ui.replay import ReplayApp
            from aitop.ui.themes import DEFAULT_THEME

            app = ReplayApp(monitor, interval=config.interval, theme_name=config.theme or DEFAULT_THEME)
            app.run()
            return app.return_code or 0
        if config.theme is None:
            return run_tui(monitor, interval=config.interval, columns=config.columns, config_path=config_path)
        return run_tui(monitor, interval=config.interval, theme_name=config.theme, columns=config.columns,
                       config_path=config_path)


#: The simulated hosted models spend like real ones, thousands of dollars a day: under the default $100/day
#: budget every one of them would warn all the time and hide the scripted incidents (the cost spike still
#: crosses this budget, and the cost-vs-baseline rule).
DEMO_DAILY_BUDGET = 10_000.0


def demo_analysis(analysis: AnalysisSettings) -> AnalysisSettings:
    """The settings for `--demo`: the default budget rule raised to the demo's scale, a user's own kept."""
    defaults = {rule.name: rule for rule in DEFAULT_RULES}
    rules = tuple(
        replace(rule, threshold=DEMO_DAILY_BUDGET)
        if rule.field == "cost_per_day" and defaults.get(rule.name) == rule
        else rule
        for rule in analysis.rules
    )
    return replace(analysis, rules=rules)


def _run_demo(args: argparse.Namespace) -> int:
    from aitop.demo import DemoFleet

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("aitop: --demo needs a terminal; for a headless demo run `aitop demo-server`", file=sys.stderr)
        return 2
    fleet = DemoFleet()
    url = fleet.start()
    try:
        config = build_config(
            [url], interval=args.interval, window=args.window, timeout=args.timeout, kind="scrape",
            config_file=args.config, discover_config=True, theme=args.theme,
        )  # the file's rules, prices, theme and bell apply; its targets and auth do not reach the demo
        for warning in config.warnings:
            print(f"aitop: warning: {warning}", file=sys.stderr)
        return _run_tui(replace(config, http=HttpSettings(), analysis=demo_analysis(config.analysis)),
                        record=args.record)
    finally:
        fleet.stop()


def _headless(parser: argparse.ArgumentParser, argv: Sequence[str], command) -> int:
    """Run a one-shot command (`snapshot`, `detect`) that prints to stdout and logs to stderr."""
    args = parser.parse_args(argv)
    config = config_from_args(args)
    if not config.targets:
        print(NO_TARGET_HINT, file=sys.stderr)
        return 2
    setup_logging(to_file=False)
    return asyncio.run(command(config, args.format))


def _dispatch(argv: Sequence[str]) -> int:
    if argv and argv[0] == "snapshot":
        return _headless(snapshot_parser(), argv[1:], _snapshot)
    if argv and argv[0] == "watch":
        return _run_watch(argv[1:])
    if argv and argv[0] == "check":
        return _run_check(argv[1:])
    if argv and argv[0] == "detect":
        from aitop.detect_command import detect_command

        return _headless(detect_parser(), argv[1:], detect_command)
    if argv and argv[0] == "record":
        from aitop.recording.command import record_parser, run_record

        setup_logging(to_file=False)
        return run_record(record_parser(add_common, duration).parse_args(argv[1:]), config_from_args)
    if argv and argv[0] == "slo":
        from aitop.slo.command import slo_command

        return slo_command(argv[1:])
    if argv and argv[0] == "demo-server":
        from aitop.demo import serve

        args = demo_server_parser().parse_args(argv[1:])
        return serve(args.port)
    args = main_parser().parse_args(argv)
    setup_logging(to_file=True)
    if args.demo:
        return _run_demo(args)

    config = with_alertmanager(config_from_args(args), args.alertmanager)
    if not config.targets:
        print(NO_TARGET_HINT, file=sys.stderr)
        return 2
    if args.once:  # what `aitop snapshot --format table` prints, without a terminal
        window = args.window if args.window is not None else DEFAULT_SNAPSHOT_WINDOW
        setup_logging(to_file=False)
        return asyncio.run(_snapshot(replace(config, window=window), "table"))
    return _run_tui(config, record=args.record)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `aitop` command; returns the process exit code."""
    apply_policy()  # every command's refreshes allocate a table at a time (aitop/gcpolicy.py)
    use_glyph_fallback()  # a legacy-encoding terminal or pipe gets ASCII stand-ins, never an encoding error
    if stdout_closed():
        print(STDOUT_CLOSED, file=sys.stderr)
        return EXIT_OUTPUT_LOST
    with guarded_stdout() as output:
        code = _main(argv)
    if output.lost is not None and not output.reader_gone:  # a full disk is not a crash: one line, no crash file
        print(f"aitop: output not written ({output.lost})", file=sys.stderr)
        return EXIT_OUTPUT_LOST
    return code


def _main(argv: Sequence[str] | None) -> int:
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except (ConfigError, DetectionError) as exc:
        print(mask(f"aitop: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 — the last line of defence: no traceback, no secrets on screen
        report = write_crash_report(exc)
        where = f"; details in {report}" if report else ""
        print(f"aitop: internal error ({type(exc).__name__}){where}", file=sys.stderr)
        return 70
