"""What every field formula answers (`Formula`), the row queries it composes its PromQL from, and the kinds
of metric a concept may be read from. The formulas themselves: `aitop.derivations`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aitop.accumulator import Draft, Provenance

#: The metric kinds a catalog variant of a latency-like concept may have (the first is its natural kind).
DISTRIBUTION_KINDS = ("histogram", "summary", "mean", "gauge")
COUNTER = ("counter",)
GAUGE = ("gauge",)
#: What a formula reads: (concept, the kinds a catalog variant of it may have, how a gauge of several
#: series is combined by default — None: the formula has no say). `aitop.catalog` checks variants with it.
Read = tuple[str, tuple[str, ...], str | None]

#: Goodput targets in use (field -> seconds), where configured; a field without one uses its declared
#: target. `aitop.engine_fields.configure_goodput` sets them from the config file.
GOODPUT_TARGETS: dict[str, float] = {}


class RowQueries(Protocol):
    """The PromQL of one row's concepts, summed to one series (`aitop.sources.prometheus.promql.row_expression`)."""

    def rate(self, concept: str) -> str | None: ...
    def distribution(self, concept: str, q: float) -> str | None: ...
    def gauge(self, concept: str) -> str | None: ...


class Formula:
    """What every derivation answers; a formula without a value from the sources keeps these defaults."""

    __slots__ = ()

    @property
    def concepts(self) -> tuple[str, ...]:
        """The concepts whose absence (or failed query) empties the field."""
        return ()

    def reads(self) -> tuple[Read, ...]:
        """Every concept the formula reads, with its kinds and default gauge aggregate."""
        return ()

    def fill(self, name: str, draft: Draft) -> None:
        """Set the field's value (or why it has none) in the draft."""

    def explain(self, name: str, draft: Draft) -> str | None:
        """The field's explanation where the row's PromQL answers (Prometheus mode) do not give it."""
        return None

    def promql(self, queries: RowQueries) -> str | None:
        """The field as one PromQL expression for a row's history, or None when it has none."""
        return None


@dataclass(frozen=True, slots=True)
class OneCounter(Formula):
    """A formula over one counter concept (its rate, or its votes by type): what it reads, and where the
    explanation of a locally computed value starts."""

    concept: str

    @property
    def concepts(self) -> tuple[str, ...]:
        return (self.concept,)

    def reads(self) -> tuple[Read, ...]:
        return ((self.concept, COUNTER, "sum"),)

    def local_source(self, draft: Draft) -> Provenance | None:
        """The counter's scrape-mode provenance; None where a server answered (its PromQL explains it)."""
        return None if draft.acc.served else draft.acc.provenance.get((self.concept, "counter"))

