"""Suite-wide fixtures and hooks.

Every test that talks to the real Prometheus / VictoriaMetrics runs on one xdist worker: the servers are
session-scoped fixtures, so keeping their tests together starts each server once, not once per worker
(pytest-xdist `--dist loadgroup`).
"""

import pytest
import textual._wait


@pytest.hookimpl(tryfirst=True)  # xdist reads the groups in its own hook: ours must run before it
def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("integration") is not None:
            item.add_marker(pytest.mark.xdist_group("real-servers"))


@pytest.fixture(autouse=True)
def quick_pilot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a Textual pilot poll for idleness every 5 ms instead of 20 ms (tests/ui, tests/faults, …).

    Each `pilot.press()` / `pilot.pause()` / `pilot.click()` waits for the app to go idle two or three times,
    sleeping one granule each time; at Textual's 20 ms that is ~60 ms per key, mostly asleep, and the UI and
    fault tests press hundreds of keys. Idleness is still judged the same way (CPU time against wall time,
    over at least Textual's own 20 ms minimum), only sampled more often.
    """
    monkeypatch.setattr(textual._wait, "SLEEP_GRANULARITY", 0.005)
