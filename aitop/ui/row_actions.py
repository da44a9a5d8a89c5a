"""Row actions in the TUI: a configured key runs its command on the selected row (in a thread, so the
screen never waits) and a notification gives its exit status and last line of output."""

from __future__ import annotations

import subprocess

import httpx
from textual.dom import DOMNode

from aitop.actions import RowAction, run
from aitop.model import Row
from aitop.sanitize import clean
from aitop.sources.prometheus.promql import group_matcher
from aitop.ui.typed import aitop_app


def row_values(row: Row, targets: tuple[str, ...]) -> dict[str, str]:
    """$MODEL, $SCHEMA, $INSTANCE, $PROMQL and $TARGET for `row`.

    $INSTANCE is the row's group when rows are grouped by instance, else the host:port of the only
    target; $PROMQL is the label matcher selecting the row (`model_name="llama"`); $TARGET the first target.
    """
    instance = row.group if row.group_label == "instance" else ""
    if not instance and len(targets) == 1:
        try:
            url = httpx.URL(targets[0])
            instance = f"{url.host}:{url.port}" if url.port else url.host
        except (httpx.InvalidURL, ValueError):
            instance = ""
    return {"MODEL": row.group, "SCHEMA": row.schema, "INSTANCE": instance,
            "PROMQL": str(group_matcher((row.group_label or "model",), row.group)),
            "TARGET": targets[0] if targets else ""}


def action_for(screen: DOMNode, key: str) -> RowAction | None:
    """The configured row action bound to `key`, if any."""
    ops = getattr(aitop_app(screen).monitor, "ops", None)
    return next((a for a in (ops.actions if ops is not None else ()) if a.key == key), None)


def start_action(screen: DOMNode, action: RowAction, row: Row | None) -> None:
    """Run `action` on `row` in a worker thread and say how it ended."""
    app = aitop_app(screen)
    if row is None:
        app.notify(f"{action.name}: no row selected", severity="warning", markup=False)
        return
    values = row_values(row, tuple(app.monitor.collector.targets))

    def work() -> None:
        try:
            done = run(action, values)
        except (OSError, subprocess.SubprocessError) as exc:
            app.call_from_thread(app.notify, f"{action.name}: {type(exc).__name__}: {clean(str(exc), 120)}",
                                 severity="error", markup=False)
            return
        tail = (done.stdout or done.stderr).strip().splitlines()
        last = clean(tail[-1], 160) if tail else ""
        severity = "information" if done.returncode == 0 else "error"
        app.call_from_thread(app.notify, f"{action.name} on {clean(row.group, 60)}: exit {done.returncode}"
                             + (f": {last}" if last else ""), severity=severity, markup=False)

    app.run_worker(work, thread=True, group="row-action", exit_on_error=False, description=action.name)
