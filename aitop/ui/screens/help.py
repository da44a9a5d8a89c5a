"""`?` / F1: every key, generated from the BINDINGS of the app, screens and tables, so it cannot drift."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: Keys that are not bindings of ours (DataTable's own, Textual's focus keys) but belong in the help.
BUILTIN_KEYS: dict[str, list[tuple[str, str]]] = {
    "Move": [
        ("↑ ↓", "previous / next row"),
        ("PgUp PgDn", "page up / down"),
        ("Enter", "drill into the selected row (or the selected alert's row)"),
        ("Tab", "next pane (table, alert sidebar, breakdown)"),
    ],
    "Dialogs": [("Esc", "close a dialog, picker or this help"), ("Enter", "choose")],
}


def _bindings(source: Iterable[BindingType]) -> list[Binding]:
    return list(Binding.make_bindings(source))


def help_sections(app_bindings: Iterable[BindingType]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(keys, what they do)]) for every binding, keys of the same action on one line."""
    from aitop.ui.screens.detail import DetailScreen
    from aitop.ui.screens.overview import OverviewScreen
    from aitop.ui.widgets.top_table import TopTable
    from aitop.ui.widgets.nav_table import NavTable

    sections = [
        ("Everywhere", _bindings(app_bindings)),
        ("Overview", _bindings(OverviewScreen.BINDINGS)),
        ("Move", _bindings([*NavTable.BINDINGS, *TopTable.BINDINGS])),
        ("Drill-down", _bindings(DetailScreen.BINDINGS)),
    ]
    result = []
    for title, bindings in sections:
        lines: dict[tuple[str, str], list[str]] = {}
        for binding in bindings:
            if binding.system:
                continue
            keys = lines.setdefault((binding.action, binding.tooltip or binding.description), [])
            shown = key_name(binding)
            if shown not in keys:
                keys.append(shown)
        entries = [(" ".join(keys), description) for (_, description), keys in lines.items()]
        result.append((title, entries + BUILTIN_KEYS.get(title, [])))
    result.append(("Dialogs", BUILTIN_KEYS["Dialogs"]))
    return result


_NAMES = {
    "slash": "/", "question_mark": "?", "less_than_sign": "<", "greater_than_sign": ">", "plus": "+",
    "minus": "-", "equals_sign": "=", "space": "Space", "escape": "Esc", "backspace": "Backspace",
    "left_square_bracket": "[", "right_square_bracket": "]", "colon": ":", "home": "Home", "end": "End",
    "ctrl+p": "ctrl+p",
}  # fmt: skip


def key_name(binding: Binding) -> str:
    """How a key is written in the help: `/`, `F1`, `ctrl+c`, `Space`."""
    key = binding.key
    if key in _NAMES:
        return _NAMES[key]
    if binding.key_display and len(binding.key_display) <= 2:  # longer ones sum up several keys
        return binding.key_display
    if len(key) in (2, 3) and key[0] == "f" and key[1:].isdigit():
        return key.upper()
    return key


class HelpScreen(ModalScreen[None]):
    """All keys, by where they work."""

    @property
    def text(self) -> str:
        """Every section as plain text."""
        sections = (static.content for static in self.query(".help-section").results(Static))
        return "\n".join(section_text(table) for table in sections if isinstance(table, Table))

    BINDINGS = [Binding("escape,question_mark,f1", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help"):
            yield Static(Text("aitop keys", Style(bold=True)), classes="dialog-title", markup=False)
            with Grid(id="help-grid"):
                for title, entries in help_sections(type(self.app).BINDINGS):
                    yield Static(section_table(title, entries), classes="help-section", markup=False)
            yield Static(Text("Esc, ? or F1 closes · every F-key has a letter too", style="dim"), markup=False)

    def action_close(self) -> None:
        """Back to the screen underneath."""
        self.dismiss(None)


def section_table(title: str, entries: list[tuple[str, str]]) -> Table:
    """One section of the help: a heading, then keys and what they do, the descriptions wrapping in their
    own column. Every cell is `Text` (descriptions are ours, but nothing here is parsed as markup)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style=Style(bold=True))
    table.add_column()
    table.title = Text(title, Style(bold=True, underline=True))
    table.title_justify = "left"
    for keys, description in entries:
        table.add_row(Text(keys), Text(description))
    return table


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def section_text(table: Table) -> str:
    """The plain text of a help section, for tests and for checking what the help says."""
    lines = [table.title.plain if isinstance(table.title, Text) else str(table.title)]
    for keys, description in zip(table.columns[0].cells, table.columns[1].cells, strict=True):
        lines.append(f"{_plain(keys)}  {_plain(description)}")
    return "\n".join(lines)
