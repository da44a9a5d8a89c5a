"""Drawing the table and running polls leave no reference cycles (aitop/ui/textual_cycles.py patches Textual
8.2.8's `Strip.divide` and `Worker._run`), and the patched methods answer exactly as Textual's own do."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from collections.abc import Iterator

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.strip import Strip
from textual.worker import Worker, WorkerState, get_current_worker
from ui_fakes import collected, fleet, make_row

from aitop.ui import textual_cycles
from aitop.ui.textual_cycles import ORIGINAL_DIVIDE, ORIGINAL_RUN

CYCLIC = ("Strip", "FIFOCache", "Worker")


def _save_from_now() -> None:
    """gc.DEBUG_SAVEALL from a clean start: what the collector finds unreachable from now on lands in
    gc.garbage. (Objects already saved are freed first: emptying the list alone would leave their cycles to
    be found, and saved, again.)"""
    gc.set_debug(0)
    gc.garbage.clear()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)


@pytest.fixture
def saved_garbage() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    _save_from_now()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()
        if not was:
            gc.disable()


def _fleet(step: int) -> list:
    """The demo fleet with one more changing row, so each refresh redraws lines."""
    return [*fleet(), make_row("changing", request_rate=1.0 + step, error_rate=0.001 * step)]


async def _draw_a_few_refreshes(make_app) -> Counter[str]:
    """The Strips, FIFOCaches and Workers the collector finds unreachable over 4 refreshes once warm (taken
    before the app exits: closing it leaves its own)."""
    app = make_app([collected(_fleet(step)) for step in range(8)])
    async with app.run_test(size=(120, 40)) as pilot:

        async def refresh() -> None:
            assert app.request_poll()  # the way the timer polls: in a Textual worker
            for _ in range(100):
                await pilot.pause()
                if not app._poll_busy:
                    break
            await pilot.pause()
            await pilot.press("down")

        for _ in range(2):  # warm up: screens built, first-time parses and caches done
            await refresh()
        _save_from_now()
        for _ in range(4):
            await refresh()
        gc.collect()
        return _cyclic(gc.garbage)


def _cyclic(garbage: list[object]) -> Counter[str]:
    return Counter(name for name in (type(o).__name__ for o in garbage) if name in CYCLIC)


async def test_refreshes_and_their_frames_leave_no_strip_or_worker_in_a_cycle(make_app, saved_garbage) -> None:
    assert textual_cycles.installed()
    assert await _draw_a_few_refreshes(make_app) == Counter()


async def test_without_the_patches_the_same_refreshes_leave_cycles(make_app, saved_garbage, monkeypatch) -> None:
    # What the test above would find if the patches went away (or stopped applying).
    monkeypatch.setattr(Strip, "divide", ORIGINAL_DIVIDE)
    monkeypatch.setattr(Worker, "_run", ORIGINAL_RUN)
    found = await _draw_a_few_refreshes(make_app)
    assert found["Strip"] > 0 and found["FIFOCache"] > 0 and found["Worker"] >= 4


def _strip() -> Strip:
    return Strip([Segment("hello "), Segment("wide 漢字", Style(bold=True)), Segment("!", Style(color="red"))])


@pytest.mark.parametrize("cuts", [
    [16], [17], [16, 20], [20], [], [6], [6, 16], [3, 6, 10, 16], [0, 16], [5, 9, 30], [12, 16], [13], [12],
])  # fmt: skip
def test_divide_answers_as_textuals_own(cuts: list[int]) -> None:
    assert _strip().cell_length == 16  # 漢字 are two cells each: cuts 12 and 13 split them
    patched, original = _strip().divide(iter(cuts)), ORIGINAL_DIVIDE(_strip(), iter(cuts))
    assert list(patched) == list(original)
    assert [s.cell_length for s in patched] == [s.cell_length for s in original]
    assert [s.text for s in patched] == [s.text for s in original]
    again = _strip()
    assert list(again.divide(cuts)) == list(again.divide(cuts)) == list(original)  # and from its cache


def test_divide_at_the_whole_length_answers_the_strip_itself_without_keeping_it() -> None:
    strip = _strip()
    assert [s is strip for s in strip.divide([16])] == [True]
    assert [s is strip for s in strip.divide([16, 40])] == [True]
    assert not any(s is strip for kept in strip._divide_cache._cache.values() for s in kept)
    assert strip not in gc.get_referents(*gc.get_referents(strip))  # no way back to itself


class _Host(App[None]):
    pass


async def test_a_worker_runs_answers_and_fails_as_textuals_own() -> None:
    seen: list[object] = []

    async def work() -> int:
        seen.append(get_current_worker())
        await asyncio.sleep(0)
        seen.append(get_current_worker())
        return 42

    async def fails() -> None:
        raise ValueError("no")

    def threaded() -> str:
        seen.append(get_current_worker())
        return "thread"

    async with _Host().run_test() as pilot:
        app = pilot.app
        worker = app.run_worker(work(), exit_on_error=False)
        assert await worker.wait() == 42
        assert worker.state is WorkerState.SUCCESS and seen == [worker, worker]
        broken = app.run_worker(fails(), exit_on_error=False)
        await asyncio.wait_for(asyncio.shield(broken._task), 10)  # type: ignore[arg-type]
        assert broken.state is WorkerState.ERROR and isinstance(broken.error, ValueError)
        in_thread = app.run_worker(threaded, thread=True, exit_on_error=False)
        assert await in_thread.wait() == "thread" and seen[-1] is in_thread
        slow = app.run_worker(asyncio.sleep(30), exit_on_error=False)
        await pilot.pause()
        slow.cancel()
        await asyncio.wait([slow._task], timeout=10)  # type: ignore[list-item]
        assert slow.state is WorkerState.CANCELLED


def test_install_is_once_and_only_on_the_release_it_was_written_for(monkeypatch) -> None:
    assert textual_cycles.install() and textual_cycles.installed()
    assert Strip.__dict__["divide"] is not ORIGINAL_DIVIDE and Worker.__dict__["_run"] is not ORIGINAL_RUN
    monkeypatch.setattr(Strip, "divide", ORIGINAL_DIVIDE)
    monkeypatch.setattr(Worker, "_run", ORIGINAL_RUN)
    monkeypatch.setattr("textual.__version__", "8.3.0")
    assert not textual_cycles.install() and Strip.divide is ORIGINAL_DIVIDE and Worker._run is ORIGINAL_RUN
    monkeypatch.setattr("textual.__version__", textual_cycles.TEXTUAL_VERSION)
    monkeypatch.setattr(Strip, "divide", lambda self, cuts: [self])  # someone else's patch: left alone
    assert not textual_cycles.install() and Worker._run is ORIGINAL_RUN
    monkeypatch.setattr(Strip, "divide", ORIGINAL_DIVIDE)
    assert textual_cycles.install() and textual_cycles.installed()
