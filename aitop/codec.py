"""A lossless, versioned encoding of a `Snapshot`: `encode(snapshot)` is a JSON-safe dict, `decode` gives the
same snapshot back, field for field.

The JSON output (`aitop.output`) is the public contract for people and scripts: units, rounding and
nulls chosen for reading, and it leaves out what a reader does not need (provenance, distributions, the
unjudged rows). This codec keeps everything, for aitop's own use (`aitop watch --format codec`): an unknown
value stays None and a NaN stays NaN, bucket bounds keep their +Inf, a missing value keeps its reason.

Numbers that JSON cannot carry are strings: "NaN", "+Inf", "-Inf". Enums are written by name (`Missing`
"NO_METRIC", `Severity` "CRITICAL"), not by their text, which may be reworded. `CODEC` is bumped whenever
a document would mean something else to an older reader; `decode` refuses a version it does not know, and
anything that is not a snapshot document, with a `CodecError` that says where and why.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Any, TypeVar

from aitop.model import Alert, Collected, Missing, Row, Severity, Snapshot, TargetHealth

#: The version of the encoding `encode` writes and `decode` reads.
CODEC = 1

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)
Json = Any  # what `json.loads` returns: dict, list, str, float, int, bool or None


class CodecError(ValueError):
    """A document `decode` cannot read: the message says where (`snapshot.rows[2].values.error_rate`) and why."""


# -- encoding --------------------------------------------------------------------------------------------


def _number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def _optional(value: float | None) -> float | str | None:
    return None if value is None else _number(value)


def _row(row: Row) -> dict[str, Json]:
    return {
        "schema": row.schema,
        "group": row.group,
        "group_label": row.group_label,
        "values": {name: _optional(value) for name, value in row.values.items()},
        "missing": {name: reason.name for name, reason in row.missing.items()},
        "errors_by_type": {name: _number(value) for name, value in row.errors_by_type.items()},
        "severity": {name: level.name for name, level in row.severity.items()},
        "stale": row.stale,
        "provenance": dict(row.provenance),
        "distributions": {
            concept: [[_number(bound), _number(rate)] for bound, rate in buckets]
            for concept, buckets in row.distributions.items()
        },
        "data_since": _optional(row.data_since),
        "replicas": None if row.replicas is None else list(row.replicas),
        "warmup": None if row.warmup is None else [_number(row.warmup[0]), _number(row.warmup[1])],
        "gpus": list(row.gpus),
    }


def _target(target: TargetHealth) -> dict[str, Json]:
    return {
        "url": target.url, "kind": target.kind, "up": target.up, "error": target.error,
        "last_success": _optional(target.last_success), "down_since": _optional(target.down_since),
        "failures": target.failures,
    }  # fmt: skip


def _alert(alert: Alert) -> dict[str, Json]:
    return {
        "id": alert.id, "rule": alert.rule, "severity": alert.severity.name, "state": alert.state,
        "schema": alert.schema, "group": alert.group, "field": alert.field, "value": _optional(alert.value),
        "threshold": _optional(alert.threshold), "since": _number(alert.since), "message": alert.message,
        "resolution": alert.resolution, "runbook": alert.runbook, "silenced_by": list(alert.silenced_by),
    }  # fmt: skip


def _collected(collected: Collected) -> dict[str, Json]:
    return {
        "taken_at": _number(collected.taken_at),
        "window_seconds": _number(collected.window_seconds),
        "rows": [_row(row) for row in collected.rows],
        "targets": [_target(target) for target in collected.targets],
        "schemas": list(collected.schemas),
        "labels": list(collected.labels),
        "backend": collected.backend,
        "warnings": list(collected.warnings),
        "tls_verified": collected.tls_verified,
        "alerts": [_alert(alert) for alert in collected.alerts],
        "model_rows": None if collected.model_rows is None else [_row(row) for row in collected.model_rows],
        "window_requested_seconds": _optional(collected.window_requested_seconds),
        "clock_offset": _number(collected.clock_offset),
        "scrape_interval": _optional(collected.scrape_interval),
        "failed_queries": [[query, error, list(fields)] for query, error, fields in collected.failed_queries],
        "at": _optional(collected.at),
        "server_history": collected.server_history,
    }


def encode(snapshot: Snapshot) -> dict[str, Json]:
    """`snapshot` as a JSON-safe dict (`json.dumps(…, allow_nan=False)` accepts it) that `decode` reverses."""
    return {
        "codec": CODEC,
        "snapshot": {
            "collected": _collected(snapshot.collected),
            "source_kind": snapshot.source_kind,
            "source_targets": list(snapshot.source_targets),
            "rows": [_row(row) for row in snapshot.rows],
            "alerts": [_alert(alert) for alert in snapshot.alerts],
            "stale": snapshot.stale,
            "error": snapshot.error,
            "group_by": snapshot.group_by,
        },
    }


# -- decoding --------------------------------------------------------------------------------------------


class _Reader:
    """A JSON object being decoded, with its path for error messages."""

    __slots__ = ("data", "path")

    def __init__(self, data: Json, path: str) -> None:
        if not isinstance(data, dict):
            raise CodecError(f"{path}: expected an object, got {_kind(data)}")
        self.data: dict[str, Json] = data
        self.path = path

    def get(self, name: str) -> tuple[Json, str]:
        if name not in self.data:
            raise CodecError(f"{self.path}: no {name!r}")
        return self.data[name], f"{self.path}.{name}"

    def text(self, name: str) -> str:
        return _str(*self.get(name))

    def optional_text(self, name: str) -> str | None:
        value, path = self.get(name)
        return None if value is None else _str(value, path)

    def flag(self, name: str) -> bool:
        value, path = self.get(name)
        if not isinstance(value, bool):
            raise CodecError(f"{path}: expected true or false, got {_kind(value)}")
        return value

    def integer(self, name: str) -> int:
        value, path = self.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise CodecError(f"{path}: expected an integer, got {_kind(value)}")
        return value

    def number(self, name: str) -> float:
        return _float(*self.get(name))

    def optional_number(self, name: str) -> float | None:
        value, path = self.get(name)
        return None if value is None else _float(value, path)

    def optional(self, name: str, read: Callable[[Json, str], T]) -> T | None:
        value, path = self.get(name)
        return None if value is None else read(value, path)

    def items(self, name: str, item: Callable[[Json, str], T]) -> tuple[T, ...]:
        return _list(*self.get(name), item)

    def mapping(self, name: str, item: Callable[[Json, str], T]) -> dict[str, T]:
        value, path = self.get(name)
        if not isinstance(value, dict):
            raise CodecError(f"{path}: expected an object, got {_kind(value)}")
        return {key: item(entry, f"{path}.{key}") for key, entry in value.items()}


def _kind(value: Json) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)  # fmt: skip


def _str(value: Json, path: str) -> str:
    if not isinstance(value, str):
        raise CodecError(f"{path}: expected a string, got {_kind(value)}")
    return value


_SPECIAL = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}


def _float(value: Json, path: str) -> float:
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CodecError(f"{path}: expected a number, got {_kind(value)}")
    return value  # an int stays an int, as it was encoded: JSON keeps the two apart


def _optional_float(value: Json, path: str) -> float | None:
    return None if value is None else _float(value, path)


def _list(value: Json, path: str, item: Callable[[Json, str], T]) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise CodecError(f"{path}: expected a list, got {_kind(value)}")
    return tuple(item(entry, f"{path}[{index}]") for index, entry in enumerate(value))


def _pair(value: Json, path: str, item: Callable[[Json, str], T]) -> tuple[T, T]:
    items = _list(value, path, item)
    if len(items) != 2:
        raise CodecError(f"{path}: expected a pair, got {len(items)} items")
    return items[0], items[1]


def _enum(kind: type[E]) -> Callable[[Json, str], E]:
    def read(value: Json, path: str) -> E:
        name = _str(value, path)
        if name not in kind.__members__:
            raise CodecError(f"{path}: {name!r} is not a {kind.__name__} ({', '.join(kind.__members__)})")
        return kind[name]

    return read


def _decode_row(value: Json, path: str) -> Row:
    row = _Reader(value, path)
    return Row(
        schema=row.text("schema"),
        group=row.text("group"),
        group_label=row.text("group_label"),
        values=row.mapping("values", _optional_float),
        missing=row.mapping("missing", _enum(Missing)),
        errors_by_type=row.mapping("errors_by_type", _float),
        severity=row.mapping("severity", _enum(Severity)),
        stale=row.flag("stale"),
        provenance=row.mapping("provenance", _str),
        distributions=row.mapping(
            "distributions", lambda buckets, at: _list(buckets, at, lambda pair, p: _pair(pair, p, _float))
        ),
        data_since=row.optional_number("data_since"),
        replicas=row.optional("replicas", lambda pair, at: _pair(pair, at, _integer)),
        warmup=row.optional("warmup", lambda pair, at: _pair(pair, at, _float)),
        gpus=row.items("gpus", _str),
    )


def _integer(value: Json, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodecError(f"{path}: expected an integer, got {_kind(value)}")
    return value


def _decode_target(value: Json, path: str) -> TargetHealth:
    target = _Reader(value, path)
    return TargetHealth(
        url=target.text("url"), kind=target.text("kind"), up=target.flag("up"), error=target.optional_text("error"),
        last_success=target.optional_number("last_success"), down_since=target.optional_number("down_since"),
        failures=target.integer("failures"),
    )  # fmt: skip


def _decode_alert(value: Json, path: str) -> Alert:
    alert = _Reader(value, path)
    severity, severity_path = alert.get("severity")
    return Alert(
        id=alert.text("id"), rule=alert.text("rule"), severity=_enum(Severity)(severity, severity_path),
        state=alert.text("state"), schema=alert.text("schema"), group=alert.text("group"), field=alert.text("field"),
        value=alert.optional_number("value"), threshold=alert.optional_number("threshold"),
        since=alert.number("since"), message=alert.text("message"), resolution=alert.text("resolution"),
        runbook=alert.text("runbook"), silenced_by=alert.items("silenced_by", _str),
    )  # fmt: skip


def _failed_query(value: Json, path: str) -> tuple[str, str, tuple[str, ...]]:
    items = _list(value, path, lambda item, at: item)
    if len(items) != 3:
        raise CodecError(f"{path}: expected [query, error, fields], got {len(items)} items")
    return _str(items[0], f"{path}[0]"), _str(items[1], f"{path}[1]"), _list(items[2], f"{path}[2]", _str)


def _decode_collected(value: Json, path: str) -> Collected:
    collected = _Reader(value, path)
    return Collected(
        taken_at=collected.number("taken_at"),
        window_seconds=collected.number("window_seconds"),
        rows=collected.items("rows", _decode_row),
        targets=collected.items("targets", _decode_target),
        schemas=collected.items("schemas", _str),
        labels=collected.items("labels", _str),
        backend=collected.optional_text("backend"),
        warnings=collected.items("warnings", _str),
        tls_verified=collected.flag("tls_verified"),
        alerts=collected.items("alerts", _decode_alert),
        model_rows=collected.optional("model_rows", lambda rows, at: _list(rows, at, _decode_row)),
        window_requested_seconds=collected.optional_number("window_requested_seconds"),
        clock_offset=collected.number("clock_offset"),
        scrape_interval=collected.optional_number("scrape_interval"),
        failed_queries=collected.items("failed_queries", _failed_query),
        at=collected.optional_number("at"),
        server_history=collected.flag("server_history"),
    )


def decode(document: Json) -> Snapshot:
    """The snapshot `encode` made `document` from. Raises `CodecError` for another codec version and for
    anything that is not such a document (never another exception)."""
    if not isinstance(document, dict) or "codec" not in document:
        raise CodecError(f"not an aitop snapshot document (no \"codec\" version in {_kind(document)})")
    version = document["codec"]
    if version != CODEC or isinstance(version, bool):
        raise CodecError(f"snapshot codec version {version!r} is not readable here (this aitop reads {CODEC})")
    snapshot = _Reader(document.get("snapshot"), "snapshot")
    return Snapshot(
        collected=_decode_collected(*snapshot.get("collected")),
        source_kind=snapshot.text("source_kind"),
        source_targets=snapshot.items("source_targets", _str),
        rows=snapshot.items("rows", _decode_row),
        alerts=snapshot.items("alerts", _decode_alert),
        stale=snapshot.flag("stale"),
        error=snapshot.optional_text("error"),
        group_by=snapshot.optional_text("group_by"),
    )
