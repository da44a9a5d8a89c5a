"""The CLI entry sets the collector's young threshold to 50,000 before any command (measured: aitop/gcpolicy.py,
now that the live TUI leaves no cyclic garbage at a refresh: tests/ui/test_ui_textual_cycles.py); the
collector is paused while a refresh reads a large answer, and comes back as it was."""

from __future__ import annotations

import gc
import threading

import pytest

from aitop import cli
from aitop.gcpolicy import YOUNG_THRESHOLD, paused_gc
from aitop.sources.prometheus import results as prom_results


@pytest.fixture
def default_thresholds():
    was = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*was)


def test_the_cli_entry_sets_the_measured_thresholds_before_any_command(default_thresholds, monkeypatch) -> None:
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(cli, "_dispatch", lambda argv: seen.append(gc.get_threshold()) or 0)
    assert cli.main(["--version"]) == 0
    # 50,000: what the refresh CPU and the 2,000-row RSS runs in aitop/gcpolicy.py chose; change it only with
    # such a measurement (10,000 to 200,000 let RSS grow while Textual's cycles were not yet removed).
    assert YOUNG_THRESHOLD == 50_000 and seen == [(50_000, 10, 10)]


def test_paused_inside_back_on_after_even_nested_and_across_threads(collector_on) -> None:
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with paused_gc():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread is still reading
    leave.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_collector_switched_off_stays_off(collector_on) -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_row_assembly_runs_with_the_collector_paused(collector_on, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    finish = prom_results.finish_row

    def watched(*args):
        seen.append(gc.isenabled())
        return finish(*args)

    monkeypatch.setattr(prom_results, "finish_row", watched)
    from test_explanations import _many

    plans, answered = _many(3)
    rows, _ = prom_results.assemble_rows(plans, answered, {}, None)
    assert len(rows) == 3 and seen == [False] * 3 and gc.isenabled()


def test_freeze_startup_heap_collects_then_freezes_everything_alive() -> None:
    # In a child interpreter: a freeze is for the whole process and cannot be undone for what it froze.
    import subprocess
    import sys

    script = (
        "import gc\n"
        "from aitop.gcpolicy import freeze_startup_heap\n"
        "class Node: pass\n"
        "a = Node(); a.me = a; del a\n"  # a cycle: garbage the collection must free, not freeze
        "frozen = freeze_startup_heap()\n"
        "assert frozen == gc.get_freeze_count() > 1000, frozen\n"
        "assert not any(type(o).__name__ == 'Node' for o in gc.get_objects()), 'a garbage cycle was frozen'\n"
        "gc.unfreeze(); assert not any(type(o).__name__ == 'Node' for o in gc.get_objects())\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
