"""Command line: parse arguments, build the config, run the TUI, a snapshot, a check or the demo exporter.

Stdout carries only the requested output; diagnostics go to stderr. Every path returns an exit code and no
traceback reaches the user: an unexpected error is written, without local variables, to a private file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import logging.handlers
import os
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import platformdirs

from aitop import __version__
from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.rules import DEFAULT_RULES
from aitop.check import evaluate_snapshot, render_json, render_text, unknown
from aitop.config import DEFAULT_SNAPSHOT_WINDOW, Config, ConfigError, build_config, parse_duration
from aitop.monitor import Monitor
from aitop.output import to_json, to_table
from aitop.sources.detect import DetectionError, PendingCollector
from aitop.sources.factory import open_collector
from aitop.transport import HttpSettings

log = logging.getLogger(__name__)

SUBCOMMANDS = ("snapshot", "check", "detect", "demo-server")
NO_TTY_HINT = (
    "aitop: no TTY ({problem}): use ssh -t for the live view, or --once (aitop snapshot …) for a plain snapshot"
)
NO_TARGET_HINT = (
    "aitop: no target given. Pass a Prometheus URL (aitop http://prometheus:9090) or /metrics URLs\n"
    "       (aitop http://host:8000/metrics), set $AITOP_URL, or try the simulated fleet: aitop --demo"
)


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
    config = build_config(
        args.targets,
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
    return config


def _main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop",
        description="top for AI services: live per-model traffic, errors, latency, tokens, cost and feedback.",
        epilog="subcommands: aitop snapshot TARGET… --format json|table · aitop check TARGET… --format text|json"
        " · aitop demo-server --port N",
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
        path = _state_dir() / "aitop.log"
        handler: logging.Handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=1)
        try:
            path.chmod(0o600)  # private, like the crash reports
        except OSError:
            pass
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    # httpx logs every request's full URL at INFO: query strings can carry API keys, and they are noise.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


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
    monitor = Monitor(await open_collector(config), analysis=config.analysis)
    try:
        if monitor.kind == "scrape":  # a rate needs two scrapes; a Prometheus server has the history
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


async def _check(config: Config, output_format: str) -> int:
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
    _setup_logging(to_file=False)
    try:
        return asyncio.run(_check(config, args.format))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 — a plugin must answer UNKNOWN, never a traceback
        report = _write_crash_report(exc)
        where = f"; details in {report}" if report else ""
        sys.stdout.write(render_text(unknown(f"internal error ({type(exc).__name__}){where}")))
        return 3


def terminal_problem() -> str | None:
    """Why a full-screen UI cannot run here (None when it can): no TTY on either end, or a dumb terminal."""
    try:
        if not sys.stdin.isatty():
            return "stdin is not a TTY"
        if not sys.stdout.isatty():
            return "stdout is not a TTY"
    except (AttributeError, ValueError):  # closed or replaced streams
        return "no terminal"
    if os.environ.get("TERM", "") in ("dumb", "unknown"):
        return f"TERM={os.environ['TERM']}"
    return None


@contextlib.contextmanager
def _crash_reports_without_locals(app_class: type) -> Iterator[None]:
    """While the TUI runs, an exception escaping a handler goes to a private crash file, not the screen.

    Textual renders such an exception with `show_locals=True`: a bearer token in a local variable or a header
    dict would be printed on the terminal (reliability.md §C.4). Textual 8.2 routes every one of them through
    `App._handle_exception` (textual is pinned exactly, so this private hook is checked on upgrade).
    """
    original = app_class._handle_exception

    from rich.text import Text

    def handle_exception(app, error: Exception) -> None:
        report = _write_crash_report(error)
        where = f"; details in {report}" if report else ""
        log.error("internal error in the TUI (%s)%s", type(error).__name__, where)
        app._return_code = 1
        if app._exception is None:  # a pilot test re-raises it; a real run only exits
            app._exception = error
            app._exception_event.set()
        app._exit_renderables.append(Text(f"aitop: internal error ({type(error).__name__}){where}"))
        app._close_messages_no_wait()

    app_class._handle_exception = handle_exception
    try:
        yield
    finally:
        app_class._handle_exception = original


def _exit_on_hangup(fd: int = 0) -> None:
    """End the process when the terminal hangs up, even if no SIGHUP arrives.

    A dropped SSH session that is not our controlling terminal (or SIGHUP ignored, as under nohup) sends no
    signal; Textual's input thread then reads EOF from the dead tty forever, spinning the CPU (reliability.md
    §D.6, §F 28). A daemon thread waits for POLLHUP on stdin, then raises SIGHUP — the app's own handler exits
    cleanly with status 129 — and exits hard 3 s later if nothing handled it.
    """
    import select
    import signal
    import threading

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, select.POLLHUP | select.POLLERR | select.POLLNVAL)  # hang-ups only, not input
        while True:
            events = poller.poll()
            if any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in events):
                os.kill(os.getpid(), signal.SIGHUP)
                time.sleep(3.0)
                os._exit(129)

    threading.Thread(target=watch, name="aitop-hangup-watch", daemon=True).start()


def _open_for_tui(config: Config):
    """The collector for the TUI: a target that cannot be reached yet does not stop it from starting."""
    try:
        collector = asyncio.run(open_collector(config))
    except DetectionError as error:
        collector = PendingCollector(lambda: open_collector(config), config.targets, window_seconds=config.window,
                                     error=error)
    if hasattr(collector, "poll_budget"):  # a slow target or query must not hold the refresh back
        collector.poll_budget = config.interval
    return collector


def _run_tui(config: Config) -> int:
    from aitop.ui.app import AitopApp, has_terminal, run_tui  # Textual only for a TUI

    if not has_terminal() or os.environ.get("TERM", "") == "unknown":  # refuse before probing any server
        print(NO_TTY_HINT.format(problem=terminal_problem() or "no terminal"), file=sys.stderr)
        return 2
    monitor = Monitor(_open_for_tui(config), analysis=config.analysis)
    _exit_on_hangup()
    with _crash_reports_without_locals(AitopApp):
        if config.theme is None:
            return run_tui(monitor, interval=config.interval)
        if "theme_name" in inspect.signature(run_tui).parameters:
            return run_tui(monitor, interval=config.interval, theme_name=config.theme)
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
        return _run_tui(replace(config, http=HttpSettings(), analysis=demo_analysis(config.analysis)))
    finally:
        fleet.stop()


def _headless(parser: argparse.ArgumentParser, argv: Sequence[str], command) -> int:
    """Run a one-shot command (`snapshot`, `detect`) that prints to stdout and logs to stderr."""
    args = parser.parse_args(argv)
    config = _config(args)
    if not config.targets:
        print(NO_TARGET_HINT, file=sys.stderr)
        return 2
    _setup_logging(to_file=False)
    return asyncio.run(command(config, args.format))


def _dispatch(argv: Sequence[str]) -> int:
    if argv and argv[0] == "snapshot":
        return _headless(_snapshot_parser(), argv[1:], _snapshot)
    if argv and argv[0] == "check":
        return _run_check(argv[1:])
    if argv and argv[0] == "detect":
        from aitop.detect_command import detect_command

        return _headless(_detect_parser(), argv[1:], detect_command)
    if argv and argv[0] == "demo-server":
        from aitop.demo import serve

        args = _demo_server_parser().parse_args(argv[1:])
        return serve(args.port)
    args = _main_parser().parse_args(argv)
    _setup_logging(to_file=True)
    if args.demo:
        return _run_demo(args)
    config = _config(args)
    if not config.targets:
        print(NO_TARGET_HINT, file=sys.stderr)
        return 2
    if args.once:  # what `aitop snapshot --format table` prints, without a terminal
        window = args.window if args.window is not None else DEFAULT_SNAPSHOT_WINDOW
        _setup_logging(to_file=False)
        return asyncio.run(_snapshot(replace(config, window=window), "table"))
    return _run_tui(config)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `aitop` command; returns the process exit code."""
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except (ConfigError, DetectionError) as exc:
        print(f"aitop: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 — the last line of defence: no traceback, no secrets on screen
        report = _write_crash_report(exc)
        where = f"; details in {report}" if report else ""
        print(f"aitop: internal error ({type(exc).__name__}){where}", file=sys.stderr)
        return 70
