"""The fleet header, like the first lines of top: totals on one line, the verdict on the next.

Each line keeps whole phrases: at 80 columns the least important totals step aside rather than being cut
in the middle of a number; the verdict wraps onto a second line rather than losing its end.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.geometry import Region
from textual.theme import Theme
from textual.widget import Widget

from aitop.model import Severity, Snapshot
from aitop.ui.alert_text import wrapped
from aitop.ui.cells import Palette
from aitop.ui.fleet import FleetSummary, summarize, summary_parts
from aitop.ui.themes import palette_from_variables

SEPARATOR = " · "
#: Most lines the verdict may take (a longer one is folded inside them: the sidebar has the whole story).
VERDICT_LINES = 2


def _style(level: Severity, palette: Palette) -> Style:
    if level >= Severity.CRITICAL:
        return Style(color=palette.critical, bold=True)
    if level >= Severity.WARNING:
        return Style(color=palette.warning, bold=True)
    return Style()


def header_text(summary: FleetSummary, width: int, palette: Palette, view: str = "overview") -> Text:
    """The totals line (as many whole phrases as fit `width`) and the verdict, wrapped to `width`."""
    totals = Text(f"[{view}]", Style(color=palette.muted), no_wrap=True, end="")
    totals.append(" fleet", Style(bold=True))
    used = cell_len(totals.plain)
    for phrase, level in summary_parts(summary):
        cost = cell_len(SEPARATOR) + cell_len(phrase)
        if used + cost > width:
            break
        totals.append(SEPARATOR, Style(color=palette.muted))
        totals.append(phrase, _style(level, palette))
        used += cost
    verdict = Text(summary.verdict, _style(summary.verdict_severity, palette) if summary.verdict_severity
                   else Style(color=palette.ok))  # fmt: skip
    lines = [totals, *wrapped(verdict, width, "")[:VERDICT_LINES]]
    for line in lines:
        line.no_wrap = True
        line.end = ""
    return Text("\n", end="").join(lines)


def changed_lines(old: Text, new: Text) -> list[int] | None:
    """The lines where `new` differs from `old` (text or styles), or None when the number of lines changed
    (the header's height then changes too)."""
    before, after = old.split("\n", allow_blank=True), new.split("\n", allow_blank=True)
    if len(before) != len(after):
        return None
    return [y for y, (a, b) in enumerate(zip(before, after)) if a.plain != b.plain or a.spans != b.spans]


class FleetHeader(Widget):
    """Fleet totals and the verdict; `budget` is the daily spend the budget rule allows (None: no rule)."""

    def __init__(self, *, budget: float | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.budget = budget
        #: The name of the view on show, first on the totals line.
        self.view = "overview"
        self.summary: FleetSummary | None = None
        self.text = Text("fleet  ·  connecting…", end="")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def on_unmount(self) -> None:
        # The signal holds its subscribers until it next publishes; a closed screen's widgets would stay in
        # memory until the next theme change.
        self.app.theme_changed_signal.unsubscribe(self)

    def _on_theme_changed(self, _theme: Theme) -> None:
        self._render_header()

    def on_resize(self, _event: Resize) -> None:
        lines = self.text.plain.count("\n")
        self._render_header()
        if self.text.plain.count("\n") != lines:
            # A new height asked for while the screen is being laid out is not laid out again (Textual
            # 8.2.8); the first frame's layout can be the first to size the header for a snapshot already
            # shown. Ask again once this frame is done.
            self.call_after_refresh(self.refresh, layout=True)

    def apply(self, snapshot: Snapshot) -> None:
        """Show the totals of `snapshot`."""
        self.summary = summarize(snapshot, self.budget)
        self._render_header()

    def _render_header(self) -> None:
        if self.summary is None:
            return
        width = max(self.size.width - 2, 20)  # 1 cell of padding either side
        text = header_text(self.summary, width, palette_from_variables(self.app.theme_variables), self.view)
        if text.plain != self.text.plain or text.spans != self.text.spans:
            changed = changed_lines(self.text, text)
            self.text = text
            if changed is None:
                self.refresh(layout=True)
            else:  # the verdict mostly stays while a total ticks: repaint (and send) only the lines that changed
                self.refresh(*(Region(0, y, self.size.width, 1) for y in changed))

    def render(self) -> Text:
        return self.text
