"""Widgets of the aitop TUI: fleet header, top table, status bar, alert sidebar, charts, filter bar, key bar,
size notice."""

from aitop.ui.widgets.alert_sidebar import AlertList, AlertSidebar
from aitop.ui.widgets.charts import ChartSeries, MetricChart
from aitop.ui.widgets.filter_bar import FilterBar
from aitop.ui.widgets.fleet_header import FleetHeader
from aitop.ui.widgets.key_bar import KeyBar
from aitop.ui.widgets.status_bar import StatusBar
from aitop.ui.widgets.too_small import TooSmall
from aitop.ui.widgets.top_table import TopTable

__all__ = [
    "AlertList", "AlertSidebar", "ChartSeries", "FilterBar", "FleetHeader", "KeyBar", "MetricChart", "StatusBar",
    "TooSmall", "TopTable",
]  # fmt: skip
