"""`s` on an alert: confirm, then create an Alertmanager silence for it, and say what happened.

The confirmation shows exactly what will be silenced (the matchers), for how long and in whose name; `y`
or Enter creates it, `n` or Esc does not. The request runs in a worker, so the screen never waits on the
Alertmanager; the next refresh lists the alert as silenced.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static

from aitop.model import Alert
from aitop.ops_config import default_author
from aitop.sanitize import clean
from aitop.sources.prometheus.alertmanager import matchers_for
from aitop.ui.typed import aitop_app

NO_ALERTMANAGER = "no Alertmanager to silence with: start aitop with --alertmanager URL (or [alertmanager] url)"
NOT_IN_ALERTMANAGER = "aitop's own alerts never reach Alertmanager; only its alerts and Prometheus's can be silenced"
NO_ALERT = "no alert selected: silences are made from the alert sidebar"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


class ConfirmSilence(ModalScreen[bool]):
    """Asks before a silence is created; dismisses with True to create it."""

    BINDINGS = [Binding("y,enter", "confirm", "Silence"), Binding("n,escape", "cancel", "Cancel")]

    def __init__(self, alert: Alert, matchers: dict[str, str], seconds: float, author: str, comment: str) -> None:
        super().__init__()
        self.alert, self.matchers, self.seconds, self.author, self.comment = alert, matchers, seconds, author, comment

    @property
    def question(self) -> str:
        """The text of the question (plain, for tests and screen readers)."""
        matchers = ", ".join(f'{clean(k, 40)}="{clean(v, 60)}"' for k, v in sorted(self.matchers.items()))
        return (f"Silence {clean(self.alert.rule, 60)} on {clean(self.alert.group, 60) or '(whole source)'} "
                f"for {_span(self.seconds)}?\nmatchers: {matchers}\nby {clean(self.author, 40)}: "
                f"{clean(self.comment, 120)}")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Silence alert"), classes="dialog-title", markup=False)
            yield Static(Text(self.question), id="silence-question", markup=False)
            yield Static(Text("y / Enter: silence · n / Esc: cancel"), classes="dialog-hint", markup=False)

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def start_silence(screen: DOMNode, alert: Alert | None) -> None:
    """Ask, then silence `alert` through the monitor's Alertmanager (from `screen`, a Textual screen)."""
    app = aitop_app(screen)
    client = getattr(app.monitor, "alertmanager", None)
    if client is None:
        app.notify(NO_ALERTMANAGER, severity="warning", markup=False)
        return
    if alert is None:
        app.notify(NO_ALERT, severity="warning", markup=False)
        return
    matchers = matchers_for(alert, client.labels)
    if not matchers:
        app.notify(f"cannot silence {clean(alert.rule, 60)}: {NOT_IN_ALERTMANAGER}", severity="warning", markup=False)
        return
    ops = getattr(app.monitor, "ops", None)  # set by aitop.ops_config.attach
    seconds = ops.silence_seconds if ops is not None else 7200.0
    author = (ops.silence_author if ops is not None else None) or default_author()
    comment = ops.silence_comment if ops is not None else "silenced from aitop"

    async def create() -> None:
        try:
            silence_id = await client.silence(matchers, seconds=seconds, comment=comment, author=author)
        except Exception as exc:  # noqa: BLE001 — say it failed; the screen stays
            app.notify(f"silence not created: {type(exc).__name__}: {clean(str(exc), 120)}", severity="error",
                       markup=False)
            return
        app.notify(f"silenced {clean(alert.rule, 60)} for {_span(seconds)} (silence {clean(silence_id, 40)})",
                   markup=False)
        app.request_poll(show=True)  # the alert shows as silenced at once

    def answered(confirmed: bool | None) -> None:
        if confirmed:
            app.run_worker(create(), group="silence", exit_on_error=False, description="silence")

    app.push_screen(ConfirmSilence(alert, matchers, seconds, author, comment), answered)
