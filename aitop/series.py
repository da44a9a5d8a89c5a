"""A series' identity, shared by every layer that keeps samples (the scrape store, rows, markers,
recordings): below `aitop.sources`, so keeping samples never means importing a transport."""

from __future__ import annotations

#: A sample: (name, sorted label pairs) -> value.
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
