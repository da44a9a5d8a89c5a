"""Pilot tests of the drill-down: Enter in, charts from history, ranges, split by label, explain, errors by
type, refresh while open, theme and NO_COLOR, Esc back to the same row."""

from __future__ import annotations

from textual.color import Color
from ui_fakes import T0, FakeCollector, collected, fleet, make_row, remote_history

from aitop.model import Missing
from aitop.ui.screens import DetailScreen, OverviewScreen
from aitop.ui.screens.modals import ExplainScreen
from aitop.ui.widgets import MetricChart, TopTable

SIZE = (120, 40)
MIXTRAL = ("vllm", "mixtral-8x7b")


def detailed_fleet():
    rows = fleet()
    rows[1] = make_row("mixtral-8x7b", request_rate=12.5, error_rate=0.071, latency_p50=0.9, latency_p95=2.7,
                       latency_p99=6.1, ttft_p95=1.4, input_tokens_rate=2100, output_tokens_rate=880,
                       cost_per_hour=5.5, feedback_negative_ratio=0.12,
                       errors_by_type={"timeout": 0.6, "rate_limited": 0.3, "server_error": 0.0},
                       missing={"tpot_p95": Missing.NOT_ENOUGH_SAMPLES},
                       provenance={"latency_p95": "histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency"
                                                  "_seconds_bucket{model_name=\"mixtral-8x7b\"}[30.0s]))) — 36 series"})
    return rows  # fmt: skip


def source_with_history() -> FakeCollector:
    source = FakeCollector([collected(detailed_fleet())])
    source.remote_history = remote_history()
    source.breakdowns[(MIXTRAL, "engine")] = (
        make_row("0", request_rate=9.0, error_rate=0.09, latency_p95=3.1, group_label="engine"),
        make_row("1", request_rate=3.5, error_rate=0.02, latency_p95=1.2, group_label="engine"),
    )
    source.breakdowns[(MIXTRAL, "instance")] = (make_row("10.0.0.5:8000", request_rate=12.5, group_label="instance"),)
    return source


async def open_mixtral(app, pilot) -> DetailScreen:
    await app.poll_once()
    await pilot.pause()
    await pilot.press("down", "enter")  # mixtral is second by request rate
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, DetailScreen) and screen.key == MIXTRAL
    return screen


def split_groups(screen: DetailScreen) -> list[str]:
    table = screen.query_one("#split-table")
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


async def test_enter_opens_charts_split_and_fields_then_esc_returns_to_the_row(make_app):
    app = make_app([], collector=source_with_history())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mixtral(app, pilot)
        assert screen.loads >= 1 and screen.range_seconds == 900.0
        latency = screen.query_one("#chart-latency", MetricChart)
        assert [s.label for s in latency.series] == ["p50", "p95", "p99"] and latency.has_data
        assert len(latency.series[0].points) == 61 and latency.span == 900.0
        assert screen.query_one("#chart-ttft", MetricChart).display  # TTFT data exists
        fields = screen.query_one("#fields")
        assert fields.get_row("latency_p95")[1].plain == "‼ 2.70s"
        assert fields.get_row("tpot_p95")[1].plain == "—"
        errors = screen.query_one("#errors")
        assert [errors.get_row_at(i)[0].plain for i in range(errors.row_count)] == ["timeout", "rate_limited"]
        assert errors.get_row_at(0)[2].plain == "67%"
        assert screen.split_label == "instance" and split_groups(screen) == ["10.0.0.5:8000"]
        title = str(screen.query_one("#detail-title").render())
        assert "mixtral-8x7b" in title and "range 15m" in title
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        assert app.query_one(TopTable).selected_key == "vllm\x1fmixtral-8x7b"


async def test_range_keys_and_split_cycle_reload_history(make_app):
    app = make_app([], collector=source_with_history())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mixtral(app, pilot)
        loads = screen.loads
        for key, seconds in [("1", 300.0), ("3", 3600.0), ("5", 86400.0), ("left_square_bracket", 21600.0),
                             ("right_square_bracket", 86400.0), ("2", 900.0), ("4", 21600.0)]:  # fmt: skip
            await pilot.press(key)
            await app.workers.wait_for_complete()
            assert screen.range_seconds == seconds, key
            # the fake server keeps 15 minutes: longer ranges show what there is
            assert screen.query_one("#chart-traffic", MetricChart).span == min(seconds, 900.0)
        assert screen.loads >= loads + 7
        title = str(screen.query_one("#detail-title").render())
        assert "range 6h" in title and "15m of history so far" in title
        await pilot.press("b")  # instance -> engine
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.split_label == "engine" and split_groups(screen) == ["0", "1"]
        split = screen.query_one("#split-table")
        assert split.get_row_at(0)[2].plain == "‼ 9.0%"  # judged like any row
        await pilot.press("b")  # engine -> instance again (model_name is what rows are grouped by)
        await app.workers.wait_for_complete()
        assert screen.split_label == "instance"


async def test_e_explains_the_selected_field_and_why_it_is_missing(make_app):
    app = make_app([], collector=source_with_history())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mixtral(app, pilot)
        await pilot.press("j", "j", "j", "e")  # req/s, err %, p50, p95
        explain = app.screen
        assert isinstance(explain, ExplainScreen) and explain.field == "latency_p95"
        assert "36 series" in explain.body and "‼ critical" in explain.body
        await pilot.press("escape")
        fields = screen.query_one("#fields")
        fields.move_cursor(row=fields.get_row_index("tpot_p95"))
        await pilot.press("e")
        assert "not enough samples" in app.screen.body  # type: ignore[attr-defined]
        await pilot.press("e")
        assert app.screen is screen
        await pilot.press("e", "enter")  # Enter closes it too
        assert app.screen is screen
        await pilot.press("backspace")  # the other way back
        assert isinstance(app.screen, OverviewScreen)


async def test_refresh_while_open_updates_fields_and_vanished_row_is_said(make_app, clock):
    second = [make_row("mixtral-8x7b", request_rate=30.0, error_rate=0.0, latency_p95=0.5)]
    source = source_with_history()
    source.script.append(collected(second, taken_at=T0 + 2))
    source.script.append(collected(second, taken_at=T0 + 17))
    app = make_app([], collector=source)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mixtral(app, pilot)
        loads = screen.loads
        await app.poll_once()  # too soon to refetch a 15-minute chart
        await app.workers.wait_for_complete()
        assert screen.loads == loads
        clock.advance(15)  # one chart column later
        await app.poll_once()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#fields").get_row("request_rate")[1].plain == "30.0"
        assert screen.loads > loads  # charts refetched with the refresh
        assert screen.query_one("#errors").get_row_at(0)[0].plain == "none in window"
        source.script.append(collected(fleet()[:1], taken_at=T0 + 4))
        await app.poll_once()
        await pilot.pause()
        assert "no longer reported" in str(screen.query_one("#detail-title").render())


async def test_scrape_mode_charts_come_from_recorded_history_and_hide_empty_charts(make_app, clock):
    rows = [make_row("m", request_rate=float(i), latency_p95=0.1 * i) for i in range(1, 4)]
    source = FakeCollector([collected([row], taken_at=T0 + i * 2) for i, row in enumerate(rows)])
    app = make_app([], collector=source)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await app.poll_once()
            clock.advance(2)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        traffic = screen.query_one("#chart-traffic", MetricChart)
        assert [v for _, v in traffic.series[0].points] == [1.0, 2.0, 3.0]
        assert traffic.span == 60.0  # 8 s of history: the axis zooms to its first minute, not 15 minutes
        assert "1m of history so far" in str(screen.query_one("#detail-title").render())
        assert not screen.query_one("#chart-ttft", MetricChart).display  # no TTFT for this row at all
        assert not screen.query_one("#chart-cost", MetricChart).display
        assert "split by —" in str(screen.query_one("#split-title").render()) or screen.split_label


async def test_charts_recolour_on_theme_change_and_use_markers_under_no_color(make_app, monkeypatch):
    app = make_app([], collector=source_with_history())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mixtral(app, pilot)
        chart = screen.query_one("#chart-latency", MetricChart)

        def colour_code() -> str:
            r, g, b = Color.parse(app.theme_variables["aitop-chart-1"]).rgb
            return f"38;2;{r};{g};{b}"

        assert colour_code() in chart.plt.build()
        await pilot.press("t")  # aitop-light: another series colour
        await pilot.pause()
        assert app.theme == "aitop-light" and colour_code() in chart.plt.build()
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app([], collector=source_with_history())
    async with app.run_test(size=SIZE) as pilot:
        assert app.no_color
        screen = await open_mixtral(app, pilot)
        built = screen.query_one("#chart-latency", MetricChart).plt.build()
        assert "•" in built and "+" in built and "x" in built  # p50, p95, p99 differ by shape
        assert screen.query_one("#fields").get_row("latency_p95")[1].plain.startswith("‼")


async def test_a_drill_down_closed_before_its_first_frame_does_not_crash(make_app):
    """Enter then Esc within one frame (a click on a row, then Esc, in a real terminal): the screen is gone
    before its deferred set-up runs, which must then do nothing."""
    app = make_app([collected(fleet())] * 3)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        overview = app.screen
        for _ in range(5):
            assert overview.open_detail(("vllm", "llama-3.1-8b"))
            app.pop_screen()
            await pilot.pause()
        assert app.screen is overview and app.is_running
        await app.poll_once()
        await pilot.pause()
        assert app.return_code is None
