"""Suite-wide: every test that talks to the real Prometheus / VictoriaMetrics runs on one xdist worker.

The servers are session-scoped fixtures, so keeping their tests together starts each server once, not once
per worker (pytest-xdist `--dist loadgroup`).
"""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("integration") is not None:
            item.add_marker(pytest.mark.xdist_group("real-servers"))
