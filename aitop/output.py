"""Headless renderings of a snapshot: the JSON contract and a plain-text table."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len

from aitop import __version__
from aitop.field_uses import TABLE
from aitop.fields import FIELD_BY_NAME, FIELDS
from aitop.format import MISSING_MARK, format_value
from aitop.model import Missing, Row, Snapshot
from aitop.secret import mask, mask_data
from aitop.sources.prometheus.server import skew_warning
from aitop.why import WHY

#: The columns of the text table, in order: the fields marked `Shown.TABLE` (`aitop.fields`).
TABLE_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS if TABLE in field.shown)
#: Every field of a row in the JSON, in contract order: the sources', then the analysis's.
ROW_FIELDS: tuple[str, ...] = tuple(field.name for field in FIELDS)


def rfc3339(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(value: float | None) -> float | None:
    # JSON has no NaN or Infinity; an unknown value is null, never 0.
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return value


def row_to_dict(row: Row) -> dict[str, Any]:
    data: dict[str, Any] = {"schema": row.schema, "group": row.group, "group_label": row.group_label}
    # Contract fields, then the analysis's (cost_per_day, latency_drift, …): always present, null when unknown.
    names = ROW_FIELDS
    for name in names:
        data[name] = _number(row.value(name))
    data["errors_by_type"] = {kind: _number(rate) for kind, rate in row.errors_by_type.items()}
    data["missing"] = {name: row.missing.get(name, Missing.NO_METRIC).value for name in names if data[name] is None}
    data["severity"] = {name: level.label for name, level in row.severity.items()}
    data["stale"] = row.stale
    data["replicas"] = None if row.replicas is None else {"up": row.replicas[0], "total": row.replicas[1]}
    data["warming"] = row.warming  # not judged yet: its window is not full (live views only)
    data["gpus"] = list(row.gpus)  # the GPU rows (schema dcgm, by UUID) on the row's hosts or pods
    data["why"] = row.provenance.get(WHY)  # the engine's figures' likely cause and the setting to change
    return data


def _requested(snapshot: Snapshot) -> float:
    requested = snapshot.window_requested_seconds
    return snapshot.window_seconds if requested is None else requested


def window_words(snapshot: Snapshot) -> str:
    """`window 60.0s` or, when widened to fit the scrape interval, `window 60.0s (asked 10.0s; scrape
    interval 15s)`."""
    text = f"window {snapshot.window_seconds:.1f}s"
    if _requested(snapshot) != snapshot.window_seconds:
        interval = f"; scrape interval {snapshot.scrape_interval:g}s" if snapshot.scrape_interval else ""
        text += f" (asked {_requested(snapshot):.1f}s{interval})"
    return text


def warnings(snapshot: Snapshot) -> list[str]:
    """The source's warnings, and a clock skew over 5 s between aitop and the server."""
    skew = skew_warning(snapshot.clock_offset)
    return [*([skew] if skew else []), *snapshot.warnings]


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The documented JSON snapshot (README "JSON snapshot")."""
    return {
        "aitop_version": __version__,
        "taken_at": rfc3339(snapshot.taken_at),
        # Prometheus mode: the instant the queries were evaluated at, by the server's clock.
        "evaluated_at": rfc3339(snapshot.taken_at + snapshot.clock_offset),
        "window_seconds": round(snapshot.window_seconds, 3),
        "window_requested_seconds": round(_requested(snapshot), 3),
        "scrape_interval_seconds": snapshot.scrape_interval,
        "clock_offset_seconds": round(snapshot.clock_offset, 3) + 0.0,  # never "-0.0"
        # `--at` against a server: the fixed instant asked for (time travel); null: the server's now.
        "at": rfc3339(snapshot.at) if snapshot.at is not None else None,
        "source": {"kind": snapshot.source_kind, "targets": list(snapshot.source_targets),
                   "tls_verified": snapshot.tls_verified},
        "schemas": list(snapshot.schemas),
        "stale": snapshot.stale,
        "error": snapshot.error,
        "rows": [row_to_dict(row) for row in snapshot.rows],
        "query_errors": [{"query": query, "error": error, "fields": list(fields)}
                         for query, error, fields in snapshot.failed_queries],
        "warnings": warnings(snapshot),
        "alerts": [
            {
                "id": alert.id,
                "rule": alert.rule,
                "severity": alert.severity.label,
                "state": alert.state,
                "schema": alert.schema,
                "group": alert.group,
                "field": alert.field,
                "value": _number(alert.value),
                "threshold": _number(alert.threshold),
                "since": rfc3339(alert.since),
                "message": alert.message,
                "runbook": alert.runbook or None,
                "silenced_by": list(alert.silenced_by),
            }
            for alert in snapshot.alerts
        ],
        "targets": [
            {
                "url": target.url,
                "kind": target.kind,
                "up": target.up,
                "error": target.error,
                "last_success": rfc3339(target.last_success),
            }
            for target in snapshot.targets
        ],
    }


def to_json(snapshot: Snapshot) -> str:
    """The JSON snapshot, with every credential aitop holds masked wherever it came from."""
    return json.dumps(mask_data(snapshot_to_dict(snapshot)), indent=2, ensure_ascii=False)


def to_json_line(snapshot: Snapshot) -> str:
    """The snapshot as one line of JSON (`aitop watch --format jsonl`)."""
    return json.dumps(mask_data(snapshot_to_dict(snapshot)), ensure_ascii=False, separators=(",", ":"))


def to_table(snapshot: Snapshot) -> str:
    """A fixed-width table for terminals and logs; severity marked with `!` (warning) and `‼` (critical)."""
    headings = ["SCHEMA", "MODEL"] + [FIELD_BY_NAME[name].heading for name in TABLE_FIELDS]
    lines = [headings]
    for row in sorted(snapshot.rows, key=lambda r: -(r.value("request_rate") or 0.0)):
        cells = [row.schema, row.group]
        for name in TABLE_FIELDS:
            text = format_value(name, row.value(name))
            level = row.severity.get(name)
            if level is not None and level.value and text != MISSING_MARK:
                text = ("‼" if level.value == 2 else "!") + text
            cells.append(text)
        lines.append(cells)
    widths = [max(cell_len(line[i]) for line in lines) for i in range(len(headings))]

    def pad(cell: str, width: int, left: bool) -> str:
        space = " " * (width - cell_len(cell))  # cells, not characters: "👎" is two columns wide
        return cell + space if left else space + cell

    text_lines = ["  ".join(pad(cell, w, i < 2) for i, (cell, w) in enumerate(zip(line, widths))) for line in lines]
    footer = [f"{window_words(snapshot)} · {snapshot.targets_up}/{len(snapshot.targets)} targets up"]
    if snapshot.at is not None:  # `--at`: the server's past, not its present
        footer.append(f"AT {rfc3339(snapshot.at)}: every query evaluated at that instant (--at)")
    if not snapshot.tls_verified:
        footer.append("TLS certificates NOT verified (--insecure-skip-verify)")
    for target in snapshot.targets:
        if not target.up:
            footer.append(f"DOWN {target.url}: {target.error}")
    for row in snapshot.rows:
        if row.replicas is not None and row.replicas[0] < row.replicas[1]:
            footer.append(f"{row.schema}/{row.group}: {row.replicas[0]}/{row.replicas[1]} replicas up")
    failed = {error for _, error, _ in snapshot.failed_queries}
    footer += [f"QUERY FAILED {error}" for error in sorted(failed)]
    footer += [f"WARNING {warning}" for warning in warnings(snapshot) if warning not in failed]
    if not snapshot.rows:
        if failed:
            footer.append("no rows: the queries failed (QUERY FAILED above)")
        elif snapshot.targets_up:
            footer.append("no rows: no known AI-serving metrics were found")
        else:
            footer.append("no rows")
    return mask("\n".join(line.rstrip() for line in text_lines + footer) + "\n")
