"""A collector over a `DemoFleet`'s registry on the fleet's simulated clock: no HTTP, no threads, so a test
can play the demo's whole incident timeline in seconds (tests/unit/test_analysis_demo.py,
tests/ui/test_ui_no_cut.py)."""

from __future__ import annotations

from aitop.catalog import builtin_schemas
from aitop.demo import DemoFleet
from aitop.model import TargetHealth
from aitop.rows import RowBuilder, TargetData
from aitop.sources.base import Collected, CollectorBase
from aitop.store import TargetWindow

#: Unix time of the simulation's start.
T0 = 1_700_000_000.0
STEP = 2.0  # the TUI's default refresh interval
WINDOW = 30.0  # the TUI's default window


class FleetCollector(CollectorBase):
    """A `Collector` over a `DemoFleet`'s registry, on the fleet's simulated clock."""

    kind = "scrape"
    targets = ("http://demo/metrics",)

    def __init__(self, fleet: DemoFleet) -> None:
        self.fleet = fleet
        self.window_seconds = WINDOW
        self.window = TargetWindow(WINDOW)
        self.schemas = builtin_schemas()

    async def collect(self) -> Collected:
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in self.fleet.registry.collect() for s in family.samples}  # fmt: skip
        now = self.fleet.sim_time
        self.window.add(now, T0 + now, samples)
        builder = RowBuilder(self.schemas)
        builder.add_target(TargetData("demo:9400", self.window, True))
        return Collected(T0 + now, self.window.elapsed, tuple(builder.rows()),
                         (TargetHealth(self.targets[0], "scrape", True, last_success=T0 + now),),
                         tuple(sorted(builder.detected)))  # fmt: skip

    async def breakdown(self, key, label):
        return ()

    async def history(self, key, fields, seconds):
        return None

    async def aclose(self) -> None:
        pass
