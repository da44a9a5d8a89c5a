"""Regrouping (`g`) while an alert fires: alerts belong to the (schema, model) rows, so the alert keeps its
state and its `since`, and the sidebar goes on listing it. Real `Monitor` with the default rules, a frozen
clock and a collector that answers for the grouping it is asked for, as the scrape collector does."""

from __future__ import annotations

from ui_fakes import T0, FakeCollector, FrozenClock, collected, make_row

from aitop.monitor import Monitor
from aitop.sources.base import Collected
from aitop.ui.app import AitopApp
from aitop.ui.screens.modals import PickerScreen
from aitop.ui.widgets import AlertList, TopTable
from aitop.ui.widgets.top_table import split_row_key

SIZE = (160, 40)


class GroupingCollector(FakeCollector):
    """One model, `llama`, served by two engines; grouped by engine it also hands over the model row."""

    def __init__(self, clock: FrozenClock) -> None:
        super().__init__([])
        self.clock = clock

    async def collect(self) -> Collected:
        self.calls += 1
        model = make_row("llama", request_rate=20.0, error_rate=0.2, latency_p95=0.5)
        if self.group_by is None:
            return collected([model], taken_at=self.clock())
        engines = [make_row(engine, group_label="engine", request_rate=10.0, error_rate=0.2, latency_p95=0.5)
                   for engine in ("0", "1")]  # fmt: skip
        base = collected(engines, taken_at=self.clock())
        return Collected(base.taken_at, base.window_seconds, base.rows, base.targets, base.schemas,
                         base.labels, model_rows=(model,))  # fmt: skip


def critical(app: AitopApp):
    return [a for a in app.monitor.last_good.alerts if a.rule == "error_rate_critical"]


async def test_regrouping_while_firing_keeps_the_alert_and_its_since():
    clock = FrozenClock(T0)
    source = GroupingCollector(clock)
    app = AitopApp(Monitor(source, clock=clock), interval=None, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(20):  # 40 s of 20 % errors: past `for` (30 s)
            clock.advance(2)
            await app.poll_once()
        await pilot.pause()
        (firing,) = critical(app)
        assert firing.state == "firing" and firing.group == "llama"
        await pilot.press("g")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("down", "enter")  # engine
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.monitor.group_by == "engine"
        for _ in range(3):
            clock.advance(2)
            await app.poll_once()
        await pilot.pause()
        (kept,) = critical(app)
        assert (kept.state, kept.since, kept.id) == ("firing", firing.since, firing.id)
        table = app.query_one(TopTable)
        assert sorted(split_row_key(key)[1] for key in table.shown_keys()) == ["0", "1"]
        listed = app.screen.query_one(AlertList).alerts
        assert any(a.id == firing.id and a.state == "firing" and a.since == firing.since for a in listed)
