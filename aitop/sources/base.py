"""The contract between a data source and the rest of aitop.

`Collector` states everything a caller may use of a source (the monitor, the command line, `watch`, the
recorder, the TUI), so nobody probes a collector with `hasattr`. `CollectorBase` gives the members a source
has nothing to say about their neutral value: a source that keeps no history answers `history` with None,
one that scrapes no pages refuses a recorder (`can_record` False), and so on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from aitop.model import Collected, Row

if TYPE_CHECKING:  # at run time these would import the sources package back while it loads
    from aitop.catalog import Schema
    from aitop.markers import Marker, MarkerLog
    from aitop.series import SeriesKey

__all__ = ["Collected", "Collector", "CollectorBase", "DetectingCollector", "Points", "ScrapeSink",
           "plain_label_names"]

#: A time series for charts: (unix time, value or None) pairs, oldest first.
Points = tuple[tuple[float, float | None], ...]


class ScrapeSink(Protocol):
    """Receives every scrape a collector reads (`aitop.recording`: a recording, the incident buffer)."""

    def scrape(self, instance: str, wall: float, samples: Mapping[SeriesKey, float] | None) -> None:
        """One scrape of `instance` at unix time `wall`; `samples` None: the scrape failed."""
        ...


@runtime_checkable
class Collector(Protocol):
    """A source of rows. `collect()` never raises for network or data faults: they land in `targets`."""

    @property
    def kind(self) -> str:
        """scrape | prometheus | replay | connecting (a target not reached yet)."""
        ...

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets as shown (sanitised URLs, or the recording's path)."""
        ...

    @property
    def window_seconds(self) -> float:
        """The window rates and quantiles are computed over (the one asked for)."""
        ...

    #: The label rows are grouped by; None means each schema's model label. Takes effect on the next collect.
    group_by: str | None
    #: How long `collect()` waits for answers before it reports what it has (None: the source's own
    #: deadline). The live views set their refresh interval here, so one slow target never holds a refresh.
    poll_budget: float | None
    #: Receives every scrape read, when `can_record` (`--record`, `aitop record`, the incident buffer).
    recorder: ScrapeSink | None

    @property
    def can_record(self) -> bool:
        """Whether the source reads pages a `recorder` can take (scrape mode); a server or a recording not."""
        ...

    @property
    def tls_verified(self) -> bool:
        """False while certificate checks are switched off."""
        ...

    @property
    def markers(self) -> MarkerLog | None:
        """Restarts and deployments seen scrape by scrape, for chart markers; None: the source sees none."""
        ...

    @property
    def base_url(self) -> str | None:
        """The Prometheus-compatible server queried (with any path prefix); None for other sources."""
        ...

    async def collect(self) -> Collected:
        """Poll once: rows computed (not judged yet) and every target's health."""
        ...

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        """The row `key` split by a second label (engine, instance, finished_reason…), from current data."""
        ...

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points] | None:
        """Past values of a row's fields from the backend, or None when only aitop's own history exists."""
        ...

    async def history_markers(self, key: tuple[str, str], seconds: float) -> list[Marker]:
        """Row `key`'s restarts, deployments and firing alerts of the last `seconds` from the backend's own
        history (a Prometheus server); empty when the backend keeps none (then `markers` has them)."""
        ...

    async def aclose(self) -> None:
        """Release connections and background work; the collector is not used again."""
        ...


class DetectingCollector(Collector, Protocol):
    """A collector built from a config (`aitop.collectors.open_collector`): it also says, for `aitop detect`,
    which catalog it reads and which metric names each target exposes."""

    @property
    def schemas(self) -> tuple[Schema, ...]:
        """The schemas it reads (the built-in catalog, with the config file's own)."""
        ...

    async def metric_names(self) -> dict[str, set[str]]:
        """{target: the metric names it exposes}, as last read."""
        ...


class CollectorBase:
    """The neutral value of every `Collector` member a source may have nothing to say about. A subclass
    sets `kind`, `targets`, `window_seconds` and implements `collect()`; it overrides the rest as it can."""

    group_by: str | None = None
    poll_budget: float | None = None
    recorder: ScrapeSink | None = None
    can_record: bool = False
    tls_verified: bool = True
    markers: MarkerLog | None = None
    base_url: str | None = None

    async def breakdown(self, key: tuple[str, str], label: str) -> tuple[Row, ...]:
        """No split: the source cannot tell."""
        return ()

    async def history(self, key: tuple[str, str], fields: Sequence[str], seconds: float) -> Mapping[str, Points] | None:
        """None: the source keeps no history; the monitor's own recordings serve."""
        return None

    async def history_markers(self, key: tuple[str, str], seconds: float) -> list[Marker]:
        """None from the backend: markers come from `markers` and the alerts."""
        return []

    async def aclose(self) -> None:
        """Nothing to release."""


_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def plain_label_names(names: Iterable[str]) -> tuple[str, ...]:
    """The label names offered for grouping: only classic names. A Prometheus 3 UTF-8 name can hold control
    characters or PromQL syntax, and the choices are shown and sent back as they are."""
    return tuple(name for name in names if _LABEL_NAME.fullmatch(name))
