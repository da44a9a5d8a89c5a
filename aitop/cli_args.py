"""The command line's arguments: the flags every command shares, one parser per subcommand, and the
`Config` they make (flags over the config file over defaults)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import NoReturn

from aitop import __version__
from aitop.config import DEFAULT_SNAPSHOT_WINDOW, Config, ConfigError, build_config, parse_duration
from aitop.engine_config import apply_engine
from aitop.recording.command import recording_paths

AT_HELP = ("the instant to evaluate (RFC 3339, unix seconds, or --at=-DURATION): with a recording as TARGET "
           "(-DURATION from its end), or against a Prometheus server (-DURATION before now)")


def duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET",
        help="a Prometheus-compatible base URL (path prefix allowed) or /metrics URLs; kind auto-detected",
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--prometheus", dest="kind", action="store_const", const="prometheus",
                      help="TARGET is a Prometheus server")
    kind.add_argument("--scrape", dest="kind", action="store_const", const="scrape", help="TARGETs are /metrics pages")
    parser.set_defaults(kind="auto")
    parser.add_argument("--timeout", type=duration, help="per-request timeout (default 5s)")
    parser.add_argument(
        "--config", metavar="PATH",
        help="TOML config file (default: $AITOP_CONFIG, else config.toml in the user config dir); "
        "every option is documented in aitop.example.toml",
    )
    auth = parser.add_argument_group(
        "auth and transport (secrets only from files or $AITOP_BEARER_TOKEN / $AITOP_PASSWORD)")
    auth.add_argument("--bearer-token-file", metavar="FILE", help="send 'Authorization: Bearer <file content>'")
    auth.add_argument("--basic-auth-user", metavar="USER",
                      help="basic auth user (password from --basic-auth-password-file or $AITOP_PASSWORD)")
    auth.add_argument("--basic-auth-password-file", metavar="FILE")
    auth.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                      help="extra request header (repeatable)")
    auth.add_argument("--tenant", metavar="ID", help="X-Scope-OrgID for Mimir / Cortex / Thanos")
    auth.add_argument("--ca-file", metavar="FILE", help="CA bundle to verify the server's certificate")
    auth.add_argument("--insecure-skip-verify", action="store_true",
                      help="do not verify TLS certificates (shown on screen)")


def config_from_args(args: argparse.Namespace, **overrides) -> Config:
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


def main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop",
        description="top for AI services: live per-model traffic, errors, latency, tokens, cost and feedback.",
        epilog="subcommands: aitop snapshot TARGET… --format json|table · aitop watch TARGET… --format jsonl|codec"
        " · aitop check TARGET… --format text|json · aitop slo rules · aitop demo-server --port N"
        " · aitop record TARGET… --output FILE · aitop FILE (replay a recording)",
    )
    add_common(parser)
    parser.add_argument("--demo", action="store_true", help="watch an embedded simulated fleet")
    parser.add_argument("--theme", metavar="NAME",
                        help="aitop-dark (default), aitop-light, aitop-high-contrast, aitop-okabe-ito, or yours")
    parser.add_argument(
        "--once", action="store_true",
        help="print one plain-text snapshot and exit (no TUI; for pipes, files and TERM=dumb)",
    )
    parser.add_argument("--interval", type=duration, help="time between refreshes, e.g. 2s (default 2s)")
    parser.add_argument("--window", type=duration, help="rate and percentile window, e.g. 1m (default 30s)")
    parser.add_argument("--record", metavar="FILE", help="record what you watch to FILE (OpenMetrics; .gz compresses)")
    parser.add_argument("--at", metavar="TIME", help=AT_HELP)
    parser.add_argument("--version", action="version", version=f"aitop {__version__}")
    parser.add_argument("--alertmanager", metavar="URL", help="read active alerts and silences; `s` silences an alert")
    return parser


def snapshot_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop snapshot",
        description="Scrape twice, --window apart, and print one snapshot of every row.",
    )
    add_common(parser)
    parser.add_argument("--format", choices=("json", "table"), default="table")
    parser.add_argument("--at", metavar="TIME", help=AT_HELP)
    parser.add_argument(
        "--window", type=duration, default=DEFAULT_SNAPSHOT_WINDOW,
        help="scrape mode: time between the two scrapes; Prometheus mode: the PromQL range (default 10s)",
    )
    return parser


class NagiosParser(argparse.ArgumentParser):
    """A usage error is UNKNOWN (3) for a monitoring plugin; argparse's 2 would read as CRITICAL."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(3)


def detect_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop detect",
        description="Which schemas the targets expose, where each concept comes from, and why a field is empty.",
    )
    add_common(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--window", type=duration, help="rate window (default 30s)")
    return parser


def watch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop watch",
        description="Refresh like the TUI and print one JSON snapshot per line (rows, and alerts with their "
        "state and since) until interrupted, or --count lines.",
    )
    add_common(parser)
    parser.add_argument(
        "--format", choices=("jsonl", "codec"), default="jsonl",
        help="jsonl: one JSON snapshot per line (the documented JSON); codec: one lossless, versioned snapshot per "
        "line (aitop.codec)",
    )
    parser.add_argument("--count", type=int, metavar="N", help="stop after N snapshots (default: until interrupted)")
    parser.add_argument("--interval", type=duration,
                        help="time between refreshes, e.g. 2s (default 2s; a recording: as fast as possible)")
    parser.add_argument("--window", type=duration, help="rate and percentile window, e.g. 1m (default 30s)")
    parser.add_argument("--alertmanager", metavar="URL", help="include the Alertmanager's active alerts")
    parser.add_argument("--at", metavar="TIME", help="with a recording as TARGET: start there (default: its start)")
    return parser


def check_parser() -> argparse.ArgumentParser:
    parser = NagiosParser(
        prog="aitop check",
        description="Judge the current window by the alert rules once; exit 0 OK, 1 WARNING, 2 CRITICAL, "
        "3 UNKNOWN (Nagios plugin convention). Scrape mode takes two scrapes --window apart.",
    )
    add_common(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--window", type=duration,
        help="scrape mode: time between the two scrapes; Prometheus mode: the PromQL range "
        "(default: [check] window in the config, else 10s)",
    )
    parser.add_argument("--at", metavar="TIME", help=AT_HELP)
    parser.add_argument("--slo", action="store_true",
                        help="also judge the config's [[slo]] entries by their burn rates (page: 2, ticket: 1)")
    return parser


def demo_server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aitop demo-server", description="Serve only the simulated exporter.")
    parser.add_argument("--port", type=int, default=9400, help="port on 127.0.0.1 (default 9400)")
    return parser
