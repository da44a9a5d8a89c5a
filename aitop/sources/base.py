"""The contract between a data source and the rest of aitop."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
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
    #: When `rows` are grouped by another label: the same data as (schema, model) rows, which alerts and
    #: baselines follow whatever the view's grouping. None: `rows` are those rows (or the source cannot tell).
    model_rows: tuple[Row, ...] | None = None
    #: Prometheus mode: the window asked for, when `window_seconds` (the one used) was widened to fit the
    #: scrape interval; the server's clock minus aitop's; the scrape interval learned (None: unknown).
    window_requested_seconds: float | None = None
    clock_offset: float = 0.0
    scrape_interval: float | None = None
    #: (query, error, fields it fills) for every query that failed this refresh with no answer to show instead.
    failed_queries: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    #: `--at` against a server: the fixed instant (server time) every query was evaluated at; None: now.
    at: float | None = None
    #: Rows' `data_since` comes from the server's own history (Prometheus mode): it may be older than
    #: aitop's first look at a row, and the warm-up counts from it. False: a row's warm-up starts no
    #: earlier than when aitop first saw it.
    server_history: bool = False


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


_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def plain_label_names(names: Iterable[str]) -> tuple[str, ...]:
    """The label names offered for grouping: only classic names. A Prometheus 3 UTF-8 name can hold control
    characters or PromQL syntax, and the choices are shown and sent back as they are."""
    return tuple(name for name in names if _LABEL_NAME.fullmatch(name))
