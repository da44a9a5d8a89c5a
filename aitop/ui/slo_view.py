"""The SLO view (`b`): one line per SLO and row, the four burn-rate window pairs coloured by the page and
ticket thresholds, the budget left and when it runs out at the current rate.

A pair reads `long×/short×`; it is coloured critical when both exceed a page factor, warning for a ticket
factor, and `?` (muted) when a window is unknown — in scrape mode, every window longer than the session.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from aitop.sanitize import clean
from aitop.slo.burn import PairState, SloStatus, _duration
from aitop.ui.cells import Palette
from aitop.ui.themes import palette_from_variables
from aitop.ui.typed import AitopModalScreen

NO_SLOS = ("no SLOs: add [[slo]] entries to the config (see aitop.example.toml), or let the Prometheus server "
           "record Sloth or Pyrra rules")
LOADING = "reading burn rates…"


def _burn(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def pair_cell(pair: PairState, palette: Palette) -> Text:
    """`long×/short×`, coloured by the tier it breaches."""
    text = f"{_burn(pair.long_burn)}/{_burn(pair.short_burn)}"
    if not pair.known:
        return Text(text, Style(color=palette.muted))
    if pair.breached:
        colour = palette.critical if pair.pair.tier == "page" else palette.warning
        return Text(text + " !", Style(color=colour, bold=True))
    return Text(text)


def slo_table(statuses: Sequence[SloStatus], palette: Palette) -> Table | Text:
    """Every SLO status as a table (or the line saying there are none)."""
    if not statuses:
        return Text(NO_SLOS)
    table = Table(box=None, pad_edge=False, expand=True, header_style=Style(bold=True))
    table.add_column("SLO")
    table.add_column("row")
    table.add_column("objective", justify="right")
    for pair in statuses[0].pairs:
        table.add_column(f"{pair.label} ×{pair.pair.factor:g}", justify="right")
    table.add_column("budget left", justify="right")
    table.add_column("runs out", justify="right")
    table.add_column("verdict")
    for st in statuses:
        tier = st.tier
        verdict = Text(tier or ("unknown" if st.unknown_pairs == len(st.pairs) else "ok"),
                       Style(color=palette.critical if tier == "page" else palette.warning if tier else palette.ok))
        source = "" if st.source == "aitop" else f" ({st.source})"
        table.add_row(
            Text(clean(st.slo.name, 40) + source), Text(f"{clean(st.schema, 20)}/{clean(st.group, 40)}"),
            Text(f"{st.slo.objective * 100:g}% {st.slo.kind[:5]}"), *(pair_cell(p, palette) for p in st.pairs),
            Text("?" if st.budget_remaining is None else f"{st.budget_remaining * 100:.0f}%"),
            Text("—" if st.exhaustion_seconds is None else _duration(st.exhaustion_seconds)), verdict,
        )
    return table


class SloScreen(AitopModalScreen[None]):
    """The SLO view over the current screen; reads the burn rates when opened and on `r`."""

    BINDINGS = [Binding("escape,b", "close", "Close"), Binding("r", "reload", "Reload")]

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[SloStatus] | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="slo-view"):
            yield Static(Text("SLOs · burn rate (long/short window) against page and ticket factors"),
                         classes="dialog-title", markup=False)
            yield Static(Text(LOADING), id="slo-body", markup=False)
            yield Static(Text("r: read again · b / Esc: close"), classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.run_worker(self._load(), group="slo", exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        from aitop.slo.judge import slo_statuses

        monitor = self.aitop.monitor
        ops = getattr(monitor, "ops", None)
        http, timeout = getattr(monitor, "ops_http", (None, 10.0))
        try:
            self.statuses = await slo_statuses(ops.slos if ops is not None else (), monitor, http=http,
                                               timeout=timeout, interval=self.aitop.poll_seconds)
            self.error = None
        except Exception as exc:  # noqa: BLE001 — shown in the view, never a traceback
            self.error = f"burn rates not read: {type(exc).__name__}: {clean(str(exc), 160)}"
        self._show_statuses()

    @property
    def body_text(self) -> str:
        """The plain text shown (for tests and screen readers)."""
        if self.error:
            return self.error
        if self.statuses is None:
            return LOADING
        rendered = slo_table(self.statuses, Palette())
        if isinstance(rendered, Text):
            return rendered.plain
        from rich.console import Console

        console = Console(width=160, record=True, color_system=None)
        console.print(rendered)
        return console.export_text()

    def _show_statuses(self) -> None:
        body = self.query_one("#slo-body", Static)
        if self.error:
            body.update(Text(self.error))
        else:
            body.update(slo_table(self.statuses or [], palette_from_variables(self.app.theme_variables)))

    def action_close(self) -> None:
        self.dismiss(None)
