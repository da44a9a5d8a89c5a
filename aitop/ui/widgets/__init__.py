"""Widgets of the aitop TUI: the top table and the status bar."""

from aitop.ui.widgets.status_bar import StatusBar
from aitop.ui.widgets.top_table import TopTable

__all__ = ["StatusBar", "TopTable"]
