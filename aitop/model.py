"""The frozen values that flow from the core to every front end (TUI, JSON, table, check).

A refresh produces one `Snapshot`: rows keyed by ``(schema, group)`` with the fields of the JSON contract
 in fixed units, the health of every target, and the alerts. Nothing here is mutated after it
is built, so a snapshot can be handed across threads and compared between refreshes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from aitop.derivations import Drift
from aitop.fields import ANALYSIS, ENGINE, TRAFFIC, Field
from aitop.fields import FIELD_BY_NAME as ALL_FIELDS_BY_NAME
from aitop.fields import FIELDS as ALL_FIELDS
from aitop.missing import Missing  # also imported from here by every consumer


class Severity(enum.IntEnum):
    """How bad a cell is; ordered so that `max()` picks the worst."""

    OK = 0
    WARNING = 1
    CRITICAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()


#: A row field's declaration (`aitop.fields.Field`): name, unit, heading, noun, description, derivation.
FieldSpec = Field
#: The traffic fields of the JSON contract, in contract order. Units are fixed.
TRAFFIC_FIELDS: tuple[Field, ...] = tuple(spec for spec in ALL_FIELDS if spec.section == TRAFFIC)
#: Engine internals (why a model is slow, from the engine's own counters), gateway headroom and the GPUs:
#: in the JSON, `e`, the drill-down and optional columns; none is a default column, none is recorded.
ENGINE_FIELDS: tuple[Field, ...] = tuple(spec for spec in ALL_FIELDS if spec.section == ENGINE)
#: Every numeric row field of the JSON contract, in contract order.
FIELDS: tuple[Field, ...] = (*TRAFFIC_FIELDS, *ENGINE_FIELDS)
FIELD_NAMES: tuple[str, ...] = tuple(spec.name for spec in FIELDS)
FIELD_BY_NAME: Mapping[str, Field] = MappingProxyType({spec.name: spec for spec in FIELDS})

#: Histogram concept → the row field holding its drift (KS distance to the baseline distribution).
#: `output_length` is the per-request generated-token histogram, where a schema exposes one.
DRIFT_FIELDS: Mapping[str, str] = MappingProxyType(
    {spec.derive.concept: spec.name for spec in ALL_FIELDS if isinstance(spec.derive, Drift)}
)
#: Fields the analysis adds to a row (`aitop.analysis`), declared in `aitop.fields` beside the contract's so
#: that one formatter reads every field's unit.
DERIVED_FIELDS: tuple[Field, ...] = tuple(spec for spec in ALL_FIELDS if spec.section == ANALYSIS)
#: Every field a person can read, contract and derived, by name.
SPEC_BY_NAME: Mapping[str, Field] = ALL_FIELDS_BY_NAME

#: A window measured between two scrapes is the requested one give or take their jitter: a row watched
#: for this share of its window counts as warm.
WARMUP_SLACK = 0.95


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a model (or endpoint, or target) served under one schema."""

    schema: str
    group: str
    group_label: str
    values: Mapping[str, float | None]
    missing: Mapping[str, Missing] = field(default_factory=dict)
    errors_by_type: Mapping[str, float] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    stale: bool = False  # a target behind this row is down: values are its last good window
    #: field -> how it was computed (the PromQL, or its local equivalent, and how much data), for "explain".
    provenance: Mapping[str, str] = field(default_factory=dict)
    #: histogram concept (latency, ttft, …) -> ((upper bound, rate of observations ≤ bound), …), cumulative
    #: as in the exposition, summed across replicas: the window's distribution, for drift detection.
    distributions: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    #: Unix time from which the row's window holds unbroken data (a counter reset behind it restarts it);
    #: None when the source cannot tell. The analysis judges a row only once this is a full window ago.
    data_since: float | None = None
    #: (targets up, targets) behind the row, in scrape mode with several targets; None otherwise.
    replicas: tuple[int, int] | None = None
    #: (seconds watched, seconds needed) when the live views' warm-up applies: the row is judged only once
    #: it has been watched for a full window. None: no warm-up (one-shot snapshot, check).
    warmup: tuple[float, float] | None = None
    #: The GPU rows (DCGM exporter, by UUID) on this model row's hosts or pods, joined by `aitop.gpus`.
    gpus: tuple[str, ...] = ()

    @property
    def warming(self) -> bool:
        """Whether the row is still warming up (its cells and alerts are not judged yet)."""
        return self.warmup is not None and self.warmup[0] < self.warmup[1] * WARMUP_SLACK

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.group)

    def value(self, name: str) -> float | None:
        """The field's value, or None when it is not known (see `missing_reason`)."""
        return self.values.get(name)

    def missing_reason(self, name: str) -> Missing | None:
        if self.values.get(name) is not None:
            return None
        return self.missing.get(name, Missing.NO_METRIC)

    @property
    def worst(self) -> Severity:
        return max(self.severity.values(), default=Severity.OK)


_ROW_FIELDS = ("schema", "group", "group_label", "values", "missing", "errors_by_type", "severity", "stale",
               "provenance", "distributions", "data_since", "replicas", "warmup", "gpus")
assert tuple(spec.name for spec in fields(Row)) == _ROW_FIELDS, "Row changed: update row_with() below"


#: Each field's slot setter: `row_with` fills a new row through them, skipping the frozen dataclass's
#: `__init__` (keyword parsing, `object.__setattr__` per field): 0.8 µs a copy instead of 2.1.
(_set_schema, _set_group, _set_group_label, _set_values, _set_missing, _set_errors_by_type, _set_severity,
 _set_stale, _set_provenance, _set_distributions, _set_data_since, _set_replicas, _set_warmup,
 _set_gpus) = (getattr(Row, name).__set__ for name in _ROW_FIELDS)  # fmt: skip
_new_row = object.__new__


def row_with(row: Row, *, values: Mapping[str, float | None] | None = None,
             missing: Mapping[str, Missing] | None = None, provenance: Mapping[str, str] | None = None,
             severity: Mapping[str, Severity] | None = None,
             warmup: tuple[float, float] | None = None) -> Row:  # fmt: skip
    """`dataclasses.replace` for the fields a refresh sets after the rows are built (None: kept), several
    times cheaper: the analysis, the GPU join and the why lines copy every row every refresh."""
    copy = _new_row(Row)
    _set_schema(copy, row.schema)
    _set_group(copy, row.group)
    _set_group_label(copy, row.group_label)
    _set_values(copy, row.values if values is None else values)
    _set_missing(copy, row.missing if missing is None else missing)
    _set_errors_by_type(copy, row.errors_by_type)
    _set_severity(copy, row.severity if severity is None else severity)
    _set_stale(copy, row.stale)
    _set_provenance(copy, row.provenance if provenance is None else provenance)
    _set_distributions(copy, row.distributions)
    _set_data_since(copy, row.data_since)
    _set_replicas(copy, row.replicas)
    _set_warmup(copy, row.warmup if warmup is None else warmup)
    _set_gpus(copy, row.gpus)
    return copy


def new_row(schema: str, group: str, group_label: str, values: Mapping[str, float | None],
            missing: Mapping[str, Missing], errors_by_type: Mapping[str, float], stale: bool,
            provenance: Mapping[str, str], distributions: Mapping[str, tuple[tuple[float, float], ...]],
            data_since: float | None, replicas: tuple[int, int] | None) -> Row:  # fmt: skip
    """`Row(...)` with every field a source sets given (no severity, warm-up or GPUs yet), through the slot
    setters as `row_with` copies: a refresh makes one per row, and the dataclass's keyword `__init__` cost
    three times as much (1,000 rows: 2.3 -> 0.8 ms)."""
    row = _new_row(Row)
    _set_schema(row, schema)
    _set_group(row, group)
    _set_group_label(row, group_label)
    _set_values(row, values)
    _set_missing(row, missing)
    _set_errors_by_type(row, errors_by_type)
    _set_severity(row, {})
    _set_stale(row, stale)
    _set_provenance(row, provenance)
    _set_distributions(row, distributions)
    _set_data_since(row, data_since)
    _set_replicas(row, replicas)
    _set_warmup(row, None)
    _set_gpus(row, ())
    return row


def judge_in_place(row: Row, severity: Mapping[str, Severity], provenance: Mapping[str, str]) -> Row:
    """`row` given its cell severities and explanations, set on the row itself rather than on a copy: only
    for a row `row_with` made in this refresh that nobody else holds yet (the analysis judges the copy it
    made to judge, instead of copying every row a second time to show it)."""
    _set_severity(row, severity)
    _set_provenance(row, provenance)
    return row


@dataclass(frozen=True, slots=True)
class TargetHealth:
    """The state of one scraped endpoint or Prometheus server after the latest poll."""

    url: str
    kind: str
    up: bool
    error: str | None = None
    last_success: float | None = None  # unix time
    down_since: float | None = None  # unix time of the first failed poll of the current outage
    failures: int = 0  # failed polls since the source was created (errors, timeouts, unparsable answers)


@dataclass(frozen=True, slots=True)
class Alert:
    """A condition worth a human's attention, with enough context to act on."""

    id: str
    rule: str
    severity: Severity
    state: str  # pending | firing | resolved
    schema: str
    group: str
    field: str
    value: float | None
    threshold: float | None
    since: float  # unix time
    message: str
    #: What a firing alert needs to resolve ("clears after 30s below 2.00s"); empty otherwise.
    resolution: str = ""
    #: What to do about it: the rule's runbook (text or URL), or a backend alert's runbook_url/description.
    runbook: str = ""
    #: An Alertmanager silence covers it (ids of the silences); it still fires, nobody is paged.
    silenced_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Collected:
    """What one poll of a source produced: computed rows (not yet judged) and the health of each target."""

    taken_at: float  # unix time
    window_seconds: float
    rows: tuple[Row, ...]
    targets: tuple[TargetHealth, ...]
    schemas: tuple[str, ...]
    labels: tuple[str, ...] = ()  # label names rows can be grouped by
    backend: str | None = None  # e.g. "Prometheus 2.42.0", when the source can tell
    warnings: tuple[str, ...] = ()  # partial results and server warnings, already sanitised
    tls_verified: bool = True  # False while certificate checks are switched off
    alerts: tuple[Alert, ...] = ()  # alerts the backend itself reports (Prometheus /api/v1/alerts)
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


class _Same(enum.Enum):
    """A `Snapshot` argument left out: the collected value stands (see `Snapshot.__init__`)."""

    SAME = 0


_SAME = _Same.SAME


@dataclass(frozen=True, slots=True, init=False)
class Snapshot:
    """Everything one refresh learned, frozen: what the collector returned (`collected`, read through the
    properties below) and what the refresh made of it — the judged `rows` and every alert."""

    collected: Collected
    source_kind: str  # scrape | prometheus | replay | connecting
    source_targets: tuple[str, ...]
    rows: tuple[Row, ...]  # `collected.rows` judged (severities, warm-up), in the order shown
    alerts: tuple[Alert, ...]  # the backend's own alerts, the Alertmanager's, then aitop's
    stale: bool  # True when this is the last good data re-shown after a failed poll
    error: str | None  # why the latest poll failed, when it did
    group_by: str | None  # the label rows are grouped by; None = each schema's model label

    def __init__(
        self,
        taken_at: float | _Same = _SAME,
        window_seconds: float | _Same = _SAME,
        source_kind: str = "scrape",
        source_targets: tuple[str, ...] = (),
        targets: tuple[TargetHealth, ...] | _Same = _SAME,
        rows: tuple[Row, ...] = (),
        alerts: tuple[Alert, ...] = (),
        schemas: tuple[str, ...] | _Same = _SAME,
        stale: bool = False,
        error: str | None = None,
        labels: tuple[str, ...] | _Same = _SAME,
        group_by: str | None = None,
        backend: str | None | _Same = _SAME,
        warnings: tuple[str, ...] | _Same = _SAME,
        tls_verified: bool | _Same = _SAME,
        window_requested_seconds: float | None | _Same = _SAME,
        clock_offset: float | _Same = _SAME,
        scrape_interval: float | None | _Same = _SAME,
        failed_queries: tuple[tuple[str, str, tuple[str, ...]], ...] | _Same = _SAME,
        at: float | None | _Same = _SAME,
        *,
        collected: Collected | None = None,
    ) -> None:
        """Give `collected`, or (a snapshot made by hand, a test's) the collected fields one by one; a field
        given beside `collected` replaces its value there (`dataclasses.replace(snapshot, warnings=…)`)."""
        given: dict[str, Any] = {
            name: value for name, value in (
                ("taken_at", taken_at), ("window_seconds", window_seconds), ("targets", targets),
                ("schemas", schemas), ("labels", labels), ("backend", backend), ("warnings", warnings),
                ("tls_verified", tls_verified), ("window_requested_seconds", window_requested_seconds),
                ("clock_offset", clock_offset), ("scrape_interval", scrape_interval),
                ("failed_queries", failed_queries), ("at", at),
            ) if value is not _SAME
        }  # fmt: skip
        if collected is None:
            if "taken_at" not in given or "window_seconds" not in given:
                raise TypeError("Snapshot needs `collected`, or `taken_at` and `window_seconds`")
            collected = Collected(**{"rows": (), "targets": (), "schemas": (), **given})
        elif given:
            collected = replace(collected, **given)
        setattr_ = object.__setattr__  # frozen: the generated __setattr__ refuses
        setattr_(self, "collected", collected)
        setattr_(self, "source_kind", source_kind)
        setattr_(self, "source_targets", source_targets)
        setattr_(self, "rows", rows)
        setattr_(self, "alerts", alerts)
        setattr_(self, "stale", stale)
        setattr_(self, "error", error)
        setattr_(self, "group_by", group_by)

    # What the collector returned, read as the snapshot's own.
    @property
    def taken_at(self) -> float:
        return self.collected.taken_at

    @property
    def window_seconds(self) -> float:
        return self.collected.window_seconds

    @property
    def targets(self) -> tuple[TargetHealth, ...]:
        return self.collected.targets

    @property
    def schemas(self) -> tuple[str, ...]:
        return self.collected.schemas

    @property
    def labels(self) -> tuple[str, ...]:
        """Label names rows can be grouped by."""
        return self.collected.labels

    @property
    def backend(self) -> str | None:
        return self.collected.backend

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.collected.warnings

    @property
    def tls_verified(self) -> bool:
        return self.collected.tls_verified

    @property
    def window_requested_seconds(self) -> float | None:
        return self.collected.window_requested_seconds

    @property
    def clock_offset(self) -> float:
        return self.collected.clock_offset

    @property
    def scrape_interval(self) -> float | None:
        return self.collected.scrape_interval

    @property
    def failed_queries(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        return self.collected.failed_queries

    @property
    def at(self) -> float | None:
        return self.collected.at

    @property
    def targets_up(self) -> int:
        return sum(1 for target in self.targets if target.up)

    def row(self, schema: str, group: str) -> Row | None:
        for row in self.rows:
            if row.key == (schema, group):
                return row
        return None
