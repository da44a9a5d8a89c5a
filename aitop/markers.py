"""Events drawn on the drill-down charts: restarts, deployments and model-version changes, firing alerts.

In scrape mode and replay they come from what was seen, scrape by scrape per target: a restart is a
counter that went down or a new `process_start_time_seconds`; a deployment is a new label set of an
`*_info` series (`vllm:cache_config_info`: the engine's configuration, whose change means a new version or
settings) or a model label value the target did not expose before. A firing alert is a marker on its row.
In Prometheus mode the server's history says the same through `changes()` and `resets()` (prom_drill).

Bounded: the newest `MAX_MARKERS` markers are kept, and per target one scrape's counters, models and info
label sets (a model is new when the target's previous scrape did not have it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress
from operator import lt

from aitop.catalog import Schema
from aitop.sanitize import clean
from aitop.series import SeriesKey

#: The process's start time: a new value is a restart, even one between two scrapes that no counter shows.
RESTART_GAUGE = "process_start_time_seconds"
#: Sample names whose decrease is a counter reset (a `_sum` may go down legitimately).
_COUNTER_SUFFIXES = ("_total", "_count", "_bucket")
#: Info series (value 1, facts in labels): a new label set is a deployment or a configuration change.
INFO_SUFFIX = "_info"
#: Markers kept in all (the newest).
MAX_MARKERS = 1000
#: Glyph per kind, on the charts and in the drill-down's marker line.
GLYPHS = {"restart": "↻", "deploy": "⚑", "alert": "‼"}


@dataclass(frozen=True, slots=True)
class Marker:
    """One event at unix time `at`: `kind` restart, deploy or alert. A target's event (`instance`) applies to
    the rows of `models` (every row of the target when empty); an alert's to its row `key`."""

    at: float
    kind: str
    text: str
    instance: str | None = None
    models: frozenset[str] = frozenset()
    key: tuple[str, str] | None = None

    def applies_to(self, key: tuple[str, str]) -> bool:
        """Whether the marker belongs on row `key`'s charts."""
        if self.key is not None:
            return self.key == key
        return not self.models or key[1] in self.models


@dataclass(slots=True)
class _Seen:
    counters: dict[SeriesKey, float] = field(default_factory=dict)
    started: float | None = None
    infos: dict[str, frozenset] = field(default_factory=dict)
    models: set[str] = field(default_factory=set)
    #: The previous scrape's keys in page order, which of them are counters, and those counters' values
    #: in that order: a scrape of the same keys is compared by position (`MarkerLog._again`).
    order: list[SeriesKey] | None = None
    is_counter: list[bool] = field(default_factory=list)
    counter_values: list[float] = field(default_factory=list)
    started_key: SeriesKey | None = None  # the `process_start_time_seconds` series read


def model_labels(schemas: Iterable[Schema]) -> frozenset[str]:
    """The labels that name a model in any schema (`model`, `model_name`, …)."""
    return frozenset(label for schema in schemas for label in schema.group_labels)


def _difference(old: frozenset, new: frozenset) -> str:
    """`block_size 16 → 32` for the labels whose value changed between an info series' label sets."""
    before = dict(next(iter(old))) if len(old) == 1 else {}
    after = dict(next(iter(new))) if len(new) == 1 else {}
    changed = [f"{name} {clean(before.get(name, '—'), 24)} → {clean(value, 24)}"
               for name, value in sorted(after.items()) if before.get(name) != value]
    return ", ".join(changed[:3]) or "new label set"


class MarkerLog:
    """Markers from the scrapes seen (`observe`, per target in time order) and from alerts (`add`)."""

    def __init__(self, model_label_names: Iterable[str], max_markers: int = MAX_MARKERS) -> None:
        self.model_labels = frozenset(model_label_names)
        self.markers: deque[Marker] = deque(maxlen=max_markers)
        self._seen: dict[str, _Seen] = {}

    def add(self, marker: Marker) -> None:
        """Log `marker` unless the same event is logged already."""
        if marker in self.markers:  # a replay that jumped back sees the same scrapes again
            return
        self.markers.append(marker)

    def forget(self, instance: str) -> None:
        """Start `instance` afresh (a replay that jumped back): its next scrape is compared with nothing."""
        self._seen.pop(instance, None)

    def observe(self, instance: str, wall: float, samples: Mapping[SeriesKey, float] | None) -> None:
        """Compare one scrape of `instance` at `wall` with its previous one (None: a failed scrape)."""
        if samples is None:
            return
        seen = self._seen.get(instance)
        if seen is not None and seen.order is not None:
            order = list(samples)
            if order == seen.order:
                self._again(instance, wall, samples, seen)
                return
            seen.counters = dict(zip(compress(seen.order, seen.is_counter), seen.counter_values))
        first = seen is None
        if seen is None:
            seen = self._seen[instance] = _Seen()
        counters: dict[SeriesKey, float] = {}
        infos: dict[str, set] = {}
        models: set[str] = set()
        started = None
        reset = False
        for key, value in samples.items():
            name, labels = key
            for label, label_value in labels:
                if label in self.model_labels:
                    models.add(label_value)
            if name.endswith(_COUNTER_SUFFIXES):
                counters[key] = value
                previous = seen.counters.get(key)
                reset = reset or (previous is not None and value < previous)
            elif name == RESTART_GAUGE:
                started = value
            elif name.endswith(INFO_SUFFIX):
                infos.setdefault(name, set()).add(labels)
        where = clean(instance, 60)
        if not first:
            self._restarts(instance, wall, started, reset, seen, models)
            for name, label_sets in infos.items():
                old, new = seen.infos.get(name), frozenset(label_sets)
                if old is not None and new != old:
                    self.add(Marker(wall, "deploy", f"{clean(name, 48)} changed on {where}: {_difference(old, new)}",
                                    instance, frozenset(models)))
            for model in sorted(models - seen.models)[:5]:
                self.add(Marker(wall, "deploy", f"model {clean(model, 48)} appeared on {where}", instance,
                                frozenset({model})))
        seen.started = started if started is not None else seen.started
        seen.infos.update({name: frozenset(sets) for name, sets in infos.items()})
        # The previous scrape's models only: remembering every model ever seen would grow with label churn.
        seen.models = models
        seen.order = list(samples)
        seen.is_counter = [key[0].endswith(_COUNTER_SUFFIXES) for key in seen.order]
        seen.counter_values = list(counters.values())  # the page order: counters were filled in it
        seen.counters = {}
        seen.started_key = next((key for key in reversed(seen.order) if key[0] == RESTART_GAUGE), None)

    def _again(self, instance: str, wall: float, samples: Mapping[SeriesKey, float], seen: _Seen) -> None:
        """`observe` of a scrape with the previous one's keys in the same order: the same models and info
        label sets (so no deployment), counters compared by position."""
        counters = list(compress(samples.values(), seen.is_counter))
        reset = any(map(lt, counters, seen.counter_values))
        started = samples[seen.started_key] if seen.started_key is not None else None
        self._restarts(instance, wall, started, reset, seen, seen.models)
        seen.counter_values = counters
        seen.started = started if started is not None else seen.started

    def _restarts(self, instance: str, wall: float, started: float | None, reset: bool, seen: _Seen,
                  models: set[str]) -> None:  # fmt: skip
        where = clean(instance, 60)
        if started is not None and seen.started is not None and started != seen.started:
            self.add(Marker(wall, "restart", f"{where} restarted (process start time changed)", instance,
                            frozenset(models)))
        elif reset:
            self.add(Marker(wall, "restart", f"{where} restarted (counters reset)", instance, frozenset(models)))

    def for_row(self, key: tuple[str, str], since: float, until: float) -> list[Marker]:
        """The markers of row `key` in [since, until], oldest first."""
        return [m for m in self.markers if since <= m.at <= until and m.applies_to(key)]
