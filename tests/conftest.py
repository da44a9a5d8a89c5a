"""Suite-wide fixtures and hooks.

The tests on the shared real Prometheus / VictoriaMetrics run on one xdist worker: those servers are
session-scoped fixtures, so keeping their tests together starts each server once, not once per worker
(pytest-xdist `--dist loadgroup`). Integration modules that start servers of their own are groups of their own.
"""

import pytest
import textual._wait


#: Integration modules that use the session-scoped Prometheus / VictoriaMetrics of tests/integration/conftest.py.
SHARED_SERVER_MODULES = frozenset({
    "test_batched_queries", "test_engine_promql", "test_gpu_fleet",
    "test_scrape_vs_prometheus", "test_system_schemas", "test_zz_prometheus_restart",
})


@pytest.hookimpl(tryfirst=True)  # xdist reads the groups in its own hook: ours must run before it
def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("integration") is None or item.get_closest_marker("xdist_group") is not None:
            continue
        module = item.module.__name__.rpartition(".")[2]
        # The modules on the shared session servers run on one worker, so those servers start once; a module
        # that starts servers of its own is a group of its own, free to run beside them.
        group = "real-servers" if module in SHARED_SERVER_MODULES else f"real-servers-{module}"
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def quick_pilot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a Textual pilot poll for idleness every 5 ms instead of 20 ms (tests/ui, tests/faults, …).

    Each `pilot.press()` / `pilot.pause()` / `pilot.click()` waits for the app to go idle two or three times,
    sleeping one granule each time; at Textual's 20 ms that is ~60 ms per key, mostly asleep, and the UI and
    fault tests press hundreds of keys. Idleness is still judged the same way (CPU time against wall time,
    over at least Textual's own 20 ms minimum), only sampled more often.
    """
    monkeypatch.setattr(textual._wait, "SLEEP_GRANULARITY", 0.005)
