"""Screens of the aitop TUI: overview, drill-down, help, and the small dialogs."""

from aitop.ui.screens.base import DataScreen
from aitop.ui.screens.detail import DetailScreen
from aitop.ui.screens.help import HelpScreen
from aitop.ui.screens.overview import OverviewScreen

__all__ = ["DataScreen", "DetailScreen", "HelpScreen", "OverviewScreen"]
