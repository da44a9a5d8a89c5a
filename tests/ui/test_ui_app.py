"""Pilot tests of the overview: rows, in-place updates, severity, staleness, keys, polling, no-TTY refusal."""

from __future__ import annotations

import asyncio

from rich.text import Text
from ui_fakes import TARGETS, FakeCollector, collected, down, fleet, make_row, settle, up

from aitop.gcpolicy import freeze_startup_heap
from aitop.format import MISSING_MARK
from aitop.ui import app as app_module
from aitop.ui.app import NO_TERMINAL_HINT, run_tui
from aitop.ui.cells import CRITICAL_MARK, ROW_CRITICAL_MARK, WARNING_MARK
from aitop.ui.widgets import StatusBar, TopTable
from aitop.ui.widgets.top_table import split_row_key

SIZE = (120, 40)


def column_index(table: TopTable) -> dict[str, int]:
    """Column key -> position, for the columns shown now."""
    return {column.key.value: index for index, column in enumerate(table.ordered_columns)}


def cells(table: TopTable, key: str) -> dict[str, str]:
    """The plain text of every cell of row `key`, by column key."""
    row = table.get_row(key)
    assert all(isinstance(cell, Text) for cell in row)
    return {column: row[index].plain for column, index in column_index(table).items()}


def order(table: TopTable) -> list[str]:
    """Groups in display order."""
    return [split_row_key(table.coordinate_to_cell_key((i, 0)).row_key.value)[1] for i in range(table.row_count)]


async def test_rows_appear_with_formatted_cells(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        assert table.row_count == 4
        assert order(table) == ["llama-3.1-8b", "mixtral-8x7b", "qwen2.5-7b", "bge-large-en"]
        llama = cells(table, "vllm\x1fllama-3.1-8b")
        trend = llama.pop("trend")
        assert llama == {
            "model": "  llama-3.1-8b", "schema": "vllm", "request_rate": "42.3", "error_rate": "0.2%",
            "latency_p95": "880ms", "latency_p99": "1.60s", "ttft_p95": "120ms",
            "output_tokens_rate": "1.9k", "cost_per_hour": "$3.10", "feedback_negative_ratio": "4.0%",
        }  # fmt: skip
        assert trend == "       █"  # one poll so far: one bar, at the right
        headings = [column.label.plain.strip() for column in table.ordered_columns]
        assert headings == ["model", "schema", "▼req/s", "err %", "p95", "p99", "req/s 5m", "TTFT p95",
                            "out tok/s", "$/h", "👎 %"]  # fmt: skip


async def test_missing_value_shows_a_muted_mark_never_dimmed(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        assert cells(table, "tgi\x1fqwen2.5-7b")["feedback_negative_ratio"] == MISSING_MARK
        bge = table.get_row("tgi\x1fbge-large-en")
        COLUMN_INDEX = column_index(table)
        missing = bge[COLUMN_INDEX["cost_per_hour"]]
        assert missing.plain == MISSING_MARK and missing.value is None
        # Muted, not dim: Textual renders dim as a 50% blend with the background (about 2:1 contrast).
        assert any(span.style.color is not None for span in missing.spans)
        assert not any(span.style.dim for span in missing.spans)
        # 0 is a value, not a missing one
        assert bge[COLUMN_INDEX["error_rate"]].plain == "0.0%"


async def test_severity_has_symbol_and_theme_colour(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        mixtral = table.get_row("vllm\x1fmixtral-8x7b")
        COLUMN_INDEX = column_index(table)
        error_cell = mixtral[COLUMN_INDEX["error_rate"]]
        assert error_cell.plain == f"{CRITICAL_MARK} 7.1%"
        critical = app.theme_variables["aitop-critical"].upper()
        assert {str(span.style.color.triplet.hex).upper() for span in error_cell.spans} == {critical}
        assert all(span.style.bold for span in error_cell.spans)
        assert mixtral[COLUMN_INDEX["ttft_p95"]].plain == f"{WARNING_MARK} 1.40s"
        assert mixtral[COLUMN_INDEX["model"]].plain == f"{ROW_CRITICAL_MARK} mixtral-8x7b"
        assert cells(table, "tgi\x1fqwen2.5-7b")["error_rate"] == f"{WARNING_MARK} 1.5%"
        assert cells(table, "vllm\x1fllama-3.1-8b")["error_rate"] == "0.2%"


async def test_update_in_place_keeps_keys_and_selection_across_resort(make_app):
    first = fleet()
    second = [make_row("qwen2.5-7b", schema="tgi", request_rate=99.0, error_rate=0.0), *first[:2], first[3]]
    app = make_app([collected(first), collected(second)])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        keys_before = {key.value for key in table.rows}
        await pilot.press("down", "down")  # select qwen (third by rate)
        assert table.selected_key == "tgi\x1fqwen2.5-7b"
        added = []
        table.add_row = lambda *a, **k: added.append(k)  # an in-place update must not add rows
        await app.poll_once()
        await pilot.pause()
        assert {key.value for key in table.rows} == keys_before
        assert table.row_count == 4 and added == []
        assert cells(table, "tgi\x1fqwen2.5-7b")["request_rate"] == "99.0"
        assert order(table)[0] == "qwen2.5-7b"
        assert table.selected_key == "tgi\x1fqwen2.5-7b" and table.cursor_row == 0
        assert table.selected_row is not None and table.selected_row.value("request_rate") == 99.0


async def test_vanished_row_is_removed_and_new_row_added(make_app):
    first = fleet()
    second = [*first[:3], make_row("phi-3", request_rate=3.0)]
    app = make_app([collected(first), collected(second)])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await app.poll_once()
        await pilot.pause()
        table = app.query_one(TopTable)
        assert "tgi\x1fbge-large-en" not in table.rows
        assert "vllm\x1fphi-3" in table.rows
        assert order(table) == ["llama-3.1-8b", "mixtral-8x7b", "qwen2.5-7b", "phi-3"]


async def test_stale_snapshot_shows_banner_and_keeps_rows(make_app, clock):
    all_down = collected([], targets=[down(url, "connection refused") for url in TARGETS])
    app = make_app([collected(fleet()), all_down])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        status = app.query_one(StatusBar)
        assert "STALE" not in status.text.plain
        clock.advance(10)
        snapshot = await app.poll_once()
        await pilot.pause()
        assert snapshot.stale
        table = app.query_one(TopTable)
        assert table.row_count == 4
        assert cells(table, "vllm\x1fllama-3.1-8b")["request_rate"] == "42.3"
        banner, line = status.text.plain.split("\n")
        assert "STALE" in banner and "connection refused" in banner
        assert "0/3 up" in line and "updated 12s ago" in line
        assert status.has_class("-stale")
        # stale rows are faded: muted and italic (never dim, which halves contrast)
        assert all("italic" in str(cell.style) for cell in table.get_row("vllm\x1fllama-3.1-8b"))


async def test_first_poll_failing_says_disconnected(make_app):
    app = make_app([collected([], targets=[down(url, "timed out") for url in TARGETS])])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        text = app.query_one(StatusBar).text.plain
        assert "0/3 up" in text and "10.0.0.5:8000: timed out" in text
        assert app.query_one(TopTable).row_count == 0


async def test_status_line_shows_source_health_schemas_window_and_age(make_app, clock):
    targets = [up(TARGETS[0]), down(TARGETS[1], "HTTP 503"), up(TARGETS[2])]
    app = make_app([collected(fleet(), targets=targets)])
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one(StatusBar)
        assert "connecting" in status.text.plain
        await app.poll_once()
        await pilot.pause()
        text = status.text.plain
        for part in ("scrape · 3 targets", "✗ 2/3 up", "10.0.0.6:8000: HTTP 503", "vllm, tgi", "window 30s",
                     "updated 2s ago", "4 models"):  # fmt: skip
            assert part in text, part
        clock.advance(90)
        status.render_status()  # what the 1 s timer does
        assert "updated 1m ago" in status.text.plain


async def test_single_target_url_is_shown_without_credentials(make_app, clock):
    url = "https://alice:S3CRET@prom.example:9443/metrics?token=abc"
    source = FakeCollector([collected(fleet()[:1], targets=[up(url)])], targets=[url])
    app = make_app([], collector=source)
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        text = app.query_one(StatusBar).text.plain
        assert "scrape https://prom.example:9443/metrics" in text
        assert "S3CRET" not in text and "token" not in text and "alice" not in text


async def test_q_quits_with_return_code_0(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert app.monitor.collector.closed


async def test_ctrl_c_quits_with_return_code_0(make_app):
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0


async def test_r_refreshes_now(make_app):
    app = make_app([collected(fleet()[:1]), collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        assert app.query_one(TopTable).row_count == 1
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(TopTable).row_count == 4


async def test_timer_polls_on_mount(make_app):
    app = make_app([collected(fleet())], interval=60.0)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(TopTable).row_count == 4
        assert app.monitor.collector.calls == 1


class SlowCollector(FakeCollector):
    """Blocks in collect() until released, like a server slower than the poll interval."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.release = asyncio.Event()

    async def collect(self):
        await self.release.wait()
        return await super().collect()


async def test_tick_while_polling_is_skipped_not_stacked_or_cancelled(make_app):
    source = SlowCollector([collected(fleet())])
    app = make_app([], collector=source)
    async with app.run_test(size=SIZE) as pilot:
        assert app.request_poll() is True
        await pilot.pause()
        assert app.request_poll() is False  # what a timer tick does while the poll is in flight
        assert app.request_poll() is False
        assert app.polls_skipped == 2
        source.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert source.calls == 1  # the slow poll completed: it was not cancelled by the ticks
        assert app.query_one(TopTable).row_count == 4
        assert app.request_poll() is True  # free again
        await app.workers.wait_for_complete()
        assert source.calls == 2


async def test_collector_crash_keeps_app_running(make_app):
    app = make_app([collected(fleet()), RuntimeError("boom http://u:p@x")])
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        snapshot = await app.poll_once()
        await pilot.pause()
        assert snapshot.stale and "RuntimeError" in (snapshot.error or "")
        assert app.query_one(TopTable).row_count == 4
        assert "STALE" in app.query_one(StatusBar).text.plain
        assert app.is_running


def test_run_tui_refuses_without_a_tty(capsys):
    # Under pytest stdout is captured, so it is not a TTY.
    assert run_tui(object(), interval=2.0) == 2  # type: ignore[arg-type]
    captured = capsys.readouterr()
    assert captured.err.strip() == NO_TERMINAL_HINT
    assert captured.out == ""


def test_run_tui_refuses_on_dumb_terminal(monkeypatch, capsys):
    monkeypatch.setattr(app_module.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(app_module.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("TERM", "dumb")
    assert app_module.has_terminal() is False
    assert run_tui(object(), interval=2.0) == 2  # type: ignore[arg-type]
    assert "TERM=dumb" in capsys.readouterr().err
    monkeypatch.setenv("TERM", "xterm-256color")
    assert app_module.has_terminal() is True


async def test_bell_rings_only_when_the_monitor_asks(make_app, monkeypatch) -> None:
    from aitop.monitor import Monitor
    from ui_fakes import collected, fleet

    app = make_app([collected(fleet())])
    rings = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))
    async with app.run_test(size=(120, 40)):
        await app.poll_once()
        assert rings == []  # off by default (and nothing new and critical)
        monkeypatch.setattr(Monitor, "should_ring", property(lambda self: True))
        await app.poll_once()
        assert rings == [1]


async def test_the_status_line_sets_no_timer_while_the_data_is_on_schedule(make_app, clock, monkeypatch):
    """A one-second tick woke the app every second for nothing while polls came on time (~0.2 ms of CPU
    each, most of what an idle TUI spent): the age counts on only once the data is overdue."""
    ticks: list[float] = []
    tick = StatusBar._tick
    monkeypatch.setattr(StatusBar, "_tick", lambda self: (ticks.append(clock()), tick(self))[1])
    app = make_app([collected(fleet())])
    async with app.run_test(size=SIZE) as pilot:
        app.poll_seconds = 3.0
        await app.poll_once()  # data 2 s old (the fake's): overdue in 3 + 1 - 2 = 2 s
        await pilot.pause()
        status = app.query_one(StatusBar)
        await asyncio.sleep(1.5)
        await pilot.pause()
        assert not ticks  # a one-second tick would have run once already
        clock.advance(10)  # overdue now: the one wake-up finds it so, and the age counts on every second
        age = f"updated {clock() - app.snapshot.taken_at:.0f}s ago"
        assert await settle(pilot, lambda: age in status.text.plain, timeout=5.0), status.text.plain
        assert len(ticks) == 1


async def test_the_heap_is_settled_once_after_the_first_data_is_on_screen(make_app):
    rows_on_screen: list[int] = []
    app = make_app([collected(fleet()), collected(fleet())],
                   settle_heap=lambda: rows_on_screen.append(app.query_one(TopTable).row_count))
    async with app.run_test(size=SIZE) as pilot:
        await app.poll_once()
        await pilot.pause()
        await app.poll_once()
        await pilot.pause()
        assert rows_on_screen == [4]  # once, with the first refresh's rows already shown


def test_run_tui_settles_the_heap_with_the_gc_policy(monkeypatch):
    built: list[dict] = []

    class Recorder:
        return_code = 0

        def __init__(self, monitor, **kwargs) -> None:
            built.append(kwargs)

        def run(self) -> None:
            pass

    monkeypatch.setattr(app_module, "has_terminal", lambda: True)
    monkeypatch.setattr(app_module, "AitopApp", Recorder)
    assert run_tui(object(), interval=2.0) == 0  # type: ignore[arg-type]
    assert built[0]["settle_heap"] is freeze_startup_heap
