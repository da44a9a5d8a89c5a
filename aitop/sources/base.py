"""The contract between a data source and the rest of aitop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aitop.model import Row, TargetHealth

#: A time series for charts: (unix time, value or None) pairs, oldest first.
Points = tuple[tuple[float, float | None], ...]


@dataclass(frozen=True, slots=True)
class Collected:
    """What one poll of a source produced: computed rows (not yet judged) and the health of each target."""

    taken_at: float  # unix time
    window_seconds: float
    rows: tuple[Row, ...]
    targets: tuple[TargetHealth, ...]
    schemas: tuple[str, ...]
    labels: tuple[str, ...] = ()  # label names rows can be grouped by
    backend: str | None = None
    warnings: tuple[str, ...] = ()
    tls_verified: bool = True
    alerts: tuple = ()  # alerts the backend itself reports (Prometheus /api/v1/alerts)


class Collector(Protocol):
    """A source of rows. `collect()` never raises for network or data faults: they land in `targets`."""

    kind: str
    targets: tuple[str, ...]
    window_seconds: float
    #: The label rows are grouped by; None means each schema's model label. Takes effect on the next collect.
    group_by: str | None

    async def collect(self) -> Collected: ...

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        """The row `key` split by a second label (engine, instance, finished_reason…), from current data."""
        ...

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points] | None:
        """Past values of a row's fields from the backend, or None when only aitop's own history exists."""
        ...

    async def aclose(self) -> None: ...
