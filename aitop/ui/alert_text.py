"""Alerts as Rich `Text`, and the order the sidebar lists them in. No Textual here.

aitop's own alerts and the server's (rule names prefixed ``prometheus:``) arrive in one tuple; they are
shown the same way. Alert text comes from rule files and servers, so it is treated as untrusted: built
into `Text` from plain strings (never markup) and passed through `clean()` again, which is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.text import Text

from aitop.fields import FIELD_BY_NAME
from aitop.format import format_value
from aitop.model import Alert, Severity
from aitop.sanitize import clean
from aitop.ui.cells import CRITICAL_MARK, WARNING_MARK, Palette

#: Rich needs a console to wrap text; this one only measures (no output, no terminal queries).
_CONSOLE = Console(width=200, color_system=None, force_terminal=False, legacy_windows=False, file=None)
_STATE_RANK = {"firing": 0, "pending": 1, "resolved": 2}
#: Longest alert message shown in the sidebar (the explain view is the place for more).
MESSAGE_WIDTH = 200


def ordered(alerts: Iterable[Alert]) -> list[Alert]:
    """Worst severity first; then firing, pending, resolved; then the longest-standing first.

    The oldest firing alert goes on top because it has hurt longest; ids break ties so the order is stable.
    """
    return sorted(alerts, key=lambda a: (-int(a.severity), _STATE_RANK.get(a.state, 3), a.since, a.id))


def format_duration(seconds: float) -> str:
    """A compact duration for alert ages: 45s, 3m12s, 2h05m, 3d04h."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def alert_age(seconds: float) -> str:
    """An alert's age in the sidebar: 45s in the first minute, then 3m, 2h05m, 3d04h — a resolution that
    does not change at every refresh, so an unchanged alert is not redrawn every 2 s."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m" if 60 <= seconds < 3600 else format_duration(seconds)


def severity_badge(severity: Severity, palette: Palette) -> Text:
    """`‼ CRIT` / `▲ WARN` / `· info`: a symbol and a word, so the severity survives NO_COLOR."""
    if severity >= Severity.CRITICAL:
        return Text(f"{CRITICAL_MARK} CRIT", palette.critical_style())
    if severity >= Severity.WARNING:
        return Text(f"{WARNING_MARK} WARN", Style(color=palette.warning, bold=True))
    return Text("· info", Style(color=palette.muted))


def _amount(field: str, value: float | None) -> str:
    if value is None:
        return "?"
    return format_value(field, value)  # a backend alert's unknown field gets plain significant digits


def comparison(alert: Alert) -> str:
    """What crossed what: `err % 7.1% > 5.0%`, or just the value when there is no threshold."""
    spec = FIELD_BY_NAME.get(alert.field)
    name = spec.heading if spec else clean(alert.field, 40)
    if alert.value is None and alert.threshold is None:
        return name
    shown = f"{name} {_amount(alert.field, alert.value)}".strip()
    if alert.threshold is not None:
        relation = ">" if alert.value is None or alert.value >= alert.threshold else "<"
        shown += f" {relation} {_amount(alert.field, alert.threshold)}"
    return shown


def wrapped(line: Text, width: int, indent: str) -> list[Text]:
    """`line` (after `indent`) wrapped at word boundaries to `width` cells, continuation lines indented too;
    a word longer than the line is folded, never cut."""
    room = max(width - cell_len(indent), 8)
    parts = line.wrap(_CONSOLE, room, overflow="fold", no_wrap=False)
    for part in parts:
        part.rstrip()
    return [Text.assemble(indent, part) for part in parts] or [Text(indent)]


def alert_text(alert: Alert, now: float, palette: Palette, *, width: int = 40) -> Text:
    """The sidebar's lines: severity, state and age; where; what against which threshold and why. Every
    line wraps to `width` cells: nothing of an alert is cut off (a long message is capped at
    `MESSAGE_WIDTH` characters; the drill-down shows the rest)."""
    muted = Style(color=palette.muted)
    state_style = {
        "firing": Style(bold=True),
        "pending": Style(italic=True),
        "resolved": palette.faded(),  # not dim: dim text reads about 2:1
    }.get(alert.state, Style())
    head = Text.assemble(severity_badge(alert.severity, palette), " ", (clean(alert.state, 12), state_style),
                         (f" {alert_age(now - alert.since)}", muted))  # fmt: skip
    if alert.silenced_by:  # still firing, but an Alertmanager silence keeps it from paging anyone
        head.append(" · silenced", muted)
    where = clean(alert.group, 80) or "(whole source)"
    schema = f" · {clean(alert.schema, 24)}" if alert.schema else ""
    second = Text.assemble((where, Style(bold=True)), (schema, muted))
    rule = clean(alert.rule, 60)
    what = comparison(alert)
    third = Text.assemble(what, (f" · {rule}" if what else rule, muted))
    lines = [*wrapped(head, width, ""), *wrapped(second, width, "  "), *wrapped(third, width, "  ")]
    if alert.resolution:  # its own line, so it stands out from the message
        lines += wrapped(Text(clean(alert.resolution, 80), state_style), width, "  ")
    if alert.message:
        lines += wrapped(Text(clean(alert.message, MESSAGE_WIDTH), muted), width, "  ")
    if alert.runbook:
        lines += wrapped(Text.assemble(("runbook: ", muted), clean(alert.runbook, MESSAGE_WIDTH)), width, "  ")
    for line in lines:
        line.no_wrap = True
        line.end = ""
    return Text("\n").join(lines)


def alert_counts(alerts: Iterable[Alert]) -> tuple[int, int]:
    """(firing, pending) alerts; resolved ones need no attention."""
    firing = pending = 0
    for alert in alerts:
        if alert.state == "firing":
            firing += 1
        elif alert.state == "pending":
            pending += 1
    return firing, pending


def alert_badge(alerts: Iterable[Alert], palette: Palette) -> Text | None:
    """`‼ 2 firing ▲ 1 pending` for the status line when the sidebar is not shown; None when all is quiet."""
    alerts = list(alerts)
    firing, pending = alert_counts(alerts)
    if not firing and not pending:
        return None
    worst = max((a.severity for a in alerts if a.state in ("firing", "pending")), default=Severity.OK)
    colour = palette.critical if worst >= Severity.CRITICAL else palette.warning
    mark = CRITICAL_MARK if worst >= Severity.CRITICAL else WARNING_MARK
    parts = []
    if firing:
        parts.append(f"{firing} firing")
    if pending:
        parts.append(f"{pending} pending")
    return Text(f"{mark} ALERTS {' '.join(parts)} (a)", Style(color=colour, bold=True, reverse=True))
