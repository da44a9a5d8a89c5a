"""`aitop slo rules`: print Prometheus recording and alerting rules for the config's `[[slo]]` entries."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aitop.config import ConfigError, build_config
from aitop.slo.rules import render


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitop slo",
        description="SLO tools. `aitop slo rules` prints Prometheus rules (recording: the bad-event ratio per "
        "window; alerting: page and ticket multi-window burn rates) for the [[slo]] entries of the config, "
        "ready for `promtool check rules` and a rule_files entry.",
    )
    parser.add_argument("action", choices=("rules",))
    parser.add_argument("--config", metavar="PATH", help="TOML config file holding [[slo]] entries")
    return parser


def slo_command(argv: Sequence[str]) -> int:
    """Run `aitop slo …`; returns the exit code (2: no SLO configured or an unusable config)."""
    args = _parser().parse_args(argv)
    try:
        config = build_config([], config_file=args.config, discover_config=True)
    except ConfigError as exc:
        print(f"aitop: {exc}", file=sys.stderr)
        return 2
    if not config.ops.slos:
        where = config.config_file or "the config (none found; give --config PATH)"
        print(f"aitop: no [[slo]] entries in {where}: nothing to write rules for", file=sys.stderr)
        return 2
    sys.stdout.write(render(config.ops.slos, config.schemas))
    return 0
