"""The contract between a data source and the rest of aitop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aitop.model import Row, TargetHealth


@dataclass(frozen=True, slots=True)
class Collected:
    """What one poll of a source produced: computed rows (not yet judged) and the health of each target."""

    taken_at: float  # unix time
    window_seconds: float
    rows: tuple[Row, ...]
    targets: tuple[TargetHealth, ...]
    schemas: tuple[str, ...]


class Collector(Protocol):
    """A source of rows. `collect()` never raises for network or data faults: they land in `targets`."""

    kind: str
    targets: tuple[str, ...]
    window_seconds: float

    async def collect(self) -> Collected: ...

    async def aclose(self) -> None: ...
