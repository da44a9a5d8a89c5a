"""A DataTable that also moves with vim keys (j/k): the one table behaviour every aitop table shares."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class NavTable(DataTable[Text]):
    """`DataTable` plus j/k. Cells are always `Text`: a `str` cell would be parsed as markup."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
