"""Fixtures for the TUI tests: a frozen clock, an app built on a real Monitor over a scripted collector, and
no user theme directory or NO_COLOR leaking in from the machine running the tests. (The quicker pilot,
`quick_pilot`, is suite-wide: tests/conftest.py.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from ui_fakes import THRESHOLDS, FakeCollector, FrozenClock

from aitop.monitor import Monitor
from aitop.sources.base import Collected
from aitop.ui import themes
from aitop.ui.app import AitopApp


@pytest.fixture(autouse=True)
def isolate_user_themes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user theme directory at an empty temporary one (tests may write themes into it)."""
    directory = tmp_path / "user-themes"
    monkeypatch.setattr(themes, "user_theme_dir", lambda: directory)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return directory


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
