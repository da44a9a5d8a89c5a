"""Small builders shared by the unit tests."""

from __future__ import annotations

from aitop.store import TargetWindow


def series(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (name, tuple(sorted(labels.items())))


def histogram(name: str, buckets: dict[str, float], **labels: str) -> dict:
    """Cumulative bucket counts by `le` string, plus matching _count."""
    samples = {series(f"{name}_bucket", le=le, **labels): count for le, count in buckets.items()}
    samples[series(f"{name}_count", **labels)] = buckets["+Inf"]
    return samples


def window_of(*scrapes: tuple[float, dict], window: float = 10.0) -> TargetWindow:
    target = TargetWindow(window)
    for when, samples in scrapes:
        target.add(when, 1_700_000_000 + when, samples)
    return target
