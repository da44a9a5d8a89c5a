"""Scrape-mode rows of a tests/data fixture page: two scrapes 10 s apart, counters doubled (pages.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))

import pages  # noqa: E402

from aitop.catalog import NameFilter, builtin_schemas  # noqa: E402
from aitop.rows import RowBuilder, TargetData  # noqa: E402
from aitop.sources.scrape.exposition import parse  # noqa: E402
from aitop.store import TargetWindow  # noqa: E402

INSTANCE = "10.1.2.3:8000"
TEXT = "text/plain; version=0.0.4; charset=utf-8"
WANTED = NameFilter(builtin_schemas())


def window_of(name: str, *, scrapes: int = 2) -> TargetWindow:
    text = pages.read(name)
    window = TargetWindow(30.0)
    for i in range(scrapes):
        page = text if i == 0 else pages.scaled(text, 2.0)
        window.add(10.0 * i, 1_754_990_000.0 + 10.0 * i, parse(page, TEXT, WANTED).samples)
    return window


def build(name: str, *, scrapes: int = 2, **kwargs) -> RowBuilder:
    builder = RowBuilder(builtin_schemas(), **kwargs)
    builder.add_target(TargetData(INSTANCE, window_of(name, scrapes=scrapes), True))
    return builder
