"""Fixtures for the fault-matrix tests: fault servers that stop themselves, fake clocks, an isolated state dir."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server import App, FaultServer


class Clock:
    """A clock that only moves when told to (used as both the monotonic and the wall clock)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def serve() -> Iterator[Callable[..., FaultServer]]:
    """`serve(app, lifetime=…)`: a started `FaultServer`, stopped at the end of the test."""
    servers: list[FaultServer] = []

    def start(app: App, **options) -> FaultServer:
        options.setdefault("lifetime", 20.0)
        server = FaultServer(app, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """platformdirs' user_state_dir (log file, crash reports) inside the test's tmp dir."""
    # cli.main points the root logger at the sys.stderr of its day (pytest's capture, closed later).
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("AITOP_URL", "PROMETHEUS_URL", "AITOP_CONFIG", "AITOP_CONFIG_DIR", "AITOP_BEARER_TOKEN", "AITOP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "state" / "aitop"
