"""What the `e` key shows: how a value was computed, from how much data, and why it is `—` if it is.

No Textual here. Provenance strings carry label values (PromQL selectors), so they are `clean()`ed again
and placed in `Text` as plain strings.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from aitop.fields import FIELD_BY_NAME
from aitop.format import format_value
from aitop.model import Missing, Row, Severity, Snapshot
from aitop.sanitize import clean
from aitop.ui.alert_text import format_duration
from aitop.ui.cells import CRITICAL_MARK, WARNING_MARK, Palette
from aitop.why import WHY

PROVENANCE_WIDTH = 2000

#: What a user can do about each kind of missing value.
MISSING_ADVICE: dict[Missing, str] = {
    Missing.NO_METRIC: "none of this schema's metrics for it were found on the source",
    Missing.NOT_ENOUGH_SAMPLES: "a rate needs two scrapes; it appears after the next refresh",
    Missing.NO_OBSERVATIONS: "the metric exists but nothing was observed in the window",
    Missing.TARGET_DOWN: "the target serving it did not answer",
    Missing.QUERY_ERROR: "the query for it failed; see the status line",
    Missing.LIMIT: "the server refused the query for a limit it enforces: a shorter --window or fewer labels",
    Missing.TIMEOUT: "the server gave up on the query (its --query.timeout); it is retried with back-off",
    Missing.TLS: "the server's certificate was not accepted: --ca-file (or --insecure-skip-verify)",
    Missing.NO_BUCKETS: "observations were counted, but without bucket bounds no percentile exists",
}


def window_line(snapshot: Snapshot | None) -> str | None:
    """`30s (asked 10s: 4 × the 15s scrape interval)` when the window used is not the one asked for."""
    if snapshot is None or snapshot.window_requested_seconds is None:
        return None
    used, asked = snapshot.window_seconds, snapshot.window_requested_seconds
    if used == asked:
        return f"{used:g}s (rate() range)"
    interval = f": 4 × the {snapshot.scrape_interval:g}s scrape interval" if snapshot.scrape_interval else ""
    return f"{used:g}s (asked {asked:g}s{interval})"


def severity_words(row: Row, field: str, palette: Palette) -> Text:
    """`‼ critical`, `▲ warning` or `ok`, with the symbol so it reads without colour."""
    severity = row.severity.get(field, Severity.OK)
    if severity >= Severity.CRITICAL:
        return Text(f"{CRITICAL_MARK} critical", Style(color=palette.critical, bold=True))
    if severity >= Severity.WARNING:
        return Text(f"{WARNING_MARK} warning", Style(color=palette.warning, bold=True))
    return Text("ok", Style(color=palette.ok))


def warmup_words(row: Row) -> str:
    """How the warm-up stands: a row is judged once its window holds a full window of data (not a request
    count), counted from when aitop first saw it (in Prometheus mode: from the oldest sample the server holds
    in the window), a counter reset behind it, a source outage or a regroup (scrape mode)."""
    if row.warmup is None:  # the source does not tell (the caller shows nothing then)
        return "yes"
    watched, needed = row.warmup
    if row.warming:
        return (f"not yet: warming up, {format_duration(watched)} of a full {format_duration(needed)} window "
                "watched (cells unmarked, alerts wait)")
    return (f"yes: its window holds a full {format_duration(needed)} of data "
            "(warm-up: a full window, not a request count)")


def explain_text(row: Row, field: str, snapshot: Snapshot | None, palette: Palette) -> Text:
    """The explain panel for `field` of `row`: value, meaning, computation, and the reason for a gap."""
    spec = FIELD_BY_NAME[field]
    label = Style(bold=True)
    muted = Style(color=palette.muted)
    value = row.value(field)
    lines = [
        Text.assemble((f"{spec.heading}", Style(bold=True, underline=True)), "  ",
                      (clean(row.group, 80), label), (f"  ({clean(row.schema, 24)})", muted)),  # fmt: skip
        Text(""),
        Text.assemble(("value     ", label), format_value(field, value), "  ", severity_words(row, field, palette)),
        Text.assemble(("meaning   ", label), f"{spec.description} ({spec.unit})"),
    ]
    provenance = row.provenance.get(field)
    if provenance:
        lines.append(Text.assemble(("computed  ", label), clean(provenance, PROVENANCE_WIDTH)))
    else:
        lines.append(Text.assemble(("computed  ", label), ("no computation recorded for this field", muted)))
    if (window := window_line(snapshot)) is not None:
        lines.append(Text.assemble(("window    ", label), window))
    reason = row.missing_reason(field)
    down = row.stale or (snapshot is not None and snapshot.stale)
    if reason is not None:
        why = f"{reason.value} — {MISSING_ADVICE.get(reason, '')}".rstrip(" —")
        lines.append(Text.assemble(("why —     ", label), why))
    if down:
        error = clean(snapshot.error, 200) if snapshot is not None and snapshot.error else "a target is down"
        lines.append(Text.assemble(("stale     ", label), f"last good window shown: {error}"))
    if row.replicas is not None and row.replicas[0] < row.replicas[1]:
        up, total = row.replicas
        lines.append(Text.assemble(("replicas  ", label), f"{up}/{total} replicas up: a down target's series "
                                   "count until its last scrape leaves the window, then no more"))  # fmt: skip
    if row.warmup is not None:
        lines.append(Text.assemble(("judged    ", label), warmup_words(row)))
    if (engine := row.provenance.get(WHY)) is not None:  # the row's likely cause, with the figures behind it
        cause, _, evidence = engine.partition(" — evidence: ")
        lines.append(Text.assemble(("engine    ", label), clean(cause, PROVENANCE_WIDTH)))
        lines.append(Text.assemble(("evidence  ", label), clean(evidence, PROVENANCE_WIDTH)))
    lines.append(Text(""))
    lines.append(Text("Esc closes · e on another field explains it", muted))
    return Text("\n").join(lines)
