"""Fixtures for the TUI tests: a frozen clock and an app built on a real Monitor over a scripted collector."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from ui_fakes import THRESHOLDS, FakeCollector, FrozenClock

from aitop.monitor import Monitor
from aitop.sources.base import Collected
from aitop.ui.app import AitopApp


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def make_app(clock: FrozenClock) -> Callable[..., AitopApp]:
    """Build an `AitopApp` on a real `Monitor` over a `FakeCollector`, with no timer and a frozen clock."""

    def build(script: Sequence[Collected | BaseException], *, interval: float | None = None,
              collector: FakeCollector | None = None, **kwargs: object) -> AitopApp:  # fmt: skip
        source = collector if collector is not None else FakeCollector(script)
        monitor = Monitor(source, clock=clock, thresholds=THRESHOLDS)
        return AitopApp(monitor, interval=interval, clock=clock, **kwargs)  # type: ignore[arg-type]

    return build
