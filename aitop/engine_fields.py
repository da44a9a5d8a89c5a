"""Engine-internals fields declared as data: ratios of two counters (or an engine's own gauge), goodput
targets, and a GPU row's count and memory share. `aitop.derive` computes them with the contract's fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aitop.model import Missing


@dataclass(frozen=True, slots=True)
class Ratio:
    """A field that is `offset + rate(numerator) / rate(denominator)` of two counter concepts, or, where an
    engine exports the ratio itself, a gauge concept's value."""

    numerator: str
    denominator: str
    offset: float = 0.0
    gauge: str | None = None


#: Ratio fields, by name (declared once: value, explanation and PromQL come from here).
RATIO_FIELDS: Mapping[str, Ratio] = {
    "prefix_cache_hit_ratio": Ratio("prefix_cache_hits", "prefix_cache_queries", gauge="prefix_cache_hit_ratio"),
    "external_cache_hit_ratio": Ratio("external_cache_hits", "external_cache_queries"),
    "mm_cache_hit_ratio": Ratio("mm_cache_hits", "mm_cache_queries"),
    "spec_acceptance_rate": Ratio("spec_accepted", "spec_drafted", gauge="spec_acceptance_rate"),
    "spec_acceptance_length": Ratio("spec_accepted", "spec_drafts", offset=1.0, gauge="spec_acceptance_length"),
    "length_cut_ratio": Ratio("length_cut", "requests"),
}
#: Goodput fields: (histogram concept, default target in seconds). The share of observations at or under the
#: target, read from the bucket bound at or below it, as `rate(…_bucket{le="b"}) / rate(…_count)` does.
GOODPUT_FIELDS: Mapping[str, tuple[str, float]] = {"goodput_ttft": ("ttft", 1.0), "goodput_tpot": ("tpot", 0.05)}
#: The targets in use (field -> seconds); `aitop.goodput.configure` sets them from the config file.
GOODPUT_TARGETS: dict[str, float] = {name: target for name, (_, target) in GOODPUT_FIELDS.items()}


def configure_goodput(ttft: float | None = None, tpot: float | None = None) -> None:
    """Use these goodput targets (seconds) for every row from now on; None: the default."""
    for name, target in (("goodput_ttft", ttft), ("goodput_tpot", tpot)):
        GOODPUT_TARGETS[name] = target if target is not None else GOODPUT_FIELDS[name][1]


def gpu_fields(gauges: Mapping[str, list[float]], values: dict[str, float | None], missing: dict[str, Missing]) -> None:
    """A GPU row's count and memory share (used / (used + free)); model rows get theirs from `aitop.gpus`."""
    used, free = gauges.get("gpu_memory_used"), gauges.get("gpu_memory_free")
    readings = gauges.get("gpu_utilization") or used
    values["gpu_count"] = float(len(readings)) if readings else None
    values["gpu_memory_ratio"] = sum(used) / (sum(used) + sum(free)) if used and free and sum(used) + sum(free) > 0 else None
    for name in ("gpu_count", "gpu_memory_ratio"):
        if values[name] is None:
            missing[name] = Missing.NO_METRIC
