"""Validated values from the config file: durations, numbers, key paths; baseline and alert settings.

`ConfigError` and `parse_duration` live here (and are re-exported by `aitop.config`) so that the analysis
package can validate its own config sections without importing the module that imports it. Every error
names the key path it is about (`rules[2].threshold`), so a user can find the line to fix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """A setting is unusable; the message says which and why, and is safe to print."""


#: The longest duration any setting takes (a year and a day).
MAX_DURATION = 366 * 86400.0
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


def _shown(value: object) -> str:
    return repr(value)[:40]


def table(where: str, value: object, known: frozenset[str] | set[str] | None = None) -> Mapping[str, Any]:
    """`value` as a TOML table; with `known`, any other key is an error naming its full path."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table, not {_shown(value)}")
    if known is not None:
        unknown = sorted(set(value) - set(known))
        if unknown:
            path = f"{where}.{unknown[0]}" if where else unknown[0]
            raise ConfigError(f"{path}: unknown key (known here: {', '.join(sorted(known))})")
    return value


def number(where: str, value: object, *, minimum: float | None = None, strict: bool = False,
           maximum: float | None = None) -> float:  # fmt: skip
    """A finite number, optionally bounded (`strict`: the minimum itself is not allowed)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: expected a number, not {_shown(value)}")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        relation = "greater than" if strict else "at least"
        raise ConfigError(f"{where}: must be {relation} {minimum:g}, not {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{where}: must be at most {maximum:g}, not {value!r}")
    return float(value)


def integer(where: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}: expected a whole number ≥ {minimum}, not {_shown(value)}")
    return value


def string(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, not {_shown(value)}")
    return value


def boolean(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, not {_shown(value)}")
    return value


def duration(where: str, value: object, *, allow_zero: bool = True, maximum: float = MAX_DURATION) -> float:
    """A duration given as "30s"/"5m" or a number of seconds, at most `maximum` (a caller with a narrower
    range of its own checks it, and says it, itself)."""
    if isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    else:
        seconds = number(where, value)
    if seconds < 0 or (not allow_zero and seconds == 0):
        raise ConfigError(f"{where}: must be {'positive' if not allow_zero else 'zero or more'}, not {value!r}")
    if seconds > maximum:  # 1e308 would overflow every clock sum it enters
        raise ConfigError(f"{where}: must be at most 366d, not {seconds:g}s")
    return seconds


def regex(where: str, value: object) -> re.Pattern[str]:
    try:
        return re.compile(string(where, value))
    except re.error as exc:
        raise ConfigError(f"{where}: invalid regular expression: {exc}") from None


@dataclass(frozen=True, slots=True)
class BaselineSettings:
    """How baselines learn: a rolling median / MAD over time slots, per (row, field) and per histogram."""

    window: float = 1200.0  # seconds of history the median is taken over
    slots: int = 40  # the window is cut into this many slots (30 s each by default)
    warmup: float = 120.0  # no baseline-relative judgement before this much history...
    min_slots: int = 4  # ...and this many completed slots
    forget_after: float = 1800.0  # a row unseen this long loses its baselines (label churn stays bounded)
    drift_min_observations: int = 30  # fewer observations in the window give no drift value (too noisy)
    #: Prometheus `offset` comparison (same time yesterday/last week). Accepted and documented, but the
    #: Prometheus collector does not expose offset queries yet, so it is reported and not used.
    offset: float | None = None


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Alert lifecycle settings shared by every rule."""

    keep_resolved: float = 300.0  # a resolved alert stays listed this long
    missing_grace: float = 60.0  # a firing alert whose value is unknown this long resolves ("no data")
    bell: bool = False  # ring the terminal bell when a critical alert starts firing
