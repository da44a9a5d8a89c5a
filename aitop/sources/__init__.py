"""Where numbers come from: raw /metrics scrapes or a Prometheus-compatible server. No Textual here."""

from aitop.sources.base import Collected, Collector, CollectorBase

__all__ = ["Collected", "Collector", "CollectorBase"]
