"""The config file's `[goodput]` and `[gpus]` sections: goodput targets and the GPU join's host mapping.

    [goodput]
    ttft = "1s"        # a request's time to first token at or under this is good
    tpot = "50ms"      # a per-token latency at or under this is good

    [gpus.hosts]       # a model's host (from its target or `instance`) = its GPUs' host (exporter or Hostname)
    "10.0.0.5" = "gpu-node-1"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aitop import gpus
from aitop.analysis.settings import ConfigError, duration, string, table
from aitop.engine_fields import configure_goodput

SECTIONS = frozenset({"goodput", "gpus"})


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Goodput targets in seconds (None: the defaults, 1 s and 50 ms) and model host -> GPU host."""

    goodput_ttft: float | None = None
    goodput_tpot: float | None = None
    gpu_hosts: tuple[tuple[str, str], ...] = ()


def parse_engine(raw: Mapping[str, Any]) -> EngineSettings:
    """The two sections of a parsed config file, validated (errors name the key path)."""
    values: dict[str, Any] = {}
    if "goodput" in raw:
        goodput = table("goodput", raw["goodput"], frozenset({"ttft", "tpot"}))
        for key in ("ttft", "tpot"):
            if key in goodput:
                values[f"goodput_{key}"] = duration(f"goodput.{key}", goodput[key], allow_zero=False)
    if "gpus" in raw:
        section = table("gpus", raw["gpus"], frozenset({"hosts"}))
        hosts = table("gpus.hosts", section.get("hosts", {}))
        values["gpu_hosts"] = tuple((str(model), string(f"gpus.hosts.{model}", gpu)) for model, gpu in hosts.items())
        if any(not model or not gpu for model, gpu in values["gpu_hosts"]):
            raise ConfigError("gpus.hosts: host names must not be empty")
    return EngineSettings(**values)


def apply_engine(settings: EngineSettings) -> None:
    """Use these targets and this mapping for every row computed from now on (once, at start-up)."""
    configure_goodput(settings.goodput_ttft, settings.goodput_tpot)
    gpus.configure(dict(settings.gpu_hosts))
