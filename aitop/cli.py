"""Command line: parse arguments, build the config, run the TUI, a snapshot, a check or the demo exporter.

Stdout carries only the requested output; diagnostics go to stderr. Every path returns an exit code and no
traceback reaches the user: an unexpected error is written, without local variables, to a private file
(`aitop.guard`).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import logging.handlers
import os
import sys
from collections.abc import Sequence
from dataclasses import replace


from aitop import __version__
from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.rules import DEFAULT_RULES
from aitop.check import evaluate_snapshot, render_json, render_text, unknown
from aitop.config import DEFAULT_SNAPSHOT_WINDOW, Config, ConfigError, build_config, parse_duration, writable_config_path
from aitop.ops_config import attach, with_alertmanager
from aitop.engine_config import apply_engine
from aitop.guard import (
    crash_reports_without_locals,
    exit_on_hangup,
    setup_logging,
    state_dir,
    terminal_problem,
    thread_errors_off_the_terminal,
    write_crash_report,
)
from aitop.glyphs import use_glyph_fallback
from aitop.monitor import Monitor
from aitop.recording.command import attach_recorder, recording_paths, tui_monitor
from aitop.secret import mask
from aitop.output import to_json, to_table
from aitop.outstream import EXIT_OUTPUT_LOST, guarded_stdout, stdout_closed
from aitop.sources.detect import DetectionError, PendingCollector
from aitop.sources.factory import open_collector
from aitop.transport import HttpSettings

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
AT_HELP = ("the instant to evaluate (RFC 3339, unix seconds, or --at=-DURATION): with a recording as TARGET "
           "(-DURATION from its end), or against a Prometheus server (-DURATION before now)")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET",
        help="a Prometheus-compatible base URL (path prefix allowed) or /metrics URLs; kind auto-detected",
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--prometheus", dest="kind", action="store_const", const="prometheus", help="TARGET is a Prometheus server")
    kind.add_argument("--scrape", dest="kind", action="store_const", const="scrape", help="TARGETs are /metrics pages")
    parser.set_defaults(kind="auto")
    parser.add_argument("--timeout", type=_duration, help="per-request timeout (default 5s)")
    parser.add_argument(
        "--config", metavar="PATH",
        help="TOML config file (default: $AITOP_CONFIG, else config.toml in the user config dir); "
        "every option is documented in aitop.example.toml",
    )
    auth = parser.add_argument_group("auth and transport (secrets only from files or $AITOP_BEARER_TOKEN / $AITOP_PASSWORD)")
    auth.add_argument("--bearer-token-file", metavar="FILE", help="send 'Authorization: Bearer <file content>'")
    auth.add_argument("--basic-auth-user", metavar="USER", help="basic auth user (password from --basic-auth-password-file or $AITOP_PASSWORD)")
    auth.add_argument("--basic-auth-password-file", metavar="FILE")
    auth.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="extra request header (repeatable)")
    auth.add_argument("--tenant", metavar="ID", help="X-Scope-OrgID for Mimir / Cortex / Thanos")
    auth.add_argument("--ca-file", metavar="FILE", help="CA bundle to verify the server's certificate")
    auth.add_argument("--insecure-skip-verify", action="store_true", help="do not verify TLS certificates (shown on screen)")


def _config(args: argparse.Namespace, **overrides) -> Config:
    recordings = recording_paths(args.targets)  # a recording file is a target too: it is replayed
    config = build_config(
        [] if recordings else args.targets,
        interval=getattr(args, "interval", None),
        window=overrides.get("window", getattr(args, "window", None)),
        timeout=args.timeout,
        kind=args.kind,
        bearer_token_file=args.bearer_token_file,
        basic_auth_user=args.basic_auth_user,
        basic_auth_password_file=args.basic_auth_password_file,
        headers=args.header,
        tenant=args.tenant,
        ca_file=args.ca_file,
        insecure_skip_verify=args.insecure_skip_verify,
        config_file=args.config,
        discover_config=True,
        theme=getattr(args, "theme", None),
    )
    for warning in config.warnings:
        print(f"aitop: warning: {warning}", file=sys.stderr)
    apply_engine(config.engine)
    at = getattr(args, "at", None)
    if recordings:
        return replace(config, targets=tuple(recordings), recording=recordings[0], at=at)
    return replace(config, at=at) if at is not None else config


def _main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop",
        description="top for AI services: live per-model traffic, errors, latency, tokens, cost and feedback.",
        epilog="subcommands: aitop snapshot TARGET… --format json|table · aitop watch TARGET… --format jsonl"
        " · aitop check TARGET… --format text|json · aitop slo rules · aitop demo-server --port N"
        " · aitop record TARGET… --output FILE · aitop FILE (replay a recording)",
    )
    _add_common(parser)
    parser.add_argument("--demo", action="store_true", help="watch an embedded simulated fleet")
    parser.add_argument("--theme", metavar="NAME", help="aitop-dark (default), aitop-light, aitop-high-contrast, aitop-okabe-ito, or yours")
    parser.add_argument(
        "--once", action="store_true",
        help="print one plain-text snapshot and exit (no TUI; for pipes, files and TERM=dumb)",
    )
    parser.add_argument("--interval", type=_duration, help="time between refreshes, e.g. 2s (default 2s)")
    parser.add_argument("--window", type=_duration, help="rate and percentile window, e.g. 1m (default 30s)")
    parser.add_argument("--record", metavar="FILE", help="record what you watch to FILE (OpenMetrics; .gz compresses)")
    parser.add_argument("--at", metavar="TIME", help=AT_HELP)
    parser.add_argument("--version", action="version", version=f"aitop {__version__}")
    parser.add_argument("--alertmanager", metavar="URL", help="read active alerts and silences; `s` silences an alert")
    return parser


def _snapshot_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop snapshot",
        description="Scrape twice, --window apart, and print one snapshot of every row.",
    )
    _add_common(parser)
    parser.add_argument("--format", choices=("json", "table"), default="table")
    parser.add_argument("--at", metavar="TIME", help=AT_HELP)
    parser.add_argument(
        "--window", type=_duration, default=DEFAULT_SNAPSHOT_WINDOW,
        help="scrape mode: time between the two scrapes; Prometheus mode: the PromQL range (default 10s)",
    )
    return parser


class _NagiosParser(argparse.ArgumentParser):
    """A usage error is UNKNOWN (3) for a monitoring plugin; argparse's 2 would read as CRITICAL."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(3)


def _detect_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop detect",
        description="Which schemas the targets expose, where each concept comes from, and why a field is empty.",
    )
    _add_common(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--window", type=_duration, help="rate window (default 30s)")
    return parser


def _watch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop watch",
        description="Refresh like the TUI and print one JSON snapshot per line (rows, and alerts with their "
        "state and since) until interrupted, or --count lines.",
    )
    _add_common(parser)
    parser.add_argument("--format", choices=("jsonl",), default="jsonl", help="one JSON document per line")
    parser.add_argument("--count", type=int, metavar="N", help="stop after N snapshots (default: until interrupted)")
    parser.add_argument("--interval", type=_duration, help="time between refreshes, e.g. 2s (default 2s; a recording: as fast as possible)")
    parser.add_argument("--window", type=_duration, help="rate and percentile window, e.g. 1m (default 30s)")
    parser.add_argument("--alertmanager", metavar="URL", help="include the Alertmanager's active alerts")
    parser.add_argument("--at", metavar="TIME", help="with a recording as TARGET: start there (default: its start)")
    return parser


def _check_parser() -> argparse.ArgumentParser:
    parser = _NagiosParser(
        prog="aitop check",
        description="Judge the current window by the alert rules once; exit 0 OK, 1 WARNING, 2 CRITICAL, "
        "3 UNKNOWN (Nagios plugin convention). Scrape mode takes two scrapes --window apart.",
    )
    _add_common(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--window", type=_duration,
        help="scrape mode: time between the two scrapes; Prometheus mode: the PromQL range "
        "(default: [check] window in the config, else 10s)",
    )
    parser.add_argument("--at", metavar="TIME", help=AT_HELP)
    parser.add_argument("--slo", action="store_true",
                        help="also judge the config's [[slo]] entries by their burn rates (page: 2, ticket: 1)")
    return parser


def _demo_server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aitop demo-server", description="Serve only the simulated exporter.")
    parser.add_argument("--port", type=int, default=9400, help="port on 127.0.0.1 (default 9400)")
    return parser


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
    parser = _watch_parser()
    args = parser.parse_args(argv)
    if args.count is not None and args.count < 1:
        parser.error("--count: at least 1")
    config = with_alertmanager(_config(args), args.alertmanager)
    if not config.targets:
        print(NO_TARGET_HINT, file=sys.stderr)
        return 2
    setup_logging(to_file=False)
    try:
        from aitop.watch import watch

        return asyncio.run(watch(config, args.count, args.interval))
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
    args = _check_parser().parse_args(argv)
    try:
        config = _config(args)
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
    if hasattr(collector, "poll_budget"):  # a slow target or query must not hold the refresh back
        collector.poll_budget = config.interval
    return collector


def _run_tui(config: Config, record: str | None = None) -> int:
    from aitop.ui.app import has_terminal  # Textual only for a TUI

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
        views = {"columns": config.columns, "config_path": str(writable_config_path(config.config_file, os.environ))}
        if monitor.kind == "replay":  # a recording: the app with the replay keys
            from aitop.ui.replay import ReplayApp
            from aitop.ui.themes import DEFAULT_THEME

            app = ReplayApp(monitor, interval=config.interval, theme_name=config.theme or DEFAULT_THEME)
            app.run()
            return app.return_code or 0
        if config.theme is None:
            return run_tui(monitor, interval=config.interval, **views)
        if "theme_name" in inspect.signature(run_tui).parameters:
            return run_tui(monitor, interval=config.interval, theme_name=config.theme, **views)
        # run_tui does not take a theme yet: the same three steps, with the configured theme.
        app = AitopApp(monitor, interval=config.interval, theme_name=config.theme)
        app.run()
        return app.return_code or 0


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
    config = _config(args)
    if not config.targets:
        print(NO_TARGET_HINT, file=sys.stderr)
        return 2
    setup_logging(to_file=False)
    return asyncio.run(command(config, args.format))


def _dispatch(argv: Sequence[str]) -> int:
    if argv and argv[0] == "snapshot":
        return _headless(_snapshot_parser(), argv[1:], _snapshot)
    if argv and argv[0] == "watch":
        return _run_watch(argv[1:])
    if argv and argv[0] == "check":
        return _run_check(argv[1:])
    if argv and argv[0] == "detect":
        from aitop.detect_command import detect_command

        return _headless(_detect_parser(), argv[1:], detect_command)
    if argv and argv[0] == "record":
        from aitop.recording.command import record_parser, run_record

        setup_logging(to_file=False)
        return run_record(record_parser(_add_common, _duration).parse_args(argv[1:]), _config)
    if argv and argv[0] == "slo":
        from aitop.slo.command import slo_command

        return slo_command(argv[1:])
    if argv and argv[0] == "demo-server":
        from aitop.demo import serve

        args = _demo_server_parser().parse_args(argv[1:])
        return serve(args.port)
    args = _main_parser().parse_args(argv)
    setup_logging(to_file=True)
    if args.demo:
        return _run_demo(args)

    config = with_alertmanager(_config(args), args.alertmanager)
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
