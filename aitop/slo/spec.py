"""What an SLO is in the config (`[[slo]]`) and the standard multi-window, multi-burn-rate alert pairs.

The pairs are the SRE workbook's for a 30-day objective: page when the 1 h and 5 m burn rates both exceed
14.4 (2 % of the budget in an hour) or the 6 h and 30 m ones exceed 6 (5 % in six hours); ticket when 1 d
and 2 h exceed 3, or 3 d and 6 h exceed 1. A long window says the burn is significant, its short partner
that it is still going on (so the alert resolves soon after the incident ends).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aitop.analysis.settings import ConfigError, duration, number, regex, string, table

KINDS = ("availability", "latency")
DEFAULT_PERIOD = 30 * 86400.0
SLO_KEYS = frozenset({"name", "schema", "model", "objective", "kind", "threshold", "period", "runbook"})
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True, slots=True)
class BurnPair:
    """A long and a short window whose burn rates must both exceed `factor` for the alert."""

    long: float
    short: float
    factor: float
    tier: str  # page | ticket


#: Long window first; the order is the order of the SLO view's columns.
PAIRS: tuple[BurnPair, ...] = (
    BurnPair(3600.0, 300.0, 14.4, "page"),
    BurnPair(6 * 3600.0, 1800.0, 6.0, "page"),
    BurnPair(86400.0, 7200.0, 3.0, "ticket"),
    BurnPair(3 * 86400.0, 6 * 3600.0, 1.0, "ticket"),
)
#: Every window a burn rate is measured over, shortest first.
WINDOWS: tuple[float, ...] = tuple(sorted({w for pair in PAIRS for w in (pair.long, pair.short)}))


@dataclass(frozen=True, slots=True)
class SLO:
    """One objective on the rows it matches (anchored regexes on schema and model; None: every row).

    `availability`: the share of requests that do not fail. `latency`: the share answered within
    `threshold` seconds, read from the latency histogram's buckets (`threshold` should be a bucket edge).
    """

    name: str
    objective: float  # a fraction: 0.999 for "99.9"
    kind: str = "availability"
    schema: re.Pattern[str] | None = None
    model: re.Pattern[str] | None = None
    threshold: float | None = None  # latency SLOs: seconds
    period: float = DEFAULT_PERIOD
    runbook: str = ""

    @property
    def budget(self) -> float:
        """The error budget as a ratio of requests (0.001 for 99.9 %)."""
        return 1.0 - self.objective

    def matches(self, schema: str, model: str) -> bool:
        return (self.schema is None or bool(self.schema.fullmatch(schema))) and (
            self.model is None or bool(self.model.fullmatch(model)))


def window_name(seconds: float) -> str:
    """`5m`, `1h`, `3d`: the suffix of recording rule names and the SLO view's column titles."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def parse_slos(raw: object) -> tuple[SLO, ...]:
    """`[[slo]]` entries, validated; errors name the key path (`slo[1].objective`)."""
    if not isinstance(raw, list):
        raise ConfigError("slo: expected [[slo]] tables")
    slos: list[SLO] = []
    for i, entry in enumerate(raw):
        slos.append(_parse_one(f"slo[{i}]", table(f"slo[{i}]", entry, SLO_KEYS)))
    names = [slo.name for slo in slos]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate:
        raise ConfigError(f"slo: two SLOs are named {duplicate!r}")
    return tuple(slos)


def _parse_one(where: str, raw: Mapping[str, Any]) -> SLO:
    if "name" not in raw or "objective" not in raw:
        raise ConfigError(f"{where}: name and objective are required")
    name = string(f"{where}.name", raw["name"])
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}.name: letters, digits, _ . - only (1-64), not {name[:40]!r}")
    objective = number(f"{where}.objective", raw["objective"], minimum=0.0, strict=True, maximum=100.0)
    if objective >= 100.0:
        raise ConfigError(f"{where}.objective: below 100 (a 100 % objective has no error budget)")
    kind = string(f"{where}.kind", raw.get("kind", "availability"))
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind: one of {', '.join(KINDS)}, not {kind[:20]!r}")
    threshold = None
    if "threshold" in raw:
        threshold = duration(f"{where}.threshold", raw["threshold"], allow_zero=False)
    if kind == "latency" and threshold is None:
        raise ConfigError(f"{where}.threshold: a latency SLO needs a threshold (e.g. \"2s\")")
    period = duration(f"{where}.period", raw["period"], allow_zero=False) if "period" in raw else DEFAULT_PERIOD
    return SLO(
        name=name, objective=objective / 100.0, kind=kind,
        schema=regex(f"{where}.schema", raw["schema"]) if "schema" in raw else None,
        model=regex(f"{where}.model", raw["model"]) if "model" in raw else None,
        threshold=threshold, period=period,
        runbook=string(f"{where}.runbook", raw["runbook"]) if "runbook" in raw else "",
    )


def matching(slos: Sequence[SLO], schema: str, model: str) -> list[SLO]:
    """The SLOs that cover one row."""
    return [slo for slo in slos if slo.matches(schema, model)]
