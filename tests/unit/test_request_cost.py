"""A request costs no work beyond the request: nothing imported per request.

httpcore asks which async library runs it before every pooled request (`current_async_library`), by importing
`sniffio`; without the package installed every such import fails only after a search of the whole import path
(~0.45 ms of CPU per scrape, a fifth of a small page's GET). `sniffio` is a dependency for that reason: this
test fails if a scrape goes to the import system at all.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from aitop.sources.scrape.collector import ScrapeCollector

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))

import pages  # noqa: E402

PAGE = b"# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\"} 1\n"


class _Watcher(importlib.abc.MetaPathFinder):
    """Records every module the import system is asked to find (it finds none itself)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> None:
        self.asked.append(fullname)


@pytest.fixture
def page_url() -> Iterator[str]:
    with pages.served(PAGE) as url:
        yield url


async def test_a_scrape_imports_nothing(page_url: str) -> None:
    collector = ScrapeCollector([page_url], window=30)
    try:
        first = await collector.collect()  # the first one may import what the path needs once
        assert first.targets[0].up, first.targets[0].error
        watcher = _Watcher()
        sys.meta_path.insert(0, watcher)
        try:
            for _ in range(3):
                collected = await collector.collect()
                assert collected.targets[0].up, collected.targets[0].error
        finally:
            sys.meta_path.remove(watcher)
        assert watcher.asked == []
    finally:
        await collector.aclose()
