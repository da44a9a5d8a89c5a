"""Screens of the aitop TUI."""

from aitop.ui.screens.overview import OverviewScreen

__all__ = ["OverviewScreen"]
