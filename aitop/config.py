"""Run settings: targets, intervals, windows — validated once, then frozen.

Flags override the environment, which overrides defaults. Targets are checked here so that every front end
gets URLs it can use and never one that carries credentials.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

DEFAULT_INTERVAL = 2.0
DEFAULT_WINDOW = 30.0
DEFAULT_SNAPSHOT_WINDOW = 10.0
DEFAULT_TIMEOUT = 5.0
MIN_INTERVAL = 0.5
TARGET_ENV_VARS = ("AITOP_URL", "PROMETHEUS_URL")


class ConfigError(ValueError):
    """A setting is unusable; the message says which and why, and is safe to print."""


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(ms|s|m|h|d|w))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus-style duration (`500ms`, `30s`, `5m`, `1h30m`) or a bare number of seconds."""
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    if not _DURATION.fullmatch(value):
        raise ConfigError(f"not a duration: {value[:40]!r} (use e.g. 30s, 5m, 1h30m or a number of seconds)")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(value))


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a run needs to know, already validated."""

    targets: tuple[str, ...]
    interval: float = DEFAULT_INTERVAL
    window: float = DEFAULT_WINDOW
    timeout: float = DEFAULT_TIMEOUT


def normalize_target(raw: str) -> str:
    """A usable scrape URL: scheme defaulted to http, path defaulted to /metrics, credentials refused."""
    text = raw.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        raise ConfigError(f"not a URL: {text[:80]!r}") from None
    if url.scheme not in ("http", "https"):
        raise ConfigError(f"unsupported scheme {url.scheme!r} (use http or https)")
    if not url.host:
        raise ConfigError(f"no host in {text[:80]!r}")
    if url.userinfo:
        # Credentials on the command line are visible in `ps` and end up in error messages.
        raise ConfigError(f"credentials in URLs are not accepted: remove the user:password@ part of {url.host}")
    if url.path in ("", "/"):
        url = url.copy_with(path="/metrics")
    return str(url)


def positive(name: str, value: float, minimum: float = 0.0) -> float:
    if not value > minimum:  # also rejects NaN
        raise ConfigError(f"{name} must be greater than {minimum:g}, not {value!r}")
    return value


def build_config(
    targets: Sequence[str],
    *,
    interval: float | None = None,
    window: float | None = None,
    timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate flags (falling back to $AITOP_URL, then $PROMETHEUS_URL, for targets)."""
    env = os.environ if environ is None else environ
    chosen = list(targets)
    if not chosen:
        for name in TARGET_ENV_VARS:
            if env.get(name, "").strip():
                chosen = env[name].split()
                break
    return Config(
        targets=tuple(dict.fromkeys(normalize_target(target) for target in chosen)),
        interval=positive("--interval", interval if interval is not None else DEFAULT_INTERVAL, MIN_INTERVAL - 1e-9),
        window=positive("--window", window if window is not None else DEFAULT_WINDOW),
        timeout=positive("--timeout", timeout if timeout is not None else DEFAULT_TIMEOUT),
    )
