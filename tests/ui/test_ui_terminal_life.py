"""What a terminal does to a running TUI: a too-small resize and back, a catastrophic filter regex, the
ctrl+l and ctrl+z keys. (The same in a real pseudo-terminal, with signals: tests/e2e/test_pty_terminal.py.)"""

from __future__ import annotations

import asyncio
import statistics
import time

from textual import events
from ui_fakes import collected, fleet, make_row, settle

from aitop.ui.view import MATCH_BUDGET
from aitop.ui.widgets import FilterBar, TooSmall, TopTable

#: Matched against `aaaa…a-x`, these backtrack exponentially in `re` (2^40 paths: hours of CPU).
CATASTROPHIC = "(a|aa)+$"
SLOW_NAME = "a" * 40 + "-x"


async def test_focus_comes_back_to_the_table_after_the_terminal_was_too_small(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        assert app.focused is table
        await pilot.resize_terminal(50, 12)
        notice = app.screen.query_one(TooSmall)
        assert await settle(pilot, lambda: notice.display)
        await pilot.resize_terminal(120, 40)
        assert await settle(pilot, lambda: not notice.display and app.focused is table), app.focused
        before = table.cursor_row
        await pilot.press("down")  # arrows work at once, not only after the next refresh
        assert table.cursor_row == before + 1


async def test_the_filter_line_keeps_its_focus_across_a_too_small_resize(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("slash", "l")
        bar = app.query_one(FilterBar)
        assert app.focused is bar.input
        await pilot.resize_terminal(50, 12)
        assert await settle(pilot, lambda: app.screen.query_one(TooSmall).display)
        await pilot.resize_terminal(120, 40)
        assert await settle(pilot, lambda: app.focused is bar.input), app.focused
        await pilot.press("l")
        assert bar.input.value == "ll"


async def _answered(app, pilot, key: str, done, character: str | None = None, cpu: list[float] | None = None) -> float:
    """Seconds from pressing `key` until `done()` holds (the key's effect is on screen); the CPU seconds this
    process spent meanwhile are appended to `cpu` when given."""
    started, started_cpu = time.perf_counter(), time.process_time()
    app.post_message(events.Key(key, character))  # as the driver posts it (`simulate_key` types nothing)
    while not done():
        assert time.perf_counter() - started < 20, f"{key} not answered in 20 s"
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - started
    if cpu is not None:
        cpu.append(time.process_time() - started_cpu)
    await pilot.pause()
    return elapsed


async def test_a_catastrophic_filter_regex_is_refused_in_time_and_keys_stay_answered(make_app):
    app = make_app([collected([*fleet(), make_row(SLOW_NAME)])])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        bar = app.query_one(FilterBar)
        info = bar.query_one("#filter-info")
        await pilot.press("slash", *CATASTROPHIC[:-1])  # `(a|aa)+` matches at once: a valid, fast filter
        assert table.row_filter.text == "(a|aa)+"
        kept = table.row_count
        baseline, slow, baseline_cpu, slow_cpu = [], [], [], []
        for _ in range(3):
            # Baseline, same test and machine: a key whose pattern is cheap ("(a|aa)+-" matches at once).
            baseline.append(await _answered(app, pilot, "minus", lambda: table.row_filter.text == "(a|aa)+-", "-",
                                            baseline_cpu))
            await _answered(app, pilot, "backspace", lambda: table.row_filter.text == "(a|aa)+")
            # The catastrophic key: refused within the match budget, with a message; the old filter stays.
            slow.append(await _answered(app, pilot, "dollar_sign", lambda: bar.has_class("-invalid"), "$", slow_cpu))
            message = str(info.render())
            assert "regex too slow: gave up after 25 ms" in message, message
            assert table.row_filter.text == "(a|aa)+" and table.row_count == kept
            await _answered(app, pilot, "backspace", lambda: not bar.has_class("-invalid"))
        print(f"FIGURES catastrophic regex: baseline {[f'{t * 1000:.0f} ms' for t in baseline]}, "
              f"refused in {[f'{t * 1000:.0f} ms' for t in slow]}; CPU {baseline_cpu} vs {slow_cpu}")
        # In time: the refusal costs the match budget of CPU time (the backtracking would cost hours) on top
        # of what a cheap key costs. CPU, not wall, time: the budget is CPU time, so that a busy machine
        # shared k ways stretches the wait k times without refusing a legitimate pattern; 0.1 s of slack
        # (four budgets) for the message and the redraw.
        assert statistics.median(slow_cpu) <= statistics.median(baseline_cpu) + MATCH_BUDGET + 0.1, (
            baseline_cpu, slow_cpu, baseline, slow)
        # Enter on the slow pattern says why it is not kept; Esc and q still work.
        await pilot.press("dollar_sign", "enter")
        await pilot.pause()
        assert any("regex too slow" in n.message for n in app._notifications), list(app._notifications)
        await pilot.press("escape")
        assert await settle(pilot, lambda: not app.screen.has_class("-filtering") and app.focused is table)
        assert table.row_count == len(fleet()) + 1
        assert app.return_code is None
        await pilot.press("q")
        assert app.return_code == 0  # q quits


async def test_a_kept_filter_that_new_rows_make_too_slow_is_dropped_with_a_notice(make_app):
    app = make_app([collected(fleet()), collected([*fleet(), make_row(SLOW_NAME)])])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        await pilot.press("slash", *CATASTROPHIC, "enter")  # fast on these names (no long run of a's)
        assert table.row_filter.text == CATASTROPHIC and table.row_count == 0
        await app.poll_once()  # the slow name arrives: the filter would now take minutes per refresh
        await pilot.pause()
        assert table.row_filter.text == "" and table.row_count == len(fleet()) + 1
        assert any(n.message.startswith("filter dropped: regex too slow") for n in app._notifications)


async def test_ctrl_l_repaints_every_cell_and_ctrl_z_is_bound_to_suspend(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        repaints = []
        original = app.screen.refresh
        app.screen.refresh = lambda *a, **k: (repaints.append(a), original(*a, **k))[1]  # type: ignore[method-assign]
        await pilot.press("ctrl+l")
        assert repaints == [()]  # no region: the whole screen
        suspended = []
        app.action_suspend_process = lambda: suspended.append(True)  # type: ignore[method-assign]
        await pilot.press("ctrl+z")  # (the real suspension, in a pty: tests/e2e/test_pty_terminal.py)
        assert suspended == [True]
        app.app_resume_signal.publish(app)  # what Textual publishes after SIGCONT
        await pilot.pause()
        assert repaints == [(), ()]
